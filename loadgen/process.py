"""LoadProcess: a Runner in its own process, driven from the parent's event loop.

Why a process: a Textual UI in the same process halves the generator (MEASURED.md), so the
UI and the load never share a core's worth of Python.

    async with LoadProcess(spec, Plan("closed", 10)) as proc:
        proc.set_level(20)
        async for batch in proc.batches():   # lists of Outcome
            ...
        # or, from a timer: outcomes = proc.poll(); proc.stats

The child streams outcomes back as compact tuples over a pipe; pipe and queues are bounded, so
a parent that stops reading slows the child instead of filling memory. `stop()` (or leaving the
`with` block, also on an error) ends the child and joins it; a child whose parent dies sees its
command pipe close and stops by itself; multiprocessing terminates daemon children at exit.
"""

import asyncio
import contextlib
import sys
import time
import types
import weakref
from collections import deque

from loadgen import child
from loadgen.outcome import Outcome
from loadgen.plan import Plan
from loadgen.stats import StatsSnapshot

RECORDS = ("all", "new", "none")
MAX_MESSAGES_PER_POLL = 200
MAX_LOGS = 100


class LoadError(Exception):
    """The load process failed (its one-line reason is the message)."""


class LoadProcess:
    """Run `Runner(target_from_spec(spec), plan, **runner_options)` in a spawned process.

    `records`: which outcomes carry the probe record across the process boundary: "all",
    "new" (first per container, and cold starts; the rest have record None), or "none".
    `env`: variables set in the child before it builds the target, e.g. the local Lambda's
    made-up AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for a machine with no AWS credentials;
    the spec itself never carries credentials.
    Control methods return False once the child has finished (nothing to control).
    """

    def __init__(self, spec, plan, *, records="all", env=None, **runner_options):
        if records not in RECORDS:
            raise ValueError(f"records must be one of {', '.join(RECORDS)} (got {records!r})")
        if not isinstance(plan, Plan):
            raise TypeError("plan must be a loadgen.plan.Plan")
        self.spec = dict(spec)
        self._plan = plan
        self._records = records
        self._env = dict(env or {})
        self._options = runner_options
        self.stats = None  # latest StatsSnapshot from the child
        self.error = None  # one line, when the child failed
        self.logs = deque(maxlen=MAX_LOGS)  # stray output of the child, never on the terminal
        self.done = False
        self._process = None
        self._cmd = None
        self._out = None
        self._ready = deque()  # decoded batches read but not yet handed out
        self._finalizer = None
        self._pending_mode = None  # a mode switch whose level the child picks

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self):
        import multiprocessing

        if self._process is not None:
            raise RuntimeError("a LoadProcess starts once")
        ctx = multiprocessing.get_context("spawn")
        cmd_read, self._cmd = ctx.Pipe(duplex=False)
        self._out, out_write = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=child.main, name="lambdascope-load", daemon=True,
            args=(self.spec, self._plan.to_dict(), self._options, self._records, self._env,
                  cmd_read, out_write))
        with _main_module_hidden():
            self._process.start()
        # Drop our copies of the child's ends: then each side sees end-of-file when the
        # other goes away (the child stops when we die; we notice when it dies).
        cmd_read.close()
        out_write.close()
        self._finalizer = weakref.finalize(self, _reap, self._process)
        return self

    @property
    def pid(self):
        return self._process.pid if self._process is not None else None

    @property
    def alive(self):
        return self._process is not None and self._process.is_alive()

    @property
    def plan(self):
        return self._plan

    def stop(self, timeout=5.0):
        """Stop the load and join the child (terminated, then killed, if it does not finish
        within `timeout`). Outcomes that arrive meanwhile stay available to poll()."""
        if self._process is None:
            return
        self._command(("stop",))
        deadline = time.monotonic() + timeout
        while self._process.is_alive() and not self.done and time.monotonic() < deadline:
            # Keep reading: a child blocked on a full pipe could not finish otherwise.
            if self._out is not None and self._out.poll(0.05):
                self._read_one()
        self._process.join(max(0.0, deadline - time.monotonic()))
        self._finish()

    async def aclose(self, timeout=5.0):
        """stop() without blocking the event loop while the child winds down."""
        if self._process is None:
            return
        self._command(("stop",))
        deadline = time.monotonic() + timeout
        while self._process.is_alive() and time.monotonic() < deadline:
            self._read_available()
            await asyncio.sleep(0.02)
        self._finish()

    def _finish(self):
        self._read_available()
        _reap(self._process)
        if self._finalizer is not None:
            self._finalizer.detach()
        for conn in (self._cmd, self._out):
            if conn is not None:
                conn.close()
        self._cmd = self._out = None
        self.done = True

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    async def __aenter__(self):
        return self.start()

    async def __aexit__(self, *exc):
        await self.aclose()

    # ---- control -------------------------------------------------------------------------

    def set_level(self, level):
        """Concurrency (closed) or requests/s (open); clamped here, as the child will."""
        self._plan = self._plan.with_level(level)
        return self._command(("level", self._plan.level))

    def set_mode(self, mode, level=None):
        """Switch loop type; without a level the child keeps the load about equal."""
        if level is not None:
            self._plan = self._plan.with_mode(mode, level)
            self._pending_mode = None
        else:
            Plan(mode=mode, level=1, max_in_flight=self._plan.max_in_flight)  # validates mode
            self._pending_mode = mode  # the plan follows the child's next stats
        return self._command(("mode", mode, level))

    def pause(self):
        return self._command(("pause",))

    def resume(self):
        return self._command(("resume",))

    def _command(self, command):
        if self._cmd is None or self.done:
            return False
        try:
            self._cmd.send(command)
        except (BrokenPipeError, OSError):
            return False  # the child has exited; poll()/batches() will say why
        return True

    # ---- outcomes ------------------------------------------------------------------------

    def poll(self):
        """Outcomes that have arrived, without waiting (a bounded number of messages)."""
        self._read_available()
        outcomes = []
        while self._ready:
            outcomes.extend(self._ready.popleft())
        return outcomes

    async def batches(self):
        """Batches of Outcome as they arrive, until the child finishes. Raises LoadError if it
        failed (after the outcomes that came before the failure)."""
        loop = asyncio.get_running_loop()
        while True:
            self._read_available()
            while self._ready:
                yield self._ready.popleft()
            if self.done or self._out is None:
                break
            await _readable(loop, self._out)
        if self.error is not None:
            raise LoadError(self.error)

    def _read_available(self):
        for _ in range(MAX_MESSAGES_PER_POLL):
            if self._out is None or self.done:
                return
            try:
                if not self._out.poll():
                    return
            except (OSError, EOFError):
                self._child_gone()
                return
            self._read_one()

    def _read_one(self):
        try:
            message = self._out.recv()
        except (EOFError, OSError):
            self._child_gone()
            return
        kind = message[0]
        if kind == "batch":
            self._ready.append([Outcome.from_tuple(t) for t in message[1]])
        elif kind == "stats":
            self.stats = StatsSnapshot.from_dict(message[1])
            if self._pending_mode is not None and self.stats.mode == self._pending_mode:
                self._plan = self._plan.with_mode(self.stats.mode, self.stats.level)
                self._pending_mode = None
        elif kind == "log":
            self.logs.append(message[1])
        elif kind == "error":
            self.error = message[1]
        elif kind == "done":
            self.stats = StatsSnapshot.from_dict(message[1])
            self.done = True
        else:
            self.error = f"unexpected message from the load process: {kind!r}"

    def _child_gone(self):
        if not self.done:
            self._process.join(1.0)
            if self.error is None:
                self.error = ("load process exited unexpectedly "
                              f"(exit code {self._process.exitcode})")
            self.done = True


@contextlib.contextmanager
def _main_module_hidden():
    """Spawn re-runs the parent's __main__ in the child unless it cannot find it. The child
    needs nothing from it (its entry point is importable by name), and re-running it costs
    startup time, imports the UI into the load process, and crashes a script that starts
    the load without an `if __name__ == "__main__"` guard. So hide it while spawning."""
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


async def _readable(loop, conn):
    fut = loop.create_future()
    fd = conn.fileno()

    def ready():
        if not fut.done():
            fut.set_result(None)

    loop.add_reader(fd, ready)
    try:
        await fut
    finally:
        loop.remove_reader(fd)


def _reap(process):
    """Make sure the child is gone: join, then terminate, then kill."""
    if process.is_alive():
        process.join(0.5)
    if process.is_alive():
        process.terminate()
        process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join()

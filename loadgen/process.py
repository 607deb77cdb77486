"""LoadProcess: a Runner in its own process, driven from the parent's event loop.

Why a process: a Textual UI in the same process halves the generator (MEASURED.md), so the
UI and the load never share a core's worth of Python.

    async with LoadProcess(spec, Plan("closed", 10)) as proc:
        proc.apply(plan.step(+1))                   # the one command: a Plan
        async for outcomes, snapshot in proc.batches():
            ...                                    # snapshot.plan: what the child runs

The child streams outcomes back as compact tuples over a pipe (typed reports, loadgen/wire.py);
the pipe and the child's outbox are bounded, and the parent reads only while a consumer waits,
so a parent that stops reading slows the child instead of filling memory. `stop()` (or leaving
the `async with` block, also on an error) ends the child and joins it; a child whose parent dies
sees its command pipe close and stops by itself; multiprocessing terminates daemon children at
exit.
"""

import asyncio
import contextlib
import sys
import types
import weakref
from collections import deque
from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Never, Unpack

from loadgen import child, wire
from loadgen.outcome import Outcome
from loadgen.plan import Plan
from loadgen.stats import StatsSnapshot

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    # The child and the parent's ends of its two one-way pipes: commands out, reports in (any
    # object: an unknown one is reported, not trusted).
    _Parts = tuple[BaseProcess, Connection[wire.Command, Never], Connection[Never, object]]

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
    `event_loop`: "uvloop" (default: about a third less CPU per request than asyncio's loop in
    tests/bench/bench_loadgen.py) or "asyncio".
    `warm`: a WarmStart spawned earlier, taken over by `start()` (else it spawns one itself).
    `apply` returns False once the child has finished (nothing to control).
    """

    def __init__(
        self,
        spec: Mapping[str, Any],
        plan: Plan,
        *,
        records: str = "all",
        env: Mapping[str, str] | None = None,
        event_loop: str = "uvloop",
        warm: "WarmStart | None" = None,
        **runner_options: Unpack[wire.RunnerOptions],
    ) -> None:
        if event_loop not in ("uvloop", "asyncio"):
            raise ValueError(f"event_loop must be 'uvloop' or 'asyncio' (got {event_loop!r})")
        if records not in RECORDS:
            raise ValueError(f"records must be one of {', '.join(RECORDS)} (got {records!r})")
        if not isinstance(plan, Plan):
            raise TypeError("plan must be a loadgen.plan.Plan")
        self.spec = dict(spec)
        self._start_plan = plan
        self._records = records
        self._env = dict(env or {})
        self._options = runner_options
        self._event_loop = event_loop
        self._warm = warm
        self.stats: StatsSnapshot | None = None  # latest snapshot from the child
        self.error: str | None = None  # one line, when the child failed
        self.logs: deque[str] = deque(maxlen=MAX_LOGS)  # stray output of the child, never on the terminal
        self.done = False
        self._process: BaseProcess | None = None
        self._cmd: Connection[wire.Command, Never] | None = None
        self._out: Connection[Never, object] | None = None
        # (outcomes, snapshot or None) read but not yet handed out
        self._ready: deque[tuple[list[Outcome], StatsSnapshot | None]] = deque()
        self._waiters: list[asyncio.Future[None]] = []  # futures of consumers waiting for the pipe
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finalizer: weakref.finalize[[BaseProcess], LoadProcess] | None = None

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> "LoadProcess":
        if self._process is not None:
            raise RuntimeError("a LoadProcess starts once")
        warm, self._warm = self._warm or WarmStart(), None
        self._process, self._cmd, self._out = warm.take()
        self._finalizer = weakref.finalize(self, _reap, self._process)
        self._send(wire.Begin(self.spec, self._start_plan, self._options, self._records, self._env, self._event_loop))
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def plan(self) -> Plan:
        """The plan the child last reported running (the starting plan until it reports)."""
        if self.stats is not None and self.stats.plan is not None:
            return self.stats.plan
        return self._start_plan

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop the load and join the child (terminated, then killed, if it does not finish
        within `timeout`). Outcomes that arrive meanwhile stay available to batches()."""
        if self._process is None or self._cmd is None:
            return
        self._send(wire.Stop())
        try:
            async with asyncio.timeout(timeout):
                # Keep reading: a child blocked on a full pipe could not finish otherwise.
                while not self.done and self._out is not None:
                    await self._wait()
        except TimeoutError:
            pass
        self._finish()

    def _finish(self) -> None:
        assert self._process is not None, "stop() finishes a started process"
        self._read_available()
        _reap(self._process)
        if self._finalizer is not None:
            self._finalizer.detach()
        self._stop_reading()
        for conn in (self._cmd, self._out):
            if conn is not None:
                conn.close()
        self._cmd = self._out = None
        self.done = True
        self._wake_waiters()

    async def __aenter__(self) -> "LoadProcess":
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- control -------------------------------------------------------------------------

    def apply(self, plan: Plan) -> bool:
        """Ask the child to run `plan` (mode, level, paused; the limits are the run's own).
        What it runs comes back in `stats.plan`. False if the child has finished."""
        if not isinstance(plan, Plan):
            raise TypeError("plan must be a loadgen.plan.Plan")
        return self._send(wire.Apply(plan))

    def _send(self, command: wire.Command) -> bool:
        if self._cmd is None or self.done:
            return False
        try:
            self._cmd.send(command)
        except (BrokenPipeError, OSError):
            return False  # the child has exited; batches() will say why
        return True

    # ---- reports -------------------------------------------------------------------------

    async def batches(self) -> AsyncGenerator[tuple[list[Outcome], StatsSnapshot | None], None]:
        """(outcomes, snapshot or None) as they arrive, until the child finishes: a list of
        Outcome per batch, with the latest StatsSnapshot when one came with it. Raises
        LoadError if the child failed (after the outcomes that came before the failure)."""
        while True:
            self._read_available()
            while self._ready:
                yield self._ready.popleft()
            if self.done or self._out is None:
                break
            await self._wait()
        if self.error is not None:
            raise LoadError(self.error)

    async def _wait(self) -> None:
        """Until the pipe has something (or the child is gone). The pipe is watched only while
        someone waits: unread reports stay in the pipe and hold the child back."""
        loop = self._loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiters.append(fut)
        if len(self._waiters) == 1 and self._out is not None:
            loop.add_reader(self._out.fileno(), self._on_readable)
        try:
            await fut
        finally:
            if fut in self._waiters:
                self._waiters.remove(fut)
            if not self._waiters:
                self._stop_reading()

    def _on_readable(self) -> None:
        self._read_available()
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
        self._stop_reading()

    def _stop_reading(self) -> None:
        if self._loop is not None and self._out is not None:
            self._loop.remove_reader(self._out.fileno())

    def _read_available(self) -> None:
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

    def _read_one(self) -> None:
        assert self._out is not None, "called by _read_available, which checks"
        try:
            report = self._out.recv()
        except (EOFError, OSError):
            self._child_gone()
            return
        match report:
            case wire.Batch(rows):
                self._ready.append(([Outcome.from_tuple(t) for t in rows], None))
            case wire.Stats(snapshot):
                self._take_stats(snapshot)
            case wire.Log(text):
                self.logs.append(text)
            case wire.Failed(error):
                self.error = error
            case wire.Done(snapshot):
                self._take_stats(snapshot)
                self.done = True
            case _:
                self.error = f"unexpected report from the load process: {report!r:.80}"

    def _take_stats(self, snapshot: StatsSnapshot) -> None:
        """The snapshot rides with the batch before it (one item per tick), or alone."""
        self.stats = snapshot
        if self._ready and self._ready[-1][1] is None:
            self._ready[-1] = (self._ready[-1][0], snapshot)
        else:
            self._ready.append(([], snapshot))

    def _child_gone(self) -> None:
        if not self.done:
            assert self._process is not None, "only a started process reports"
            self._process.join(1.0)
            if self.error is None:
                self.error = f"load process exited unexpectedly (exit code {self._process.exitcode})"
            self.done = True


class WarmStart:
    """A load process spawned before its target is known: it imports the generator (aiohttp,
    uvloop; ~0.4 s) while the caller starts the target, and waits for `wire.Begin`. A LoadProcess
    given it (`warm=`) takes it over at `start()`. One never taken over ends when closed, when
    collected, or with this process (its command pipe closes: the child sees EOF and exits)."""

    def __init__(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        cmd_read, cmd = ctx.Pipe(duplex=False)
        out, out_write = ctx.Pipe(duplex=False)
        process = ctx.Process(target=child.main, name="lambdascope-load", daemon=True, args=(cmd_read, out_write))
        with _main_module_hidden(), _real_std_streams():
            process.start()
        # Drop our copies of the child's ends: then each side sees end-of-file when the
        # other goes away (the child stops when we die; we notice when it dies).
        cmd_read.close()
        out_write.close()
        self._parts: _Parts | None = (process, cmd, out)
        self._finalizer = weakref.finalize(self, _abandon, process, cmd, out)

    @property
    def pid(self) -> int | None:
        return self._parts[0].pid if self._parts is not None else None

    def take(self) -> "_Parts":
        """(process, command pipe, report pipe), once."""
        if self._parts is None:
            raise RuntimeError("this WarmStart was taken over or closed already")
        parts, self._parts = self._parts, None
        self._finalizer.detach()
        return parts

    def close(self) -> None:
        """End the process if nobody took it over (a no-op after `take`)."""
        if self._parts is not None:
            self._parts = None
            self._finalizer()


def _abandon(process: "BaseProcess", cmd: "Connection[wire.Command, Never]", out: "Connection[Never, object]") -> None:
    cmd.close()  # EOF before Begin: the child exits by itself
    out.close()
    _reap(process)


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
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


@contextlib.contextmanager
def _real_std_streams() -> Iterator[None]:
    """multiprocessing hands sys.stderr's file descriptor to the resource tracker it starts. A
    full-screen UI that captures output (Textual does) leaves a stream whose fileno() is unusable,
    and the spawn fails ("bad value(s) in fds_to_keep"): use the process's real streams while
    spawning."""
    saved = sys.stdout, sys.stderr
    for name, real in (("stdout", sys.__stdout__), ("stderr", sys.__stderr__)):
        try:
            usable = getattr(sys, name).fileno() >= 0
        except (AttributeError, OSError, ValueError):
            usable = False
        if not usable and real is not None:
            setattr(sys, name, real)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _reap(process: "BaseProcess") -> None:
    """Make sure the child is gone: join, then terminate, then kill."""
    if process.is_alive():
        process.join(0.5)
    if process.is_alive():
        process.terminate()
        process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join()

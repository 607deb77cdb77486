"""The load process's side: run a Runner, obey the parent's commands, stream outcomes back.

Runs in a spawned process. It never writes to the terminal (the parent runs a full-screen UI):
file descriptors 1 and 2 go to /dev/null, and Python-level output (stray prints, warnings,
logging's last-resort handler, asyncio's exception handler) goes to the parent as "log"
messages. A failure goes to the parent as one "error" message and exit code 1.

What crosses the pipe is typed (loadgen/wire.py): reports `Batch`, `Stats`, `Log`, `Failed`,
`Done` to the parent; commands `Begin(...)` (once, first), `Apply(plan)` and `Stop()` from it.
End of file on the command pipe means the parent is gone: stop.
"""

import asyncio
import contextlib
import io
import os
import queue
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Never, NoReturn

from loadgen import wire

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from loadgen.outcome import Outcome
    from loadgen.plan import Plan
    from loadgen.runner import Runner

MAX_RECORDS_SEEN = 100_000
CHUNK = 1000  # outcomes per message: keeps each pickle (and the parent's unpickle) short


def main(cmd_conn: "Connection[Never, object]", out_conn: "Connection[wire.Report, Never]") -> NoReturn:
    """Entry point of the spawned process: import the generator, then wait for `wire.Begin`
    (the parent sends it once its target is up) and run it."""
    # The parent owns the terminal and its Ctrl-C; it stops us through the command pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    outbox = _Outbox(out_conn)
    _silence(outbox)
    code = 0
    try:
        # Imported before Begin arrives: this is what the parent's head start buys (~0.4 s), and
        # an import failure is reported like any other failure.
        import uvloop

        from loadgen import gc_policy, runner, targets  # noqa: F401

        gc_policy.tune()
        gc_policy.freeze_startup()  # after the imports: they are what a full collection would rescan

        begin = cmd_conn.recv()
        if not isinstance(begin, wire.Begin):
            raise TypeError(f"the first command must be Begin, not {begin!r:.80}")
        os.environ.update(begin.env)
        run = uvloop.run if begin.event_loop == "uvloop" else asyncio.run
        run(_run(begin.spec, begin.plan, begin.options, begin.records, cmd_conn, outbox))
    except (_ParentGone, EOFError):
        code = 0  # nobody to report to (EOF before Begin: the parent never needed us)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then exit 1
        outbox.put_nowait(wire.Failed(one_line(exc)))
        code = 1
    finally:
        outbox.close(timeout=5.0)
    # os._exit: no interpreter teardown that could print, and no waiting on stray threads.
    os._exit(code)


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    # Our own errors (ValueError from plans and specs, CredentialsError) read well bare.
    if type(exc).__name__ in ("ValueError", "PlanError", "CredentialsError") and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _run(
    spec: dict[str, Any],
    plan: "Plan",
    options: wire.RunnerOptions,
    records: str,
    cmd_conn: "Connection[Never, object]",
    outbox: "_Outbox",
) -> None:
    from loadgen.runner import Runner
    from loadgen.targets import target_from_spec

    loop = asyncio.get_running_loop()
    outbox.bind(loop)
    loop.set_exception_handler(lambda _loop, context: outbox.put_nowait(wire.Log(str(context.get("message")))))
    runner = Runner(target_from_spec(spec), plan, **options)
    fd = cmd_conn.fileno()

    def on_command() -> None:
        try:
            while cmd_conn.poll():
                _obey(runner, cmd_conn.recv(), outbox)
        except (EOFError, OSError):
            loop.remove_reader(fd)
            runner.stop()  # the parent is gone (or closed its end): finish quickly

    loop.add_reader(fd, on_command)
    seen: set[str | None] = set()
    interval = options.get("batch_interval", 0.1)
    last_stats = 0.0
    try:
        async with contextlib.aclosing(runner.run()) as batches:
            async for batch in batches:
                for start in range(0, len(batch), CHUNK):
                    chunk = batch[start : start + CHUNK]
                    await outbox.put(wire.Batch([o.to_tuple(_keep_record(o, records, seen)) for o in chunk]))
                now = time.monotonic()
                if now - last_stats >= interval * 0.9:
                    last_stats = now
                    await outbox.put(wire.Stats(runner.snapshot()))
    finally:
        loop.remove_reader(fd)
    await outbox.put(wire.Done(runner.snapshot()))


def _obey(runner: "Runner", command: object, outbox: "_Outbox") -> None:
    match command:
        case wire.Apply(plan):
            try:
                runner.apply(plan)
            except ValueError as exc:  # a plan this run cannot take: said, not fatal
                outbox.put_nowait(wire.Log(f"plan refused: {one_line(exc)}"))
        case wire.Stop():
            runner.stop()
        case _:
            raise TypeError(f"unknown command from the parent: {command!r}")


def _keep_record(outcome: "Outcome", records: str, seen: set[str | None]) -> bool:
    """Whether this outcome carries its probe record across: 'all', 'none', or 'new' (the first
    record of each container, and cold ones: host facts do not change within a container)."""
    if records == "all" or outcome.record is None:
        return True
    if records == "none":
        return False
    container = outcome.container_id
    if outcome.cold or container not in seen:
        if len(seen) >= MAX_RECORDS_SEEN:
            seen.clear()  # bounded; a container seen again just sends one more record
        seen.add(container)
        return True
    return False


class _ParentGone(Exception):
    pass


class _Outbox:
    """Reports to the parent through one daemon sender thread, so the event loop never blocks
    in a pipe write. Batches and stats take one of `slots` (an asyncio.Semaphore the sender
    releases after each send): a parent that reads slowly slows this process down
    (back-pressure) without a busy wait. Logs and the final error never wait: at most
    `max_logs` are queued, the rest dropped and counted."""

    def __init__(self, conn: "Connection[wire.Report, Never]", slots: int = 16, max_logs: int = 64) -> None:
        self._conn = conn
        # (report, holds_a_slot), or None to end; bounded by slots + max_logs
        self._queue: queue.SimpleQueue[tuple[wire.Report, bool] | None] = queue.SimpleQueue()
        self._max_logs = max_logs
        self._logs_queued = 0
        self._slots_total = slots
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.broken = False
        self.dropped_logs = 0
        self._thread = threading.Thread(target=self._send_loop, name="outbox", daemon=True)
        self._thread.start()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Use `loop` for back-pressure (call from inside it, before the first `put`)."""
        self._loop = loop
        self._slots = asyncio.Semaphore(self._slots_total)

    def _send_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            report, slot = item
            try:
                self._conn.send(report)
            except (OSError, EOFError):
                self.broken = True  # the parent is gone: wake every waiting put
                self._release(self._slots_total)
                return
            if slot:
                self._release(1)
            else:
                self._logs_queued -= 1

    def _release(self, n: int) -> None:
        if self._loop is None or self._slots is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
            for _ in range(n):
                self._loop.call_soon_threadsafe(self._slots.release)

    async def put(self, report: wire.Report) -> None:
        if self.broken:
            raise _ParentGone()
        assert self._slots is not None, "bind() comes before the first put"
        await self._slots.acquire()
        if self.broken:
            raise _ParentGone()
        self._queue.put((report, True))

    def put_nowait(self, report: wire.Report) -> None:
        """For logs and the final error: never blocks; dropped (and counted) past max_logs."""
        if self._logs_queued >= self._max_logs:
            self.dropped_logs += 1
            return
        self._logs_queued += 1
        self._queue.put((report, False))

    def close(self, timeout: float) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self._conn.close()


class _LogWriter(io.TextIOBase):
    """sys.stdout/sys.stderr stand-in: complete lines become `Log` reports to the parent."""

    def __init__(self, outbox: _Outbox, name: str) -> None:
        self._outbox = outbox
        self._name = name
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            if line.strip():
                self._outbox.put_nowait(wire.Log(f"{self._name}: {line[:500]}"))
        if len(self._partial) > 4096:
            self._outbox.put_nowait(wire.Log(f"{self._name}: {self._partial[:500]}"))
            self._partial = ""
        return len(text)


def _silence(outbox: _Outbox) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stdout = _LogWriter(outbox, "stdout")
    sys.stderr = _LogWriter(outbox, "stderr")

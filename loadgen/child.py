"""The load process's side: run a Runner, obey the parent's commands, stream outcomes back.

Runs in a spawned process. It never writes to the terminal (the parent runs a full-screen UI):
file descriptors 1 and 2 go to /dev/null, and Python-level output (stray prints, warnings,
logging's last-resort handler, asyncio's exception handler) goes to the parent as "log"
messages. A failure goes to the parent as one "error" message and exit code 1.

Messages to the parent (tuples): ("batch", [outcome tuples]), ("stats", snapshot dict),
("log", text), ("error", text), ("done", snapshot dict).
Commands from the parent: ("level", x), ("mode", mode, level_or_None), ("pause",),
("resume",), ("stop",). End of file on the command pipe means the parent is gone: stop.
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

MAX_RECORDS_SEEN = 100_000
CHUNK = 1000  # outcomes per message: keeps each pickle (and the parent's unpickle) short


def main(spec, plan, options, records, env, cmd_conn, out_conn):
    """Entry point of the spawned process (arguments are all picklable)."""
    # The parent owns the terminal and its Ctrl-C; it stops us through the command pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(env)
    outbox = _Outbox(out_conn)
    _silence(outbox)
    code = 0
    try:
        asyncio.run(_run(spec, plan, options, records, cmd_conn, outbox))
    except _ParentGone:
        code = 0  # nobody to report to
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then exit 1
        outbox.put_nowait(("error", one_line(exc)))
        code = 1
    finally:
        outbox.close(timeout=5.0)
    # os._exit: no interpreter teardown that could print, and no waiting on stray threads.
    os._exit(code)


def one_line(exc):
    text = " ".join(str(exc).split())
    # Our own errors (ValueError from plans and specs, CredentialsError) read well bare.
    if type(exc).__name__ in ("ValueError", "CredentialsError") and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _run(spec, plan, options, records, cmd_conn, outbox):
    # Imported here so an import failure is reported like any other failure.
    from loadgen.plan import Plan
    from loadgen.runner import Runner
    from loadgen.targets import target_from_spec

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(
        lambda _loop, context: outbox.put_nowait(("log", str(context.get("message")))))
    runner = Runner(target_from_spec(spec), Plan.from_dict(plan), **options)
    fd = cmd_conn.fileno()

    def on_command():
        try:
            while cmd_conn.poll():
                _apply(runner, cmd_conn.recv())
        except (EOFError, OSError):
            loop.remove_reader(fd)
            runner.stop()  # the parent is gone (or closed its end): finish quickly

    loop.add_reader(fd, on_command)
    seen = set()
    interval = options.get("batch_interval", 0.1)
    last_stats = 0.0
    try:
        async with contextlib.aclosing(runner.run()) as batches:
            async for batch in batches:
                for start in range(0, len(batch), CHUNK):
                    chunk = batch[start:start + CHUNK]
                    await outbox.put(("batch", [o.to_tuple(_keep_record(o, records, seen))
                                                for o in chunk]))
                now = time.monotonic()
                if now - last_stats >= interval * 0.9:
                    last_stats = now
                    await outbox.put(("stats", runner.snapshot().to_dict()))
    finally:
        loop.remove_reader(fd)
    await outbox.put(("done", runner.snapshot().to_dict()))


def _apply(runner, command):
    name = command[0]
    if name == "level":
        runner.set_level(command[1])
    elif name == "mode":
        runner.set_mode(command[1], command[2])
    elif name == "pause":
        runner.pause()
    elif name == "resume":
        runner.resume()
    elif name == "stop":
        runner.stop()
    else:
        raise ValueError(f"unknown command {name!r} from the parent")


def _keep_record(outcome, records, seen):
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
    """Messages to the parent through a bounded queue and one daemon sender thread, so a
    parent that reads slowly slows this process down (back-pressure) without ever blocking
    the event loop in a pipe write."""

    def __init__(self, conn, maxsize=16):
        self._conn = conn
        self._queue = queue.Queue(maxsize)
        self.broken = False
        self.dropped_logs = 0
        self._thread = threading.Thread(target=self._send_loop, name="outbox", daemon=True)
        self._thread.start()

    def _send_loop(self):
        while True:
            message = self._queue.get()
            if message is None:
                return
            try:
                self._conn.send(message)
            except (OSError, EOFError):
                self.broken = True  # the parent is gone
                return

    async def put(self, message):
        while True:
            if self.broken:
                raise _ParentGone()
            try:
                self._queue.put_nowait(message)
                return
            except queue.Full:
                await asyncio.sleep(0.005)

    def put_nowait(self, message):
        """For logs and the final error: never blocks; dropped (and counted) when full."""
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self.dropped_logs += 1

    def close(self, timeout):
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            try:
                self._queue.put(None, timeout=0.05)
                break
            except queue.Full:
                continue
        self._thread.join(max(0.0, deadline - time.monotonic()))
        with contextlib.suppress(OSError):
            self._conn.close()


class _LogWriter(io.TextIOBase):
    """sys.stdout/sys.stderr stand-in: complete lines become "log" messages to the parent."""

    def __init__(self, outbox, name):
        self._outbox = outbox
        self._name = name
        self._partial = ""

    def writable(self):
        return True

    def write(self, text):
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            if line.strip():
                self._outbox.put_nowait(("log", f"{self._name}: {line[:500]}"))
        if len(self._partial) > 4096:
            self._outbox.put_nowait(("log", f"{self._name}: {self._partial[:500]}"))
            self._partial = ""
        return len(text)


def _silence(outbox):
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stdout = _LogWriter(outbox, "stdout")
    sys.stderr = _LogWriter(outbox, "stderr")

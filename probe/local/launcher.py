"""Starting an environment's process and reading its output line by line.

Two launchers give the same handle: `SpawnLauncher` starts a fresh interpreter (the awslambdaric
runtime, a real cold start); `forkserver.ForkLauncher` forks one from a preloaded parent.
stdout and stderr share one pipe, read by a protocol that splits lines synchronously in the
event loop callback, before any later HTTP handler runs, so a line printed before `/response`
is always attributed to the invocation that printed it.
"""

import asyncio
import functools
import signal
from collections.abc import Callable

from probe.local import opt_mount
from probe.local.procs import kill_group

MAX_LINE_BYTES = 256 * 1024  # a longer "line" is cut into pieces (CloudWatch's event limit)

OnLine = Callable[[str], None]


class LineSplitter:
    """Bytes in, complete lines out (split on \\n only: awslambdaric joins tracebacks with \\r)."""

    def __init__(self, on_line: OnLine):
        self.on_line = on_line
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data
        while True:
            cut = self._buf.find(b"\n")
            if cut < 0:
                if len(self._buf) >= MAX_LINE_BYTES:
                    cut = MAX_LINE_BYTES
                    line, self._buf = bytes(self._buf[:cut]), self._buf[cut:]
                    self.on_line(line.decode(errors="replace"))
                    continue
                return
            line = bytes(self._buf[:cut])
            del self._buf[: cut + 1]
            self.on_line(line.decode(errors="replace"))

    def close(self) -> None:
        if self._buf:
            line, self._buf = bytes(self._buf), bytearray()
            self.on_line(line.decode(errors="replace"))


class Proc:
    """A running environment process: its pid, a future for its exit, and a way to kill it."""

    def __init__(self, pid: int):
        self.pid = pid
        self.exited: asyncio.Future = asyncio.get_running_loop().create_future()

    def exit_reason(self) -> str:
        """How the process ended, in real Lambda's words ("exit status 1", "signal: killed")."""
        code = self.exited.result() if self.exited.done() else None
        if code is None:
            return "signal: killed"
        if code < 0:
            name = {9: "killed", 15: "terminated", 11: "segmentation fault", 6: "aborted"}
            return f"signal: {name.get(-code, str(-code))}"
        return f"exit status {code}"

    def kill(self) -> None:
        if not self.exited.done():
            kill_group(self.pid, signal.SIGKILL)


class _SpawnProtocol(asyncio.SubprocessProtocol):
    def __init__(self, on_line: OnLine):
        self.lines = LineSplitter(on_line)
        self.proc: Proc | None = None
        self.transport = None
        self.lost = False

    def pipe_data_received(self, fd, data):
        self.lines.feed(data)

    def pipe_connection_lost(self, fd, exc):
        self.lines.close()

    def connection_lost(self, exc):
        # Called once the process has exited AND its pipe is drained (process_exited can come
        # before the last output), so every line is in before the exit is reported.
        self.lines.close()
        self.lost = True
        if self.proc is not None and not self.proc.exited.done():
            self.proc.exited.set_result(self.transport.get_returncode())


class SpawnLauncher:
    """Starts each environment as a fresh `python -u -m ...` process in its own session."""

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def kill_now(self) -> None:
        pass  # its processes belong to the environments, which kill them

    async def launch(
        self, argv: list[str], env: dict[str, str], cwd: str, on_line: OnLine, opt: str | None = None
    ) -> Proc:
        """`opt`: a folder to see at /opt (the function's layers), in the process's own mount
        namespace (probe/local/opt_mount.py)."""
        loop = asyncio.get_running_loop()
        protocol = _SpawnProtocol(on_line)
        extra = {"preexec_fn": functools.partial(opt_mount.enter, opt)} if opt else {}
        transport, _ = await loop.subprocess_exec(
            lambda: protocol,
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            **extra,
        )
        protocol.transport = transport
        proc = Proc(transport.get_pid())
        proc.transport = transport
        protocol.proc = proc
        if protocol.lost:  # it was all over before we got here
            proc.exited.set_result(transport.get_returncode())
        proc.exited.add_done_callback(lambda _f: transport.close())
        return proc

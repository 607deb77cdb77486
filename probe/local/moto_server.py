"""moto's server as a child process: the local CloudWatch Logs endpoint.

Out of process on purpose: in process, werkzeug prints an access line per request to stderr (which
corrupts a terminal UI), and it is slower (MEASURED.md).
"""

import asyncio
import signal
import sys

import aiohttp

from probe.local.procs import die_with_parent, free_port, kill_group, minimal_env

START_TIMEOUT_S = 30.0


class MotoServer:
    """`async with MotoServer() as moto: moto.endpoint` -> "http://127.0.0.1:PORT"."""

    def __init__(self, pids: set[int] | None = None):
        self.port = 0
        self.endpoint = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._pids = pids if pids is not None else set()

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc):
        await self.stop()

    async def start(self) -> None:
        # A port picked here can be taken before moto binds it: retry with a new one.
        for _ in range(3):
            self.port = free_port()
            self.endpoint = f"http://127.0.0.1:{self.port}"
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,  # never the terminal
                start_new_session=True,
                preexec_fn=die_with_parent,
                env=minimal_env({"PYTHONUNBUFFERED": "1"}),
            )
            self._pids.add(self._proc.pid)
            if await self._wait_ready():
                return
            await self.stop()
        raise RuntimeError("moto server did not start: is moto (with flask, flask-cors) installed?")

    async def _wait_ready(self) -> bool:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        timeout = aiohttp.ClientTimeout(total=1)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while asyncio.get_running_loop().time() < deadline:
                if self._proc.returncode is not None:
                    return False
                try:
                    async with http.get(f"{self.endpoint}/moto-api/") as resp:
                        await resp.read()
                        return True
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                    await asyncio.sleep(0.05)
        return False

    def kill_now(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            kill_group(self._proc.pid, signal.SIGKILL)

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            kill_group(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 2.0)
            except asyncio.TimeoutError:
                kill_group(proc.pid, signal.SIGKILL)
                await proc.wait()
        else:
            kill_group(proc.pid, signal.SIGKILL)  # anything it left in its group

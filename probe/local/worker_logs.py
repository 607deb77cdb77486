"""The fd-provider socket a Managed Instances environment's workers write their output to.

awslambdaric in multi-concurrent mode forks one worker per request slot; each connects its
stdout and stderr here (_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET), one connection per stream,
and each connection is split into lines of its own, so concurrent lines interleave in the
environment's stream but never within a line.
"""

import asyncio
import os
import shutil

from probe.local.launcher import LineSplitter, OnLine
from probe.local.scratch import make_scratch

MAX_SOCKET_PATH = 100  # bytes: Linux takes 107 for an AF_UNIX path
SHORT_SOCKET_BASE = "/tmp"  # scratch folders there are cleaned by LocalLambda like any other


class WorkerLogs:
    """One environment's socket: served in its scratch folder, closed (and its folder, when it
    needed a short one, removed) when the environment stops."""

    def __init__(self, on_line: OnLine) -> None:
        self._on_line = on_line
        self._server: asyncio.AbstractServer | None = None
        self._sock_dir: str | None = None  # a short folder for the socket, when the scratch one is too long
        self._splitters: list[LineSplitter] = []

    async def serve(self, tmp: str) -> str:
        """Listen in `tmp` (the environment's scratch folder); the socket's path."""
        path = os.path.join(tmp, "logs.sock")
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            # A long TMPDIR (a test's tmp_path, a deep home) makes the bind fail ("AF_UNIX path
            # too long") and every request wait for an environment that never starts.
            self._sock_dir = make_scratch(SHORT_SOCKET_BASE)
            path = os.path.join(self._sock_dir, "logs.sock")

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            lines = LineSplitter(self._on_line)
            self._splitters.append(lines)
            try:
                while chunk := await reader.read(65536):
                    lines.feed(chunk)
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                lines.close()
                writer.close()

        self._server = await asyncio.start_unix_server(on_connect, path=path)
        return path

    def close(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            for lines in self._splitters:
                lines.close()
        if self._sock_dir:
            shutil.rmtree(self._sock_dir, ignore_errors=True)
        self._sock_dir = None

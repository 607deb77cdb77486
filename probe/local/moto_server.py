"""moto's server as a child process: the local CloudWatch Logs endpoint, for the local Lambda and
for the tests alike (one launcher).

Out of process on purpose: in process, werkzeug prints an access line per request to stderr (which
corrupts a terminal UI), and it is slower (MEASURED.md). The process is spawned with `Popen`
(milliseconds, so fine inside an event loop) in its own session, dying with its parent; it is
ready when `/moto-api/` answers. `async with MotoServer()` is the local Lambda's face;
`start_blocking()`/`stop_blocking()` the tests' (module-scoped fixtures are synchronous).
"""

import asyncio
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from probe.local.procs import die_with_parent, free_port, kill_group, minimal_env

START_TIMEOUT_S = 30.0
_POLL_S = 0.05


class MotoServer:
    """`async with MotoServer() as moto: moto.endpoint` -> "http://127.0.0.1:PORT"."""

    def __init__(self, pids: set[int] | None = None, *, switch_interval_s: float | None = None):
        """`switch_interval_s`: moto's thread switch interval (tests: a short one makes a thread
        race in moto show at once; probe/local/moto_main.py)."""
        self.port = 0
        self._switch = () if switch_interval_s is None else ("--switch-interval", repr(switch_interval_s))
        self.endpoint = ""
        self._proc: subprocess.Popen | None = None
        self._pids = pids if pids is not None else set()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # ---- async (the local Lambda) ----------------------------------------------------------
    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc):
        await self.stop()

    def spawn(self) -> "MotoServer":
        """Start the process now and return at once (Popen: milliseconds); `start()` then waits
        for it. moto takes ~0.8 s to boot: spawned first, it boots while the caller does its own
        start-up (the monitor's screen) on the other core."""
        if self._proc is None:
            self._spawn()
            threading.Thread(target=_warm_logs, args=(self.endpoint, self._proc), daemon=True).start()
        return self

    async def start(self) -> None:
        # A port picked here can be taken before moto binds it: retry with a new one.
        for _ in range(3):
            if self._proc is None:
                self._spawn()
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline and self._proc.poll() is None:
                if await asyncio.to_thread(self._answers):
                    return
                await asyncio.sleep(_POLL_S)
            await self.stop()
        raise RuntimeError("moto server did not start: is moto (with flask, flask-cors) installed?")

    async def stop(self) -> None:
        proc = self._take()
        if proc is None:
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), 2.0)
        except TimeoutError:
            kill_group(proc.pid, signal.SIGKILL)
            await asyncio.to_thread(proc.wait)

    # ---- sync (the tests' fixtures) ---------------------------------------------------------
    def start_blocking(self) -> "MotoServer":
        for _ in range(3):
            if self._proc is None:
                self._spawn()
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline and self._proc.poll() is None:
                if self._answers():
                    return self
                time.sleep(_POLL_S)
            self.stop_blocking()
        raise RuntimeError("moto server did not start: is moto (with flask, flask-cors) installed?")

    def stop_blocking(self) -> None:
        proc = self._take()
        if proc is None:
            return
        try:
            proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            kill_group(proc.pid, signal.SIGKILL)
            proc.wait()

    def reset(self) -> None:
        """Forget every resource (moto's own reset API): a clean account for the next test."""
        req = urllib.request.Request(self.endpoint + "/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=5).read()

    def kill_now(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            kill_group(self._proc.pid, signal.SIGKILL)

    # ---- the one way it is started, probed and stopped --------------------------------------
    def _spawn(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._proc = subprocess.Popen(
            # moto's server with its Kinesis shards made thread-safe (moto_main.py says why).
            [sys.executable, "-m", "probe.local.moto_main", *self._switch, "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # never the terminal
            start_new_session=True,
            preexec_fn=die_with_parent,
            env=minimal_env({"PYTHONUNBUFFERED": "1"}),
        )
        self._pids.add(self._proc.pid)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1) as resp:
                resp.read()
            return True
        except (urllib.error.URLError, OSError):
            return False

    def _take(self) -> subprocess.Popen | None:
        """Detach the process and signal it to stop (TERM, or KILL for what an exited one left)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        kill_group(proc.pid, signal.SIGTERM if proc.poll() is None else signal.SIGKILL)
        return proc


# moto builds a service's backend on its first request (~0.2 s for CloudWatch Logs). A read-only
# call as soon as the server listens moves that off the first real call's path. moto reads the
# service from the signature's credential scope and does not check the signature.
_WARM_UP_HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
    "Authorization": "AWS4-HMAC-SHA256 Credential=warm-up/20260101/us-east-1/logs/aws4_request, "
    "SignedHeaders=host, Signature=0",
}


def _warm_logs(endpoint: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        request = urllib.request.Request(endpoint + "/", b"{}", _WARM_UP_HEADERS, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                resp.read()
            return
        except urllib.error.HTTPError:
            return  # it answered: warm either way
        except (urllib.error.URLError, OSError):
            time.sleep(_POLL_S)  # not listening yet

"""The fork-server runtime: a preloaded parent that forks one small runtime per environment.

Run as a script (`python -u fork_runtime.py FD`), not imported through the `probe.local` package,
so the parent preloads only the standard library the handler needs, never aiohttp or botocore.
Two runtimes per child, as the request asks:
- the ~60-line raw-socket Runtime API loop below (runtime "fork");
- real awslambdaric (runtime "awslambdaric-fork", `"ric": true`). Its C extension reads
  AWS_LAMBDA_RUNTIME_API when imported, so the parent preloads everything awslambdaric uses but
  that extension and the one module that imports it; each child sets its environment first and
  imports them then. Forked child to awslambdaric imported: 3.6 ms, against 29.5 ms for a
  spawned interpreter (this machine, 2026-12-07, /tmp/forkric.py in the closing note of issue 17).

Protocol on the SOCK_SEQPACKET socket FD (one JSON message per packet):
  in:  {"id", "env", "cwd", "handler"} + one fd (the child's stdout/stderr pipe)
  out: {"ready": true} once; {"id", "pid"} per fork; {"exit": pid, "code": n} per child exit
Children are reaped here (the local Lambda is not their parent) and die with this process.
Stdlib only. Output must stay unbuffered (`-u`), or handler lines lag and are lost.
"""

import ctypes
import importlib
import json
import os
import platform  # noqa: F401  preloaded for the probe handler
import select
import signal
import socket
import sys
import tempfile
import time
import traceback
import uuid  # noqa: F401  preloaded for the probe handler

PR_SET_PDEATHSIG = 1
PREFIX = "/2018-06-01/runtime"


try:
    _LIBC = ctypes.CDLL(None, use_errno=True)  # loaded once here, not in every child
except OSError:
    _LIBC = None
try:
    import probe  # noqa: F401  the package only; the handler module reads its env at import
    from probe.local import opt_mount  # stdlib only: layers at /opt for a child that asks
except ImportError:
    opt_mount = None
try:  # awslambdaric without its C extension (see above): what every "ric" child would import
    import http.client  # noqa: F401  awslambdaric's runtime client imports it; 23 ms spawned

    from awslambdaric import (  # noqa: F401
        lambda_config,
        lambda_context,
        lambda_runtime_exception,
        lambda_runtime_log_utils,
        lambda_runtime_marshaller,
    )
except ImportError:  # not installed: only "fork" children can be served
    pass


def _die_with_parent() -> None:
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# -- the runtime loop, inside each forked environment ------------------------------------------
class Context:
    def __init__(self, headers: dict, env: dict):
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms") or 0)
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = None
        self.identity = None

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


class Api:
    """A keep-alive HTTP/1.1 client for the Runtime API, just big enough for it."""

    def __init__(self, address: str):
        host, port = address.rsplit(":", 1)
        self.host = address
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")

    def call(self, method: str, path: str, body: bytes = b"", headers: str = ""):
        head = (
            f"{method} {PREFIX}{path} HTTP/1.1\r\nHost: {self.host}\r\n{headers}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.sock.sendall(head.encode() + body)
        self.rfile.readline()  # status line
        fields = {}
        while True:
            line = self.rfile.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.decode("latin-1").partition(":")
            fields[key.strip().lower()] = value.strip()
        length = int(fields.get("content-length") or 0)
        return fields, self.rfile.read(length) if length else b""


def _error_body(exc: BaseException) -> tuple[bytes, str]:
    stack = traceback.format_tb(exc.__traceback__)
    body = {"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": stack, "requestId": ""}
    # awslambdaric's text shape: one line, the traceback joined with \r.
    text = f"[ERROR] {type(exc).__name__}: {exc}\rTraceback (most recent call last):\r" + "".join(stack).replace(
        "\n", "\r"
    )
    return json.dumps(body).encode(), text


def run_runtime(handler_name: str) -> None:
    env = os.environ
    api = Api(env["AWS_LAMBDA_RUNTIME_API"])
    try:
        module, _, name = handler_name.rpartition(".")
        handler = getattr(importlib.import_module(module), name)
    except Exception as exc:  # like awslambdaric: report, print, exit 1
        body, text = _error_body(exc)
        print(text, flush=True)
        api.call("POST", "/init/error", body, "Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError\r\n")
        os._exit(1)
    while True:
        headers, event = api.call("GET", "/invocation/next")
        rid = headers.get("lambda-runtime-aws-request-id")
        try:
            result = handler(json.loads(event or b"null"), Context(headers, env))
            api.call("POST", f"/invocation/{rid}/response", json.dumps(result).encode())
        except Exception as exc:
            body, text = _error_body(exc)
            print(text, flush=True)
            api.call("POST", f"/invocation/{rid}/error", body, "Lambda-Runtime-Function-Error-Type: Unhandled\r\n")


def run_awslambdaric(handler_name: str) -> None:
    """awslambdaric's own entry point, as `python -m awslambdaric HANDLER` runs it; its C
    extension is imported here, after the environment is set, so it reads this child's API."""
    from awslambdaric.__main__ import main

    main(["awslambdaric", handler_name])


def child(req: dict, out_fd: int, keep_closed: list[int]) -> None:
    try:
        os.setsid()  # its own process group: the local Lambda kills it with killpg
        _die_with_parent()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        for fd in [out_fd, *keep_closed]:
            os.close(fd)
        os.environ.clear()
        os.environ.update(req["env"])
        if req.get("opt"):
            opt_mount.enter(req["opt"])  # the layers at /opt, for this environment alone
        os.chdir(req["cwd"])
        tempfile.tempdir = None  # re-read TMPDIR: each environment has its own /tmp
        for path in reversed(req["env"].get("PYTHONPATH", "").split(os.pathsep)):
            if path and path not in sys.path:
                sys.path.insert(0, path)
        if req.get("ric"):
            run_awslambdaric(req["handler"])
        else:
            run_runtime(req["handler"])
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)
    os._exit(0)


# -- the fork server --------------------------------------------------------------------------
def serve(sock: socket.socket) -> None:
    _die_with_parent()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sock.send(json.dumps({"ready": True}).encode())
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                sock.send(json.dumps({"exit": pid, "code": os.waitstatus_to_exitcode(status)}).encode())
        if sock in ready:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 1)
            if not msg:
                return  # the local Lambda is gone: exit, and the children die with us
            req = json.loads(msg)
            pid = os.fork()
            if pid == 0:
                child(req, fds[0], [sock.fileno(), wake_r, wake_w])
            for fd in fds:
                os.close(fd)
            sock.send(json.dumps({"id": req["id"], "pid": pid}).encode())


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))

"""The loader's runtime: a Lambda Runtime API loop, stdlib only, that streams each answer.

Lambda's managed Python runtime (awslambdaric) posts one buffered answer; a function streams
only through a runtime that posts `/response` with `Lambda-Runtime-Function-Response-Mode:
streaming` and a chunked body (runtimes-custom.md, "Implementing response streaming in a custom
runtime"). This is that runtime, for one handler that returns an iterator of bytes: each item
is one chunk, sent when the handler yields it.

    AWS_LAMBDA_RUNTIME_API=host:port _HANDLER=loadgen.loader.handler.handler python -u -m loadgen.loader.bootstrap

A handler that raises before its first chunk is an `/error` (Lambda's error shape); one that
raises mid-stream cannot be told in the HTTP body any more, so the handler writes its own last
record saying so (handler.py), and the stream ends there.
"""

import http.client
import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

PREFIX = "/2018-06-01/runtime"
STREAMING = {
    "Lambda-Runtime-Function-Response-Mode": "streaming",
    "Content-Type": "application/x-ndjson",
}


class Context:
    """The handler's context: the few fields a loader needs."""

    def __init__(self, request_id: str, deadline_ms: int, function_arn: str) -> None:
        self.aws_request_id = request_id
        self.deadline_ms = deadline_ms
        self.invoked_function_arn = function_arn

    def get_remaining_time_in_millis(self) -> int:
        import time

        return max(0, self.deadline_ms - int(time.time() * 1000))


def _error_body(exc: BaseException) -> bytes:
    return json.dumps(
        {
            "errorMessage": str(exc)[:1000],
            "errorType": type(exc).__name__,
            "stackTrace": traceback.format_exception(exc)[-5:],
        }
    ).encode()


def _post(conn: http.client.HTTPConnection, path: str, body: Any, headers: dict[str, str], chunked: bool) -> None:
    conn.request("POST", path, body=body, headers=headers, encode_chunked=chunked)
    conn.getresponse().read()


def _load(name: str) -> Callable[[Any, Context], Iterable[bytes]]:
    module, _, attr = name.rpartition(".")
    handler: Callable[[Any, Context], Iterable[bytes]] = getattr(importlib.import_module(module), attr)
    return handler


def _first_then_rest(chunks: Iterator[bytes], first: bytes) -> Iterator[bytes]:
    yield first
    yield from chunks


def serve_one(conn: http.client.HTTPConnection, handler: Callable[[Any, Context], Iterable[bytes]]) -> None:
    conn.request("GET", f"{PREFIX}/invocation/next")
    resp = conn.getresponse()
    body = resp.read()
    rid = resp.getheader("Lambda-Runtime-Aws-Request-Id") or ""
    context = Context(
        rid,
        int(resp.getheader("Lambda-Runtime-Deadline-Ms") or 0),
        resp.getheader("Lambda-Runtime-Invoked-Function-Arn") or "",
    )
    try:
        chunks = iter(handler(json.loads(body or b"{}"), context))
        first = next(chunks, b"")  # an error before the first chunk is still an /error
    except Exception as exc:  # noqa: BLE001 - the function's error, reported as Lambda does
        _post(
            conn,
            f"{PREFIX}/invocation/{rid}/error",
            _error_body(exc),
            {"Lambda-Runtime-Function-Error-Type": f"Runtime.{type(exc).__name__}"},
            False,
        )
        return
    _post(conn, f"{PREFIX}/invocation/{rid}/response", _first_then_rest(chunks, first), STREAMING, True)


def main() -> None:
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    conn = http.client.HTTPConnection(api)
    try:
        handler = _load(os.environ.get("_HANDLER") or "loadgen.loader.handler.handler")
    except Exception as exc:  # noqa: BLE001 - an init error, reported as Lambda does
        _post(
            conn,
            f"{PREFIX}/init/error",
            _error_body(exc),
            {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"},
            False,
        )
        sys.exit(1)
    while True:
        serve_one(conn, handler)


if __name__ == "__main__":
    main()

"""The Lambda Runtime API, one server per execution environment (LDG runtimes-api.md).

The runtime inside the environment long-polls `/next`; the environment hands it one invocation at
a time and waits for `/response` or `/error`. The time a poll first arrives ends the INIT phase
(Init Duration); the time `/next` hands the event out starts Duration.

Two newer parts of the API: with `concurrency` > 1 (Lambda Managed Instances,
AWS_LAMBDA_MAX_CONCURRENCY) several workers poll `/next` at once and answers are matched by
request id; with SnapStart the runtime calls `/restore/next` when its init is done (the snapshot
point) and that call returns when the platform restores the environment.

Response streaming (runtimes-custom.md, "Implementing response streaming"): a runtime that posts
`/response` with `Lambda-Runtime-Function-Response-Mode: streaming` and a chunked body has each
chunk handed, as it arrives, to the sink registered for that request id in `stream_sinks`
(InvokeWithResponseStream registers one before it invokes: probe/local/invoke_stream.py); the
invocation's result then carries no body. A stream cut before its end (the runtime died) is an
error result, `Runtime.StreamCut`, with what was already passed on.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

PREFIX = "/2018-06-01/runtime"
# aiohttp waits this long for open handlers on cleanup; a parked /next would hold it for the
# default 60 s (MEASURED.md), so keep it short and cancel parked polls first.
SHUTDOWN_TIMEOUT_S = 0.2
STREAMING_MODE_HEADER = "Lambda-Runtime-Function-Response-Mode"
# request id -> an async sink for the chunks of a streamed response. Keyed by request id because
# the Invoke path picks the id before the pool picks an environment (ids are uuid4s: unique).
stream_sinks: dict[str, Callable[[bytes], Awaitable[None]]] = {}


@dataclass
class Invocation:
    request_id: str
    event: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    result: asyncio.Future = field(default=None)  # -> ("ok" | "error", body bytes, error type)
    handed_at: float = 0.0  # perf_counter when /next returned it
    done_at: float = 0.0  # perf_counter when /response or /error arrived


class RuntimeApi:
    """`await api.start()` -> api.address ("127.0.0.1:PORT") for AWS_LAMBDA_RUNTIME_API."""

    def __init__(self, concurrency: int = 1, extensions=None):
        self.address = ""
        self.extensions = extensions  # an ExtensionsApi served on the same address, or None
        self.first_poll_at: float | None = None  # perf_counter of the first /next
        self.ready = asyncio.Event()
        self.init_error: dict | None = None
        self.restore_error: dict | None = None
        self.snapshot_point = asyncio.Event()  # SnapStart: the runtime called /restore/next
        self._restore = asyncio.Event()  # set by restore(): /restore/next returns
        self.pollers = 0  # /next calls parked right now (idle workers)
        self._queue: asyncio.Queue[Invocation] = asyncio.Queue(maxsize=concurrency)
        self._current: dict[str, Invocation] = {}  # request id -> handed out, no answer yet
        self._parked: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self._stopping = False

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(f"{PREFIX}/invocation/next", self._next)
        app.router.add_post(f"{PREFIX}/invocation/{{rid}}/response", self._response)
        app.router.add_post(f"{PREFIX}/invocation/{{rid}}/error", self._error)
        app.router.add_post(f"{PREFIX}/init/error", self._init_error)
        app.router.add_get(f"{PREFIX}/restore/next", self._restore_next)
        app.router.add_post(f"{PREFIX}/restore/error", self._restore_error)
        if self.extensions is not None:
            self.extensions.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)  # loopback only
        await site.start()
        port = self._runner.addresses[0][1]
        self.address = f"127.0.0.1:{port}"

    async def stop(self) -> None:
        self._stopping = True
        if self.extensions is not None:
            await self.extensions.close()
        for task in list(self._parked):
            task.cancel()
        for inv in list(self._current.values()):
            if not inv.result.done():
                inv.result.cancel()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def restore(self) -> None:
        """SnapStart: let the runtime's parked /restore/next return (the restore happens now)."""
        self._restore.set()

    def submit(self, inv: Invocation) -> None:
        """Queue one invocation for the runtime's next poll (the caller keeps within concurrency)."""
        inv.result = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(inv)

    async def _next(self, request: web.Request) -> web.StreamResponse:
        if self.first_poll_at is None:
            self.first_poll_at = time.perf_counter()
            self.ready.set()
        if self._stopping:
            raise web.HTTPInternalServerError(text="environment stopping")
        task = asyncio.current_task()
        self._parked.add(task)
        self.pollers += 1
        try:
            inv = await self._queue.get()
        finally:
            self.pollers -= 1
            self._parked.discard(task)
        self._current[inv.request_id] = inv
        inv.handed_at = time.perf_counter()
        headers = {
            "Lambda-Runtime-Aws-Request-Id": inv.request_id,
            "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": inv.function_arn,
            "Lambda-Runtime-Trace-Id": inv.trace_id,
            "Content-Type": "application/json",
        }
        return web.Response(body=inv.event, headers=headers)

    def _take(self, rid: str) -> Invocation | None:
        inv = self._current.pop(rid, None)
        if inv is None or inv.result.done():
            return None
        inv.done_at = time.perf_counter()
        return inv

    async def _response(self, request: web.Request) -> web.Response:
        if request.headers.get(STREAMING_MODE_HEADER, "").lower() == "streaming":
            return await self._streamed_response(request)
        body = await request.read()
        inv = self._take(request.match_info["rid"])
        if inv is None:
            return _invalid_request_id()
        # Let the stdout reader run first: the handler printed before it posted (MEASURED.md),
        # so its lines are attributed to this invocation, not left for the next one.
        await asyncio.sleep(0)
        inv.result.set_result(("ok", body, None))
        return web.json_response({"status": "OK"}, status=202)

    async def _streamed_response(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        inv = self._current.get(rid)
        if inv is None or inv.result.done():
            return _invalid_request_id()
        sink = stream_sinks.get(rid)
        cut = None
        try:
            async for chunk in request.content.iter_any():
                if sink is not None and chunk:
                    await sink(chunk)
        except (ConnectionError, asyncio.IncompleteReadError, web.HTTPException) as exc:
            cut = exc
        except Exception as exc:  # noqa: BLE001 - aiohttp's payload errors: the stream was cut
            cut = exc
        inv = self._take(rid)
        if inv is None:
            return _invalid_request_id()
        await asyncio.sleep(0)  # the stdout reader first, as for a buffered answer
        if cut is not None:
            detail = json.dumps({"errorType": "Runtime.StreamCut", "errorMessage": f"stream cut: {cut!r}"[:300]})
            inv.result.set_result(("error", detail.encode(), "Runtime.StreamCut"))
        else:
            inv.result.set_result(("ok", b"", None))
        return web.json_response({"status": "OK"}, status=202)

    async def _error(self, request: web.Request) -> web.Response:
        body = await request.read()
        inv = self._take(request.match_info["rid"])
        if inv is None:
            return _invalid_request_id()
        error_type = request.headers.get("Lambda-Runtime-Function-Error-Type", "Unhandled")
        await asyncio.sleep(0)
        inv.result.set_result(("error", body, error_type))
        return web.json_response({"status": "OK"}, status=202)

    async def _init_error(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            self.init_error = json.loads(body or b"{}")
        except ValueError:
            self.init_error = {"errorMessage": body.decode(errors="replace")}
        return web.json_response({"status": "OK"}, status=202)

    async def _restore_next(self, request: web.Request) -> web.Response:
        self.snapshot_point.set()
        task = asyncio.current_task()
        self._parked.add(task)
        try:
            await self._restore.wait()
        finally:
            self._parked.discard(task)
        return web.Response(status=200, body=b"")

    async def _restore_error(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            self.restore_error = json.loads(body or b"{}")
        except ValueError:
            self.restore_error = {"errorMessage": body.decode(errors="replace")}
        return web.json_response({"status": "OK"}, status=202)


def _invalid_request_id() -> web.Response:
    return web.json_response({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}, status=400)

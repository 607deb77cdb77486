"""Lambda's InvokeWithResponseStream (`POST /2021-11-15/functions/{name}/response-streaming-invocations`).

The answer is an event stream (application/vnd.amazon.eventstream, framed by eventstream.py) of
`PayloadChunk` events, each carrying raw bytes of the function's response as the function wrote
them, then one `InvokeComplete` (JSON: `ErrorCode`, `ErrorDetails`, `LogResult` with
`LogType=Tail`). A function error after the stream began is told in InvokeComplete, with HTTP
200, as Lambda does; errors before it began (unknown function, throttled, a bad payload) are the
Invoke API's JSON errors. botocore's own parser reads it (tests/local/test_invoke_stream.py).

A function that streams (its runtime posts `/response` in streaming mode, runtime_api.py) has
each chunk passed on as it arrives; a buffered function (the probe on awslambdaric) is sent as
chunks of its whole answer at the end, which is what Lambda does for a function that does not
stream. Chunks wait in a bounded queue: a slow reader slows the function's runtime, not memory.
"""

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Callable, Sequence

from aiohttp import web

from probe.local.capacity import LOCAL_LIMIT_HEADER
from probe.local.control_api import error, function_matches, not_found
from probe.local.eventstream import encode_message, event_message
from probe.local.invoke_api import TOO_LARGE, read_payload, too_large
from probe.local.pool import Throttled
from probe.local.runtime_api import stream_sinks

log = logging.getLogger(__name__)

PATH = "/2021-11-15/functions/{name}/response-streaming-invocations"
CHUNK_BYTES = 64 * 1024  # a buffered answer is cut into PayloadChunks of at most this
QUEUED_CHUNKS = 64  # chunks waiting for the caller before the function's runtime is slowed

# (function config, async () -> its Pool) pairs the route may serve, read per request.
Functions = Callable[[], Sequence[tuple]]


def payload_chunk(data: bytes) -> bytes:
    """One `PayloadChunk` event: its member `Payload` is the event payload, raw bytes."""
    return encode_message(
        {":message-type": "event", ":event-type": "PayloadChunk", ":content-type": "application/octet-stream"},
        data,
    )


def invoke_complete(error_code: str | None = None, details: str | None = None, log_result: str | None = None) -> bytes:
    body: dict = {}
    if error_code:
        body["ErrorCode"] = error_code
    if details:
        body["ErrorDetails"] = details
    if log_result:
        body["LogResult"] = log_result
    return event_message("InvokeComplete", body)


def add_stream_routes(app: web.Application, functions: Functions) -> None:
    async def invoke(request: web.Request) -> web.StreamResponse:
        return await _invoke(request, functions())

    app.router.add_post(PATH, invoke)


async def _invoke(request: web.Request, functions: Sequence[tuple]) -> web.StreamResponse:
    request_id = str(uuid.uuid4())
    name = request.match_info["name"]
    qualifier = request.query.get("Qualifier")
    chosen = None
    for config, pool in functions:
        found, _ = function_matches(name, qualifier, config)
        if found:
            chosen = (config, pool)
            break
    if chosen is None:
        return not_found(functions[0][0], name, qualifier, request_id)
    config, get_pool = chosen
    payload = await read_payload(request)
    if payload is None:
        return too_large(error(413, "RequestEntityTooLargeException", TOO_LARGE, request_id))
    payload = payload or b"{}"
    try:
        json.loads(payload)
    except ValueError as exc:
        return error(
            400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}", request_id
        )
    kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if kind == "DryRun":
        return web.Response(status=204, headers={"x-amzn-RequestId": request_id})
    if kind != "RequestResponse":
        return error(400, "InvalidParameterValueException", f"Unsupported invocation type {kind!r}", request_id)

    pool = await get_pool()
    chunks: asyncio.Queue[bytes] = asyncio.Queue(maxsize=QUEUED_CHUNKS)
    stream_sinks[request_id] = chunks.put
    invocation = asyncio.ensure_future(pool.invoke(payload, request_id))
    try:
        return await _stream(request, config, invocation, chunks, request_id)
    finally:
        stream_sinks.pop(request_id, None)
        if not invocation.done():
            # The caller went away: the function runs on (Lambda does not stop it either), but
            # nobody reads its chunks now, so its runtime must not block on a full queue.
            invocation.add_done_callback(lambda f: f.cancelled() or f.exception())
            _drain_later(chunks, invocation)


async def _stream(request, config, invocation: asyncio.Future, chunks: asyncio.Queue, request_id: str):
    first = asyncio.ensure_future(chunks.get())
    try:
        await asyncio.wait({first, invocation}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        first.cancel()
        raise
    if invocation.done() and not first.done():
        first.cancel()
        exc = invocation.exception()
        if isinstance(exc, Throttled):
            resp = error(429, "TooManyRequestsException", "Rate Exceeded.", request_id, Reason=exc.reason)
            if exc.local:
                resp.headers[LOCAL_LIMIT_HEADER] = "local-machine"
            return resp
        if exc is not None:
            raise exc
    response = web.StreamResponse(
        status=200,
        headers={
            "x-amzn-RequestId": request_id,
            "X-Amz-Executed-Version": config.version,
            "Content-Type": "application/vnd.amazon.eventstream",
        },
    )
    await response.prepare(request)
    if first.done():
        await response.write(payload_chunk(first.result()))
    while True:
        getter = asyncio.ensure_future(chunks.get())
        await asyncio.wait({getter, invocation}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            await response.write(payload_chunk(getter.result()))
            continue
        getter.cancel()
        break
    while not chunks.empty():  # what arrived with the end
        await response.write(payload_chunk(chunks.get_nowait()))
    exc = invocation.exception()
    if exc is not None:
        # Throttled after the stream began cannot happen (the pool decides first); anything else
        # is the platform failing: told in the stream, as Lambda tells a failure mid-stream.
        await response.write(invoke_complete("ServiceException", f"{type(exc).__name__}: {exc}"[:500]))
        await response.write_eof()
        return response
    outcome = invocation.result()
    if outcome.status == "ok":
        for at in range(0, len(outcome.body), CHUNK_BYTES):
            await response.write(payload_chunk(outcome.body[at : at + CHUNK_BYTES]))
    log_result = None
    if request.headers.get("X-Amz-Log-Type") == "Tail":
        log_result = base64.b64encode(outcome.tail.encode()).decode()
    if outcome.status == "ok":
        await response.write(invoke_complete(log_result=log_result))
    else:
        details = outcome.body.decode(errors="replace")[:4096]
        await response.write(invoke_complete(outcome.error_type or "Unhandled", details, log_result))
    await response.write_eof()
    return response


def _drain_later(chunks: asyncio.Queue, invocation: asyncio.Future) -> None:
    async def drain():
        while not invocation.done():
            getter = asyncio.ensure_future(chunks.get())
            await asyncio.wait({getter, invocation}, return_when=asyncio.FIRST_COMPLETED)
            getter.cancel()

    task = asyncio.ensure_future(drain())
    invocation.add_done_callback(lambda _f: task.cancel())

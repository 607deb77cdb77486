"""Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`) on the front door.

Shapes follow the API reference so botocore parses them unchanged: payload as the body,
`X-Amz-Executed-Version`, `X-Amz-Function-Error` for function errors (HTTP 200), `X-Amz-Log-Result`
(base64 of the last 4 KB of the invocation's log) with `LogType=Tail`, and errors as JSON with
`x-amzn-ErrorType` (TooManyRequestsException on 429, ResourceNotFoundException on 404).

A body over Lambda's 6 MB (6,291,456 bytes) is its 413 RequestEntityTooLargeException (the
code on the wire; botocore's model names the shape RequestTooLargeException), told from
Content-Length or as soon as the body passes the limit, so no more than the limit is ever held
(`read_payload`, shared with the function URL).
"""

import asyncio
import base64
import json
import uuid

from aiohttp import web

from probe.local.capacity import LOCAL_LIMIT_HEADER
from probe.local.control_api import error, function_matches, not_found
from probe.local.pool import Throttled

PATH = "/2015-03-31/functions/{name}/invocations"
MAX_PAYLOAD = 6 * 1024 * 1024  # Lambda's synchronous request limit, 6,291,456 bytes
TOO_LARGE = f"Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation"
_READ_CHUNK = 64 * 1024
MAX_BACKGROUND = 1000  # Event invocations queued at once (bounded, unlike Lambda's queue)
EVENT_RETRY_S = 60.0  # how long a throttled Event invocation keeps retrying


def add_invoke_routes(app: web.Application, door) -> None:
    async def invoke(request: web.Request) -> web.Response:
        return await _invoke(request, door)

    app.router.add_post(PATH, invoke)


_error = error  # Lambda's JSON error shape (control_api.error)


async def _invoke(request: web.Request, door) -> web.Response:
    config = door.config
    request_id = str(uuid.uuid4())
    name = request.match_info["name"]
    found, qualifier = function_matches(name, request.query.get("Qualifier"), config)
    if not found:
        return not_found(config, name, qualifier, request_id)
    payload = await read_payload(request)
    if payload is None:
        return too_large(_error(413, "RequestEntityTooLargeException", TOO_LARGE, request_id))
    payload = payload or b"{}"
    try:
        json.loads(payload)
    except ValueError as exc:
        return _error(
            400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}", request_id
        )
    kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if kind == "DryRun":
        return web.Response(status=204, headers={"x-amzn-RequestId": request_id})
    if kind == "Event":
        return _queue_event(door, payload, request_id)
    if kind != "RequestResponse":
        return _error(400, "InvalidParameterValueException", f"Unsupported invocation type {kind!r}", request_id)
    try:
        outcome = await door.fleet.invoke(payload, request_id, hold_s=door.latency_s)
    except Throttled as exc:
        await door.network_delay()
        resp = _error(429, "TooManyRequestsException", "Rate Exceeded.", request_id, Reason=exc.reason)
        if exc.local:
            resp.headers[LOCAL_LIMIT_HEADER] = "local-machine"
        return resp
    headers = {
        "x-amzn-RequestId": request_id,
        "X-Amz-Executed-Version": config.version,
        "Content-Type": "application/json",
    }
    if outcome.status != "ok":
        headers["X-Amz-Function-Error"] = outcome.error_type or "Unhandled"
    if request.headers.get("X-Amz-Log-Type") == "Tail":
        headers["X-Amz-Log-Result"] = base64.b64encode(outcome.tail.encode()).decode()
    return web.Response(status=200, body=outcome.body, headers=headers)


async def read_payload(request: web.Request, limit: int = MAX_PAYLOAD) -> bytes | None:
    """The request body, or None once it is over `limit`: told by Content-Length before any of
    it is read, or as the chunks arrive, so no more than `limit` (and one chunk) is ever held."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(_READ_CHUNK):
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


def too_large(response: web.Response) -> web.Response:
    """A 413 closes the connection: the rest of the body is not read, so the connection cannot
    carry another request."""
    response.force_close()
    return response


def _queue_event(door, payload: bytes, request_id: str) -> web.Response:
    if len(door.background) >= MAX_BACKGROUND:
        return _error(429, "TooManyRequestsException", "Rate Exceeded.", request_id, Reason="CallerRateLimitExceeded")

    async def run():
        loop = asyncio.get_running_loop()
        give_up = loop.time() + EVENT_RETRY_S
        delay = 0.05
        while True:
            try:
                await door.fleet.invoke(payload, request_id)
                return
            except Throttled:
                # Lambda's async queue retries throttled events; so do we, for a while.
                if loop.time() > give_up:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    task = asyncio.create_task(run())
    door.background.add(task)
    task.add_done_callback(door.background.discard)
    return web.Response(status=202, headers={"x-amzn-RequestId": request_id})

"""The front door on 127.0.0.1: a Lambda function URL (payload format 2.0) and, on the same port,
the Invoke API (invoke_api.py).

The event and the response mapping follow LDG urls-invocation.md: headers lowercased and
comma-joined, cookies split out, a binary body base64-encoded; a handler result with a
`statusCode` is an HTTP response, anything else is `200` with the result as JSON.
"""

import asyncio
import base64
import json
import time
import uuid

from aiohttp import web

from probe.local.fleet import Fleet, Throttled
from probe.local.invoke_api import add_invoke_routes

MAX_PAYLOAD = 6 * 1024 * 1024  # Lambda's synchronous payload limit
SHUTDOWN_TIMEOUT_S = 1.0
URL_ID = "lambdascopelocal0000000000000000"  # a function URL id is 32 lowercase alphanumerics
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml",
              "application/x-www-form-urlencoded", "+json", "+xml")


def build_event(request: web.Request, body: bytes, request_id: str) -> dict:
    """The payload format 2.0 event for one HTTP request."""
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        key = key.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    cookie_header = headers.pop("cookie", None)
    query: dict[str, str] = {}
    for key, value in request.query.items():
        query[key] = f"{query[key]},{value}" if key in query else value
    now = time.time()
    host = headers.get("host", "127.0.0.1")
    peer = request.remote or "127.0.0.1"
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.query_string,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": URL_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                "sourceIp": peer,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookie_header:
        event["cookies"] = [c.strip() for c in cookie_header.split(";") if c.strip()]
    if query:
        event["queryStringParameters"] = query
    if body:
        ctype = headers.get("content-type", "").lower()
        if any(t in ctype for t in TEXT_TYPES):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                pass
        if "body" not in event:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def map_response(raw: bytes, request_id: str) -> web.Response:
    """Turn a handler's result into the HTTP response a function URL gives."""
    headers = {"x-amzn-RequestId": request_id}
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        value = None
    if not (isinstance(value, dict) and "statusCode" in value):
        headers["Content-Type"] = "application/json"
        return web.Response(status=200, body=raw, headers=headers)
    try:
        status = int(value.get("statusCode") or 200)
    except (TypeError, ValueError):
        return _bad_gateway(request_id)
    for key, val in (value.get("headers") or {}).items():
        headers[str(key)] = str(val)
    headers.setdefault("Content-Type", "application/json")
    body = value.get("body", "")
    if not isinstance(body, str):
        body = json.dumps(body)
    data = base64.b64decode(body) if value.get("isBase64Encoded") else body.encode()
    resp = web.Response(status=status, body=data, headers=headers)
    for cookie in value.get("cookies") or ():
        resp.headers.add("Set-Cookie", str(cookie))
    return resp


def _bad_gateway(request_id: str) -> web.Response:
    return web.Response(status=502, text="Internal Server Error",
                        headers={"x-amzn-RequestId": request_id,
                                 "x-amzn-ErrorType": "InternalError"})


def throttled_url_response(request_id: str) -> web.Response:
    return web.json_response({"Message": "Rate Exceeded."}, status=429, headers={
        "x-amzn-RequestId": request_id, "x-amzn-ErrorType": "TooManyRequestsException"})


class FrontDoor:
    """`await door.start()` -> door.port; serves until `await door.stop()`."""

    def __init__(self, fleet: Fleet, config, port: int = 0):
        self.fleet = fleet
        self.config = config
        self.port = port
        self._runner: web.AppRunner | None = None
        self.background: set = set()  # Event-type invocations in flight (invoke_api)
        self.latency_s = fleet.profile.network_latency_ms / 1000

    async def network_delay(self) -> None:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_PAYLOAD + 1024)
        add_invoke_routes(app, self)
        app.router.add_route("*", "/{tail:.*}", self._function_url)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)  # loopback only
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        for task in list(self.background):
            task.cancel()

    async def _function_url(self, request: web.Request) -> web.Response:
        body = await request.read()
        request_id = str(uuid.uuid4())
        event = build_event(request, body, request_id)
        await self.network_delay()
        try:
            outcome = await self.fleet.invoke(json.dumps(event).encode(), request_id)
        except Throttled:
            return throttled_url_response(request_id)
        if outcome.status != "ok":
            return _bad_gateway(request_id)
        return map_response(outcome.body, request_id)

"""The front door on 127.0.0.1: a Lambda function URL (payload format 2.0) and, on the same port,
the Invoke API (invoke_api.py), the control-plane reads (control_api.py) and CloudWatch Logs:
a request with `X-Amz-Target: Logs_20140328.*` (or Kinesis' `Kinesis_20131202.*`: the log
channel of `deploy --kinesis` lives in the same moto) is passed to the logs endpoint and its
answer streamed back as it arrives (StartLiveTail's event stream included). So one endpoint serves
every client: `aws --endpoint-url <invoke_endpoint> lambda ...` and `... logs ...` alike.

The event and the response mapping follow LDG urls-invocation.md: headers lowercased and
comma-joined, cookies split out, a binary body base64-encoded; a handler result with a
`statusCode` is an HTTP response, anything else is `200` with the result as JSON. A request
whose event would pass Lambda's 6 MB payload limit is a 413 with `{"Message": ...}` (the shape
of the URL's other errors) and `x-amzn-ErrorType: RequestEntityTooLargeException`, its body read
no further than the limit.
"""

import asyncio
import base64
import json
import logging
import time
import uuid
from collections.abc import Callable

import aiohttp
from aiohttp import web

from probe.local.capacity import LOCAL_LIMIT_HEADER
from probe.local.control_api import add_control_routes, unknown_operation
from probe.local.invoke_api import MAX_PAYLOAD, TOO_LARGE, add_invoke_routes, read_payload, too_large
from probe.local.passthrough import pass_through
from probe.local.pool import Pool, Throttled

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 1.0
# Connections the kernel completes before the loop accepts them. aiohttp's default is 128: 1,000
# clients connecting at once then lost all but the first 129 SYNs, retried by the kernel a
# second later (1 s, then 3 s), and the findings called this machine's accept queue "wave 2".
# Linux caps it at net.core.somaxconn (4096 by default since 5.4).
LISTEN_BACKLOG = 4096
URL_ID = "lambdascopelocal0000000000000000"  # a function URL id is 32 lowercase alphanumerics
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-www-form-urlencoded",
    "+json",
    "+xml",
)
LOGS_TARGET_PREFIX = "Logs_20140328."  # CloudWatch Logs' JSON 1.1 operations
# Kinesis (the log channel of `deploy --kinesis`) lives in the same moto: passed on the same way.
FORWARDED_TARGETS = (LOGS_TARGET_PREFIX, "Kinesis_20131202.")
# IAM and STS (query protocol: no X-Amz-Target) too, known by the service their signature names,
# so `deploy --kinesis --endpoint-url` here makes its role in the same moto.
FORWARDED_SERVICES = frozenset({"iam", "sts"})


def signed_service(request: web.Request) -> str | None:
    """The service a SigV4 request is signed for (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`)."""
    auth = request.headers.get("Authorization", "")
    at = auth.find("Credential=")
    if at < 0:
        return None
    parts = auth[at + len("Credential=") :].split(",", 1)[0].split("/")
    return parts[3] if len(parts) == 5 else None


# lambdascope's load generator says when it sent each request (loadgen/outcome.py): a cold
# start is stamped then, not when this machine got to the request (Environment.start).
SENT_AT_HEADER = "x-lambdascope-sent-at"


def sent_at(request: web.Request) -> float | None:
    """The client's send time (epoch s) from its header; None when absent or not a number."""
    value = request.headers.get(SENT_AT_HEADER)
    if value is None:
        return None
    try:
        at = float(value)
    except ValueError:
        return None
    return at if at == at else None  # not NaN


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
    return web.Response(
        status=502,
        text="Internal Server Error",
        headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": "InternalError"},
    )


def throttled_url_response(request_id: str, local: bool = False) -> web.Response:
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": "TooManyRequestsException"}
    if local:
        # Lambda would have served it: this machine ran out of room for environments.
        headers[LOCAL_LIMIT_HEADER] = "local-machine"
    return web.json_response({"Message": "Rate Exceeded."}, status=429, headers=headers)


def too_large_url_response(request_id: str) -> web.Response:
    """A function URL's answer to a request over the 6 MB payload limit, as the Invoke API words it."""
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": "RequestEntityTooLargeException"}
    return too_large(web.json_response({"Message": TOO_LARGE}, status=413, headers=headers))


def _logs_error(error_type: str, message: str, status: int = 503) -> web.Response:
    """An error in CloudWatch Logs' JSON 1.1 shape (botocore reads `__type`)."""
    return web.Response(
        status=status,
        content_type="application/x-amz-json-1.1",
        body=json.dumps({"__type": error_type, "message": message}).encode(),
        headers={"x-amzn-RequestId": str(uuid.uuid4())},
    )


class FrontDoor:
    """`await door.start()` -> door.port; serves until `await door.stop()`.

    `logs_endpoint` is the CloudWatch Logs endpoint that Logs calls are passed to: a URL, or a
    callable returning one (read at each call, so it follows whatever serves the logs).
    """

    def __init__(
        self,
        fleet: Pool,
        config,
        port: int = 0,
        logs_endpoint: str | Callable[[], str] | None = None,
        extra_routes: tuple[Callable[[web.Application], None], ...] = (),
    ):
        self.fleet = fleet
        self.extra_routes = extra_routes  # more APIs on this port (InvokeWithResponseStream)
        self.config = config
        self.port = port
        self.logs_endpoint = logs_endpoint
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._upstreams: set[aiohttp.ClientResponse] = set()  # Logs answers being streamed
        self._closing = False
        self.background: set = set()  # Event-type invocations in flight (invoke_api)
        self.latency_s = fleet.profile.network_latency_ms / 1000

    async def network_delay(self) -> None:
        """The round trip, for answers that do not hold an environment (429s)."""
        if self.latency_s:
            await asyncio.sleep(self.latency_s)

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_PAYLOAD + 1024)
        add_invoke_routes(app, self)
        add_control_routes(app, self)
        for add_routes in self.extra_routes:
            add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=LISTEN_BACKLOG)  # loopback only
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        # End streamed Logs answers first (a Live Tail lasts hours), so the runner's cleanup does
        # not wait out its shutdown timeout on them; and close our client session before that
        # cleanup, which a second Ctrl-C may cancel.
        self._closing = True
        for upstream in list(self._upstreams):
            upstream.close()
        try:
            if self._http is not None:
                http, self._http = self._http, None
                await http.close()
        finally:
            for task in list(self.background):
                task.cancel()
            if self._runner is not None:
                runner, self._runner = self._runner, None
                await runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST" and (
            request.headers.get("X-Amz-Target", "").startswith(FORWARDED_TARGETS)
            or signed_service(request) in FORWARDED_SERVICES
        ):
            return await self._forward_logs(request)
        return unknown_operation(request) or await self._function_url(request)

    # -- CloudWatch Logs, passed through --------------------------------------------------------
    def _logs_url(self) -> str | None:
        target = self.logs_endpoint() if callable(self.logs_endpoint) else self.logs_endpoint
        return target.rstrip("/") if target else None

    async def _forward_logs(self, request: web.Request) -> web.StreamResponse:
        base = self._logs_url()
        if self._closing:
            return _logs_error("ServiceUnavailableException", "the local Lambda is stopping")
        if base is None:
            return _logs_error(
                "ServiceUnavailableException", "this front door has no CloudWatch Logs endpoint behind it"
            )
        if self._http is None:
            # No total timeout: a Live Tail session streams for up to 3 hours.
            self._http = aiohttp.ClientSession(
                auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)
            )
        try:
            return await pass_through(self._http, request, base + request.path_qs, self._upstreams)
        except aiohttp.ClientError as exc:
            log.warning("logs endpoint %s unreachable: %s", base, exc)
            return _logs_error("ServiceUnavailableException", f"local CloudWatch Logs endpoint unreachable: {exc}")

    # -- the function URL -----------------------------------------------------------------------
    async def _function_url(self, request: web.Request) -> web.Response:
        request_id = str(uuid.uuid4())
        body = await read_payload(request)
        if body is None:
            return too_large_url_response(request_id)
        # The limit is on the event the function gets: a binary body grows by a third in base64.
        payload = json.dumps(build_event(request, body, request_id)).encode()
        if len(payload) > MAX_PAYLOAD:
            return too_large_url_response(request_id)
        try:
            outcome = await self.fleet.invoke(payload, request_id, hold_s=self.latency_s, asked_at=sent_at(request))
        except Throttled as exc:
            await self.network_delay()  # a 429 travels the same network
            return throttled_url_response(request_id, exc.local)
        if outcome.status != "ok":
            return _bad_gateway(request_id)
        return map_response(outcome.body, request_id)

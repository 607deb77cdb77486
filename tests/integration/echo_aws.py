"""An AWS stand-in that answers every request with an error quoting the request, headers
included: the worst case for leaking credentials (an endpoint, a proxy or a load target whose
error text echoes what it was sent: Authorization's Credential= and Signature=, the
X-Amz-Security-Token). Each error speaks the wire format of the protocol asked for (JSON for
CloudWatch Logs, XML for IAM/STS's query protocol, REST-JSON for Lambda, plain text for a
function URL), so botocore parses it and the message reaches our error paths as AWS text would.

Log sources can be made to fail mid-watch: FilterLogEvents first answers `polls_before_failing`
empty pages as AWS would, and StartLiveTail first answers `throttles_before_failing`
ThrottlingExceptions (retried, shown in the header), before both fail for good.

It runs in a thread with its own loop, because the commands under test run their own
`asyncio.run` in the test's thread. 127.0.0.1 only; stopped by the fixture.
"""

import asyncio
import threading
from xml.sax.saxutils import escape

from aiohttp import web

MARKER = "ECHOED-REQUEST"
_FIRST = {"authorization", "x-amz-security-token", "x-amz-date"}


class EchoAWS:
    def __init__(self, polls_before_failing: int = 0, throttles_before_failing: int = 0):
        self.polls_before_failing = polls_before_failing
        self.throttles_before_failing = throttles_before_failing
        self.requests = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner = None

    def __enter__(self) -> "EchoAWS":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()
        # The credential-bearing headers first: error texts get cut to one short line.
        headers = sorted(request.headers.items(), key=lambda kv: kv[0].lower() not in _FIRST)
        dump = (
            f"{MARKER} {request.method} {request.path_qs} "
            + " ".join(f"{k}: {v}" for k, v in headers)
            + " body: "
            + body[:2000].decode("utf-8", "replace")
        )
        target = request.headers.get("X-Amz-Target", "")
        if target.endswith("FilterLogEvents") and self.polls_before_failing > 0:
            self.polls_before_failing -= 1
            return web.json_response(
                {"events": [], "searchedLogStreams": []}, content_type="application/x-amz-json-1.1"
            )
        if target.endswith("StartLiveTail") and self.throttles_before_failing > 0:
            self.throttles_before_failing -= 1
            return web.json_response(
                {"__type": "ThrottlingException", "message": dump},
                status=400,
                content_type="application/x-amz-json-1.1",
            )
        if target:  # JSON protocol (CloudWatch Logs)
            return web.json_response(
                {"__type": "ValidationException", "message": dump},
                status=400,
                content_type="application/x-amz-json-1.1",
            )
        if request.content_type == "application/x-www-form-urlencoded":  # query protocol (IAM, STS)
            xml = (
                "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>"
                f"<Message>{escape(dump)}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
            )
            return web.Response(status=400, text=xml, content_type="text/xml")
        if request.path.startswith("/2015-03-31/") or request.path.startswith("/2021-10-31/"):  # Lambda
            return web.json_response(
                {"Type": "User", "message": dump},
                status=400,
                headers={"x-amzn-ErrorType": "InvalidParameterValueException"},
            )
        return web.Response(status=403, text=dump)  # a function URL, a load target

"""A 127.0.0.1 proxy in front of moto's server that checks Lambda's RevisionId as AWS does.

moto gives a function one RevisionId for life and ignores the RevisionId of an update, so a
read-modify-write cannot be refused there. This proxy keeps a revision per function: it puts the
current one in every configuration it forwards (GetFunction, GetFunctionConfiguration,
UpdateFunctionConfiguration), gives the function a new one after each successful update, and
answers an update or PublishVersion whose RevisionId is not the current one as Lambda does:
HTTP 412, `x-amzn-ErrorType: PreconditionFailedException`, a JSON body with `Type` and `message`.

Two faults, each once:
- `interfere_with(fields)`: before the next UpdateFunctionConfiguration is checked, another
  writer's update (`fields`) reaches moto first, so the revision the request carries is stale;
- `deny(operation_path_part, action)`: the next matching request gets Lambda's AccessDenied
  (HTTP 403, `AccessDeniedException`, the message naming the IAM action).

It runs in a thread with its own loop, since the commands under test run their own asyncio.run.
"""

import asyncio
import json
import re
import threading
import uuid

import aiohttp
from aiohttp import web

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}
_FUNCTION = re.compile(r"^/2015-03-31/functions/([^/]+)(/configuration|/versions)?$")
PRECONDITION_MESSAGE = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)


class RevisionProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.url = ""
        self.refused = 0
        self.revisions: dict[str, str] = {}
        self._interfere: dict | None = None
        self._deny: tuple[str, str] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner = None
        self._session = None

    def interfere_with(self, fields: dict) -> None:
        self._interfere = fields

    def deny(self, path_part: str, action: str) -> None:
        self._deny = (path_part, action)

    def __enter__(self) -> "RevisionProxy":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=80 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        await self._runner.cleanup()
        await self._session.close()

    async def _forward(self, method, path_qs, headers, body):
        async with self._session.request(method, self.upstream + path_qs, headers=headers, data=body) as r:
            return r.status, {k: v for k, v in r.headers.items() if k.lower() not in _HOP}, await r.read()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        if self._deny and self._deny[0] in request.path:
            action, self._deny = self._deny[1], None
            return _error(
                403,
                "AccessDeniedException",
                f"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: {action} "
                f"on resource: {request.path} because no identity-based policy allows the {action} action",
            )
        match = _FUNCTION.match(request.path)
        name, what = (match.group(1), match.group(2)) if match else (None, None)
        writes = name and request.method in ("PUT", "POST") and what in ("/configuration", "/versions")
        if writes:
            if what == "/configuration" and self._interfere is not None:
                fields, self._interfere = self._interfere, None
                await self._forward("PUT", request.path, headers, json.dumps(fields).encode())
                self._bump(name)
            sent = json.loads(body or b"{}").get("RevisionId")
            if sent is not None and sent != self._current(name):
                self.refused += 1
                return _error(412, "PreconditionFailedException", PRECONDITION_MESSAGE)
        status, out_headers, out = await self._forward(request.method, request.path_qs, headers, body)
        if name and 200 <= status < 300:
            if writes and what == "/configuration":
                self._bump(name)
            out = self._rewrite(name, what, out)
        return web.Response(status=status, headers=out_headers, body=out)

    def _bump(self, name: str) -> None:
        self.revisions[name] = str(uuid.uuid4())

    def _current(self, name: str) -> str:
        """moto keeps no revision (its configurations carry none): the proxy is the keeper."""
        return self.revisions.setdefault(name, str(uuid.uuid4()))

    def _rewrite(self, name: str, what: str | None, out: bytes) -> bytes:
        """The function's current revision in a configuration (top level, or GetFunction's
        `Configuration`); a published version's answer is left as moto gave it."""
        if what == "/versions":
            return out
        try:
            doc = json.loads(out)
        except ValueError:
            return out
        config = doc.get("Configuration", doc) if isinstance(doc, dict) else None
        if isinstance(config, dict) and "FunctionArn" in config:
            config["RevisionId"] = self._current(name)
            return json.dumps(doc).encode()
        return out


def _error(status: int, error_type: str, message: str) -> web.Response:
    """Lambda's REST-JSON error: the type in a header, a JSON body (botocore reads both)."""
    return web.Response(
        status=status,
        headers={"x-amzn-ErrorType": error_type, "x-amzn-RequestId": str(uuid.uuid4())},
        content_type="application/json",
        body=json.dumps({"Type": "User", "message": message}).encode(),
    )

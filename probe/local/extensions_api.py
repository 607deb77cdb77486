"""The Lambda Extensions API, served beside the Runtime API on the same address (LDG
runtimes-extensions-api.md): `register`, `event/next`, `init/error`, `exit/error`.

An external extension registers (header `Lambda-Extension-Name`, body `{"events": [...]}`) and gets
its `Lambda-Extension-Identifier`; its first `event/next` says it is ready (init waits for every
registered extension's first poll); `SHUTDOWN` is delivered with its reason and deadline when the
environment retires.

INVOKE goes to the extensions that asked for it when the invocation starts, and the invoke phase
ends only when the runtime has answered *and* each of them has polled `event/next` again, as on
Lambda: the caller has its answer at once, the environment stays busy while they post-process
and REPORT's Duration includes that time (`busy()` / `wait_done()`). On Managed Instances
extensions cannot subscribe to INVOKE (telemetry-schema-reference), so `register` refuses it
there. lambdascope's own extension registers for SHUTDOWN only: it adds nothing to an invoke.
"""

import asyncio
import json
import uuid
from dataclasses import dataclass, field

from aiohttp import web

PREFIX = "/2020-01-01/extension"
EVENTS = ("INVOKE", "SHUTDOWN")
MAX_QUEUED = 64  # events waiting for one extension's poll: bounded (INVOKE for a slow one)
MAX_EXTENSIONS = 10  # Lambda's limit on extensions per function


@dataclass
class Registered:
    name: str
    id: str
    events: tuple[str, ...]
    polled: bool = False  # its first event/next arrived: ready
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(MAX_QUEUED))
    # Parked in event/next with nothing queued: done with the last event it was handed.
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class ExtensionsApi:
    """Routes added to an environment's Runtime API server (`add_routes`)."""

    def __init__(self, function_name: str, version: str, handler: str, invoke_events: bool = True):
        self._invoke_events = invoke_events  # False on Managed Instances
        self._info = {"functionName": function_name, "functionVersion": version, "handler": handler}
        self.by_id: dict[str, Registered] = {}
        self.errors: list[dict] = []  # init/error and exit/error reports, in order
        self.changed = asyncio.Event()  # set at each register, first poll and error
        self._parked: set[asyncio.Task] = set()
        self._closed = False

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(f"{PREFIX}/register", self._register)
        app.router.add_get(f"{PREFIX}/event/next", self._next)
        app.router.add_post(f"{PREFIX}/init/error", self._init_error)
        app.router.add_post(f"{PREFIX}/exit/error", self._exit_error)

    def names(self) -> set[str]:
        return {e.name for e in self.by_id.values()}

    def ready(self, names) -> bool:
        """Every one of `names` registered and polled once."""
        polled = {e.name for e in self.by_id.values() if e.polled}
        return set(names) <= polled

    def _touch(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def _register(self, request: web.Request) -> web.Response:
        name = request.headers.get("Lambda-Extension-Name", "")
        try:
            body = json.loads(await request.read() or b"{}")
            events = tuple(body.get("events") or ())
        except (ValueError, AttributeError, TypeError):
            return _error(400, "InvalidRequestFormat", 'the body must be JSON: {"events": [...]}')
        if not name:
            return _error(400, "InvalidRequestFormat", "Lambda-Extension-Name header missing")
        if not all(e in EVENTS for e in events):
            return _error(400, "InvalidRequestFormat", f"events must be among {', '.join(EVENTS)}")
        if "INVOKE" in events and not self._invoke_events:
            return _error(
                400, "InvalidRequestFormat", "extensions cannot subscribe to INVOKE on Lambda Managed Instances"
            )
        if name in self.names():
            return _error(409, "Extension.AlreadyRegistered", f"extension {name} is already registered")
        if len(self.by_id) >= MAX_EXTENSIONS:
            return _error(403, "Extension.TooManyExtensions", f"at most {MAX_EXTENSIONS} extensions")
        ext = Registered(name=name, id=str(uuid.uuid4()), events=events)
        self.by_id[ext.id] = ext
        self._touch()
        return web.json_response(self._info, headers={"Lambda-Extension-Identifier": ext.id})

    def _ext(self, request: web.Request) -> Registered | None:
        return self.by_id.get(request.headers.get("Lambda-Extension-Identifier", ""))

    async def _next(self, request: web.Request) -> web.StreamResponse:
        ext = self._ext(request)
        if ext is None:
            return _error(403, "Extension.UnknownExtensionIdentifier", "unknown Lambda-Extension-Identifier")
        if not ext.polled:
            ext.polled = True
            self._touch()
        if self._closed:
            return _error(500, "Extension.Stopping", "environment stopping")
        task = asyncio.current_task()
        self._parked.add(task)
        if ext.queue.empty():
            ext.idle.set()
        try:
            event = await ext.queue.get()
        finally:
            self._parked.discard(task)
        return web.json_response(event, headers={"Lambda-Extension-Event-Identifier": str(uuid.uuid4())})

    async def _report(self, request: web.Request, phase: str) -> web.Response:
        ext = self._ext(request)
        if ext is None:
            return _error(403, "Extension.UnknownExtensionIdentifier", "unknown Lambda-Extension-Identifier")
        error_type = request.headers.get("Lambda-Extension-Function-Error-Type", "Extension.UnknownReason")
        self.errors.append({"name": ext.name, "phase": phase, "error_type": error_type[:200]})
        self._touch()
        return web.json_response({"status": "OK"}, status=202)

    async def _init_error(self, request: web.Request) -> web.Response:
        return await self._report(request, "init")

    async def _exit_error(self, request: web.Request) -> web.Response:
        return await self._report(request, "exit")

    def deliver(self, event: dict) -> list[str]:
        """Queue `event` for every extension registered for its type; their names."""
        sent = []
        for ext in self.by_id.values():
            if event.get("eventType") in ext.events:
                try:
                    ext.queue.put_nowait(event)
                    sent.append(ext.name)
                    ext.idle.clear()
                except asyncio.QueueFull:
                    pass  # it is not polling: dropping an INVOKE is all a bound can do
        return sent

    def invoke(self, request_id: str, deadline_ms: int, function_arn: str, trace_id: str) -> list[str]:
        """The INVOKE event, as the Extensions API hands it out, to those registered for it."""
        return self.deliver(
            {
                "eventType": "INVOKE",
                "deadlineMs": deadline_ms,
                "requestId": request_id,
                "invokedFunctionArn": function_arn,
                "tracing": {"type": "X-Amzn-Trace-Id", "value": trace_id},
            }
        )

    def busy(self) -> list[Registered]:
        """The extensions still working on an event they were handed (or have queued)."""
        return [e for e in self.by_id.values() if not e.idle.is_set() and "INVOKE" in e.events]

    async def wait_done(self, timeout_s: float, exited: list[asyncio.Future] = ()) -> bool:
        """Until every INVOKE subscriber has polled again; False at the timeout or when one of
        `exited` (the extension processes) ends first."""
        busy = self.busy()
        if not busy:
            return True
        waits = [asyncio.ensure_future(e.idle.wait()) for e in busy]
        gone = [asyncio.ensure_future(asyncio.shield(f)) for f in exited]
        try:
            pending = set(waits)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + max(0.0, timeout_s)
            while pending:
                done, pending = await asyncio.wait(
                    pending | set(gone), timeout=max(0.0, deadline - loop.time()), return_when=asyncio.FIRST_COMPLETED
                )
                if not done or any(g in done for g in gone):
                    return False
                pending -= set(gone)
            return True
        finally:
            for w in waits + gone:
                w.cancel()

    def shutdown(self, reason: str, deadline_ms: int) -> list[str]:
        """SHUTDOWN for the extensions that asked for it (reason: spindown | timeout | failure)."""
        return self.deliver({"eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": deadline_ms})

    async def close(self) -> None:
        self._closed = True
        for task in list(self._parked):
            task.cancel()


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response({"errorType": kind, "errorMessage": message}, status=status)

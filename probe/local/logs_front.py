"""The local CloudWatch Logs endpoint: moto for every call, plus a real streaming StartLiveTail.

moto's StartLiveTail returns one snapshot and ends, so a monitor built on Live Tail would never
see anything live locally. `LogsFront` sits in front of a moto server: it forwards every request
unchanged and serves `Logs_20140328.StartLiveTail` itself, the way AWS does (API_StartLiveTail):
an `initial-response`, one `sessionStart`, then a `sessionUpdate` every interval with what
arrived since (empty when nothing did), at most 500 events per update (a sample, flagged
`sampled`, when more arrived), a slow reader buffered up to 10 updates / 5,000 events with the
oldest dropped, and a `SessionTimeoutException` at the session's time limit (3 hours).

Events reach the sessions through `publish()`, which the local Lambda's log shipper calls after
each successful PutLogEvents, so anything a session shows is already readable from moto.
Call `publish()` from the event loop thread that runs the front.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from probe.local.eventstream import event_message, exception_message, initial_response
from probe.local.livetail_request import ApiError, TailSpec, parse_request, split_group
from probe.local.passthrough import pass_through

log = logging.getLogger(__name__)

LIVE_TAIL_TARGET = "Logs_20140328.StartLiveTail"
_JSON_11 = "application/x-amz-json-1.1"

# AWS limits (API_StartLiveTail / botocore model).
EVENTS_PER_UPDATE = 500
BUFFERED_UPDATES = 10
BUFFERED_EVENTS = 5000
SESSION_LIMIT_S = 3 * 3600.0
# "15 per account" comes from a third-party summary (AWS-FACTS §1.1); a guard, not a fact.
MAX_SESSIONS = 15


# --- one session -------------------------------------------------------------------------------


class LiveTailSession:
    """Buffers of one session: the current interval's sample and the updates not yet written.

    Memory stays bounded whatever the event rate: the interval keeps a uniform reservoir sample
    of at most `per_update` events (plus a count), and the outbox keeps at most
    `buffered_updates` updates / `buffered_events` events, dropping the oldest like AWS.
    """

    def __init__(
        self,
        spec: TailSpec,
        *,
        per_update: int = EVENTS_PER_UPDATE,
        buffered_updates: int = BUFFERED_UPDATES,
        buffered_events: int = BUFFERED_EVENTS,
        rng: random.Random | None = None,
    ) -> None:
        self.spec = spec
        self.request_id = str(uuid.uuid4())
        self.session_id = str(uuid.uuid4())
        self.per_update = per_update
        self.buffered_updates = buffered_updates
        self.buffered_events = buffered_events
        self.rng = rng or random.Random()
        self.outbox: deque[dict[str, Any]] = deque()
        self.outbox_events = 0
        self.dropped = 0  # events lost to a slow reader
        self.wake = asyncio.Event()
        self.expired = False
        self._sample: list[tuple[int, int, dict[str, Any]]] = []  # (timestamp, arrival, result)
        self._arrived = 0

    def start_body(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "requestId": self.request_id,
            "sessionId": self.session_id,
            "logGroupIdentifiers": list(spec.groups.values()),
            "logStreamNames": sorted(spec.stream_names) if spec.stream_names is not None else [],
            "logStreamNamePrefixes": list(spec.stream_prefixes) if spec.stream_prefixes is not None else [],
            "logEventFilterPattern": spec.pattern,
        }

    def offer(self, result: dict[str, Any]) -> None:
        """Add one matching event to this interval (reservoir sampling beyond `per_update`)."""
        self._arrived += 1
        item = (result["timestamp"], self._arrived, result)
        if len(self._sample) < self.per_update:
            self._sample.append(item)
            return
        slot = self.rng.randrange(self._arrived)
        if slot < self.per_update:
            self._sample[slot] = item

    def cut_update(self) -> None:
        """Close the interval: queue its update (possibly empty) for the writer."""
        sampled = self._arrived > self.per_update
        self._sample.sort(key=lambda item: (item[0], item[1]))
        results = [item[2] for item in self._sample]
        self._sample, self._arrived = [], 0
        self.outbox.append({"sessionMetadata": {"sampled": sampled}, "sessionResults": results})
        self.outbox_events += len(results)
        self._trim()
        self.wake.set()

    def _trim(self) -> None:
        while len(self.outbox) > self.buffered_updates:
            old = self.outbox.popleft()
            lost = len(old["sessionResults"])
            self.outbox_events -= lost
            self.dropped += lost
        while self.outbox_events > self.buffered_events:
            oldest = self.outbox[0]["sessionResults"]
            cut = min(len(oldest), self.outbox_events - self.buffered_events)
            del oldest[:cut]
            self.outbox_events -= cut
            self.dropped += cut

    def take(self) -> dict[str, Any] | None:
        if not self.outbox:
            return None
        update = self.outbox.popleft()
        self.outbox_events -= len(update["sessionResults"])
        return update


# --- the server --------------------------------------------------------------------------------


class LogsFront:
    """CloudWatch Logs on 127.0.0.1: forwards to moto, streams StartLiveTail itself.

    >>> async with LogsFront("http://127.0.0.1:5000") as front:
    ...     front.url          # give this to clients as endpoint_url
    ...     front.publish("/aws/lambda/fn", "2026/01/01/[$LATEST]abc", [{"timestamp": ms, "message": "hi"}])

    Clients must disable host-prefix injection (`AioConfig(inject_host_prefix=False)`) or botocore
    sends StartLiveTail to `streaming-127.0.0.1`.
    """

    def __init__(
        self,
        moto_url: str,
        *,
        port: int = 0,
        update_interval: float = 1.0,
        session_limit: float = SESSION_LIMIT_S,
        events_per_update: int = EVENTS_PER_UPDATE,
        buffered_updates: int = BUFFERED_UPDATES,
        buffered_events: int = BUFFERED_EVENTS,
        max_sessions: int = MAX_SESSIONS,
        rng: random.Random | None = None,
    ) -> None:
        if update_interval <= 0 or session_limit <= 0:
            raise ValueError("update_interval and session_limit must be positive")
        self._moto_url = moto_url.rstrip("/")
        self._port = port
        self._interval = update_interval
        self._limit = session_limit
        self._per_update = events_per_update
        self._buffered_updates = buffered_updates
        self._buffered_events = buffered_events
        self._max_sessions = max_sessions
        self._rng = rng or random.Random()
        self._sessions: set[LiveTailSession] = set()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._closing = False
        self._url: str | None = None

    # lifecycle

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("LogsFront is not started")
        return self._url

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    async def start(self) -> LogsFront:
        # auto_decompress=False: bodies go back byte for byte, with moto's own headers.
        self._http = aiohttp.ClientSession(auto_decompress=False)
        # PutLogEvents may carry 1 MiB of events plus JSON overhead; aiohttp's default cap is 1 MiB.
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # access_log=None: a line per request would corrupt a Textual screen. Short shutdown:
        # live sessions are ended by stop() itself, nothing else is long-lived.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            await self._http.close()
            raise
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        self._closing = True
        for session in list(self._sessions):
            session.wake.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> LogsFront:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # the feed

    def publish(self, log_group: str, stream: str, events: Iterable[Mapping[str, Any]]) -> None:
        """Hand events that were just stored (PutLogEvents succeeded) to the matching sessions.

        `log_group` is a name or an ARN; `events` are {"timestamp": epoch ms, "message": str}.
        """
        if not self._sessions:
            return
        name, arn = split_group(log_group)
        targets = [
            s
            for s in self._sessions
            if name in s.spec.groups
            and (arn is None or s.spec.groups[name] == arn)
            and s.spec.wants_stream(stream)
            and not s.expired
        ]
        if not targets:
            return
        ingestion = int(time.time() * 1000)
        for event in events:
            timestamp, message = event["timestamp"], event["message"]
            if not isinstance(timestamp, int) or not isinstance(message, str):
                raise TypeError("publish() events need an int 'timestamp' (ms) and a str 'message'")
            for session in targets:
                if session.spec.matches(message):
                    session.offer(
                        {
                            "logStreamName": stream,
                            # moto answers with the ARN here; the API says "name or ARN".
                            "logGroupIdentifier": session.spec.groups[name],
                            "message": message,
                            "timestamp": timestamp,
                            "ingestionTime": ingestion,
                        }
                    )

    # HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("X-Amz-Target") == LIVE_TAIL_TARGET:
            return await self._live_tail(request)
        return await self._forward(request)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        try:
            return await pass_through(self._http, request, self._moto_url + request.path_qs)
        except aiohttp.ClientError as exc:
            # A 503 the SDK retries, rather than a dropped connection it cannot explain.
            log.warning("moto at %s unreachable: %s", self._moto_url, exc)
            return ApiError(
                "ServiceUnavailableException", f"local CloudWatch Logs backend unreachable: {exc}", 503
            ).response()

    async def _check_groups_exist(self, request: web.Request, spec: TailSpec) -> None:
        """ResourceNotFoundException for a group moto does not hold, as AWS answers."""
        assert self._http is not None
        headers = {
            "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
            "Content-Type": _JSON_11,
        }
        # moto picks region and account from the caller's credential scope.
        for key in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if key in request.headers:
                headers[key] = request.headers[key]
        for name, arn in spec.groups.items():
            body = json.dumps({"logGroupNamePrefix": name}).encode()
            try:
                async with self._http.post(self._moto_url + "/", headers=headers, data=body) as upstream:
                    text = await upstream.read()
                    status = upstream.status
            except aiohttp.ClientError as exc:
                raise ApiError(
                    "ServiceUnavailableException", f"local CloudWatch Logs backend unreachable: {exc}", 503
                ) from exc
            if status != 200:
                raise ApiError("ServiceUnavailableException", f"moto DescribeLogGroups answered {status}", 503)
            found = json.loads(text).get("logGroups", [])
            if not any(g.get("logGroupName") == name and g.get("logGroupArn", arn) == arn for g in found):
                raise ApiError("ResourceNotFoundException", f"The specified log group does not exist: {arn}")

    async def _live_tail(self, request: web.Request) -> web.StreamResponse:
        try:
            try:
                params = json.loads(await request.read() or b"{}")
            except ValueError as exc:
                raise ApiError("SerializationException", f"request body is not JSON: {exc}") from exc
            if not isinstance(params, dict):
                raise ApiError("SerializationException", "request body must be a JSON object")
            spec = parse_request(params)
            await self._check_groups_exist(request, spec)
            if self._closing:
                raise ApiError("ServiceUnavailableException", "local CloudWatch Logs endpoint is stopping", 503)
            if len(self._sessions) >= self._max_sessions:
                raise ApiError("LimitExceededException", f"at most {self._max_sessions} concurrent Live Tail sessions")
        except ApiError as exc:
            return exc.response()

        session = LiveTailSession(
            spec,
            per_update=self._per_update,
            buffered_updates=self._buffered_updates,
            buffered_events=self._buffered_events,
            rng=random.Random(self._rng.random()),
        )
        response = web.StreamResponse(
            status=200,
            headers={"Content-Type": "application/vnd.amazon.eventstream", "x-amzn-RequestId": session.request_id},
        )
        self._sessions.add(session)
        ticker = asyncio.create_task(self._tick(session), name=f"livetail-tick-{session.session_id}")
        try:
            await response.prepare(request)
            await response.write(initial_response())
            await response.write(event_message("sessionStart", session.start_body()))
            await self._pump(response, session)
        except ConnectionResetError:
            # The reader closed the stream: that is how a client ends a session (API_StartLiveTail).
            log.debug("live tail session %s closed by the client", session.session_id)
        finally:
            self._sessions.discard(session)
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            if session.dropped:
                log.info(
                    "live tail session %s dropped %d events for a slow reader", session.session_id, session.dropped
                )
        return response

    async def _tick(self, session: LiveTailSession) -> None:
        """Cut an update every interval until the session's time limit."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._limit
        next_at = loop.time() + self._interval
        while next_at < deadline:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            session.cut_update()
            # Late ticks (a busy loop) do not burst to catch up: one update per interval at most.
            next_at = max(next_at + self._interval, loop.time())
        await asyncio.sleep(max(0.0, deadline - loop.time()))
        session.expired = True
        session.wake.set()

    async def _pump(self, response: web.StreamResponse, session: LiveTailSession) -> None:
        """Write queued updates; end with SessionTimeoutException at the limit, or quietly on stop()."""
        while True:
            session.wake.clear()  # before draining, so an update cut meanwhile wakes us again
            while (update := session.take()) is not None:
                await response.write(event_message("sessionUpdate", update))
            if session.expired:
                await response.write(
                    exception_message(
                        "SessionTimeoutException", f"Live Tail session ended after its {self._limit:g} s limit"
                    )
                )
                return
            if self._closing:
                return
            await session.wake.wait()

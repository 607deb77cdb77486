"""Ships each environment's log lines to CloudWatch Logs (moto locally), one stream each.

moto takes a few hundred PutLogEvents calls a second whatever the batch size (MEASURED.md), and
on a busy machine each call takes 20-200 ms; a call carries one stream's events. So the calls
are the budget: at most `max_calls_per_s` are started (moto's ceiling: more would only slow the
other readers of moto, the FilterLogEvents poll and the Live Tail front), `parallel` at a time
(the calls are latency-bound when the machine is busy: 100-300 ms each), and they go to the stream whose oldest
pending event has waited longest, with everything it has pending (shipqueue.py). With few
streams each is flushed every ~200 ms; with 1,000 each waits about 1,000 ÷ calls per second,
its batches grow to match, and every event is shipped: a lag of seconds, as real CloudWatch has
(AWS-FACTS §1.5), never a backlog that grows for the whole run. `status()` says how far behind
the shipper is (the oldest pending event's wait, the events pending, calls and events per
second), for GET /_lambdascope/status.

moto accepts batches over AWS's limits, so the limits (10,000 events, 1 MiB counting 26 bytes
of overhead per event) are enforced here, as a real client must. A configurable ingestion delay
holds events back to mimic the seconds of lag real CloudWatch has.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

import aiobotocore.session
import aiohttp
from aiobotocore.config import AioConfig

from probe.local.logs_put import LogsCallError, PutLogEvents
from probe.local.shipqueue import EVENT_OVERHEAD, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, ShipQueue, batches, clip

__all__ = ["LogShipper", "batches", "EVENT_OVERHEAD", "MAX_BATCH_BYTES", "MAX_BATCH_EVENTS"]

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.2  # a stream's shortest wait: one invocation's lines go in one call
FLUSH_AT_EVENTS = 1_000  # ...unless it has this many
MAX_PENDING_EVENTS = 500_000  # bound memory if the endpoint stalls; overflow is counted
MAX_CALLS_PER_S = 350.0  # moto's ceiling (300-400 calls/s, MEASURED.md)
PARALLEL_PUTS = 64  # 1,000 streams at 300 req/s: 64 confirmed 5.7 s after the last response, 32 7.7 s
TICK_S = 0.05  # how often the dispatcher looks for a due stream when nothing woke it
RATE_WINDOW = 6  # samples, one a second: the rates in status() are over the last ~5 s
PUT_ATTEMPTS = 5  # as the SDK's standard retry mode (the client this replaced)
STOP_TIMEOUT_S = 30.0  # 1,000 streams at a few hundred calls/s: seconds, on a busy machine more

OnShipped = Callable[[str, str, list[dict]], None]


class _CallBudget:
    """A token bucket: at most `rate` calls a second, a burst of a fifth of a second's worth."""

    def __init__(self, rate: float):
        self.rate = rate
        self.capacity = max(1.0, rate * 0.2)
        self._tokens = self.capacity
        self._at = time.monotonic()

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / self.rate)


class LogShipper:
    """Collects events per stream and puts them into one log group, within a call budget.

    `on_shipped` callbacks run after each successful put with (log_group, stream, events), so a
    live-tail front can see exactly what reached the store, in store order.
    """

    def __init__(
        self,
        endpoint: str,
        region: str,
        credentials: tuple[str, str],
        log_group: str,
        ingestion_delay_s: float = 0.0,
        *,
        max_calls_per_s: float = MAX_CALLS_PER_S,
        parallel: int = PARALLEL_PUTS,
    ):
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.log_group = log_group
        self.ingestion_delay_ms = int(ingestion_delay_s * 1000)
        self.on_shipped: list[OnShipped] = []
        self.shipped = 0
        self.failed_puts = 0
        self.puts = 0  # PutLogEvents calls that succeeded
        self.lag_max_s = 0.0  # the longest any event waited to be put, so far
        self.queue = ShipQueue(MAX_PENDING_EVENTS, FLUSH_AT_EVENTS)
        self.parallel = max(1, parallel)
        self._budget = _CallBudget(max_calls_per_s)
        self._samples: deque[tuple[float, int, int, int]] = deque(maxlen=RATE_WINDOW)
        self._streams_made: set[str] = set()
        self._client = None
        self._client_cm = None
        self._task: asyncio.Task | None = None
        self._puts: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._stopping = False

    @property
    def dropped(self) -> int:
        return self.queue.dropped

    async def start(self) -> None:
        session = aiobotocore.session.get_session()
        key, secret = self.credentials
        self._client_cm = session.create_client(
            "logs",
            region_name=self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=AioConfig(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=self.parallel),
        )
        self._client = await self._client_cm.__aenter__()
        # The hundreds of PutLogEvents a second go on the wire directly (probe/local/logs_put.py);
        # the client above makes the group and each stream, once.
        self._put = PutLogEvents(self.endpoint, self.region, self.credentials)
        try:
            await self._client.create_log_group(logGroupName=self.log_group)
        except self._client.exceptions.ResourceAlreadyExistsException:
            pass
        self._task = asyncio.create_task(self._run(), name="logship")

    async def stop(self) -> None:
        """Ship whatever is pending (ignoring the ingestion delay), then close the client.

        The loop is asked to finish rather than cancelled: a cancel in the middle of a put would
        lose the events it had taken off the queue.
        """
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT_S)
            except (TimeoutError, Exception) as exc:  # endpoint gone (e.g. Ctrl-C)
                log.warning("final log flush failed (%d events not shipped): %r", self.queue.pending, exc)
                self._task.cancel()
                for put in list(self._puts):
                    put.cancel()
            self._task = None
        if self._client is not None:
            await self._put.close()
            await self._client_cm.__aexit__(None, None, None)
            self._client = None

    def add(self, stream: str, message: str, timestamp_ms: int | None = None) -> None:
        """Queue one event (never blocks: environments must not wait on the log store)."""
        ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        if self.queue.add(stream, {"timestamp": ts, "message": clip(message)}) >= FLUSH_AT_EVENTS:
            self._wake.set()

    def status(self) -> dict:
        """How far behind the log store is, for GET /_lambdascope/status (`logs`)."""
        q = self.queue
        lag = q.oldest_wait_s()
        rates = self._rates()
        return {
            "generated": q.added,
            "shipped": self.shipped,
            "pending_events": q.pending,
            "streams_waiting": q.streams_waiting,
            "puts_in_flight": q.in_flight,
            "lag_s": round(lag, 2),
            "lag_max_s": round(max(self.lag_max_s, lag), 2),
            "puts": self.puts,
            "failed_puts": self.failed_puts,
            "dropped": q.dropped,
            "call_budget_per_s": self._budget.rate,
            "parallel_puts": self.parallel,
            **rates,
        }

    def _rates(self) -> dict:
        if len(self._samples) < 2:
            return {"puts_per_s": None, "events_in_per_s": None, "events_out_per_s": None}
        (t0, a0, s0, p0), (t1, a1, s1, p1) = self._samples[0], self._samples[-1]
        dt = max(1e-6, t1 - t0)
        return {
            "puts_per_s": round((p1 - p0) / dt, 1),
            "events_in_per_s": round((a1 - a0) / dt, 1),
            "events_out_per_s": round((s1 - s0) / dt, 1),
        }

    def _sample(self, now: float) -> None:
        if not self._samples or now - self._samples[-1][0] >= 1.0:
            self._samples.append((now, self.queue.added, self.shipped, self.puts))
            self.lag_max_s = max(self.lag_max_s, self.queue.oldest_wait_s())

    async def _run(self) -> None:
        """Start a put whenever a stream is due, a slot is free and the budget allows."""
        while True:
            self._sample(time.monotonic())
            stopping = self._stopping
            item = None
            if len(self._puts) < self.parallel:
                if stopping:
                    item = self.queue.take(0.0)
                else:
                    cutoff = int(time.time() * 1000) - self.ingestion_delay_ms if self.ingestion_delay_ms else None
                    item = self.queue.take(FLUSH_INTERVAL_S, cutoff)
            if item is None:
                if stopping and not self.queue.pending and not self._puts:
                    return
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), TICK_S)
                except TimeoutError:
                    pass
                continue
            stream, events = item
            await self._budget.take()
            put = asyncio.create_task(self._put_stream(stream, events), name="logship-put")
            self._puts.add(put)
            put.add_done_callback(self._put_done)

    def _put_done(self, put: asyncio.Task) -> None:
        self._puts.discard(put)
        self._wake.set()  # a slot is free
        if not put.cancelled() and put.exception() is not None:
            log.warning("log put failed: %r", put.exception())

    async def _put_stream(self, stream: str, events: list[dict]) -> None:
        try:
            await self._put_events(stream, events)
        finally:
            self.queue.done(stream)

    async def _put_retrying(self, stream: str, batch: list[dict]) -> None:
        """One PutLogEvents, tried again (up to PUT_ATTEMPTS, backing off) when the endpoint
        was busy or the connection broke, as the SDKs' standard retry mode does."""
        for attempt in range(PUT_ATTEMPTS):
            try:
                await self._put.put(self.log_group, stream, batch)
                return
            except (LogsCallError, aiohttp.ClientError, TimeoutError) as exc:
                retryable = not isinstance(exc, LogsCallError) or exc.status >= 500 or "Throttl" in exc.error_type
                if not retryable or attempt == PUT_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.1 * 2**attempt)

    async def _put_events(self, stream: str, events: list[dict]) -> None:
        # Stable sort: lines that share a millisecond keep the order they were written in.
        events.sort(key=lambda e: e["timestamp"])
        if stream not in self._streams_made:
            await self._budget.take()  # a call like any other
            try:
                await self._client.create_log_stream(logGroupName=self.log_group, logStreamName=stream)
            except self._client.exceptions.ResourceAlreadyExistsException:
                pass
            self._streams_made.add(stream)
        for i, batch in enumerate(batches(events)):
            if i:
                await self._budget.take()  # the first call's was taken by the dispatcher
            try:
                await self._put_retrying(stream, batch)
            except Exception as exc:
                self.failed_puts += 1
                log.warning("PutLogEvents to %s failed: %s", stream, exc)
                continue
            self.puts += 1
            self.shipped += len(batch)
            for callback in list(self.on_shipped):
                try:
                    callback(self.log_group, stream, batch)
                except Exception:  # a broken subscriber must not stop shipping
                    log.exception("on_shipped callback failed")

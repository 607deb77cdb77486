"""Ships each environment's log lines to CloudWatch Logs (moto locally), one stream each.

Batching matters: moto takes ~300-400 PutLogEvents calls/s whatever the batch size, so events
are grouped per stream and flushed every ~200 ms or at 1,000 events. moto accepts batches over
AWS's limits, so the limits (10,000 events, 1 MiB counting 26 bytes of overhead per event) are
enforced here, as a real client must. A configurable ingestion delay holds events back to mimic
the seconds of lag real CloudWatch has (AWS-FACTS §1.5).
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

import aiobotocore.session
from aiobotocore.config import AioConfig

log = logging.getLogger(__name__)

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD
FLUSH_INTERVAL_S = 0.2
FLUSH_AT_EVENTS = 1_000
MAX_PENDING_EVENTS = 500_000  # bound memory if the endpoint stalls; overflow is counted
PARALLEL_PUTS = 4

OnShipped = Callable[[str, str, list[dict]], None]


def batches(events: list[dict]) -> list[list[dict]]:
    """Split events (already in timestamp order) into batches within AWS's PutLogEvents limits."""
    out, batch, size = [], [], 0
    for ev in events:
        ev_size = len(ev["message"].encode()) + EVENT_OVERHEAD
        if batch and (len(batch) >= MAX_BATCH_EVENTS or size + ev_size > MAX_BATCH_BYTES):
            out.append(batch)
            batch, size = [], 0
        batch.append(ev)
        size += ev_size
    if batch:
        out.append(batch)
    return out


def _clip(message: str) -> str:
    data = message.encode()
    if len(data) <= MAX_EVENT_BYTES:
        return message
    return data[:MAX_EVENT_BYTES].decode(errors="ignore")


class LogShipper:
    """Collects events per stream and puts them into one log group.

    `on_shipped` callbacks run after each successful put with (log_group, stream, events), so a
    live-tail front can see exactly what reached the store, in store order.
    """

    def __init__(
        self, endpoint: str, region: str, credentials: tuple[str, str], log_group: str, ingestion_delay_s: float = 0.0
    ):
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.log_group = log_group
        self.ingestion_delay_ms = int(ingestion_delay_s * 1000)
        self.on_shipped: list[OnShipped] = []
        self.shipped = 0
        self.dropped = 0
        self.failed_puts = 0
        self._pending: dict[str, deque] = {}
        self._pending_count = 0
        self._streams_made: set[str] = set()
        self._client = None
        self._client_cm = None
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._sem = asyncio.Semaphore(PARALLEL_PUTS)

    async def start(self) -> None:
        session = aiobotocore.session.get_session()
        key, secret = self.credentials
        self._client_cm = session.create_client(
            "logs",
            region_name=self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=AioConfig(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=PARALLEL_PUTS * 2),
        )
        self._client = await self._client_cm.__aenter__()
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
                await asyncio.wait_for(asyncio.shield(self._task), 10)
            except (TimeoutError, Exception) as exc:  # endpoint gone (e.g. Ctrl-C)
                log.warning("final log flush failed: %r", exc)
                self._task.cancel()
            self._task = None
        if self._client is not None:
            await self._client_cm.__aexit__(None, None, None)
            self._client = None

    def add(self, stream: str, message: str, timestamp_ms: int | None = None) -> None:
        """Queue one event (never blocks: environments must not wait on the log store)."""
        if self._pending_count >= MAX_PENDING_EVENTS:
            self.dropped += 1
            return
        ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        q = self._pending.get(stream)
        if q is None:
            q = self._pending[stream] = deque()
        q.append({"timestamp": ts, "message": _clip(message)})
        self._pending_count += 1
        if len(q) >= FLUSH_AT_EVENTS:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), FLUSH_INTERVAL_S)
            except TimeoutError:
                pass
            self._wake.clear()
            if self._stopping:
                await self.flush(force=True)
                return
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep shipping; the events stay counted as failed
                log.warning("log flush failed: %s", exc)

    async def flush(self, force: bool = False) -> None:
        """Put every due event; with force, everything pending regardless of the delay."""
        cutoff = None if force else int(time.time() * 1000) - self.ingestion_delay_ms
        jobs = []
        for stream, q in list(self._pending.items()):
            due = []
            while q and (cutoff is None or q[0]["timestamp"] <= cutoff):
                due.append(q.popleft())
            self._pending_count -= len(due)
            if not q:
                del self._pending[stream]
            if due:
                jobs.append(self._put_stream(stream, due))
        if jobs:
            await asyncio.gather(*jobs)

    async def _put_stream(self, stream: str, events: list[dict]) -> None:
        # Stable sort: lines that share a millisecond keep the order they were written in.
        events.sort(key=lambda e: e["timestamp"])
        async with self._sem:
            if stream not in self._streams_made:
                try:
                    await self._client.create_log_stream(logGroupName=self.log_group, logStreamName=stream)
                except self._client.exceptions.ResourceAlreadyExistsException:
                    pass
                self._streams_made.add(stream)
            for batch in batches(events):
                try:
                    await self._client.put_log_events(
                        logGroupName=self.log_group, logStreamName=stream, logEvents=batch
                    )
                except Exception as exc:
                    self.failed_puts += 1
                    log.warning("PutLogEvents to %s failed: %s", stream, exc)
                    continue
                self.shipped += len(batch)
                for callback in list(self.on_shipped):
                    try:
                        callback(self.log_group, stream, batch)
                    except Exception:  # a broken subscriber must not stop shipping
                        log.exception("on_shipped callback failed")

"""A CloudWatch Logs subscription to a Kinesis data stream, read as a log source.

Why a third channel: Live Tail samples above 500 events an update, and FilterLogEvents has 5
requests/s per account and Region; a subscription delivers every event, and a provisioned shard
reads 5 GetRecords calls and 2 MB a second (AWS-FACTS, MEASURED.md). `lambdascope deploy
--kinesis` makes the stream, the role and the subscription filter (probe/deploy_kinesis.py).

How it reads: ListShards, then one reader per shard, each from the run's start
(`AT_TIMESTAMP`), GetRecords in a loop. A closed shard (a reshard: SplitShard, MergeShards,
UpdateShardCount) is read to its end and its children start only then, so the order per
partition is kept and nothing is lost; the listing is repeated to find children. A shard is at
its end when GetRecords gives no NextShardIterator (AWS), or, closed, answers empty with
MillisBehindLatest 0 (moto keeps giving an iterator: MEASURED.md). Records are decoded by
kinesis_records.py; CONTROL_MESSAGEs and garbage are counted, never yielded.

Each event is yielded once: by (stream, timestamp, event id) in one bounded memory, across
shards, re-reads (a reconnect re-uses the iterator, an expired one is re-opened after the last
sequence number) and the FilterLogEvents sweep that runs behind the stream (kinesis_sweep.py:
every `sweep_every_s`, over what is older than `sweep_delay_ms`): anything the subscription did
not deliver is still counted, in `status.extra["swept"]`.

Honest state: `status.lag_ms` is the largest MillisBehindLatest of the shards being read (the
stream's own measure of how far behind its tip a reader is); a ProvisionedThroughputExceeded is
backed off with jitter per shard, counted and shown (`behind`, and the error line) until a read
succeeds; a missing stream or a missing permission is a UserError naming the action and the fix
(kinesis_calls.py classifies every call's failure).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tui.aws.sources.backoff import Backoff
from tui.aws.sources.filterlogs import Transient
from tui.aws.sources.kinesis_calls import Expired, Throttled, call
from tui.aws.sources.kinesis_records import CONTROL, DATA, decode
from tui.aws.sources.kinesis_sweep import Sweep
from tui.aws.sources.pushed import PushedSource, Stop
from tui.core.errors import one_line
from tui.core.events import LogEvent, SourceStatus
from tui.core.recent import RecentKeys

log = logging.getLogger(__name__)

GET_RECORDS_LIMIT = 10_000  # the most one GetRecords returns
MAX_REASONS = 16  # garbage reasons kept by name; the rest are counted under "other"
BEHIND_MS = 10_000  # MillisBehindLatest this large: the reader is falling behind the stream


def stream_name(stream: str) -> str:
    """`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME` or NAME → NAME."""
    return stream.rsplit(":stream/", 1)[-1] if ":stream/" in stream else stream


@dataclass
class _Shard:
    shard_id: str
    parents: tuple[str, ...]
    closed: bool = False  # ListShards gave it an EndingSequenceNumber
    started: bool = False
    done: bool = False
    last_seq: str | None = None
    behind_ms: int = 0
    throttled_at: float | None = None
    empty_at: float | None = None  # when the last GetRecords that came back empty was asked
    task: asyncio.Task | None = field(default=None, repr=False)


class KinesisSource(PushedSource):
    """A `LogSource` over every shard of one Kinesis stream that CloudWatch Logs writes to.

    status.extra counts: records, control_messages, garbage_records (and garbage_reasons),
    other_groups (events of groups not asked for), duplicates (events a record repeated),
    throttled, expired_iterators, reconnects, shards (listed), shards_done, reshards (children
    found mid-run), swept (events only the sweep delivered), sweep_overlap (events the sweep found
    that the stream had given), sweep_passes, sweep_deferred (passes that left events stored
    too recently to the stream, and to the next pass), millis_behind_latest.
    """

    def __init__(
        self,
        kinesis: Any,
        logs: Any,
        stream: str,
        log_groups: Sequence[str],
        since_ms: int,
        *,
        idle_s: float = 1.0,
        busy_gap_s: float = 0.25,
        list_every_s: float = 10.0,
        sweep_every_s: float = 30.0,
        sweep_delay_ms: int = 10_000,
        sweep_margin_ms: int = 10_000,
        sweep_budget_per_s: float = 1.0,
        dedup_window_ms: int = 600_000,
        dedup_max_keys: int = 500_000,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
        max_queued_batches: int = 64,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kinesis, self.logs = kinesis, logs
        self.stream = stream_name(stream)
        self.stream_ref = stream
        self.log_groups = list(log_groups)
        self.since_ms = since_ms
        self._idle_s, self._busy_gap_s, self._list_every_s = idle_s, busy_gap_s, list_every_s
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._clock = clock
        self._keys = RecentKeys(dedup_window_ms, dedup_max_keys)
        self.status = SourceStatus(
            name="kinesis",
            extra={
                "stream": self.stream,
                "records": 0,
                "control_messages": 0,
                "garbage_records": 0,
                "garbage_reasons": {},
                "other_groups": 0,
                "duplicates": 0,
                "throttled": 0,
                "expired_iterators": 0,
                "reconnects": 0,
                "shards": 0,
                "shards_done": 0,
                "reshards": 0,
                "swept": 0,
                "sweep_overlap": 0,
                "sweep_passes": 0,
                "sweep_deferred": 0,
                "millis_behind_latest": None,
            },
        )
        self._sweep = Sweep(
            logs,
            self.log_groups,
            self.status,
            self._keys,
            since_ms,
            fresh=self._fresh,
            put=self._put,
            every_s=sweep_every_s,
            delay_ms=sweep_delay_ms,
            margin_ms=sweep_margin_ms,
            budget_per_s=sweep_budget_per_s,
            backoff=self._backoff,
            clock=clock,
        )
        self._shards: dict[str, _Shard] = {}
        super().__init__(max_queued_batches)
        self._changed = asyncio.Event()  # a shard finished: its children may start

    # --- the LogSource protocol ---------------------------------------------------------------

    async def start(self) -> None:
        """List the shards once, so that a missing stream or permission is one line before the
        run starts, not an error some seconds into it."""
        await self._list()

    def _task_name(self) -> str:
        return f"kinesis-{self.stream}"

    async def sweep(self) -> list[LogEvent] | None:
        """The run's final FilterLogEvents pass (kinesis_sweep.py): the events no shard delivered,
        or None when the de-dup memory no longer reaches the start."""
        return await self._sweep.final()

    async def drain(self, timeout_s: float) -> bool:
        """Wait until every shard has been read to the tip it had when asked (a GetRecords asked
        after then came back empty, or the shard is done) and the consumer has taken every batch:
        then a final sweep counts only what the stream did not deliver, not what it was still
        delivering. False if that took longer than `timeout_s` (then the sweep finds the rest)."""
        asked = self._clock()
        try:
            async with asyncio.timeout(timeout_s):
                while not self._drained(asked):
                    if self._task is None or self._task.done():
                        return False
                    await asyncio.sleep(0.02)
        except TimeoutError:
            return False
        return True

    def _drained(self, asked: float) -> bool:
        shards = self._shards.values()
        read = all(s.done or (s.empty_at is not None and s.empty_at >= asked) for s in shards)
        return read and self._queue.empty()

    # --- supervision -------------------------------------------------------------------------

    async def _read(self) -> None:
        error: BaseException | None = None
        sweeper = asyncio.create_task(self._sweep.loop()) if self._sweep.every_s > 0 else None
        try:
            await self._follow_shards()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # handed to the consumer, which re-raises it from batches()
            error = exc
            self.status.error = one_line(exc)
            log.error("kinesis source on %s stopped: %s", self.stream, self.status.error)
        finally:
            tasks = [s.task for s in self._shards.values() if s.task is not None]
            if sweeper is not None:
                tasks.append(sweeper)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._queue.put(Stop(error))

    async def _follow_shards(self) -> None:
        """Start each shard's reader once its parents are read to their end; list again every
        `list_every_s` (and whenever a shard ends) for the children of a reshard."""
        backoff = Backoff(*self._backoff)
        while not self._closed:
            try:
                await self._list()
                backoff.reset()
            except Transient as exc:
                self.status.error = one_line(exc)
                await asyncio.sleep(backoff.next())
                continue
            for shard in self._shards.values():
                if not shard.started and all(p not in self._shards or self._shards[p].done for p in shard.parents):
                    shard.started = True
                    shard.task = asyncio.create_task(self._read_shard(shard), name=f"kinesis-{shard.shard_id}")
            for shard in self._shards.values():
                if shard.task is not None and shard.task.done() and not shard.task.cancelled():
                    shard.task.result()  # a reader's fatal error (stream gone, permission) ends the source
            self._changed.clear()
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that comes
                # as the wait ends (gh-86296), and close() would then wait for ever.
                async with asyncio.timeout(self._list_every_s):
                    await self._changed.wait()
            except TimeoutError:
                pass

    async def _list(self) -> None:
        kwargs: dict[str, Any] = {"StreamName": self.stream}
        first = not self._shards
        while True:
            resp = await self._call("ListShards", self.kinesis.list_shards, **kwargs)
            for s in resp.get("Shards", ()):
                sid = s["ShardId"]
                parents = tuple(p for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId")) if p)
                shard = self._shards.get(sid)
                if shard is None:
                    shard = self._shards[sid] = _Shard(sid, parents)
                    if not first:
                        self.status.extra["reshards"] += 1
                shard.closed = "EndingSequenceNumber" in s.get("SequenceNumberRange", {})
            token = resp.get("NextToken")
            if not token:
                break
            kwargs = {"NextToken": token}  # ListShards takes a token without the stream name
        self.status.extra["shards"] = len(self._shards)

    # --- one shard ---------------------------------------------------------------------------

    async def _read_shard(self, shard: _Shard) -> None:
        try:
            await self._read_shard_to_end(shard)
        finally:
            self._changed.set()  # its end lets children start; its failure ends the source

    async def _read_shard_to_end(self, shard: _Shard) -> None:
        backoff = Backoff(*self._backoff)
        iterator = await self._iterator(shard)
        while True:
            asked = self._clock()
            try:
                resp = await self._call(
                    "GetRecords", self.kinesis.get_records, ShardIterator=iterator, Limit=GET_RECORDS_LIMIT
                )
            except Throttled as exc:
                self.status.extra["throttled"] += 1
                shard.throttled_at = self._clock()
                self.status.behind = True
                self.status.error = str(exc)
                await asyncio.sleep(backoff.next())
                continue
            except Expired:
                self.status.extra["expired_iterators"] += 1
                iterator = await self._iterator(shard)
                continue
            except Transient as exc:
                # The iterator is a position, not a session: the same one gives the same records.
                self.status.extra["reconnects"] += 1
                self.status.error = one_line(exc)
                await asyncio.sleep(backoff.next())
                continue
            backoff.reset()
            if shard.throttled_at is not None or self.status.error:
                shard.throttled_at = None
                if not any(s.throttled_at is not None for s in self._shards.values()):
                    self.status.error = None
            records = resp.get("Records") or []
            shard.behind_ms = int(resp.get("MillisBehindLatest") or 0)
            self._measure_lag()
            if records:
                shard.last_seq = records[-1]["SequenceNumber"]
                await self._emit(records)
            elif shard.behind_ms == 0:
                shard.empty_at = asked  # at the tip it had when this call was asked
            iterator = resp.get("NextShardIterator")
            if iterator is None or (shard.closed and not records and shard.behind_ms == 0):
                shard.done = True
                shard.behind_ms = 0
                self.status.extra["shards_done"] += 1
                return
            await asyncio.sleep(self._busy_gap_s if records else self._idle_s)

    async def _iterator(self, shard: _Shard) -> str:
        """From the run's start, or just after the last record read (a re-open loses nothing)."""
        kwargs: dict[str, Any] = {"StreamName": self.stream, "ShardId": shard.shard_id}
        if shard.last_seq is None:
            kwargs |= {
                "ShardIteratorType": "AT_TIMESTAMP",
                "Timestamp": datetime.fromtimestamp(self.since_ms / 1000, UTC),
            }
        else:
            kwargs |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": shard.last_seq}
        backoff = Backoff(*self._backoff)
        while True:
            try:
                return (await self._call("GetShardIterator", self.kinesis.get_shard_iterator, **kwargs))[
                    "ShardIterator"
                ]
            except (Transient, Throttled) as exc:
                self.status.error = str(exc)
                await asyncio.sleep(backoff.next())

    def _measure_lag(self) -> None:
        reading = [s.behind_ms for s in self._shards.values() if s.started and not s.done]
        lag = max(reading, default=0)
        self.status.lag_ms = float(lag)
        self.status.extra["millis_behind_latest"] = lag
        throttled = any(s.throttled_at is not None for s in self._shards.values())
        self.status.behind = throttled or lag >= BEHIND_MS

    # --- records → events --------------------------------------------------------------------

    async def _emit(self, records: list[dict]) -> None:
        extra = self.status.extra
        fresh: list[LogEvent] = []
        for record in records:
            extra["records"] += 1
            decoded = decode(record.get("Data", b""))
            if decoded.kind == CONTROL:
                extra["control_messages"] += 1
                continue
            if decoded.kind != DATA:
                extra["garbage_records"] += 1
                reasons = extra["garbage_reasons"]
                reason = decoded.reason or "other"
                key = reason if reason in reasons or len(reasons) < MAX_REASONS else "other"
                reasons[key] = reasons.get(key, 0) + 1
                continue
            if decoded.log_group is not None and decoded.log_group not in self.log_groups:
                extra["other_groups"] += len(decoded.events)
                continue
            fresh.extend(e for e in decoded.events if self._fresh(e))
        await self._put(fresh)

    def _fresh(self, e: LogEvent, seen: str = "duplicates") -> bool:
        """Not yielded before (else counted under `seen`: a record delivered twice, or an event
        the sweep found that the stream had already given)."""
        # The event id is what CloudWatch Logs gives both channels; stream and time beside it keep
        # the key unique even where an emulator numbers events per stream.
        if self._keys.add(e.stream, e.timestamp, e.event_id or e.message):
            return True
        self.status.extra[seen] += 1
        return False

    async def _put(self, fresh: list[LogEvent]) -> None:
        if not fresh:
            return
        self.status.events += len(fresh)
        # A full queue blocks the shard's reader: Kinesis keeps the records (24 h by default).
        await self._queue.put(fresh)

    def _call(self, action: str, method, **kwargs):
        """One call of this stream, counted and its failure classified (kinesis_calls.py)."""
        return call(self.stream, self.status, action, method, **kwargs)

"""Polling FilterLogEvents: the log source that works everywhere (moto, AWS, any account).

Why a look-back window instead of a plain watermark: CloudWatch stores events seconds after
their timestamp (AWS-FACTS.md §1.5), so an event stamped before the newest one seen can still
appear later. Each poll asks from `newest - lookback`, the look-back grows with the ingestion
delay actually observed, and event ids already yielded are dropped (aws-cli `logs tail` does the
same at its boundary). Ids older than the window are forgotten, so memory stays flat.

Paging, the request budget (default 2/s, pages included) and what a failure means are the
shared FilterLogEvents reader's (`filterlogs.py`). This source owns its retries (its client is
made with botocore's max_attempts=2, so a throttle or a dead endpoint reaches it in seconds, not
after ten hidden retries): every transient failure gets one exponential backoff (capped,
jittered), the reason in the status line, and `behind` once the source's view of the group is
BEHIND_S old. Only credentials and permissions are fatal. `status.lag_ms` is measured against
the clock on every round: since the newest event when events came, else since the last poll
that succeeded, so it grows while events are missing.

Beside the function's group it can read others (`extra_groups`: a Managed Instances capacity
provider's system log), each from its own start (the system log's instance records are older
than the run: an instance launched days ago still hosts it), through its own window and reader,
polled every `extra_every` rounds. An extra group never costs the function's events: its
failures (missing, throttled, not allowed) are kept in `status.extra["groups"]`, not raised.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence

from tui.aws.sources.backoff import Backoff
from tui.aws.sources.filterlogs import FilterLogEventsReader, LogGroupMissing, TokenBucket, Transient, Unreachable
from tui.core.errors import UserError, one_line
from tui.core.events import LogEvent, SourceStatus

__all__ = ["PollSource", "TokenBucket", "LogGroupMissing", "Unreachable", "Transient"]

BEHIND_S = 10.0  # the source's view of the group this old: it is falling behind
BACKOFF_MAX_S = 10.0


class _Window:
    """One group's read position: its start, the newest event seen, how far back to look."""

    def __init__(self, reader: FilterLogEventsReader, start_ms: int, lookback_ms: int):
        self.reader = reader
        self.start_ms = start_ms
        self.newest_ms = start_ms
        self.lookback_ms = lookback_ms
        self.seen: dict[str, int] = {}  # its own ids: its window lies elsewhere in time
        self.pruned = False  # some were forgotten: a sweep would repeat them, so it skips this one


class PollSource:
    """Yield new events of one log group (and any `extra_groups`), every `interval` seconds,
    each event once."""

    def __init__(
        self,
        client,
        log_group: str,
        start_ms: int,
        *,
        interval: float = 1.0,
        budget_per_s: float = 2.0,
        min_lookback_ms: int = 2_000,
        max_lookback_ms: int = 120_000,
        keep_ids: int = 4096,
        now: Callable[[], float] = time.time,
        sleep=asyncio.sleep,
        extra_groups: Sequence[tuple[str, int]] = (),
        extra_every: int = 1,
    ):
        self.client = client
        self.log_group = log_group
        self.interval = interval
        self.status = SourceStatus(name="poll")
        self._start_ms = start_ms
        self._newest_ms = start_ms
        self._lookback_ms = min_lookback_ms
        self._min_lookback, self._max_lookback = min_lookback_ms, max_lookback_ms
        self._seen: dict[str, int] = {}  # event id → timestamp, pruned to the window past keep_ids
        self._keep_ids = keep_ids
        self.pruned = False  # some ids were forgotten: a sweep could no longer tell old from new
        self._now, self._sleep = now, sleep
        self._reader = FilterLogEventsReader(
            client, log_group, self.status, budget_per_s=budget_per_s, now=now, sleep=sleep
        )
        # One budget for every group: the account's 5 TPS does not grow with the groups read.
        bucket = self._reader._bucket
        self._extra: list[tuple[str, _Window]] = []
        for name, start in extra_groups:
            reader = FilterLogEventsReader(client, name, self.status, budget_per_s=budget_per_s, now=now, sleep=sleep)
            reader._bucket = bucket
            self._extra.append((name, _Window(reader, start, min_lookback_ms)))
        self._extra_every = max(1, extra_every)
        self._rounds = 0
        if self._extra:
            self.status.extra["groups"] = {name: {"events": 0, "error": None} for name, _ in self._extra}
        self._closed = False
        self._failures = 0
        self._ok_at: float | None = None  # when the last poll that succeeded started
        self.backoff = Backoff(2 * interval, BACKOFF_MAX_S)

    async def close(self) -> None:
        self._closed = True

    async def batches(self) -> AsyncIterator[list[LogEvent]]:
        self._ok_at = self._now()
        while not self._closed:
            started = self._now()
            try:
                batch = await self.poll_once()
                self._failures = 0
                self._ok_at = started
                self.status.error = None
            except Transient as exc:
                self._failures += 1
                self.status.error = one_line(exc)
                batch = []
            self._measure_lag(bool(batch))
            if batch:
                yield batch
            if self._closed:
                return
            if self._failures:
                await self._sleep(self.backoff.next())
                self._measure_lag(False)
            else:
                self.backoff.reset()
                await self._sleep(max(0.0, self.interval - (self._now() - started)))

    def _measure_lag(self, got_events: bool) -> None:
        now_ms = self._now() * 1000
        if got_events:
            lag = max(0.0, now_ms - self._newest_ms)
        else:
            lag = max(0.0, now_ms - (self._ok_at or self._now()) * 1000)
        self.status.lag_ms = lag
        self.status.behind = lag >= BEHIND_S * 1000 or self._failures > 2

    async def poll_once(self) -> list[LogEvent]:
        """One sweep of the window, all pages; returns the events not yielded before (the
        extra groups' too, on the rounds they are due)."""
        start = max(self._start_ms, self._newest_ms - self._lookback_ms)
        out: list[LogEvent] = []
        max_delay = await self._window_events(self._reader, start, out, self._seen)
        if out:
            newest = max(e.timestamp for e in out)
            self._newest_ms = max(self._newest_ms, newest)
            self.status.events += len(out)
        # Look back twice the longest ingestion delay seen, within bounds.
        self._lookback_ms = max(self._min_lookback, min(self._max_lookback, max(self._lookback_ms, 2 * max_delay)))
        if self._extra and self._rounds % self._extra_every == 0:
            for name, window in self._extra:
                out.extend(await self._poll_extra(name, window))
        self._rounds += 1
        self._prune(start)
        return out

    @staticmethod
    async def _window_events(reader: FilterLogEventsReader, start: int, out: list[LogEvent], seen: dict) -> int:
        """The window's events not in `seen` (then added), appended to `out`; the longest
        ingestion delay."""
        max_delay = 0
        async for page in reader.pages({"startTime": start}):
            for e in page:
                if e.event_id is not None:
                    if e.event_id in seen:
                        continue
                    seen[e.event_id] = e.timestamp
                if e.ingestion_time is not None and e.ingestion_time - e.timestamp > max_delay:
                    max_delay = e.ingestion_time - e.timestamp
                out.append(e)
        return max_delay

    async def _poll_extra(self, name: str, window: _Window) -> list[LogEvent]:
        """An extra group's new events; its failure noted, never raised (see the module doc)."""
        note = self.status.extra["groups"][name]
        start = max(window.start_ms, window.newest_ms - window.lookback_ms)
        got: list[LogEvent] = []
        try:
            max_delay = await self._window_events(window.reader, start, got, window.seen)
        except (Transient, UserError) as exc:
            note["error"] = one_line(str(exc))  # our own message: its class name says nothing more
            return got  # what came before the failure is new, and its ids are remembered
        note["error"] = None
        if got:
            window.newest_ms = max(window.newest_ms, max(e.timestamp for e in got))
            note["events"] += len(got)
            self.status.events += len(got)
        window.lookback_ms = max(self._min_lookback, min(self._max_lookback, max(window.lookback_ms, 2 * max_delay)))
        if len(window.seen) >= self._keep_ids:  # a system log is small; bounded all the same
            floor = start - window.lookback_ms
            kept = {k: v for k, v in window.seen.items() if v >= floor}
            window.pruned = window.pruned or len(kept) < len(window.seen)
            window.seen = kept
        return got

    def _prune(self, start: int) -> None:
        if len(self._seen) < self._keep_ids:
            return
        floor = start - self._lookback_ms
        kept = {k: v for k, v in self._seen.items() if v >= floor}
        self.pruned = self.pruned or len(kept) < len(self._seen)
        self._seen = kept

    async def sweep(self) -> list[LogEvent] | None:
        """One pass over the whole group since the start: the events the live window missed (an
        event ingested later than the look-back reached). None when ids were pruned, so old and
        new can no longer be told apart (then nothing is yielded twice, and nothing is swept)."""
        if self.pruned:
            return None
        out: list[LogEvent] = []
        groups = [(self._reader, self._start_ms, self._seen, None)]
        groups += [(w.reader, w.start_ms, w.seen, n) for n, w in self._extra if not w.pruned]
        for reader, start, seen, name in groups:
            try:
                async for page in reader.pages({"startTime": start}):
                    for e in page:
                        if e.event_id is None or e.event_id in seen:
                            continue
                        seen[e.event_id] = e.timestamp
                        out.append(e)
            except (Transient, UserError) as exc:
                if name is None:
                    raise
                self.status.extra["groups"][name]["error"] = one_line(str(exc))
        self.status.events += len(out)
        return out

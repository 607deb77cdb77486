"""The FilterLogEvents sweep behind the Kinesis stream (kinesis.py): what the subscription did
not deliver is still counted.

CloudWatch Logs gives up on a destination after retrying for up to 24 hours, so the stream alone
could lose events without a word. Every `every_s` a pass reads the groups from where the last
one ended (less `margin_ms`) to `delay_ms` ago, and hands on the events the stream had not given
(the reader's de-dup memory decides); at the run's end `final()` reads the whole run once. The
sweep is rare on purpose: it spends the account's FilterLogEvents budget (5 requests/s, shared
by the groups) and moto's FilterLogEvents scans the whole group.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tui.aws.sources.backoff import Backoff
from tui.aws.sources.filterlogs import FilterLogEventsReader, Transient
from tui.core.errors import UserError, one_line
from tui.core.events import LogEvent, SourceStatus
from tui.core.recent import RecentKeys


class Sweep:
    """`await final()` (the run's last pass) and `await loop()` (the passes behind the stream).
    `fresh(event, counter)` says whether an event is new (else counts it under `counter`);
    `put(events)` hands new ones to the source's consumer."""

    def __init__(
        self,
        logs: Any,
        log_groups: Sequence[str],
        status: SourceStatus,
        keys: RecentKeys,
        since_ms: int,
        *,
        fresh: Callable[[LogEvent, str], bool],
        put: Callable[[list[LogEvent]], Awaitable[None]],
        every_s: float,
        delay_ms: int,
        margin_ms: int,
        budget_per_s: float,
        backoff: tuple[float, float],
        clock: Callable[[], float],
    ) -> None:
        # One FilterLogEvents budget for all groups: the account's 5 TPS does not grow with them.
        budget = budget_per_s / max(1, len(log_groups))
        self._readers = [FilterLogEventsReader(logs, g, status, budget_per_s=budget) for g in log_groups]
        self.status, self._keys, self.since_ms = status, keys, since_ms
        self._fresh, self._put = fresh, put
        self.every_s, self._delay_ms, self._margin_ms = every_s, delay_ms, margin_ms
        self._backoff, self._clock = backoff, clock
        self._from = since_ms
        self._deferred_from: int | None = None  # the oldest event a pass left to the stream

    async def final(self) -> list[LogEvent] | None:
        """One pass over every group since the start: the events no shard delivered. None when
        the de-dup memory no longer reaches the start (then old and new cannot be told apart,
        and nothing is swept)."""
        if self._keys.horizon is not None and self._keys.horizon > self.since_ms:
            return None
        out: list[LogEvent] = []
        for reader in self._readers:
            async for page in reader.pages({"startTime": self.since_ms}):
                out.extend(e for e in page if self._fresh(e, "sweep_overlap"))
        self.status.extra["swept"] += len(out)
        self.status.events += len(out)
        return out

    async def loop(self) -> None:
        backoff = Backoff(*self._backoff)
        extra = self.status.extra
        while True:
            await asyncio.sleep(self.every_s)
            end = int(self._clock() * 1000) - self._delay_ms
            start = max(self.since_ms, self._from - self._margin_ms)
            if self._deferred_from is not None:
                start = min(start, self._deferred_from)
            if self._keys.horizon is not None and start < self._keys.horizon:
                start = self._keys.horizon  # below it a repeat could not be recognised
            if end <= start:
                continue
            try:
                deferred = await self._pass(start, end)
            except Transient as exc:
                self.status.error = f"sweep: {one_line(exc)}"
                await asyncio.sleep(backoff.next())
                continue
            except UserError as exc:
                # The stream is the channel; the sweep only double-checks it. Without
                # logs:FilterLogEvents it stops, and says so.
                extra["sweep_error"] = one_line(exc)
                return
            backoff.reset()
            extra["sweep_passes"] += 1
            extra["sweep_deferred"] += 0 if deferred is None else 1
            self._from, self._deferred_from = end, deferred

    async def _pass(self, start: int, end: int) -> int | None:
        """Sweep [start, end] (event time); the oldest event left to the stream, if any."""
        deferred: int | None = None
        for reader in self._readers:
            async for page in reader.pages({"startTime": start, "endTime": end}):
                late = []
                for e in page:
                    # The window is in event time, but an event may be stored seconds after its
                    # timestamp (the local shipper at 1,000 streams: 3-11 s): one stored less
                    # than the delay ago is the stream's to deliver yet. Taken here, it counted
                    # as "swept", and the stream's copy a moment later as a duplicate (402 of 412
                    # swept in a loaded 1,000-environment run). It is left for the next pass,
                    # whose window reaches back to it.
                    if e.ingestion_time is not None and e.ingestion_time > end:
                        deferred = e.timestamp if deferred is None else min(deferred, e.timestamp)
                    elif self._fresh(e, "sweep_overlap"):
                        late.append(e)
                self.status.extra["swept"] += len(late)
                await self._put(late)
        return deferred

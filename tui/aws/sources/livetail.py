"""Live Tail as a log source: AWS's push stream, made complete with FilterLogEvents.

Live Tail alone is not complete (AWS-FACTS §1.1): a session ends after 3 hours, a connection can
break, and above 500 events/s an update holds only a sample. So this source keeps one session
open at a time, reconnects (at once after the 3-hour SessionTimeoutException, with backoff after
errors), and backfills every window where the live stream may have missed something (the time
between sessions, and any sampled update) with FilterLogEvents over [gap start - margin, now].
Live and backfilled events pass through one de-dup memory keyed by (stream, timestamp, message),
so nothing is yielded twice. Events stamped identically in the same stream with the same text are
indistinguishable to Live Tail and collapse into one.

A frame's size is bounded by botocore, which refuses at its prelude any frame announcing more
than 24 MiB of payload (or 128 KiB of headers) before reading it; the session is then
reconnected and the gap backfilled, like any broken connection.

One session can tail several groups (StartLiveTail takes up to 10 `logGroupIdentifiers`): the
function's, and a Managed Instances capacity provider's system log beside it. Every group after
the first is an extra: its backfill failures (a group that does not exist, a permission the
operator role lacks) are noted in `status.extra["groups"]` and never hold the function's gap
open; and a group in `history` is read once, from its own start up to `since`, since a system
log's instance records are older than the run (an instance launched days ago still serves it).

The client comes from `client_factory`: an async context manager yielding an aiobotocore
CloudWatch Logs client. Against a local endpoint it must be created with
`AioConfig(inject_host_prefix=False)`, or botocore dials `streaming-<host>`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from typing import Any

from botocore.eventstream import InvalidHeadersLength, InvalidPayloadLength
from botocore.exceptions import ClientError, EventStreamError

from tui.aws.sources.backoff import Backoff
from tui.aws.sources.failures import TRANSIENT, error_code, one_line_error, retryable
from tui.aws.sources.filterlogs import FilterLogEventsReader, Transient
from tui.aws.sources.pushed import PushedSource, Stop
from tui.core.errors import UserError, one_line
from tui.core.events import LogEvent, SourceStatus
from tui.core.recent import RecentKeys

log = logging.getLogger(__name__)

ClientFactory = Callable[[], AsyncContextManager[Any]]

_ARN = re.compile(r"^arn:[\w-]+:logs:[\w-]*:\d*:log-group:(?P<name>[^*]+?)(?::\*)?$")


class LiveTailSource(PushedSource):
    """A `LogSource` over StartLiveTail for one log group, reconnecting and backfilling.

    status.extra counts: sessions (started), reconnects, sampled_updates, backfilled (events that
    only FilterLogEvents delivered), duplicates (events dropped as already seen), backfill_passes,
    backfill_clamped (passes cut short by the de-dup horizon: possible loss).
    """

    def __init__(
        self,
        client_factory: ClientFactory,
        log_group_arn: str | Sequence[str],
        *,
        history: dict[str, int] | None = None,
        stream_prefixes: Sequence[str] | None = None,
        filter_pattern: str = "",
        name: str = "live tail",
        since_ms: int | None = None,
        backfill_margin_ms: int = 10_000,
        backfill_interval_s: float = 5.0,
        backfill_budget_per_s: float = 2.0,
        dedup_window_ms: int | None = None,
        dedup_max_keys: int = 100_000,  # ~10 MB; Live Tail tops out near 500 events/s anyway
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        stall_timeout_s: float = 30.0,
        sampled_hold_s: float = 5.0,
        max_queued_batches: int = 64,
        clock: Callable[[], float] = time.time,
    ) -> None:
        arns = [log_group_arn] if isinstance(log_group_arn, str) else list(log_group_arn)
        names = []
        for arn in arns:
            match = _ARN.match(arn)
            if not match:
                raise ValueError(
                    f"Live Tail needs a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME), got {arn!r}"
                )
            names.append(match["name"])
        # The `:*` form from DescribeLogGroups' legacy `arn` is refused by StartLiveTail.
        self.log_group_arns = [arn.removesuffix(":*") for arn in arns]
        self.log_group_arn = self.log_group_arns[0]
        self.log_group_names = names
        self.log_group_name = names[0]
        # extra group's name -> epoch ms its history is read from (once, up to `since`)
        self._history = dict(history or {})
        self.stream_prefixes = tuple(stream_prefixes) if stream_prefixes else None
        self.filter_pattern = filter_pattern
        self.status = SourceStatus(
            name=name,
            extra={
                "sessions": 0,
                "reconnects": 0,
                "sampled_updates": 0,
                "backfilled": 0,
                "duplicates": 0,
                "backfill_passes": 0,
                "backfill_clamped": 0,
                **({"groups": {n: {"events": 0, "error": None} for n in names[1:]}} if len(names) > 1 else {}),
            },
        )
        self._factory = client_factory
        self._since_ms = since_ms
        self._margin_ms = backfill_margin_ms
        self._backfill_interval = backfill_interval_s
        self._backfill_budget = backfill_budget_per_s
        # The window must reach below any backfill start (gap - margin) with room for lag.
        window = dedup_window_ms if dedup_window_ms is not None else 2 * backfill_margin_ms + 60_000
        self._keys = RecentKeys(window, dedup_max_keys)
        self._backoff_initial = backoff_initial_s
        self._backoff_max = backoff_max_s
        self._stall_timeout = stall_timeout_s
        self._sampled_hold_ms = sampled_hold_s * 1000
        self._clock = clock
        super().__init__(max_queued_batches)
        # Completeness bookkeeping, in local wall-clock ms.
        self._gap_from: int | None = None  # events ingested since then may be missing
        self._gap_event = asyncio.Event()  # a backfill pass is wanted
        self._complete_since: int | None = None  # the live session has missed nothing since
        self._last_update_at = 0  # when the last update (or sessionStart) arrived
        self._last_sampled_at: int | None = None
        self._session_updates = 0  # updates in the current session
        self._started = asyncio.Event()  # a session has started at least once

    # --- the LogSource protocol ---------------------------------------------------------------

    def _before_reading(self) -> None:
        floor = self._since_ms if self._since_ms is not None else self._now()
        self._since_ms = floor
        # Everything stamped from `since` on is promised: the first session backfills it.
        self._open_gap(floor)

    def _task_name(self) -> str:
        return f"livetail-{self.log_group_name}"

    # --- supervision -------------------------------------------------------------------------

    async def _read(self) -> None:
        error: BaseException | None = None
        try:
            async with self._factory() as client:
                tail = asyncio.create_task(self._tail_loop(client))
                fill = asyncio.create_task(self._backfill_loop(client))
                try:
                    done, _ = await asyncio.wait({tail, fill}, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()  # both loops run forever: this re-raises what ended one
                finally:
                    for task in (tail, fill):
                        task.cancel()
                    await asyncio.gather(tail, fill, return_exceptions=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # handed to the consumer, which re-raises it from batches()
            error = exc
            self.status.error = one_line_error(exc)
            log.error("live tail of %s stopped: %s", self.log_group_name, self.status.error)
        await self._queue.put(Stop(error))

    # --- the live stream ---------------------------------------------------------------------

    async def _tail_loop(self, client: Any) -> None:
        backoff = Backoff(self._backoff_initial, self._backoff_max)
        while True:
            self._session_updates = 0
            timed_out = False
            try:
                await self._one_session(client)
                reason = "Live Tail stream ended without an error"
            except EventStreamError as exc:
                reason = one_line_error(exc)
                timed_out = error_code(exc) == "SessionTimeoutException"
            except ClientError as exc:
                if not retryable(exc):
                    raise
                reason = one_line_error(exc)
            except (InvalidPayloadLength, InvalidHeadersLength) as exc:
                # botocore refuses a frame at its prelude, before reading it: memory stays bounded.
                reason = f"a Live Tail frame over botocore's cap ({exc}); dropped, reconnecting"
            except TRANSIENT as exc:
                reason = (
                    one_line_error(exc)
                    if str(exc)
                    else f"{type(exc).__name__} (no update for {self._stall_timeout:g} s?)"
                )
            self._on_disconnect()
            self.status.extra["reconnects"] += 1
            if self._session_updates:
                backoff.reset()  # that session worked: back off afresh
            if timed_out:
                delay = 0.0  # the normal 3-hour end: reconnect at once
            else:
                self.status.error = reason
                delay = backoff.next()
            log.info("live tail of %s: %s; reconnecting in %.2f s", self.log_group_name, reason, delay)
            await asyncio.sleep(delay)

    async def _one_session(self, client: Any) -> None:
        params: dict[str, Any] = {"logGroupIdentifiers": list(self.log_group_arns)}
        # AWS takes stream prefixes with one group only.
        if self.stream_prefixes and len(self.log_group_arns) == 1:
            params["logStreamNamePrefixes"] = list(self.stream_prefixes)
        if self.filter_pattern:
            params["logEventFilterPattern"] = self.filter_pattern
        self.status.requests += 1
        response = await client.start_live_tail(**params)
        stream = response["responseStream"]
        try:
            events = stream.__aiter__()
            while True:
                try:
                    # AWS sends an update every second: a long silence is a dead connection.
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
                    # comes as the wait ends, and close() would then wait for ever.
                    async with asyncio.timeout(self._stall_timeout):
                        event = await events.__anext__()
                except StopAsyncIteration:
                    return
                if "sessionStart" in event:
                    self._on_session_start()
                elif "sessionUpdate" in event:
                    await self._on_update(event["sessionUpdate"])
        finally:
            stream.close()

    def _on_session_start(self) -> None:
        now = self._now()
        self.status.extra["sessions"] += 1
        self.status.error = None
        self._started.set()
        self._last_update_at = now
        self._complete_since = now
        if self._gap_from is not None:
            self._gap_event.set()  # live again: one pass closes the gap

    async def _on_update(self, update: dict[str, Any]) -> None:
        now = self._now()
        interval_start, self._last_update_at = self._last_update_at, now
        self._session_updates += 1
        if update.get("sessionMetadata", {}).get("sampled"):
            # This update holds a sample of what arrived since the previous one.
            self.status.extra["sampled_updates"] += 1
            self._last_sampled_at = now
            self._complete_since = None
            self._open_gap(interval_start)
        elif self._complete_since is None:
            self._complete_since = interval_start
            if self._gap_from is not None:
                self._gap_event.set()
        # Shown for a while: a flag that flips every second cannot be read on a screen.
        self.status.sampled = self._last_sampled_at is not None and now - self._last_sampled_at < self._sampled_hold_ms
        events = [
            LogEvent(
                stream=r["logStreamName"],
                timestamp=r["timestamp"],
                message=r["message"],
                ingestion_time=r.get("ingestionTime"),
            )
            for r in update.get("sessionResults", [])
        ]
        await self._emit([e for e in events if self._keys.add(e.stream, e.timestamp, e.message)], len(events))

    def _on_disconnect(self) -> None:
        if self._complete_since is not None:
            self._open_gap(self._last_update_at)  # complete up to the last update, not beyond
        self._complete_since = None

    # --- backfill ----------------------------------------------------------------------------

    def _open_gap(self, since_ms: int) -> None:
        if self._gap_from is None or since_ms < self._gap_from:
            self._gap_from = since_ms
        self.status.behind = True
        self._gap_event.set()

    async def _backfill_loop(self, client: Any) -> None:
        # The same reader as polling: paging, a request budget, one classification of failures.
        # One budget for all groups: the account's 5 TPS does not grow with them.
        budget = self._backfill_budget / len(self.log_group_names)
        readers = [FilterLogEventsReader(client, n, self.status, budget_per_s=budget) for n in self.log_group_names]
        loop = asyncio.get_running_loop()
        last_pass = -float("inf")
        backoff = Backoff(self._backoff_initial, self._backoff_max)
        try:
            # The first pass (from `since`) waits for the first session, so that it can close the
            # gap at once; but not for long, since the live stream may stay down.
            async with asyncio.timeout(self._backfill_interval):
                await self._started.wait()
        except TimeoutError:
            log.debug("no Live Tail session yet for %s: backfilling anyway", self.log_group_name)
        for reader in readers[1:]:
            if reader.log_group in self._history:
                await self._read_history(reader, self._history[reader.log_group])
        while True:
            await self._gap_event.wait()
            # At most one pass per interval: FilterLogEvents has 5 TPS per account (AWS-FACTS §1.2).
            await asyncio.sleep(max(0.0, last_pass + self._backfill_interval - loop.time()))
            self._gap_event.clear()
            gap_from = self._gap_from
            if gap_from is None:
                continue
            last_pass = loop.time()
            pass_time = self._now()
            try:
                await self._backfill(readers[0], gap_from, pass_time)
            except Transient as exc:  # credentials and permissions (UserError) end the source
                await self._backfill_failed(exc, backoff.next())
                continue
            for reader in readers[1:]:
                await self._extra_backfill(reader, gap_from, pass_time)
            backoff.reset()
            # The pass saw everything stored before pass_time. If the live stream has been
            # complete since before then, nothing can be missing any more.
            if self._complete_since is not None and self._complete_since <= pass_time:
                self._gap_from = None
                self.status.behind = False
            else:
                self._gap_from = pass_time
                self._gap_event.set()

    async def _extra_backfill(self, reader: FilterLogEventsReader, gap_from: int, pass_time: int) -> None:
        """An extra group's pass over the same gap: a failure is noted, never raised."""
        note = self.status.extra["groups"][reader.log_group]
        try:
            await self._backfill(reader, gap_from, pass_time, note)
            note["error"] = None
        except (Transient, UserError) as exc:
            note["error"] = one_line(str(exc))  # our own message: its class name says nothing more

    async def _read_history(self, reader: FilterLogEventsReader, start: int) -> None:
        """An extra group's events before `since`, once (below the de-dup horizon, and so kept
        apart from it: the live stream and the backfill start at `since`)."""
        note = self.status.extra["groups"][reader.log_group]
        since = self._since_ms if self._since_ms is not None else self._now()
        if start >= since:
            return
        try:
            async for page in reader.pages({"startTime": start, "endTime": since - 1}):
                note["events"] += len(page)
                await self._emit(page, len(page))
        except (Transient, UserError) as exc:
            note["error"] = one_line(str(exc))  # our own message: its class name says nothing more

    async def _backfill_failed(self, exc: Transient, delay: float) -> None:
        self.status.error = one_line(exc)
        log.warning("backfill of %s failed: %s", self.log_group_name, self.status.error)
        self._gap_event.set()
        await asyncio.sleep(delay)

    async def _backfill(
        self, reader: FilterLogEventsReader, gap_from: int, pass_time: int, note: dict | None = None
    ) -> None:
        # The margin covers ingestion lag and clock skew: an event stored after the gap opened
        # can carry a timestamp from a little before it.
        start = gap_from - self._margin_ms
        if self._since_ms is not None:
            start = max(start, self._since_ms)
        if self._keys.horizon is not None and start < self._keys.horizon:
            # Below the horizon repeats could not be recognised: stop there and say so.
            start = self._keys.horizon
            self.status.extra["backfill_clamped"] += 1
        params: dict[str, Any] = {
            "startTime": start,
            # Bounded, so paging ends even while writes continue; later passes cover the rest.
            "endTime": pass_time + self._margin_ms,
        }
        if self.filter_pattern:
            params["filterPattern"] = self.filter_pattern
        if self.stream_prefixes and len(self.stream_prefixes) == 1:
            params["logStreamNamePrefix"] = self.stream_prefixes[0]
        self.status.extra["backfill_passes"] += 1
        async for page in reader.pages(params):
            # Prefixes are checked here too: FilterLogEvents takes one, and moto ignores it.
            events = [e for e in page if not self.stream_prefixes or e.stream.startswith(self.stream_prefixes)]
            fresh = [
                e
                for e in events
                if not self._keys.too_old(e.timestamp) and self._keys.add(e.stream, e.timestamp, e.message)
            ]
            self.status.extra["backfilled"] += len(fresh)
            if note is not None:
                note["events"] += len(fresh)
            await self._emit(fresh, len(events))

    # --- output ------------------------------------------------------------------------------

    async def _emit(self, fresh: list[LogEvent], offered: int) -> None:
        self.status.extra["duplicates"] += offered - len(fresh)
        if not fresh:
            return
        if self._keys.newest is not None:
            # Measured when events arrive: an idle group is not a lagging source.
            self.status.lag_ms = self._now() - self._keys.newest
        self.status.events += len(fresh)
        # A full queue blocks here, and so the stream read: the server then buffers and drops
        # (AWS keeps 10 updates), which shows as a gap only FilterLogEvents could close.
        await self._queue.put(fresh)

    def _now(self) -> int:
        return int(self._clock() * 1000)

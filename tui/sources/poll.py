"""Polling FilterLogEvents: the log source that works everywhere (moto, AWS, any account).

Why a look-back window instead of a plain watermark: CloudWatch stores events seconds after
their timestamp (AWS-FACTS.md §1.5), so an event stamped before the newest one seen can still
appear later. Each poll asks from `newest - lookback`, the look-back grows with the ingestion
delay actually observed, and event ids already yielded are dropped (aws-cli `logs tail` does the
same at its boundary). Ids older than the window are forgotten, so memory stays flat.

FilterLogEvents allows 5 requests a second per account and Region, shared with every other
tool: a token bucket keeps this source under its own budget (default 2/s), pages included.

Failures: this source owns its retries (its client is made with botocore's max_attempts=2, so a
throttle or a dead endpoint reaches it in seconds, not after ten hidden retries). Throttling,
a missing group, 5xx, refused, reset or closed connections, timeouts and unparsable answers are
all transient: one exponential backoff (capped, jittered), the reason in the status line, and
`behind` once the source's view of the group is BEHIND_S old. Only credentials and permissions
are fatal. `status.lag_ms` is measured against the clock on every round: since the newest event
when events came, else since the last poll that succeeded, so it grows while events are missing.
"""

import asyncio
import random
import time
from typing import AsyncIterator, Callable

from botocore.exceptions import ClientError

from tui.errors import UserError, one_line
from tui.sources.base import LogEvent, SourceStatus
from tui.sources.failures import TRANSIENT, error_code

BEHIND_S = 10.0  # the source's view of the group this old: it is falling behind
BACKOFF_MAX_S = 10.0
_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException", "LimitExceededException",
                        "RequestLimitExceeded"})
_BAD_CREDENTIALS = frozenset({"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
                              "InvalidClientTokenId", "SignatureDoesNotMatch", "IncompleteSignature",
                              "ExpiredToken"})


class TokenBucket:
    """At most `rate` acquisitions a second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float, now: Callable[[], float], sleep):
        self.rate, self.burst = rate, burst
        self._tokens = burst
        self._now, self._sleep = now, sleep
        self._t = now()

    async def acquire(self) -> None:
        while True:
            t = self._now()
            self._tokens = min(self.burst, self._tokens + (t - self._t) * self.rate)
            self._t = t
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await self._sleep((1 - self._tokens) / self.rate)


class PollSource:
    """Yield new events of one log group, every `interval` seconds, each event once."""

    def __init__(self, client, log_group: str, start_ms: int, *, interval: float = 1.0,
                 budget_per_s: float = 2.0, min_lookback_ms: int = 2_000, max_lookback_ms: int = 120_000,
                 now: Callable[[], float] = time.time, sleep=asyncio.sleep):
        self.client = client
        self.log_group = log_group
        self.interval = interval
        self.status = SourceStatus(name="poll")
        self._start_ms = start_ms
        self._newest_ms = start_ms
        self._lookback_ms = min_lookback_ms
        self._min_lookback, self._max_lookback = min_lookback_ms, max_lookback_ms
        self._seen: dict[str, int] = {}  # event id → timestamp, pruned to the window
        self._now, self._sleep = now, sleep
        self._bucket = TokenBucket(budget_per_s, max(1.0, budget_per_s), now, sleep)
        self._closed = False
        self._failures = 0
        self._ok_at: float | None = None  # when the last poll that succeeded started

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
            except _Transient as exc:
                self._failures += 1
                self.status.error = one_line(exc)
                batch = []
            self._measure_lag(bool(batch))
            if batch:
                yield batch
            if self._closed:
                return
            if self._failures:
                await self._sleep(self.backoff_s(self._failures))
                self._measure_lag(False)
            else:
                await self._sleep(max(0.0, self.interval - (self._now() - started)))

    def backoff_s(self, failures: int) -> float:
        """The one backoff: doubling from the poll interval, capped, with jitter so several
        readers of one account do not retry in step."""
        return min(BACKOFF_MAX_S, self.interval * 2 ** min(failures, 6)) * random.uniform(0.5, 1.0)

    def _measure_lag(self, got_events: bool) -> None:
        now_ms = self._now() * 1000
        if got_events:
            lag = max(0.0, now_ms - self._newest_ms)
        else:
            lag = max(0.0, now_ms - (self._ok_at or self._now()) * 1000)
        self.status.lag_ms = lag
        self.status.behind = lag >= BEHIND_S * 1000 or self._failures > 2

    async def poll_once(self) -> list[LogEvent]:
        """One sweep of the window, all pages; returns the events not yielded before."""
        start = max(self._start_ms, self._newest_ms - self._lookback_ms)
        kwargs = {"logGroupName": self.log_group, "startTime": start}
        out: list[LogEvent] = []
        max_delay = 0
        while True:
            await self._bucket.acquire()
            resp = await self._call(kwargs)
            for e in resp.get("events", ()):
                eid = e.get("eventId")
                ts = e.get("timestamp", 0)
                if eid is not None:
                    if eid in self._seen:
                        continue
                    self._seen[eid] = ts
                ingested = e.get("ingestionTime")
                if ingested is not None and ingested - ts > max_delay:
                    max_delay = ingested - ts
                out.append(LogEvent(e.get("logStreamName", ""), ts, e.get("message", ""), eid, ingested))
            token = resp.get("nextToken")
            # Pages may be empty while a token still comes back: keep paging until none.
            if not token:
                break
            kwargs["nextToken"] = token
        if out:
            newest = max(e.timestamp for e in out)
            self._newest_ms = max(self._newest_ms, newest)
            self.status.events += len(out)
        # Look back twice the longest ingestion delay seen, within bounds.
        self._lookback_ms = max(self._min_lookback, min(self._max_lookback, max(self._lookback_ms, 2 * max_delay)))
        self._prune(start)
        return out

    def _prune(self, start: int) -> None:
        if len(self._seen) < 4096:
            return
        floor = start - self._lookback_ms
        self._seen = {k: v for k, v in self._seen.items() if v >= floor}

    async def _call(self, kwargs: dict) -> dict:
        self.status.requests += 1
        try:
            resp = await self.client.filter_log_events(**kwargs)
        except ClientError as exc:
            code = error_code(exc)
            if code == "ResourceNotFoundException":
                # Lambda creates the group on the first invocation's log write: wait for it.
                raise LogGroupMissing(f"log group {self.log_group} not found yet") from None
            if code in _THROTTLED:
                raise _Transient(f"FilterLogEvents throttled ({code}); slowing down") from None
            if "AccessDenied" in code or code == "UnauthorizedOperation":
                raise UserError("not allowed to read the function's logs: grant logs:FilterLogEvents "
                                f"on {self.log_group}") from None
            if code in _BAD_CREDENTIALS:
                raise UserError(f"AWS rejected the credentials ({code}): refresh them (aws sso login / "
                                "aws configure) and retry") from None
            raise _Transient(f"FilterLogEvents failed: {code or 'HTTP error'}; retrying") from None
        except TRANSIENT as exc:
            # Refused, reset, closed mid-answer, timed out, garbled: the connection, not the
            # request, went wrong. Retried like any other transient failure.
            raise Unreachable(f"logs endpoint: {one_line(exc, limit=160)}; retrying") from None
        if not isinstance(resp, dict) or not isinstance(resp.get("events", []), list):
            raise _Transient("FilterLogEvents gave an answer that is not a page of events; retrying")
        return resp


class _Transient(Exception):
    """A failure worth retrying: shown in the status line, never fatal."""


class LogGroupMissing(_Transient):
    """The group does not exist (yet: Lambda creates it on the first write)."""


class Unreachable(_Transient):
    """The connection failed (refused, reset, closed, timed out, garbled), not the request."""

"""The one FilterLogEvents reader: paging, the request budget, and what a failure means.

Both readers of FilterLogEvents use it: the polling source (`poll.py`) and the Live Tail
source's backfill (`livetail.py`); `analyze --log-group` reads through the polling source. What
they do with the events (eventId de-dup in polling; (stream, timestamp, message) de-dup in Live
Tail, whose live events carry no eventId) stays theirs.

FilterLogEvents allows 5 requests a second per account and Region, shared with every other
tool: a token bucket keeps each reader under its own budget, pages included.

A failure is one of:
- `LogGroupMissing` (transient: Lambda creates the group on its first write);
- `Transient`: throttling (the text says "throttled"), 5xx, an unknown API error, or the
  connection (refused, reset, closed mid-answer, timed out, garbled; `Unreachable`): retried by
  the caller with its backoff;
- `UserError`: credentials or permissions, which no retry fixes.
Clients for these readers are made with botocore's max_attempts=2: the reader owns the retries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from botocore.exceptions import ClientError

from tui.aws.sources.failures import TRANSIENT, error_code
from tui.core.errors import UserError, one_line
from tui.core.events import LogEvent, SourceStatus

_THROTTLED = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "LimitExceededException", "RequestLimitExceeded"}
)
_BAD_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "ExpiredToken",
    }
)


class Transient(Exception):
    """A failure worth retrying: shown in the status line, never fatal."""


class LogGroupMissing(Transient):
    """The group does not exist (yet: Lambda creates it on the first write)."""


class Unreachable(Transient):
    """The connection failed (refused, reset, closed, timed out, garbled), not the request."""


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


class FilterLogEventsReader:
    """Pages of one group's events for a window, within a request budget; failures classified."""

    def __init__(
        self,
        client: Any,
        log_group: str,
        status: SourceStatus,
        *,
        budget_per_s: float = 2.0,
        now: Callable[[], float] = time.time,
        sleep=asyncio.sleep,
    ):
        self.client = client
        self.log_group = log_group
        self.status = status
        self._bucket = TokenBucket(budget_per_s, max(1.0, budget_per_s), now, sleep)

    async def pages(self, params: dict) -> AsyncIterator[list[LogEvent]]:
        """Every page of FilterLogEvents(**params) as LogEvents, following nextToken to the end
        (pages may be empty while a token still comes back)."""
        kwargs = {"logGroupName": self.log_group, **params}
        while True:
            await self._bucket.acquire()
            resp = await self._call(kwargs)
            yield [_event(e) for e in resp.get("events", ()) if isinstance(e, dict)]
            token = resp.get("nextToken")
            if not token:
                return
            kwargs["nextToken"] = token

    async def _call(self, kwargs: dict) -> dict:
        self.status.requests += 1
        try:
            resp = await self.client.filter_log_events(**kwargs)
        except ClientError as exc:
            raise self.explain(exc) from None
        except TRANSIENT as exc:
            raise Unreachable(f"logs endpoint: {one_line(exc, limit=160)}; retrying") from None
        if not isinstance(resp, dict) or not isinstance(resp.get("events", []), list):
            raise Transient("FilterLogEvents gave an answer that is not a page of events; retrying")
        return resp

    def explain(self, exc: ClientError) -> Exception:
        code = error_code(exc)
        if code == "ResourceNotFoundException":
            return LogGroupMissing(f"log group {self.log_group} not found yet")
        if code in _THROTTLED:
            return Transient(f"FilterLogEvents throttled ({code}); slowing down")
        if "AccessDenied" in code or code == "UnauthorizedOperation":
            return UserError(f"not allowed to read the function's logs: grant logs:FilterLogEvents on {self.log_group}")
        if code in _BAD_CREDENTIALS:
            return UserError(
                f"AWS rejected the credentials ({code}): refresh them (aws sso login / aws configure) and retry"
            )
        return Transient(f"FilterLogEvents failed: {code or 'HTTP error'}; retrying")


def _event(e: dict) -> LogEvent:
    return LogEvent(
        str(e.get("logStreamName", "")),
        e.get("timestamp") or 0,
        e.get("message", "") or "",
        e.get("eventId"),
        e.get("ingestionTime"),
    )

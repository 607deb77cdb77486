"""Running statistics over outcome batches: achieved rate, latency percentiles, error counts.

The one place the response channel's figures are computed (in the load process). Fed one batch
at a time (never per request from the hot path); `snapshot()` is what a screen shows and what
the load process sends its parent, echoing the plan the runner runs. Percentiles come from HdrHistogram, where a
query costs ~0.35 ms: each histogram is queried at most once per snapshot, for both percentiles.
Latency percentiles cover the recent window (the live view must follow the load as it changes);
totals cover the whole run.
"""

import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypedDict, Unpack

from hdrh.histogram import HdrHistogram

from loadgen.outcome import ERRORS, Outcome
from loadgen.plan import Plan

_HIGHEST_US = 3_600_000_000  # one hour in microseconds: no request outlives Lambda's 15 minutes
_BUCKET_S = 0.1


@dataclass(slots=True)
class StatsSnapshot:
    """One reading of the generator. Rates are per second; times in milliseconds."""

    at: float = 0.0  # epoch seconds
    completed: int = 0  # outcomes seen, errors included
    ok: int = 0
    achieved_rps: float = 0.0  # completions per second over the recent window
    ok_rps: float = 0.0
    p50_ms: float | None = None  # latency of successful requests, recent window
    p99_ms: float | None = None
    late_p99_ms: float | None = None  # scheduled-to-sent wait, recent window
    errors: dict[str, int] = field(default_factory=dict)  # error class -> count, whole run
    cold: int = 0
    containers: int = 0
    # Filled in by the runner, which alone knows them.
    in_flight: int = 0
    held_back: int = 0
    sent: int = 0
    plan: Plan | None = None  # what the generator runs (mode, level, paused, limits)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, for recordings (the pipe carries the object itself)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "StatsSnapshot":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in values.items() if k in known}
        if isinstance(values.get("plan"), dict):
            values["plan"] = Plan.from_dict(values["plan"])
        return cls(**values)


class RunnerFields(TypedDict, total=False):
    """The StatsSnapshot fields only the runner knows (`Stats.snapshot(**runner_fields)`)."""

    in_flight: int
    held_back: int
    sent: int
    plan: Plan | None


class Stats:
    """Accumulates outcomes. `window` seconds of per-100 ms buckets give the achieved rate."""

    def __init__(self, window: float = 5.0, max_containers: int = 100_000) -> None:
        self.window = window
        self._buckets: deque[list[int]] = deque(maxlen=int(math.ceil(window / _BUCKET_S)) + 2)  # [index, n, ok]
        self._recent = _Rotating(window)
        self._late = _Rotating(window)
        self.completed = 0
        self.ok = 0
        self.cold = 0
        self.errors = dict.fromkeys(ERRORS, 0)
        # Distinct containers, bounded: past the bound the count stops growing (and says so
        # through `containers_capped`) rather than memory.
        self._containers: set[str] = set()
        self._max_containers = max_containers
        self.containers_capped = False
        self._first_done: float | None = None
        self._last_done: float | None = None

    def add(self, outcomes: list[Outcome]) -> None:
        buckets = self._buckets
        for o in outcomes:
            self.completed += 1
            done_at = o.sent_at + (o.latency_ms or 0.0) / 1000.0
            if self._last_done is None or done_at > self._last_done:
                self._last_done = done_at
            if self._first_done is None or done_at < self._first_done:
                self._first_done = done_at
            index = int(done_at / _BUCKET_S)
            ok = o.error is None
            bucket = _bucket_for(buckets, index)
            if bucket is not None:
                bucket[1] += 1
                bucket[2] += ok
            self._late.record((o.sent_at - o.scheduled_at) * 1000.0, o.sent_at)
            if not ok:
                self.errors[o.error] = self.errors.get(o.error, 0) + 1  # type: ignore[index, arg-type]  # not ok: set
                continue
            self.ok += 1
            self._recent.record(o.latency_ms, o.sent_at)  # type: ignore[arg-type]  # a success has its latency
            if o.cold:
                self.cold += 1
            if o.container_id is not None and o.container_id not in self._containers:
                if len(self._containers) < self._max_containers:
                    self._containers.add(o.container_id)
                else:
                    self.containers_capped = True

    def snapshot(self, now: float | None = None, **runner_fields: Unpack[RunnerFields]) -> StatsSnapshot:
        """Read everything once. `now` is epoch seconds (injected in tests)."""
        now = time.time() if now is None else now
        rps, ok_rps = self._rates(now)
        p50, p99 = self._recent.percentiles(now, (50, 99))
        _, late99 = self._late.percentiles(now, (50, 99))
        return StatsSnapshot(
            at=now,
            completed=self.completed,
            ok=self.ok,
            achieved_rps=rps,
            ok_rps=ok_rps,
            p50_ms=p50,
            p99_ms=p99,
            late_p99_ms=late99,
            errors={k: v for k, v in self.errors.items() if v},
            cold=self.cold,
            containers=len(self._containers),
            **runner_fields,
        )

    def _rates(self, now: float) -> tuple[float, float]:
        if self._last_done is None or self._first_done is None:  # (set together)
            return 0.0, 0.0
        # Outcomes arrive a batch interval after they complete: end the window at the latest
        # completion seen unless that is stale (load stopped), so the rate neither dips at
        # every batch boundary nor freezes when the load ends.
        end = max(self._last_done, now - 1.0)
        start = end - self.window
        first, last = int(start / _BUCKET_S), int(end / _BUCKET_S)
        n = ok = 0
        for index, count, count_ok in self._buckets:
            if first < index <= last:
                n += count
                ok += count_ok
        # In the first seconds the window is not full yet: divide by what it covers (at least
        # half a second, so the first few completions do not read as a huge rate).
        span = max(min(self.window, end - self._first_done), 0.5)
        return n / span, ok / span


def _bucket_for(buckets: deque[list[int]], index: int) -> list[int] | None:
    """The [index, n, ok] bucket for `index`, appending one if it is the newest."""
    if buckets and buckets[-1][0] == index:
        return buckets[-1]
    if not buckets or index > buckets[-1][0]:
        buckets.append([index, 0, 0])
        return buckets[-1]
    for bucket in reversed(buckets):  # a straggler: batches are nearly ordered, so short
        if bucket[0] == index:
            return bucket
        if bucket[0] < index:
            break
    return None  # older than the window, or between buckets: too old to matter for a rate


class _Rotating:
    """Two HdrHistograms swapped every `window` seconds: the recent past, with no per-request
    bookkeeping. A reading uses the current one once it has enough samples, else the previous."""

    def __init__(self, window: float, min_samples: int = 100) -> None:
        self.window = window
        self.min_samples = min_samples
        self._current = HdrHistogram(1, _HIGHEST_US, 3)
        self._previous = HdrHistogram(1, _HIGHEST_US, 3)
        self._started: float | None = None

    def record(self, value_ms: float, at: float) -> None:
        if self._started is None:
            self._started = at
        elif at - self._started >= self.window:
            self._rotate(at)
        us = int(value_ms * 1000.0)
        self._current.record_value(min(max(us, 1), _HIGHEST_US))

    def _rotate(self, at: float) -> None:
        self._previous, self._current = self._current, self._previous
        self._current.reset()
        self._started = at

    def percentiles(self, now: float, which: Sequence[int]) -> tuple[float | None, ...]:
        if self._started is not None and now - self._started >= 2 * self.window:
            # Nothing recorded for two windows: old numbers would look current.
            return tuple(None for _ in which)
        hist = self._current
        if hist.get_total_count() < self.min_samples and self._previous.get_total_count():
            hist = self._previous
        if not hist.get_total_count():
            return tuple(None for _ in which)
        values = hist.get_percentile_to_value_dict(list(which))
        return tuple(values[p] / 1000.0 for p in which)

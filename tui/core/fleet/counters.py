"""The fleet's run-wide tallies: the diff a reader takes, the counters, the latency samples.

Pure: no IO. One `Counters` per fleet is the one owner of every run-wide count (requests,
invocations, errors, malformed lines, ids forgotten); `Latency` keeps the response latencies
bounded; `Diff` is what a reader takes to update changed rows only.
"""

import random
from dataclasses import dataclass, field

LATENCY_SAMPLES = 10_000


@dataclass(slots=True)
class Diff:
    """What changed since the last `take_diff`: container ids, in first-seen order for `added`."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Counters:
    requests: int = 0  # responses received (any status)
    invocations: int = 0
    errors: int = 0  # failed requests (load generator) + function errors (logs)
    throttled: int = 0
    app_lines: int = 0
    malformed: int = 0  # log lines that looked like ours but could not be read
    malformed_responses: int = 0  # response bodies whose probe record could not be read
    logs_dropped: int = 0  # records Lambda says it dropped (platform.logsDropped): counts are short
    logs_dropped_bytes: int = 0
    unknown_stream_lines: int = 0
    system_records: int = 0  # capacity-provider system log records read (Managed Instances)
    system_unknown: int = 0  # of them, events of a kind not known (kept, counted)
    system_malformed: int = 0  # system log records that could not be read (also in `malformed`)
    evicted_ids: int = 0  # request ids forgotten before both channels reported them
    log_lag_s: float | None = None  # last measured response → log confirmation lag
    log_lag_max_s: float = 0.0


class Samples:
    """A bounded, uniform reservoir of one measure (deterministic seed): every value up to
    `limit`, then each new one kept with chance limit/seen."""

    __slots__ = ("values", "seen", "limit", "_rng")

    def __init__(self, limit: int = LATENCY_SAMPLES):
        self.values: list[float] = []
        self.seen = 0
        self.limit = limit
        self._rng = random.Random(0)

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < self.limit:
            self.values.append(value)
        elif self._rng.random() * self.seen < self.limit:
            self.values[int(self._rng.random() * self.limit)] = value


class Latency:
    """Response latency split by the response's cold flag, bounded: every cold one up to
    `limit` (they are few), a uniform reservoir of `limit` warm ones (deterministic seed)."""

    __slots__ = ("cold_ms", "warm_ms", "warm_seen", "limit", "_rng")

    def __init__(self, limit: int = LATENCY_SAMPLES):
        self.cold_ms: list[float] = []
        self.warm_ms: list[float] = []
        self.warm_seen = 0
        self.limit = limit
        self._rng = random.Random(0)

    def add(self, ms: float, cold: bool) -> None:
        if cold:
            if len(self.cold_ms) < self.limit:
                self.cold_ms.append(ms)
            return
        self.warm_seen += 1
        if len(self.warm_ms) < self.limit:
            self.warm_ms.append(ms)
        elif self._rng.random() * self.warm_seen < self.limit:  # kept with chance limit/seen
            self.warm_ms[int(self._rng.random() * self.limit)] = ms

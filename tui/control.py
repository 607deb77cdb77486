"""What the monitor knows about the load and how its keys change it. Pure: no Textual, no IO.

`LoadState` is the level the user asked for (mode, level, paused) and the step arithmetic of the
`+`/`-` keys. `LoadStats` is what the response channel says the load achieved (rate, latency
percentiles, errors by class), refreshed once per screen tick. `LoadController` is the interface
the app drives: the load generator's own process, a replay, or a test fake.
"""

import math
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Protocol

CLOSED = "closed"
OPEN = "open"
MODES = (CLOSED, OPEN)
DEFAULT_LEVELS = {CLOSED: 10.0, OPEN: 100.0}
MAX_LEVEL = {CLOSED: 10_000.0, OPEN: 1_000_000.0}


class LoadController(Protocol):
    """The load generator as the app sees it. Methods may be plain or coroutine functions.

    `batches()` yields what the generator reports, each item either a list of outcomes or an
    object with `.outcomes` (a list) and `.stats` (a dict, see `LoadStats.absorb`).
    """

    def set_level(self, level: float) -> Any: ...
    def set_mode(self, mode: str, level: float) -> Any: ...
    def pause(self) -> Any: ...
    def resume(self) -> Any: ...
    def stop(self) -> Any: ...
    def batches(self) -> AsyncIterator[Any]: ...


def nice(x: float) -> float:
    """`x` rounded to two significant digits (110, 120, 1300), at least 1."""
    if x <= 1:
        return 1.0
    digits = 10 ** (math.floor(math.log10(x)) - 1)
    return float(round(x / digits) * digits)


@dataclass
class LoadState:
    """The load the user asked for. Levels are remembered per mode, so `m` twice is a no-op."""

    mode: str = CLOSED
    levels: dict = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    paused: bool = False
    controllable: bool = True  # False in a replay, or with no load at all

    @property
    def level(self) -> float:
        return self.levels[self.mode]

    def stepped(self, direction: int, large: bool = False) -> float:
        """The level one step up (+1) or down (-1) from now.

        Closed loop: one more or one fewer concurrent request; the large step doubles or halves.
        Open loop: about 10% (two significant digits); the large step doubles or halves.
        """
        level = self.level
        if large:
            new = level * 2 if direction > 0 else level / 2
            new = float(math.floor(new)) if self.mode == CLOSED else nice(new)
        elif self.mode == CLOSED:
            new = level + direction
        else:
            new = nice(level * (1.1 if direction > 0 else 1 / 1.1))
            if new == level:
                new = level + direction
        return max(1.0, min(MAX_LEVEL[self.mode], new))

    def describe(self) -> str:
        """'closed loop: 10 concurrent' or 'open loop: 250 req/s' (plus 'paused')."""
        if self.mode == CLOSED:
            text = f"closed loop: {self.level:g} concurrent"
        else:
            text = f"open loop: {self.level:g} req/s"
        return text + (" · PAUSED" if self.paused else "")

    def as_dict(self) -> dict:
        """The snapshot's `load` object (DESIGN.md: at least mode and level)."""
        return {"mode": self.mode, "level": self.level, "paused": self.paused,
                "unit": "concurrent requests" if self.mode == CLOSED else "requests/s"}


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[i]


class LoadStats:
    """Achieved load over a sliding window of the response channel, bounded in memory.

    The generator may report its own figures (`absorb`): in flight, held back by the open-loop
    cap, percentiles from its histogram. Those win over what the outcomes alone can tell.
    """

    def __init__(self, window_s: float = 3.0, max_latencies: int = 20_000):
        self.window_s = window_s
        self._done: deque = deque()  # (time, count) per outcome batch, pruned to the window
        self._latencies: deque = deque(maxlen=max_latencies)  # (time, ms)
        self.errors: Counter = Counter()  # error class -> count, whole run
        self.requests = 0
        self.reported: dict = {}  # the generator's own figures, latest

    def add_outcomes(self, outcomes, now: float) -> None:
        n = 0
        lat = self._latencies
        for o in outcomes:
            n += 1
            if o.error is not None:
                self.errors[o.error] += 1
            elif o.latency_ms is not None:
                lat.append((now, o.latency_ms))
        self.requests += n
        if n:
            self._done.append((now, n))

    def absorb(self, stats: dict | None) -> None:
        """Figures the generator computed itself (keys: rate, in_flight, held_back, p50_ms,
        p99_ms, errors{class: n}, sent, scheduled_late_ms ...)."""
        if stats:
            self.reported = dict(stats)

    def _prune(self, now: float) -> None:
        cutoff = now - self.window_s
        while self._done and self._done[0][0] < cutoff:
            self._done.popleft()
        while self._latencies and self._latencies[0][0] < cutoff:
            self._latencies.popleft()

    def view(self, now: float) -> dict:
        """rate (req/s), p50_ms, p99_ms, in_flight, held_back, errors {class: n}."""
        self._prune(now)
        rep = self.reported
        rate = rep.get("rate")
        if rate is None and self._done:
            rate = sum(n for _, n in self._done) / self.window_s
        p50, p99 = rep.get("p50_ms"), rep.get("p99_ms")
        if p50 is None and self._latencies:
            values = sorted(ms for _, ms in self._latencies)
            p50, p99 = percentile(values, 50), percentile(values, 99)
        errors = dict(rep.get("errors") or self.errors)
        return {"rate": rate or 0.0, "p50_ms": p50, "p99_ms": p99, "in_flight": rep.get("in_flight"),
                "held_back": rep.get("held_back"), "errors": errors}

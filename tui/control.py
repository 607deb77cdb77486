"""What the monitor knows about the load and how its keys change it. Pure: no Textual, no IO.

`LoadState` is the level the user asked for (mode, level, paused) and the step arithmetic of the
`+`/`-` keys. `LoadStats` is what the response channel says the load achieved (rate, latency
percentiles, errors by class), refreshed once per screen tick. `LoadController` is the interface
the app drives: the load generator's own process, a replay, or a test fake.
"""

import math
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, AsyncIterator, Protocol

from loadgen.plan import clamp_level, step_level

CLOSED = "closed"
OPEN = "open"
MODES = (CLOSED, OPEN)
DEFAULT_LEVELS = {CLOSED: 10, OPEN: 100.0}


@dataclass
class LoadItem:
    """One report of a load generator: outcomes plus its own figures (a StatsSnapshot or dict),
    or a change of the plan it runs (`load`: mode, level, paused)."""

    outcomes: list
    stats: Any = None
    load: dict | None = None


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


@dataclass
class LoadState:
    """The load the user asked for. Levels are remembered per mode, so `m` twice is a no-op."""

    mode: str = CLOSED
    levels: dict = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    paused: bool = False
    controllable: bool = True  # False in a replay, or with no load at all
    max_in_flight: int = 1000

    @classmethod
    def from_plan(cls, plan, **kwargs) -> "LoadState":
        """The state a `loadgen.plan.Plan` starts with."""
        levels = dict(DEFAULT_LEVELS)
        levels[plan.mode] = plan.level
        return cls(mode=plan.mode, levels=levels, max_in_flight=plan.max_in_flight, **kwargs)

    @property
    def level(self) -> float:
        return self.levels[self.mode]

    def apply(self, reported: dict) -> None:
        """Take what the generator says it runs (mode, level, paused), e.g. a clamped level."""
        mode = reported.get("mode")
        if mode in MODES:
            self.mode = mode
        if reported.get("level") is not None:
            self.levels[self.mode] = reported["level"]
        if reported.get("paused") is not None:
            self.paused = bool(reported["paused"])

    def stepped(self, direction: int, large: bool = False) -> float:
        """The level one step up (+1) or down (-1) from now, on the load generator's own ladders
        (closed loop: one more or one fewer concurrent request; open loop: about 20%; the
        large step walks 1-2-5), clamped into the mode's range."""
        return clamp_level(self.mode, step_level(self.mode, self.level, direction, large), self.max_in_flight)

    def switch_mode(self, stats: dict | None = None) -> None:
        """Closed ↔ open at about the same load: the achieved rate for open loop, rate × median
        latency for closed loop (Little's law), as the generator would pick; without figures,
        the level last used in that mode."""
        mode = OPEN if self.mode == CLOSED else CLOSED
        rate = (stats or {}).get("rate") or 0.0
        p50 = (stats or {}).get("p50_ms")
        level = self.levels[mode]
        if mode == OPEN and rate > 0:
            level = rate
        elif mode == CLOSED and rate > 0 and p50:
            level = rate * p50 / 1000.0
        self.mode = mode
        self.levels[mode] = clamp_level(mode, _two_digits(level), self.max_in_flight)

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


def _two_digits(x: float) -> float:
    """Rounded to two significant digits (137.4 -> 140), so a switched level reads cleanly."""
    if x <= 0:
        return x
    digits = 10 ** (math.floor(math.log10(x)) - 1)
    return round(x / digits) * digits


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
        self.reported_at: float | None = None  # when they came (None: not known, taken as fresh)

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

    def absorb(self, stats, now: float | None = None) -> None:
        """Figures the generator computed itself: a `loadgen.stats.StatsSnapshot` or its dict
        (achieved_rps, in_flight, held_back, p50_ms, p99_ms, errors{class: n}, ...), received
        at `now` (they go stale a window later: a paused or stalled generator stops sending)."""
        if stats:
            self.reported = asdict(stats) if is_dataclass(stats) else dict(stats)
            self.reported_at = now

    def _prune(self, now: float) -> None:
        cutoff = now - self.window_s
        while self._done and self._done[0][0] < cutoff:
            self._done.popleft()
        while self._latencies and self._latencies[0][0] < cutoff:
            self._latencies.popleft()

    def view(self, now: float, paused: bool = False) -> dict:
        """rate (req/s), p50_ms, p99_ms, in_flight, held_back, errors {class: n}.

        Never a frozen figure: the generator's own rate and percentiles count only while fresh
        (a window old at most); after that the outcomes of the last window give them, so they
        decay to 0 and "none" (None) when nothing completes. Paused: rate and percentiles are
        None (the screen shows "–"), whatever the last window held."""
        self._prune(now)
        rep = self.reported
        if self.reported_at is not None and now - self.reported_at > self.window_s:
            rep = {k: rep[k] for k in ("in_flight", "held_back", "errors") if k in rep}
        if paused:
            return {"rate": None, "p50_ms": None, "p99_ms": None, "in_flight": rep.get("in_flight"),
                    "held_back": rep.get("held_back"), "errors": dict(rep.get("errors") or self.errors)}
        rate = rep.get("achieved_rps", rep.get("rate"))
        if rate is None and self._done:
            rate = sum(n for _, n in self._done) / self.window_s
        p50, p99 = rep.get("p50_ms"), rep.get("p99_ms")
        if p50 is None and self._latencies:
            values = sorted(ms for _, ms in self._latencies)
            p50, p99 = percentile(values, 50), percentile(values, 99)
        errors = dict(rep.get("errors") or self.errors)
        return {"rate": rate or 0.0, "p50_ms": p50, "p99_ms": p99, "in_flight": rep.get("in_flight"),
                "held_back": rep.get("held_back"), "errors": errors}


class ProcessLoad:
    """`loadgen.process.LoadProcess` (already started) as the app's `LoadController`."""

    def __init__(self, process) -> None:
        self.process = process

    def _sent(self, ok, what: str) -> None:
        if ok is False:
            raise RuntimeError(f"the load process has stopped; cannot {what}")

    def set_level(self, level: float) -> None:
        self._sent(self.process.set_level(level), "change the level")

    def set_mode(self, mode: str, level: float) -> None:
        self._sent(self.process.set_mode(mode, level), "switch the mode")

    def pause(self) -> None:
        self._sent(self.process.pause(), "pause")

    def resume(self) -> None:
        self._sent(self.process.resume(), "resume")

    async def stop(self) -> None:
        await self.process.aclose()

    async def batches(self):
        async for batch in self.process.batches():
            yield LoadItem(batch, self.process.stats)

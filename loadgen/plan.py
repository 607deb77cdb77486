"""What load to apply: closed loop (a concurrency) or open loop (a rate), paused or not, and
when to stop. The plan is the one command a load generator takes (`Runner.apply`,
`LoadProcess.apply`) and the one thing it reports back (`StatsSnapshot.plan`).

Pure: no IO imports, so the command line and the keyboard can validate, step and convert levels
without starting anything. Validation errors are `PlanError`s keyed by field name; the command
line maps fields to its flags in one place (tui/commands/options.py).
"""

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from loadgen.duration import format_duration

MODES = ("closed", "open")
MIN_RATE = 0.1
MAX_RATE = 1_000_000.0
# The limits are fixed for a run: the connection pool is sized by max_in_flight at start, the
# budget counts from the first request, and max_hold_ms comes from the function's timeout.
# `apply` changes only the steerable fields.
STEERABLE = ("mode", "level", "paused", "hold_ms")
# Lambda's longest timeout (900 s): no function can hold a request longer.
MAX_HOLD_MS = 900_000
# The hold ladder the keys walk (ms): about doubling, so a few presses reach any scale.
_HOLDS = (0, 50, 100, 250, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000)

# Large steps walk 1-2-5 (each press roughly doubles or halves); small steps walk a finer
# ladder for rates (about +-20%) and +-1 for concurrency, where one more worker means one more
# Lambda environment and is worth a keypress of its own.
_LARGE = (1.0, 2.0, 5.0)
_SMALL = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


class PlanError(ValueError):
    """An invalid plan field: `field` is the Plan's field name, `problem` the rest of the line
    ("must be at least 1 (got 0)"). `str()` reads "<field> <problem>"."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Plan:
    """A load plan. `level` is the concurrency (closed) or requests per second (open).

    `requests` and `duration` (seconds) stop the run by themselves (whichever comes first);
    with neither it runs until stopped. `max_in_flight` caps requests outstanding at once in
    either mode: it bounds the open loop when responses slow down, and sizes the connection pool.
    `paused`: send nothing new (requests in flight finish).
    `hold_ms`: each request asks the probe to stay in its handler this long after it has
    written its record, so concurrency and rate are separate knobs (closed loop at N with a
    hold H runs about N / H requests/s and keeps N environments busy). `max_hold_ms` bounds it
    for this run (the function's timeout less the probe's margin); keys clamp into it.
    """

    mode: str = "closed"
    level: float = 10
    requests: int | None = None
    duration: float | None = None
    max_in_flight: int = 1000
    paused: bool = False
    hold_ms: int = 0
    max_hold_ms: int = MAX_HOLD_MS

    def __post_init__(self) -> None:
        validate(self)

    @property
    def concurrency(self) -> int | None:
        return int(self.level) if self.mode == "closed" else None

    @property
    def rate(self) -> float | None:
        return float(self.level) if self.mode == "open" else None

    def with_level(self, level: float) -> "Plan":
        """The same plan at another level, clamped into the mode's valid range (the one clamp)."""
        return replace(self, level=clamp_level(self.mode, level, self.max_in_flight))

    def with_mode(self, mode: str, level: float) -> "Plan":
        return replace(self, mode=mode, level=clamp_level(mode, level, self.max_in_flight))

    def with_paused(self, paused: bool) -> "Plan":
        return replace(self, paused=bool(paused))

    def with_hold(self, hold_ms: float) -> "Plan":
        """The same plan with another hold, clamped into 0..max_hold_ms (the one clamp)."""
        _check_number("hold_ms", hold_ms)
        return replace(self, hold_ms=int(min(max(0, round(hold_ms)), self.max_hold_ms)))

    def with_max_hold(self, max_hold_ms: int) -> "Plan":
        """This plan bounded by a function whose timeout allows at most `max_hold_ms`; a hold
        above it is clamped (the command line refuses such a hold before it gets here)."""
        bound = int(min(max(0, max_hold_ms), MAX_HOLD_MS))
        return replace(self, max_hold_ms=bound, hold_ms=min(self.hold_ms, bound))

    def step_hold(self, direction: int) -> "Plan":
        """One keypress longer (direction > 0) or shorter on the hold ladder (0, 50 ms, 100 ms,
        250 ms, 500 ms, 1 s, 2 s, 5 s, …), clamped to max_hold_ms."""
        return self.with_hold(step_hold(self.hold_ms, direction))

    def step(self, direction: int, large: bool = False) -> "Plan":
        """One keypress up (direction > 0) or down: see the ladders above."""
        return self.with_level(step_level(self.mode, self.level, direction, large))

    def steered_by(self, other: "Plan") -> "Plan":
        """This plan's limits with `other`'s mode, level, paused and hold: what a running
        generator does with a plan it is given (a hold past this run's bound is clamped)."""
        steered = {name: getattr(other, name) for name in STEERABLE}
        steered["hold_ms"] = min(other.hold_ms, self.max_hold_ms)
        return replace(self, **steered)

    def describe(self) -> str:
        """'closed loop: 10 concurrent' or 'open loop: 250 req/s' (plus ' · hold 1s', ' · PAUSED')."""
        if self.mode == "closed":
            text = f"closed loop: {self.level:g} concurrent"
        else:
            text = f"open loop: {self.level:g} req/s"
        if self.hold_ms:
            text += f" · hold {format_duration(self.hold_ms / 1000)}"
        return text + (" · PAUSED" if self.paused else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Plan":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# Open loop starts this far below the closed loop's achieved rate: that rate is often the ceiling
# (of the function, the tool or, locally, this machine), and an open loop offered exactly the
# ceiling queues without bound (UX-WALKTHROUGH #4). `+` takes it up from there.
OPEN_HEADROOM = 0.8


def equivalent_level(mode: str, rate: float | None, p50_ms: float | None, fallback: float) -> float:
    """The level in `mode` that keeps the load about equal (the one Little's-law conversion):
    a little under the achieved rate for open loop (OPEN_HEADROOM), rate x median latency for
    closed loop; `fallback` (the level last used in that mode) without the figures. Rounded to
    two significant digits, so a switched level reads cleanly (137.4 x 0.8 -> 110)."""
    if mode == "open" and rate:
        return _two_digits(rate * OPEN_HEADROOM)
    if mode == "closed" and rate and p50_ms:
        return _two_digits(rate * p50_ms / 1000.0)
    return fallback


def _two_digits(x: float) -> float:
    if x <= 0:
        return x
    digits: float = 10 ** (math.floor(math.log10(x)) - 1)
    return round(x / digits) * digits


def validate(plan: Plan) -> None:
    """Raise PlanError (keyed by field name) unless every field is valid."""
    if plan.mode not in MODES:
        raise PlanError("mode", f"must be 'closed' or 'open' (got {plan.mode!r})")
    _check_number("level", plan.level)
    if plan.mode == "closed":
        if plan.level != int(plan.level):
            raise PlanError("level", f"must be a whole number (got {plan.level})")
        if plan.level < 1:
            raise PlanError("level", f"must be at least 1 (got {plan.level:g})")
    elif not MIN_RATE <= plan.level <= MAX_RATE:
        raise PlanError("level", f"must be between {MIN_RATE:g} and {MAX_RATE:g} requests/s (got {plan.level:g})")
    if plan.requests is not None:
        if isinstance(plan.requests, bool) or not isinstance(plan.requests, int):
            raise PlanError("requests", f"must be a whole number (got {plan.requests!r})")
        if plan.requests < 1:
            raise PlanError("requests", f"must be at least 1 (got {plan.requests})")
    if plan.duration is not None:
        _check_number("duration", plan.duration)
        if plan.duration <= 0:
            raise PlanError("duration", f"must be more than 0 seconds (got {plan.duration:g})")
    if isinstance(plan.max_in_flight, bool) or not isinstance(plan.max_in_flight, int):
        raise PlanError("max_in_flight", f"must be a whole number (got {plan.max_in_flight!r})")
    if plan.max_in_flight < 1:
        raise PlanError("max_in_flight", f"must be at least 1 (got {plan.max_in_flight})")
    if plan.mode == "closed" and plan.level > plan.max_in_flight:
        raise PlanError("level", f"{plan.level:g} is above max_in_flight {plan.max_in_flight} (raise max_in_flight)")
    if not isinstance(plan.paused, bool):
        raise PlanError("paused", f"must be true or false (got {plan.paused!r})")
    for name in ("hold_ms", "max_hold_ms"):
        value = getattr(plan, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise PlanError(name, f"must be a whole number of milliseconds (got {value!r})")
        if not 0 <= value <= MAX_HOLD_MS:
            raise PlanError(
                name, f"must be between 0 and {MAX_HOLD_MS // 1000} s, Lambda's longest timeout (got {value} ms)"
            )
    if plan.hold_ms > plan.max_hold_ms:
        raise PlanError(
            "hold_ms",
            f"{format_duration(plan.hold_ms / 1000)} is longer than this function allows "
            f"({format_duration(plan.max_hold_ms / 1000)}: its timeout less the probe's margin)",
        )


def _check_number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PlanError(name, f"must be a number (got {value!r})")


def clamp_level(mode: str, level: float, max_in_flight: int) -> float:
    _check_number("level", level)
    if mode == "closed":
        return int(min(max(1, round(level)), max_in_flight))
    return float(min(max(MIN_RATE, level), MAX_RATE))


def step_level(mode: str, level: float, direction: int, large: bool = False) -> float:
    """The next level up or down; the caller clamps (Plan.step does)."""
    if direction == 0:
        return level
    if mode == "closed" and not large:
        return level + (1 if direction > 0 else -1)
    ladder = _LARGE if large else _SMALL
    nxt = _ladder_next(level, ladder, direction > 0)
    return max(1, round(nxt)) if mode == "closed" else nxt


def step_hold(hold_ms: int, direction: int) -> int:
    """The next hold on the ladder up or down from `hold_ms` (0 is the bottom)."""
    if direction > 0:
        return next((h for h in _HOLDS if h > hold_ms), _HOLDS[-1])
    if direction < 0:
        return next((h for h in reversed(_HOLDS) if h < hold_ms), 0)
    return hold_ms


def _ladder_next(value: float, ladder: tuple[float, ...], up: bool) -> float:
    """The nearest ladder value (mantissas times powers of ten) strictly above/below value."""
    exp = math.floor(math.log10(value))
    candidates = [m * 10.0**e for e in (exp - 1, exp, exp + 1) for m in ladder]
    # Round away float noise (0.1 * 3 != 0.3) so levels print cleanly.
    candidates = sorted({round(c, 6) for c in candidates})
    eps = value * 1e-9
    if up:
        return next(c for c in candidates if c > value + eps)
    return next(c for c in reversed(candidates) if c < value - eps)

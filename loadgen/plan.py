"""What load to apply: closed loop (a concurrency) or open loop (a rate), and when to stop.

Pure: no IO imports, so the command line and the keyboard can validate and step levels
without starting anything. Validation errors are one line naming the flag, for the CLI to print.
"""

import math
from dataclasses import asdict, dataclass, replace

MODES = ("closed", "open")
MIN_RATE = 0.1
MAX_RATE = 1_000_000.0

# Large steps walk 1-2-5 (each press roughly doubles or halves); small steps walk a finer
# ladder for rates (about +-20%) and +-1 for concurrency, where one more worker means one more
# Lambda environment and is worth a keypress of its own.
_LARGE = (1.0, 2.0, 5.0)
_SMALL = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


@dataclass(frozen=True, slots=True)
class Plan:
    """A load plan. `level` is the concurrency (closed) or requests per second (open).

    `requests` and `duration` (seconds) stop the run by themselves (whichever comes first);
    with neither it runs until stopped. `max_in_flight` caps requests outstanding at once in
    either mode: it bounds the open loop when responses slow down, and sizes the connection pool.
    """

    mode: str = "closed"
    level: float = 10
    requests: int | None = None
    duration: float | None = None
    max_in_flight: int = 1000

    def __post_init__(self):
        validate(self)

    @property
    def concurrency(self):
        return int(self.level) if self.mode == "closed" else None

    @property
    def rate(self):
        return float(self.level) if self.mode == "open" else None

    def with_level(self, level):
        """The same plan at another level, clamped into the mode's valid range."""
        return replace(self, level=clamp_level(self.mode, level, self.max_in_flight))

    def with_mode(self, mode, level):
        return replace(self, mode=mode, level=clamp_level(mode, level, self.max_in_flight))

    def step(self, direction, large=False):
        """One keypress up (direction > 0) or down: see the ladders above."""
        return self.with_level(step_level(self.mode, self.level, direction, large))

    def step_up(self, large=False):
        return self.step(+1, large)

    def step_down(self, large=False):
        return self.step(-1, large)

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, values):
        return cls(**values)


def validate(plan):
    if plan.mode not in MODES:
        raise ValueError(f"mode must be 'closed' or 'open' (got {plan.mode!r})")
    _check_number("level", plan.level)
    if plan.mode == "closed":
        if plan.level != int(plan.level):
            raise ValueError(f"--concurrency must be a whole number (got {plan.level})")
        if plan.level < 1:
            raise ValueError(f"--concurrency must be at least 1 (got {plan.level:g})")
    elif not MIN_RATE <= plan.level <= MAX_RATE:
        raise ValueError(f"--rate must be between {MIN_RATE:g} and {MAX_RATE:g} requests/s "
                         f"(got {plan.level:g})")
    if plan.requests is not None:
        if isinstance(plan.requests, bool) or not isinstance(plan.requests, int):
            raise ValueError(f"--requests must be a whole number (got {plan.requests!r})")
        if plan.requests < 1:
            raise ValueError(f"--requests must be at least 1 (got {plan.requests})")
    if plan.duration is not None:
        _check_number("--duration", plan.duration)
        if plan.duration <= 0:
            raise ValueError(f"--duration must be more than 0 seconds (got {plan.duration:g})")
    if isinstance(plan.max_in_flight, bool) or not isinstance(plan.max_in_flight, int):
        raise ValueError(f"--max-in-flight must be a whole number (got {plan.max_in_flight!r})")
    if plan.max_in_flight < 1:
        raise ValueError(f"--max-in-flight must be at least 1 (got {plan.max_in_flight})")
    if plan.mode == "closed" and plan.level > plan.max_in_flight:
        raise ValueError(f"--concurrency {plan.level:g} is above --max-in-flight "
                         f"{plan.max_in_flight} (raise --max-in-flight)")


def _check_number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number (got {value!r})")


def clamp_level(mode, level, max_in_flight):
    _check_number("level", level)
    if mode == "closed":
        return int(min(max(1, round(level)), max_in_flight))
    return float(min(max(MIN_RATE, level), MAX_RATE))


def step_level(mode, level, direction, large=False):
    """The next level up or down; the caller clamps (Plan.step does)."""
    if direction == 0:
        return level
    if mode == "closed" and not large:
        return level + (1 if direction > 0 else -1)
    ladder = _LARGE if large else _SMALL
    nxt = _ladder_next(level, ladder, direction > 0)
    return max(1, round(nxt)) if mode == "closed" else nxt


def _ladder_next(value, ladder, up):
    """The nearest ladder value (mantissas times powers of ten) strictly above/below value."""
    exp = math.floor(math.log10(value))
    candidates = [m * 10.0 ** e for e in (exp - 1, exp, exp + 1) for m in ladder]
    # Round away float noise (0.1 * 3 != 0.3) so levels print cleanly.
    candidates = sorted({round(c, 6) for c in candidates})
    eps = value * 1e-9
    if up:
        return next(c for c in candidates if c > value + eps)
    return next(c for c in reversed(candidates) if c < value - eps)

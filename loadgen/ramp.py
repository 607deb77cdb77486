"""Ramp plans: the load as stages over time, so an experiment can be written down and repeated.

Pure: no IO imports. A plan is a list of stages, each holding a load (or a pause) for a time,
or ramping linearly from one level to another over that time:

    10c@30s, 50c@30s, 0@2m, 10c@30s     closed loop: 10 concurrent for 30 s, 50 for 30 s, quiet
                                         for 2 minutes, 10 again for 30 s
    100r@1m                              open loop: 100 requests/s for a minute
    10c..100c@2m                         a ramp: 10 concurrent rising to 100 over 2 minutes
    50c@1m hold 1s                       50 concurrent for a minute, each request held 1 s in
                                         the probe (a stage without `hold` runs the --hold)

Durations read as every duration flag reads them (loadgen/duration.py). The same stages come
from a TOML file (`[[stage]]` tables with `load` and `for`, or `from`, `to` and `for`, each with
an optional `hold`; a top-level `hold` for every stage without one), or from a snapshot's
`load.plan` (how a run is repeated exactly). Errors are `RampError`s naming the bad stage by
its position and text, for the CLI to print as one line.
"""

import math
import re
from dataclasses import dataclass
from typing import Any

from loadgen.duration import DurationError, format_duration, parse_duration
from loadgen.plan import MAX_HOLD_MS

CLOSED, OPEN, PAUSE = "closed", "open", "pause"
_LEVEL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([cr]?)\s*$")
_HOLD = re.compile(r"\s+hold\s+(\S+)\s*$", re.IGNORECASE)
MAX_STAGES = 1000
MAX_DURATION_S = 7 * 86400.0


class RampError(ValueError):
    """A plan that cannot be read; the message names the stage and the fix."""


@dataclass(frozen=True, slots=True)
class Stage:
    """Hold `start` (or ramp from `start` to `end`) in `mode` for `duration_s` seconds."""

    mode: str  # closed (level = concurrency), open (level = requests/s) or pause
    start: float
    end: float
    duration_s: float
    hold_ms: int | None = None  # the probe's hold for this stage; None: the run's own (--hold)

    def level_at(self, t: float) -> float:
        """The level `t` seconds into this stage (a ramp moves linearly)."""
        if self.duration_s <= 0 or self.start == self.end:
            return self.start
        frac = min(1.0, max(0.0, t / self.duration_s))
        value = self.start + (self.end - self.start) * frac
        return round(value) if self.mode == CLOSED else value

    def text(self) -> str:
        unit = {CLOSED: "c", OPEN: "r", PAUSE: ""}[self.mode]
        level = f"{_num(self.start)}{unit}"
        if self.end != self.start:
            level += f"..{_num(self.end)}{unit}"
        hold = "" if self.hold_ms is None else f" hold {format_duration(self.hold_ms / 1000)}"
        return f"{level}@{format_duration(self.duration_s)}{hold}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode, "start": self.start, "end": self.end, "duration_s": self.duration_s}
        if self.hold_ms is not None:
            out["hold_ms"] = self.hold_ms
        return out


@dataclass(frozen=True, slots=True)
class Position:
    """Where a plan stands at one moment: which stage, how far into it, the level it asks for."""

    index: int  # stage index; len(stages) once the plan is over
    mode: str
    level: float
    elapsed_s: float  # into the stage
    remaining_s: float  # left in the stage
    done: bool
    hold_ms: int | None = None  # the stage's own hold, if it sets one


@dataclass(frozen=True, slots=True)
class RampPlan:
    stages: tuple[Stage, ...]

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.stages)

    def at(self, t: float) -> Position:
        """The position `t` seconds after the plan started."""
        t = max(0.0, t)
        start = 0.0
        for i, s in enumerate(self.stages):
            if t < start + s.duration_s:
                into = t - start
                return Position(i, s.mode, s.level_at(into), into, s.duration_s - into, False, s.hold_ms)
            start += s.duration_s
        last = self.stages[-1]
        return Position(len(self.stages), last.mode, last.end, 0.0, 0.0, True, last.hold_ms)

    def max_hold_ms(self, default: int = 0) -> int:
        """The longest hold any stage asks for (`default` for a stage without its own)."""
        return max((default if s.hold_ms is None else s.hold_ms) for s in self.stages)

    def stage_start(self, index: int) -> float:
        """Seconds from the plan's start to the start of stage `index` (used to skip ahead)."""
        return sum(s.duration_s for s in self.stages[:index])

    def text(self) -> str:
        return ", ".join(s.text() for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text(), "stages": [s.to_dict() for s in self.stages]}


def parse(text: str) -> RampPlan:
    """An inline plan: comma-separated stages (see the module docstring)."""
    if not isinstance(text, str) or not text.strip():
        raise RampError("the plan is empty: give stages like '10c@30s, 50c@1m'")
    parts = [p for p in text.split(",")]
    if len(parts) > MAX_STAGES:
        raise RampError(f"the plan has {len(parts)} stages; at most {MAX_STAGES}")
    stages, mode = [], None
    for n, part in enumerate(parts, 1):
        stage = _parse_stage(n, part, mode)
        if stage.mode != PAUSE:
            mode = stage.mode
        stages.append(stage)
    return _checked(stages)


def from_toml(doc: dict[str, Any]) -> RampPlan:
    """A plan from a parsed TOML document: `[[stage]]` tables (`load` + `for`, or `from` + `to` + `for`)."""
    raw = doc.get("stage") if isinstance(doc, dict) else None
    default_hold = doc.get("hold") if isinstance(doc, dict) else None
    if default_hold is not None and not isinstance(default_hold, str):
        raise RampError('the plan\'s hold must be a duration string such as "1s"')
    if not isinstance(raw, list) or not raw:
        raise RampError(
            'the plan file has no [[stage]] tables: add one per stage, e.g. [[stage]] load = "10c" for = "30s"'
        )
    texts = []
    for n, table in enumerate(raw, 1):
        if not isinstance(table, dict):
            raise RampError(f"stage {n}: a [[stage]] table is expected")
        unknown = set(table) - {"load", "from", "to", "for", "hold"}
        if unknown:
            raise RampError(f"stage {n}: unknown key {sorted(unknown)[0]!r}; use load, from, to, for and hold")
        duration = table.get("for")
        if not isinstance(duration, str):
            raise RampError(f"stage {n}: 'for' must be a duration string such as \"30s\"")
        hold = table.get("hold", default_hold)
        if hold is not None and not isinstance(hold, str):
            raise RampError(f"stage {n}: 'hold' must be a duration string such as \"1s\"")
        if hold is not None and not hold.strip():
            raise RampError(f"stage {n}: 'hold' is empty; give a duration such as \"1s\"")
        if "load" in table:
            level = table["load"]
        elif "from" in table and "to" in table:
            level = f"{table['from']}..{table['to']}"
        else:
            raise RampError(f"stage {n}: give 'load', or 'from' and 'to'")
        texts.append(f"{level}@{duration}" + (f" hold {hold.strip()}" if hold is not None else ""))
    return parse(", ".join(str(t) for t in texts))


def from_dict(doc: dict[str, Any]) -> RampPlan:
    """A plan as `to_dict` wrote it (a snapshot's or recording's `load.plan`)."""
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, list) or not stages:
        raise RampError("this document has no plan stages (load.plan.stages)")
    out = []
    for n, s in enumerate(stages, 1):
        try:
            hold = s.get("hold_ms")
            if hold is not None and (
                isinstance(hold, bool) or not isinstance(hold, int) or not 0 <= hold <= MAX_HOLD_MS
            ):
                raise ValueError(hold)
            stage = Stage(str(s["mode"]), float(s["start"]), float(s["end"]), float(s["duration_s"]), hold)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise RampError(f"stage {n} of the saved plan is unreadable") from None
        out.append(stage)
    return _checked(out)


def _parse_stage(n: int, part: str, previous_mode: str | None) -> Stage:
    where = f"stage {n} ({part.strip()!r})"
    level_text, at, duration_text = part.partition("@")
    if not at:
        raise RampError(f"{where}: write LEVEL@DURATION, e.g. 10c@30s (c: concurrent, r: requests/s)")
    hold_ms = None
    h = _HOLD.search(duration_text)
    if h:
        duration_text = duration_text[: h.start()]
        try:
            hold_s = parse_duration(h.group(1))
        except DurationError as exc:
            raise RampError(f"{where}: the hold: {exc}") from None
        if hold_s * 1000 > MAX_HOLD_MS:
            raise RampError(f"{where}: the hold must be at most {MAX_HOLD_MS // 1000} s, Lambda's longest timeout")
        hold_ms = round(hold_s * 1000)
    try:
        duration = parse_duration(duration_text)
    except DurationError as exc:
        raise RampError(f"{where}: the duration: {exc}") from None
    if not 0 < duration <= MAX_DURATION_S:
        raise RampError(f"{where}: the duration must be more than 0 and at most 7 days")
    lo_text, dots, hi_text = level_text.partition("..")
    lo = _parse_level(where, lo_text, previous_mode)
    hi = _parse_level(where, hi_text, previous_mode) if dots else lo
    modes = {mode for mode, _ in (lo, hi) if mode != PAUSE}
    if len(modes) > 1:
        raise RampError(f"{where}: a ramp stays in one mode (both ends c, or both r)")
    mode = modes.pop() if modes else PAUSE
    start = 0.0 if lo[0] == PAUSE else lo[1]
    end = 0.0 if hi[0] == PAUSE else hi[1]
    if mode == PAUSE and dots and (start or end):
        raise RampError(f"{where}: a pause has no level")
    return Stage(mode, start, end, duration, hold_ms)


def _parse_level(where: str, text: str, previous_mode: str | None) -> tuple[str, float]:
    m = _LEVEL.match(text)
    if not m:
        raise RampError(f"{where}: the level must be a number with c (concurrent) or r (requests/s), or 0")
    value, unit = float(m.group(1)), m.group(2)
    if not math.isfinite(value):
        raise RampError(f"{where}: the level must be a finite number")
    if value == 0:
        return PAUSE, 0.0
    if not unit:
        if previous_mode is None:
            raise RampError(f"{where}: say c (concurrent) or r (requests/s) after the number, e.g. 10c")
        unit = "c" if previous_mode == CLOSED else "r"
    if unit == "c":
        if value != int(value):
            raise RampError(f"{where}: a concurrency is a whole number")
        if value > 100_000:
            raise RampError(f"{where}: a concurrency of at most 100000")
        return CLOSED, value
    if value > 1_000_000:
        raise RampError(f"{where}: a rate of at most 1000000 requests/s")
    return OPEN, value


def _checked(stages: list[Stage]) -> RampPlan:
    if not stages:
        raise RampError("the plan is empty: give stages like '10c@30s, 50c@1m'")
    if all(s.mode == PAUSE for s in stages):
        raise RampError("the plan only pauses: give at least one stage with a load, e.g. 10c@30s")
    for n, s in enumerate(stages, 1):
        if s.mode not in (CLOSED, OPEN, PAUSE) or not (s.duration_s > 0 and math.isfinite(s.duration_s)):
            raise RampError(f"stage {n} is not a valid stage")
    return RampPlan(tuple(stages))


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}"


def from_saved(doc: dict[str, Any]) -> RampPlan:
    """A snapshot's or recording's `load.plan`: what actually ran if it was kept, else the plan."""
    if isinstance(doc, dict) and isinstance(doc.get("effective"), dict):
        return from_dict(doc["effective"])
    return from_dict(doc)

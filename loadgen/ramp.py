"""Ramp plans: the load as stages over time, so an experiment can be written down and repeated.

Pure: no IO imports. A plan is a list of stages, each holding a load (or a pause) for a time,
or ramping linearly from one level to another over that time:

    10c@30s, 50c@30s, 0@2m, 10c@30s     closed loop: 10 concurrent for 30 s, 50 for 30 s, quiet
                                         for 2 minutes, 10 again for 30 s
    100r@1m                              open loop: 100 requests/s for a minute
    10c..100c@2m                         a ramp: 10 concurrent rising to 100 over 2 minutes

The same stages come from a TOML file (`[[stage]]` tables with `load` and `for`, or `from`, `to`
and `for`), or from a snapshot's `load.plan` (how a run is repeated exactly). Errors are
`RampError`s naming the bad stage by its position and text, for the CLI to print as one line.
"""

import math
import re
from dataclasses import dataclass

CLOSED, OPEN, PAUSE = "closed", "open", "pause"
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_LEVEL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([cr]?)\s*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")
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
        return f"{level}@{_fmt_duration(self.duration_s)}"

    def to_dict(self) -> dict:
        return {"mode": self.mode, "start": self.start, "end": self.end, "duration_s": self.duration_s}


@dataclass(frozen=True, slots=True)
class Position:
    """Where a plan stands at one moment: which stage, how far into it, the level it asks for."""

    index: int  # stage index; len(stages) once the plan is over
    mode: str
    level: float
    elapsed_s: float  # into the stage
    remaining_s: float  # left in the stage
    done: bool


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
                return Position(i, s.mode, s.level_at(into), into, s.duration_s - into, False)
            start += s.duration_s
        last = self.stages[-1]
        return Position(len(self.stages), last.mode, last.end, 0.0, 0.0, True)

    def stage_start(self, index: int) -> float:
        """Seconds from the plan's start to the start of stage `index` (used to skip ahead)."""
        return sum(s.duration_s for s in self.stages[:index])

    def text(self) -> str:
        return ", ".join(s.text() for s in self.stages)

    def to_dict(self) -> dict:
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


def from_toml(doc: dict) -> RampPlan:
    """A plan from a parsed TOML document: `[[stage]]` tables (`load` + `for`, or `from` + `to` + `for`)."""
    raw = doc.get("stage") if isinstance(doc, dict) else None
    if not isinstance(raw, list) or not raw:
        raise RampError(
            'the plan file has no [[stage]] tables: add one per stage, e.g. [[stage]] load = "10c" for = "30s"'
        )
    texts = []
    for n, table in enumerate(raw, 1):
        if not isinstance(table, dict):
            raise RampError(f"stage {n}: a [[stage]] table is expected")
        unknown = set(table) - {"load", "from", "to", "for"}
        if unknown:
            raise RampError(f"stage {n}: unknown key {sorted(unknown)[0]!r}; use load, from, to and for")
        duration = table.get("for")
        if not isinstance(duration, str):
            raise RampError(f"stage {n}: 'for' must be a duration string such as \"30s\"")
        if "load" in table:
            level = table["load"]
        elif "from" in table and "to" in table:
            level = f"{table['from']}..{table['to']}"
        else:
            raise RampError(f"stage {n}: give 'load', or 'from' and 'to'")
        texts.append(f"{level}@{duration}")
    return parse(", ".join(str(t) for t in texts))


def from_dict(doc: dict) -> RampPlan:
    """A plan as `to_dict` wrote it (a snapshot's or recording's `load.plan`)."""
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, list) or not stages:
        raise RampError("this document has no plan stages (load.plan.stages)")
    out = []
    for n, s in enumerate(stages, 1):
        try:
            stage = Stage(str(s["mode"]), float(s["start"]), float(s["end"]), float(s["duration_s"]))
        except (KeyError, TypeError, ValueError):
            raise RampError(f"stage {n} of the saved plan is unreadable") from None
        out.append(stage)
    return _checked(out)


def _parse_stage(n: int, part: str, previous_mode: str | None) -> Stage:
    where = f"stage {n} ({part.strip()!r})"
    level_text, at, duration_text = part.partition("@")
    if not at:
        raise RampError(f"{where}: write LEVEL@DURATION, e.g. 10c@30s (c: concurrent, r: requests/s)")
    m = _DURATION.match(duration_text)
    if not m:
        raise RampError(f"{where}: the duration must be a number with ms, s, m or h (e.g. 30s, 2m)")
    duration = float(m.group(1)) * _UNITS[m.group(2)]
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
    return Stage(mode, start, end, duration)


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


def _fmt_duration(s: float) -> str:
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if s >= size and (s / size) == int(s / size):
            return f"{int(s / size)}{unit}"
    return f"{s:g}s" if s >= 1 else f"{s * 1000:g}ms"


# ---- steering: a plan followed over time, with a person's hand on the keys --------------------


class Steering:
    """Follows a `RampPlan` in time and says which load plan to apply; keeps what really ran.

    Pure: every call takes `now` (seconds, any clock). `tick(now)` returns the `loadgen.plan.Plan`
    to apply when it differs from the last one (else None). A person can `hold(now)` the plan at
    the current stage (press again to go on), `skip(now)` to the next stage, or take the load by
    hand (`manual(now, plan)`, which holds it). Every interval is kept as a segment, so
    `effective()` is the plan that actually ran (keyboard changes included) and `--plan` on a
    snapshot repeats it exactly.
    """

    def __init__(self, plan: RampPlan, base, started_at: float) -> None:
        self.plan = plan
        self.base = base  # a loadgen.plan.Plan: its limits (max_in_flight) bound every stage
        self.started_at = started_at
        self.held = False
        self._clock = 0.0  # seconds into the plan
        self._clock_at = started_at  # when _clock was last brought up to date
        self._manual = None  # the plan a person set by hand (while held)
        self._last = None
        self._segments: list[dict] = []
        self.events: list[dict] = []

    # ---- time ------------------------------------------------------------------------------
    def start(self, now: float) -> None:
        """Start the plan's clock now (when the load really starts, after any set-up)."""
        if not self._segments and not self.events:
            self.started_at = self._clock_at = now

    def position(self, now: float) -> Position:
        return self.plan.at(self._plan_time(now))

    def _plan_time(self, now: float) -> float:
        return self._clock if self.held else self._clock + max(0.0, now - self._clock_at)

    def _advance(self, now: float) -> None:
        """Close the segment running until `now`."""
        start = self._clock_at - self.started_at
        end = max(start, now - self.started_at)
        if end > start:
            if self.held:
                p = self._manual or self._last
                self._segments.append(
                    {"from_s": start, "to_s": end, "source": "held", "plan": None if p is None else _steer_dict(p)}
                )
            else:
                self._segments.append(
                    {
                        "from_s": start,
                        "to_s": end,
                        "source": "plan",
                        "plan_from_s": self._clock,
                        "plan_to_s": self._clock + (end - start),
                    }
                )
        if not self.held:
            self._clock += max(0.0, now - self._clock_at)
        self._clock_at = max(self._clock_at, now)

    def done(self, now: float) -> bool:
        return not self.held and self.position(now).done

    # ---- what to apply -----------------------------------------------------------------------
    def tick(self, now: float):
        """The plan to apply now, if it changed since the last tick (else None)."""
        if self.held:
            want = self._manual or self._last
        else:
            want = self.plan_for(self.position(now))
        if want is None or want == self._last:
            return None
        self._last = want
        return want

    def plan_for(self, pos: Position):
        """A position as a load plan within the base's limits."""
        if pos.mode == PAUSE:
            last = self._last or self.base
            return last.with_paused(True)
        return self.base.with_mode(pos.mode, pos.level).with_paused(False)

    # ---- a person's hand ---------------------------------------------------------------------
    def hold(self, now: float) -> bool:
        """Hold the plan at the current stage, or go on if held. True when now held."""
        self._advance(now)
        frozen = self.plan_for(self.position(now))  # where the plan stands, before the flip
        self.held = not self.held
        self._manual = frozen if self.held else None
        self._event(now, "hold" if self.held else "resume")
        return self.held

    def skip(self, now: float) -> None:
        """Go on from the start of the next stage (and stop holding)."""
        self._advance(now)
        pos = self.plan.at(self._clock)
        self._clock = self.plan.stage_start(min(pos.index + 1, len(self.plan.stages)))
        self.held, self._manual = False, None
        self._event(now, "skip")

    def manual(self, now: float, plan) -> None:
        """The person set the load by hand: hold the plan and run theirs."""
        self._advance(now)
        self.held = True
        self._manual = plan
        self._event(now, "key", plan)

    def _event(self, now: float, what: str, plan=None) -> None:
        e = {"at_s": round(now - self.started_at, 3), "what": what}
        if plan is not None:
            e["plan"] = _steer_dict(plan)
        self.events.append(e)

    # ---- what ran ----------------------------------------------------------------------------
    def status(self, now: float) -> str:
        """'stage 2/4 10c..100c@2m · 45% · next 0@1m' (or 'held at …', 'plan done')."""
        pos = self.position(now)
        n = len(self.plan.stages)
        if pos.done:
            return f"plan done ({n} stages)"
        stage = self.plan.stages[pos.index]
        total = stage.duration_s
        pct = 100.0 * pos.elapsed_s / total if total else 100.0
        nxt = self.plan.stages[pos.index + 1].text() if pos.index + 1 < n else "end"
        head = "held at " if self.held else ""
        return f"{head}stage {pos.index + 1}/{n} {stage.text()} · {pct:.0f}% · next {nxt}"

    def stage_windows(self, now: float) -> list[dict]:
        """Each stage's wall-clock windows (seconds since start) while the plan drove it."""
        windows: list[dict] = []
        for seg in self.segments(now):
            if seg["source"] != "plan":
                continue
            a, b = seg["plan_from_s"], seg["plan_to_s"]
            offset = seg["from_s"] - a
            start = 0.0
            for i, s in enumerate(self.plan.stages):
                lo, hi = max(a, start), min(b, start + s.duration_s)
                if hi > lo:
                    windows.append({"stage": i, "text": s.text(), "from_s": lo + offset, "to_s": hi + offset})
                start += s.duration_s
        return windows

    def segments(self, now: float) -> list[dict]:
        """Every interval so far, the open one included (read-only: nothing is closed)."""
        out = list(self._segments)
        start = self._clock_at - self.started_at
        end = now - self.started_at
        if end > start:
            if self.held:
                p = self._manual or self._last
                out.append(
                    {"from_s": start, "to_s": end, "source": "held", "plan": None if p is None else _steer_dict(p)}
                )
            else:
                out.append(
                    {
                        "from_s": start,
                        "to_s": end,
                        "source": "plan",
                        "plan_from_s": self._clock,
                        "plan_to_s": self._clock + (end - start),
                    }
                )
        return out

    def effective(self, now: float) -> RampPlan | None:
        """The plan that actually ran: the plan's stretches as (partial) stages, held stretches
        as constant stages at the load that ran then."""
        stages: list[Stage] = []
        for seg in self.segments(now):
            if seg["source"] == "held":
                p = seg["plan"]
                if p is None:
                    continue
                mode = PAUSE if p["paused"] else p["mode"]
                level = 0.0 if p["paused"] else float(p["level"])
                stages.append(Stage(mode, level, level, seg["to_s"] - seg["from_s"]))
                continue
            a, b, start = seg["plan_from_s"], seg["plan_to_s"], 0.0
            for s in self.plan.stages:
                lo, hi = max(a, start), min(b, start + s.duration_s)
                if hi - lo > 1e-9:
                    stages.append(Stage(s.mode, s.level_at(lo - start), s.level_at(hi - start), hi - lo))
                start += s.duration_s
        stages = [s for s in stages if s.duration_s > 1e-6]
        return RampPlan(tuple(stages)) if stages and any(s.mode != PAUSE for s in stages) else None

    def to_dict(self, now: float) -> dict:
        eff = self.effective(now)
        return {
            **self.plan.to_dict(),
            "events": list(self.events),
            "effective": None if eff is None else eff.to_dict(),
            "stage_windows": self.stage_windows(now),
        }


def _steer_dict(plan) -> dict:
    return {"mode": plan.mode, "level": plan.level, "paused": plan.paused}


def from_saved(doc: dict) -> RampPlan:
    """A snapshot's or recording's `load.plan`: what actually ran if it was kept, else the plan."""
    if isinstance(doc, dict) and isinstance(doc.get("effective"), dict):
        return from_dict(doc["effective"])
    return from_dict(doc)

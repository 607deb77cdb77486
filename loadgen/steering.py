"""Steering: a ramp plan followed over time, with a person's hand on the keys.

Pure: every call takes `now`. The plan (loadgen/ramp.py) says what each stage asks for; this
says which load plan to apply at a moment, and keeps what really ran (held, skipped and keyed
stretches included), so a run can be repeated exactly.
"""

from dataclasses import replace
from typing import Any, Literal, NotRequired, TypedDict

from loadgen.plan import Plan
from loadgen.ramp import PAUSE, Position, RampPlan, Stage


class SteerDict(TypedDict):
    """The steerable part of a Plan, as kept in segments and events."""

    mode: str
    level: float
    paused: bool
    hold_ms: NotRequired[int]  # absent in plans saved before the hold existed


class HeldSegment(TypedDict):
    """A stretch while the plan was held: the load that ran (None before any ran)."""

    from_s: float
    to_s: float
    source: Literal["held"]
    plan: SteerDict | None


class PlanSegment(TypedDict):
    """A stretch the plan drove: wall-clock `from_s..to_s` ran plan time `plan_from_s..plan_to_s`."""

    from_s: float
    to_s: float
    source: Literal["plan"]
    plan_from_s: float
    plan_to_s: float


Segment = HeldSegment | PlanSegment


class StageWindow(TypedDict):
    stage: int
    text: str
    from_s: float
    to_s: float


class Event(TypedDict):
    at_s: float
    what: str  # hold, resume, skip or key
    plan: NotRequired[SteerDict]  # with "key": the plan set by hand


class Steering:
    """Follows a `RampPlan` in time and says which load plan to apply; keeps what really ran.

    Pure: every call takes `now` (seconds, any clock). `tick(now)` returns the `loadgen.plan.Plan`
    to apply when it differs from the last one (else None). A person can `hold(now)` the plan at
    the current stage (press again to go on), `skip(now)` to the next stage, or take the load by
    hand (`manual(now, plan)`, which holds it). Every interval is kept as a segment, so
    `effective()` is the plan that actually ran (keyboard changes included) and `--plan` on a
    snapshot repeats it exactly.
    """

    def __init__(self, plan: RampPlan, base: Plan, started_at: float) -> None:
        self.plan = plan
        self.base = base  # its limits (max_in_flight) bound every stage
        self.started_at = started_at
        self.held = False
        self._clock = 0.0  # seconds into the plan
        self._clock_at = started_at  # when _clock was last brought up to date
        self._manual: Plan | None = None  # the plan a person set by hand (while held)
        self._last: Plan | None = None
        self._segments: list[Segment] = []
        self.events: list[Event] = []

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
    def tick(self, now: float) -> Plan | None:
        """The plan to apply now, if it changed since the last tick (else None)."""
        if self.held:
            want = self._manual or self._last
        else:
            want = self.plan_for(self.position(now))
        if want is None or want == self._last:
            return None
        self._last = want
        return want

    def plan_for(self, pos: Position) -> Plan:
        """A position as a load plan within the base's limits; a stage without its own hold runs
        the base's (the --hold flag)."""
        if pos.mode == PAUSE:
            last = self._last or self.base
            return last.with_paused(True)
        hold = self.base.hold_ms if pos.hold_ms is None else pos.hold_ms
        return self.base.with_mode(pos.mode, pos.level).with_paused(False).with_hold(hold)

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

    def manual(self, now: float, plan: Plan) -> None:
        """The person set the load by hand: hold the plan and run theirs."""
        self._advance(now)
        self.held = True
        self._manual = plan
        self._event(now, "key", plan)

    def _event(self, now: float, what: str, plan: Plan | None = None) -> None:
        e: Event = {"at_s": round(now - self.started_at, 3), "what": what}
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

    def stage_windows(self, now: float) -> list[StageWindow]:
        """Each stage's wall-clock windows (seconds since start) while the plan drove it."""
        windows: list[StageWindow] = []
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

    def segments(self, now: float) -> list[Segment]:
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
                stages.append(Stage(mode, level, level, seg["to_s"] - seg["from_s"], p.get("hold_ms")))
                continue
            a, b, start = seg["plan_from_s"], seg["plan_to_s"], 0.0
            for s in self.plan.stages:
                lo, hi = max(a, start), min(b, start + s.duration_s)
                if hi - lo > 1e-9:
                    hold = self.base.hold_ms if s.hold_ms is None else s.hold_ms  # repeats what ran
                    stages.append(Stage(s.mode, s.level_at(lo - start), s.level_at(hi - start), hi - lo, hold))
                start += s.duration_s
        stages = [s for s in stages if s.duration_s > 1e-6]
        if all(not s.hold_ms for s in stages):  # a run without a hold reads as it always did
            stages = [replace(s, hold_ms=None) for s in stages]
        return RampPlan(tuple(stages)) if stages and any(s.mode != PAUSE for s in stages) else None

    def to_dict(self, now: float) -> dict[str, Any]:
        eff = self.effective(now)
        return {
            **self.plan.to_dict(),
            "events": list(self.events),
            "effective": None if eff is None else eff.to_dict(),
            "stage_windows": self.stage_windows(now),
        }


def _steer_dict(plan: Plan) -> SteerDict:
    return {"mode": plan.mode, "level": plan.level, "paused": plan.paused, "hold_ms": plan.hold_ms}

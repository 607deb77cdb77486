"""The load as the monitor sees it: the controller it drives and what the generator reports.

Pure: no Textual, no IO. The app sends one command, a `loadgen.plan.Plan` (`load.apply(plan)`),
and the generator reports back a `LoadItem`: outcomes plus its `StatsSnapshot`, which echoes the
plan it runs. The response channel's figures (rate, percentiles, errors) are computed once, in
the load process (loadgen/stats.py); `LoadState` keeps the latest snapshot, never a second store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from loadgen.plan import Plan, equivalent_level

if TYPE_CHECKING:  # a name for the annotations only: the core never loads hdrh, the histogram library
    from loadgen.stats import StatsSnapshot

CLOSED = "closed"
OPEN = "open"
# The level a mode starts at the first time `m` switches to it with no figures to convert.
DEFAULT_LEVELS = {CLOSED: 10, OPEN: 100.0}
# The load process reports every 100 ms, idle or not; figures older than this come from a
# generator that stalled or died, and are not shown as if current.
STALE_S = 3.0


@dataclass
class LoadItem:
    """One report of a load generator: outcomes, and its latest snapshot when one came."""

    outcomes: list
    stats: StatsSnapshot | None = None


class LoadRefused(Exception):
    """The generator cannot take a plan (it has stopped); the message is one line."""


class LoadController(Protocol):
    """The load generator as the app sees it: the load process, a replay, or a test fake.

    `apply` is synchronous and never waits (it raises LoadRefused when it cannot take the plan);
    what the generator then runs comes back in the `stats.plan` of a later `LoadItem`.
    """

    def apply(self, plan: Plan) -> None: ...
    async def stop(self) -> None: ...
    def batches(self) -> AsyncIterator[LoadItem]: ...


@dataclass
class LoadState:
    """The monitor's side of the load.

    `wanted` is the plan the app last sent (keys step from it, so quick presses add up);
    `running` is the plan the generator reports running (the header shows it); `levels` is the
    last level used in each mode, for `m`; `snapshot` is the generator's latest figures.
    """

    wanted: Plan = field(default_factory=Plan)
    controllable: bool = True  # False in a replay, or with no load at all
    running: Plan | None = None
    snapshot: StatsSnapshot | None = None
    snapshot_at: float | None = None  # the monitor's clock when it came
    levels: dict = field(default_factory=lambda: dict(DEFAULT_LEVELS))

    def __post_init__(self) -> None:
        self.levels[self.wanted.mode] = self.wanted.level

    @classmethod
    def from_plan(cls, plan: Plan, **kwargs) -> LoadState:
        return cls(wanted=plan, **kwargs)

    @property
    def shown(self) -> Plan:
        """What the screen says runs: the generator's own report, once it has made one."""
        return self.running or self.wanted

    @property
    def level(self) -> float:
        return self.shown.level

    @property
    def paused(self) -> bool:
        return self.shown.paused

    def take(self, snapshot: StatsSnapshot | None, at: float | None = None) -> None:
        """A report from the generator, received at `at`: its figures, and the plan it runs."""
        if snapshot is None:
            return
        self.snapshot = snapshot
        self.snapshot_at = at
        if snapshot.plan is not None:
            self.running = snapshot.plan
            self.levels[snapshot.plan.mode] = snapshot.plan.level
            if snapshot.plan.max_hold_ms != self.wanted.max_hold_ms:
                # The run's bound comes from the function's timeout, known once the target is
                # up: the hold keys step within it from now on.
                self.wanted = self.wanted.with_max_hold(snapshot.plan.max_hold_ms)

    # What the keys ask for: each is a whole plan, clamped by Plan (the one clamp).
    def stepped(self, direction: int, large: bool = False) -> Plan:
        """One step up (+1) or down (-1) on the generator's own ladders (closed loop: one more or
        one fewer concurrent request; open loop: about 20%; the large step walks 1-2-5)."""
        return self.wanted.step(direction, large)

    def switched(self) -> Plan:
        """Closed <-> open at about the same load (loadgen.plan.equivalent_level: Little's law
        from the latest figures), else the level last used in that mode."""
        mode = OPEN if self.wanted.mode == CLOSED else CLOSED
        snap = self.snapshot
        level = equivalent_level(
            mode, snap.achieved_rps if snap else None, snap.p50_ms if snap else None, self.levels[mode]
        )
        return self.wanted.with_mode(mode, level)

    def held(self, direction: int) -> Plan:
        """The hold one step longer (direction > 0) or shorter: what a hold key asks for."""
        return self.held_longer() if direction > 0 else self.held_shorter()

    def held_longer(self) -> Plan:
        """The hold one step longer on loadgen.plan's ladder (0, 50 ms, 100 ms, 250 ms, 500 ms,
        1 s, 2 s, 5 s, …), never past what the function's timeout allows."""
        return self.wanted.step_hold(+1)

    def held_shorter(self) -> Plan:
        """The hold one step shorter (down to none)."""
        return self.wanted.step_hold(-1)

    @property
    def hold_ms(self) -> int:
        return self.shown.hold_ms

    def toggled_pause(self) -> Plan:
        return self.wanted.with_paused(not self.wanted.paused)

    def asked(self, plan: Plan) -> None:
        """The generator took `plan` (its report will follow)."""
        self.wanted = plan
        self.levels[plan.mode] = plan.level

    def describe(self) -> str:
        return self.shown.describe()

    def as_dict(self) -> dict:
        """The snapshot's `load` object (DESIGN.md: at least mode and level)."""
        plan = self.shown
        return {
            "mode": plan.mode,
            "level": plan.level,
            "paused": plan.paused,
            "unit": "concurrent requests" if plan.mode == CLOSED else "requests/s",
            "hold_ms": plan.hold_ms,
        }

    def figures(self, now: float | None = None) -> dict:
        """The header's and the snapshot's view of the latest figures: rate (req/s), p50_ms,
        p99_ms, in_flight, held_back, errors {class: n}.

        Never a frozen figure: the generator's snapshots decay by themselves while it runs (its
        window ends at its own clock); a snapshot older than STALE_S reads as rate 0 and no
        percentiles; paused, rate and percentiles are None (the screen shows "–")."""
        s = self.snapshot
        if s is None:
            return {"rate": 0.0, "p50_ms": None, "p99_ms": None, "in_flight": None, "held_back": None, "errors": {}}
        figures = {
            "rate": s.achieved_rps,
            "p50_ms": s.p50_ms,
            "p99_ms": s.p99_ms,
            "in_flight": s.in_flight,
            "held_back": s.held_back,
            "errors": dict(s.errors),
        }
        if self.paused:
            figures.update(rate=None, p50_ms=None, p99_ms=None)
        elif now is not None and self.snapshot_at is not None and now - self.snapshot_at > STALE_S:
            figures.update(rate=0.0, p50_ms=None, p99_ms=None)
        return figures


class ProcessLoad:
    """`loadgen.process.LoadProcess` (already started) as the app's `LoadController`."""

    def __init__(self, process) -> None:
        self.process = process

    def apply(self, plan: Plan) -> None:
        if not self.process.apply(plan):
            raise LoadRefused("the load process has stopped")

    async def stop(self) -> None:
        await self.process.stop()

    async def batches(self) -> AsyncIterator[LoadItem]:
        async for outcomes, snapshot in self.process.batches():
            yield LoadItem(outcomes, snapshot)

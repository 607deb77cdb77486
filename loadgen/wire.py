"""What crosses the pipe between the parent and the load process: typed objects, never names.

Commands (parent -> child): `Apply(plan)` (run this plan's mode, level and paused) and `Stop()`.
Reports (child -> parent): `Batch` (outcomes as compact tuples), `Stats` (a StatsSnapshot that
echoes the plan the runner runs), `Log` (stray output of the child), `Failed` (one line) and
`Done` (the final snapshot). Both sides match on the type; an unknown object is a bug.
"""

from dataclasses import dataclass

from loadgen.outcome import OutcomeRow
from loadgen.plan import Plan
from loadgen.stats import StatsSnapshot


@dataclass(frozen=True, slots=True)
class Apply:
    plan: Plan


@dataclass(frozen=True, slots=True)
class Stop:
    pass


Command = Apply | Stop


@dataclass(frozen=True, slots=True)
class Batch:
    outcomes: list[OutcomeRow]  # Outcome.to_tuple() rows


@dataclass(frozen=True, slots=True)
class Stats:
    snapshot: StatsSnapshot


@dataclass(frozen=True, slots=True)
class Log:
    text: str


@dataclass(frozen=True, slots=True)
class Failed:
    error: str  # one line


@dataclass(frozen=True, slots=True)
class Done:
    snapshot: StatsSnapshot


Report = Batch | Stats | Log | Failed | Done

"""What crosses the pipe between the parent and the load process: typed objects, never names.

Commands (parent -> child): `Begin(...)` first (what to run: the child is spawned before its
target is known, see process.WarmStart), then `Apply(plan)` (run this plan's mode, level and
paused) and `Stop()`.
Reports (child -> parent): `Batch` (outcomes as compact tuples), `Stats` (a StatsSnapshot that
echoes the plan the runner runs), `Log` (stray output of the child), `Failed` (one line) and
`Done` (the final snapshot). Both sides match on the type; an unknown object is a bug.
"""

from dataclasses import dataclass
from typing import Any, TypedDict

from loadgen.outcome import OutcomeRow
from loadgen.plan import Plan
from loadgen.stats import StatsSnapshot


class RunnerOptions(TypedDict, total=False):
    """`loadgen.runner.Runner`'s keyword arguments, as a LoadProcess passes them on."""

    batch_interval: float
    timeout: float
    connect_timeout: float
    client: str  # "aiohttp" | "fast"
    max_batch: int
    max_queued_batches: int
    stop_grace: float
    stats_window: float


@dataclass(frozen=True, slots=True)
class Begin:
    spec: dict[str, Any]  # loadgen.targets.target_from_spec's input; never credentials
    plan: Plan
    options: RunnerOptions
    records: str  # "all" | "new" | "none"
    env: dict[str, str]  # set in the child before the target is built
    event_loop: str  # "uvloop" | "asyncio"


@dataclass(frozen=True, slots=True)
class Apply:
    plan: Plan


@dataclass(frozen=True, slots=True)
class Stop:
    pass


Command = Begin | Apply | Stop


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

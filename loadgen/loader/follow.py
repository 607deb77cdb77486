"""One loader's part of a ramp plan, followed in time. Pure: every call takes `now`.

A fan-out that follows a plan ships the whole plan to every loader with the shared start; each
loader runs the plan's clock itself (loadgen/steering.py, as a single machine does) and applies
its part of the load at each moment (split.share_of). So a stage's edge reaches every loader
at the same instant, without a round trip to the monitor per step (a loader's only channel is
the stream it sends back), and the parts add up to the plan exactly, ramps included.
"""

from loadgen.plan import Plan
from loadgen.ramp import RampPlan
from loadgen.split import share_of
from loadgen.steering import Steering


class ShareSteering:
    """`tick(now)`: this loader's plan to apply when its part changed (else None); `done(now)`."""

    def __init__(self, plan: RampPlan, whole: Plan, index: int, loaders: int, started_at: float) -> None:
        # `whole` is the run's base plan before any split: its limits bound the plan's levels as
        # the monitor's would (a part bounded by its own max_in_flight would clamp the whole).
        self.steering = Steering(plan, whole, started_at)
        self.index = index
        self.loaders = loaders
        self._last: Plan | None = None

    def start_plan(self) -> Plan:
        """The part to start the runner with: the plan's first moment."""
        first = self.steering.plan_for(self.steering.position(self.steering.started_at))
        self._last = share_of(first, self.index, self.loaders)
        return self._last

    def tick(self, now: float) -> Plan | None:
        whole = self.steering.tick(now)
        if whole is None:
            return None
        part = share_of(whole, self.index, self.loaders)
        if part == self._last:
            return None  # the whole moved (10c -> 11c) but not this loader's part
        self._last = part
        return part

    def done(self, now: float) -> bool:
        return self.steering.done(now)

"""The keys that steer the load (`+ - * / m space`), a ramp plan (`h n`) and a replay (`← →`):
each turns into one plan sent to the load generator, said on the status line either way.

A mixin of `MonitorApp` (tui/screen/app.py): it reads the app's load controller, load state,
steering and replay, and owns no state of its own."""

import asyncio

from loadgen.plan import Plan
from tui.core.errors import one_line
from tui.core.fleet import Fleet
from tui.core.load import LoadRefused
from tui.output.recording import fmt_clock

BACKLOG = 8  # unapplied batches a producer may have outstanding before it waits


class LoadKeys:
    def _can_control(self) -> bool:
        if self.load is None and self._starting:
            self.status.say("the load generator is still starting: try again in a moment")
            return False
        if self.load is None or not self.load_state.controllable:
            self.status.say("no load generator to control here", error=True)
            return False
        return True

    def _ask(self, plan: Plan, what: str) -> None:
        """Send the load generator a plan (the one command); said on screen either way. The
        header follows when the generator reports running it."""
        try:
            self.load.apply(plan)
        except LoadRefused as exc:
            self.status.say(f"load generator refused to {what}: {one_line(str(exc))}", error=True)
            return
        self.load_state.asked(plan)
        self.status.say(f"load: {plan.describe()}")
        self.refresh_view()

    def action_level(self, direction: int, large: bool = False) -> None:
        if self._can_control():
            self._by_hand(self.load_state.stepped(direction, large), "change the level")

    def action_mode(self) -> None:
        if self._can_control():
            self._by_hand(self.load_state.switched(), "switch the mode")

    def action_hold(self, direction: int) -> None:
        if self._can_control():
            self._by_hand(self.load_state.held(direction), "change the hold")

    # ---- a ramp plan (--plan) -----------------------------------------------------------
    def _steer(self, now: float) -> None:
        """Apply the plan's next load when its stage asks for one (at the redraw rate)."""
        plan = self.steering.tick(now)
        if plan is not None and self.load is not None:
            try:
                self.load.apply(plan)
                self.load_state.asked(plan)
            except LoadRefused as exc:
                self.status.say(f"load generator refused the plan's next stage: {one_line(str(exc))}", error=True)

    def _by_hand(self, plan: Plan, what: str) -> None:
        """A key changed the load: with a plan, that holds it (`h` goes on)."""
        if self.steering is not None:
            self.steering.manual(self.clock(), plan)
        self._ask(plan, what)

    def action_plan_hold(self) -> None:
        if self.steering is not None and self._can_control():
            held = self.steering.hold(self.clock())
            self.status.say("plan held at this stage (h: go on)" if held else "plan going on")
            self.refresh_view()

    def action_plan_next(self) -> None:
        if self.steering is not None and self._can_control():
            self.steering.skip(self.clock())
            self.status.say("plan: next stage")
            self.refresh_view()

    def action_pause(self) -> None:
        if self.replay is not None:
            self._replay_pause()
            return
        if self._can_control():
            self._by_hand(self.load_state.toggled_pause(), "resume" if self.load_state.wanted.paused else "pause")

    # ---- replay controls ----------------------------------------------------------------
    def _replay_pause(self) -> None:
        clock = self.replay.clock
        if clock.speed is None:
            self.status.say("played all at once: nothing to pause (replay --speed N plays it in time)")
            return
        if clock.paused:
            clock.resume()
            self.status.say("replay playing")
        else:
            clock.pause()
            self.status.say("replay paused: space plays, ← → seek")
        self.refresh_view()

    def action_seek(self, seconds: float) -> None:
        """Replay only: forward moves the clock (the batches up to there come at once); back
        plays the recording again from its start up to there, into a new model."""
        r = self.replay
        if r is None or r.clock.speed is None:
            self.status.say("played all at once: nothing to seek (replay --speed N plays it in time)")
            return
        clock = r.clock
        target = clock() + seconds
        if seconds >= 0:
            clock.seek(target)
        else:
            self._generation += 1
            self.workers.cancel_group(self, "sources")
            self.workers.cancel_group(self, "load")
            clock.seek(target)
            self.sources, self.load = r.restart()
            self._slots = {"log": asyncio.Semaphore(BACKLOG), "load": asyncio.Semaphore(BACKLOG)}
            self.fleet = Fleet()
            self.events_applied = 0
            self.failures.clear()
            self.table.reset()
            self._start_producers()
        self.status.say(f"replay at {fmt_clock(clock() - clock.start)}")
        self.refresh_view()

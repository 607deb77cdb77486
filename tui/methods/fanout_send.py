"""`experiment NAME --fan-out N`: the classic methods' bursts run by loader functions.

A method is written as calls to `send` (tui/methods/drive.py); `FanOutSend` is a `send` whose
every burst is one fan-out (tui/methods/fanout.py): the burst's plan split over up to N loaders,
their outcome streams merged back into the outcomes the method reads. The method cannot tell
the two apart, which is the point: its procedure, its finding and its limits stay its own.

A burst smaller than N (scaling's first step is 1 concurrent, idle-reclaim probes each warm
environment once) runs on as many loaders as it has workers or requests: a loader with no part
would be an invocation that sends nothing. Each burst waits for its own shared start
(fanout.START_AHEAD_S), so the methods time a burst by its load's span (drive.load_span), not by
the clock around `send`.

What a fan-out alone knows is kept per burst (`bursts`): its loaders, what they reported, how
each ended. A loader that died is said with the share it did not send, and its requests sent
without an outcome reach the method as outcomes of unknown fate, as in `run --fan-out`; a loader
its share reached after the shared start is said with how late.
"""

from tui.methods.drive import burst_plan


class FanOutSend:
    """`await send(target, concurrency, requests=, duration_s=, rate=)`: the outcomes of one burst
    run by up to `loaders` loader functions. `loader` (tui/methods/fanout_aws.Loader) on AWS, where
    each burst gets a control object of its own so its end (or Ctrl-C) stops its loaders."""

    def __init__(self, loaders: int, *, hold_ms: int = 0, loader=None):
        self.loaders = loaders
        self.hold_ms = hold_ms
        self.loader = loader
        self.bursts: list[dict] = []

    def loaders_for(self, plan) -> int:
        """How many loaders a burst can give a part to (see the module doc)."""
        n = self.loaders
        if plan.mode == "closed":
            n = min(n, int(plan.level))
        if plan.requests is not None:
            n = min(n, plan.requests)
        return max(n, 1)

    async def __call__(
        self,
        target,
        concurrency: int,
        *,
        requests: int | None = None,
        duration_s: float | None = None,
        rate: float | None = None,
    ) -> list:
        plan = burst_plan(concurrency, requests=requests, duration_s=duration_s, rate=rate, hold_ms=self.hold_ms)
        fan = await self.make(target, plan)
        out: list = []
        try:
            async for batch in fan.run():
                out.extend(batch)
        finally:
            await fan.close()
            self.record(fan)
        return out

    async def make(self, target, plan):
        """The fan-out of one burst (blog's one run is one of these, run through run_experiment)."""
        from tui.methods.fanout import FanOut

        control = None
        if target.kind == "aws" and self.loader is not None:
            from tui.methods.fanout_aws import control_for

            control = await control_for(target, self.loader)
        return FanOut(target, plan, self.loaders_for(plan), client=target.http_client, control=control)

    def record(self, fan) -> None:
        """A burst's fan-out, once it ended (blog runs its one fan-out itself, through run_experiment)."""
        self.bursts.append(_burst(fan))

    def summary(self) -> dict:
        """The whole method's fan-out: bursts, loaders invoked, outcomes reported, shortfall."""
        return {
            "loaders": self.loaders,
            "bursts": len(self.bursts),
            "invocations": sum(b["loaders"] for b in self.bursts),
            "reported": sum(b["reported"] for b in self.bursts),
            "loaders_short": sum(b["short"] for b in self.bursts),
            "lines": [line for b in self.bursts for line in b["lines"]],
        }


def _burst(fan) -> dict:
    """One burst's fan-out; the lines of the loaders worth a word: those that did not finish their
    share, and those their share reached after the shared start."""
    return {
        "loaders": len(fan.states),
        "reported": sum(s.rows for s in fan.states),
        "short": sum(1 for s in fan.states if not s.ok),
        "lines": [s.line() for s in fan.states if not s.ok or s.late_s is not None],
    }

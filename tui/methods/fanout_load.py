"""A fan-out of loaders as the monitor's load controller (watch --fan-out N).

The app drives one `LoadController` (tui/core/load.py): `apply(plan)`, `batches()` of
`LoadItem`s, `stop()`. For a fan-out, `apply` goes to every loader through the control object
(tui/methods/fanout.py `FanOut.apply`); the merged outcomes go through the generator's own
`Stats` (loadgen/stats.py), so the header's rate and p50/p99 are computed the one way they are
for a single machine, over every loader's outcomes; the report's `plan` is the plan every
running loader has said it applied, so the header shows a change once it reached them all,
not when the key was pressed; in flight is what the loaders sent without an outcome reported
yet. `header_note()` is the fan-out's own line: loaders alive, their
clock offsets, the last change's reach.
"""

from collections.abc import AsyncIterator

from loadgen.stats import Stats
from tui.core.load import LoadItem
from tui.methods.fanout import FanOut


class FanOutLoad:
    def __init__(self, fan: FanOut) -> None:
        self.fan = fan
        self.stats = Stats()

    def apply(self, plan) -> None:
        self.fan.apply(plan)  # LoadRefused when it cannot: the app says it

    async def stop(self) -> None:
        await self.fan.close()

    async def batches(self) -> AsyncIterator[LoadItem]:
        fan = self.fan
        async for batch in fan.run():
            self.stats.add(batch)
            snapshot = self.stats.snapshot(sent=fan.sent, plan=fan.running_plan, in_flight=fan.in_flight)
            yield LoadItem(batch, snapshot)

    def header_note(self) -> str:
        fan = self.fan
        alive = fan.alive
        text = f"fan-out: {len(alive)}/{len(fan.states)} loaders alive"
        offsets = [s.offset_s for s in fan.states if s.offset_s is not None]
        if offsets:
            text += f", clock offset {min(offsets) * 1000:+.1f}..{max(offsets) * 1000:+.1f} ms"
        change = fan.changes.line(alive)
        if change:
            text += f" · {change}"
        if fan.control is not None and fan.control.error:
            text += f" · control object: {fan.control.error}"
        return text

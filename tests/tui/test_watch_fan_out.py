"""`watch --fan-out 4` on the local Lambda, under Pilot: the monitor drives four loaders (its second
function), `+` reaches every one of them through the control object, the merged outcomes show the
new level, the header shows the fan-out, and `q` ends every loader's share."""

import asyncio
from contextlib import AsyncExitStack

import pytest

from loadgen.plan import Plan
from loadgen.split import share_of
from tests.tui.fakes import until
from tui.cli import build_parser
from tui.commands.watch import pending_target, plan_from_args, start
from tui.core.errors import UserError
from tui.core.load import LoadState
from tui.screen.app import MonitorApp
from tui.screen.widgets.header import MonitorHeader

HOLD_S = 0.4
EDGE_S = 0.01  # each request counted in flight only away from its two ends (see max_in_flight)


def max_in_flight(outcomes, shift_of) -> int:
    """The most requests in flight at once among one loader's `outcomes`, on that loader's own
    clock (`shift_of[seq]`: the offset each batch was moved by onto ours; the estimate grows
    during the run, so two batches moved by different offsets could seem to overlap), each
    counted from EDGE_S after it was sent to EDGE_S before its answer: a worker's next request
    starts after its last one ended, never before."""
    edges = []
    for o in outcomes:
        if o.error is None and o.latency_ms is not None and o.latency_ms / 1000 > 2 * EDGE_S:
            sent = o.sent_at + shift_of[o.seq]
            edges += [(sent + EDGE_S, 1), (sent + o.latency_ms / 1000 - EDGE_S, -1)]
    peak = now = 0
    for _, step in sorted(edges):
        now += step
        peak = max(peak, now)
    return peak


async def test_plus_reaches_every_loader_and_the_merged_outcomes_run_the_new_level(tmp_path):
    args = build_parser().parse_args(["watch", "--fan-out", "4", "--concurrency", "4", "--hold", f"{HOLD_S}s"])
    plan = plan_from_args(args)
    seen: list = []
    async with AsyncExitStack() as stack:
        starting: list[asyncio.Task] = []
        app = MonitorApp(
            target=pending_target(args),
            load_state=LoadState.from_plan(plan),
            snapshot_dir=str(tmp_path),
            when_ready=lambda: starting.append(asyncio.create_task(start(app, args, plan, stack))),
        )
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: app.load is not None, timeout=60)
            fan = app.load.fan
            apply_outcomes = app.fleet.apply_outcomes

            def keep(outcomes, at):  # the merged outcomes, as the app's model receives them
                seen.extend(outcomes)
                return apply_outcomes(outcomes, at)

            app.fleet.apply_outcomes = keep
            loader_of: dict[int, int] = {}  # outcome seq -> the loader that reported it
            shift_of: dict[int, float] = {}  # outcome seq -> the clock offset its batch was moved by
            batch = fan._batch

            async def tagged(state, rec):
                first, shift = fan._seq + 1, state.offset_s or 0.0  # what _batch moves them by
                await batch(state, rec)
                for seq in range(first, fan._seq + 1):
                    loader_of[seq], shift_of[seq] = state.index, shift

            fan._batch = tagged
            await until(pilot, lambda: all(s.rows >= 3 for s in fan.states), timeout=120)
            before = list(seen)
            await pilot.press("plus")
            up = Plan("closed", 5, hold_ms=int(HOLD_S * 1000)).with_max_hold(plan.max_hold_ms)
            await until(pilot, lambda: fan.changes.last.reached(fan.alive), timeout=60)
            # Every loader took its part of the new level (split.share_of: 2 + 1 + 1 + 1).
            assert [s.gen for s in fan.states] == [1] * 4
            assert [int(s.part.level) for s in fan.states] == [int(share_of(up, i, 4).level) for i in range(4)]
            assert [int(s.part.level) for s in fan.states] == [2, 1, 1, 1]
            reached = max(s.sent_at_level for s in fan.states)
            start_after = len(seen)
            # The report's plan is what every loader said it runs: the header shows 5 then.
            await until(pilot, lambda: app.load_state.running is not None and app.load_state.running.level == 5)
            await until(pilot, lambda: len(seen) - start_after >= 30, timeout=120)
            app.refresh_view()
            text = app.query_one(MonitorHeader).text.plain
            assert "fan-out: 4/4 loaders alive" in text and "clock offset" in text
            assert "reached 4 loaders in" in text
            after = [o for o in seen[start_after:] if o.sent_at > fan.changes.last.asked_at + 1.0]
            await pilot.press("q")
            await until(pilot, lambda: not app.is_running, timeout=60)
        if starting:
            await asyncio.wait(starting, timeout=30)
    assert reached > 0

    def per_loader(outcomes) -> list[int]:
        return [max_in_flight([o for o in outcomes if loader_of.get(o.seq) == i], shift_of) for i in range(4)]

    # Four workers ran before the key, five after it (2 + 1 + 1 + 1), in the merged outcomes.
    assert sum(per_loader(before)) <= 4
    assert per_loader(after) == [2, 1, 1, 1]
    # q ended every loader's share through the control object (a clean end, not a cut stream).
    assert all(s.ok for s in fan.states), [s.line() for s in fan.states]
    assert all(s.rows == s.sent for s in fan.states)  # every request it sent has its outcome here


@pytest.mark.parametrize(
    "argv, says",
    [
        (["watch", "--fan-out", "0"], "--fan-out"),
    ],
)
def test_a_bad_fan_out_is_one_line_before_any_screen(argv, says):
    with pytest.raises(UserError, match=says):
        plan_from_args(build_parser().parse_args(argv))

"""--fan-out on the local Lambda: loaders (its second function) run shares of the plan and stream
their outcomes back; the run merges them and confirms every request id from the probe's logs. One
loader killed mid-run is reported with exactly the share it did not report."""

import asyncio

from loadgen.plan import Plan
from tui.aws.target import LocalTarget
from tui.methods.experiment import run_experiment
from tui.methods.fanout import FanOut


async def test_four_loaders_send_exactly_the_plan_and_the_logs_confirm_it():
    async with LocalTarget() as target:
        fan = FanOut(target, Plan("closed", 8, requests=400), 4, client=target.http_client)
        result = await run_experiment(target, fan.plan, settle_timeout_s=30, runner=fan)
    assert [s.rows for s in fan.states] == [100] * 4 and all(s.ok for s in fan.states)
    assert result.fleet.counters.requests == 400 and result.fleet.counters.invocations == 400
    assert result.missing == 0 and result.unaccounted == 0
    assert fan.histogram.get_total_count() == 400  # the merge, not an average of four
    assert all(s.offset_s is not None for s in fan.states)


async def test_a_loader_killed_mid_run_is_reported_with_the_share_it_did_not_send():
    async with LocalTarget() as target:
        local = target.extra["local"]
        fan = FanOut(target, Plan("closed", 4, requests=2000, hold_ms=20), 2, client=target.http_client)

        async def kill_loader_zero():
            async with asyncio.timeout(60):
                while fan.states[0].rows == 0:
                    await asyncio.sleep(0.05)
            env = next(e for e in local.loader.started.environments if not e.dead and e.state == "busy")
            env.kill_now()

        killer = asyncio.create_task(kill_loader_zero())
        result = await run_experiment(target, fan.plan, settle_timeout_s=30, runner=fan)
        await killer
    dead = [s for s in fan.states if not s.ok]
    assert len(dead) == 1 and dead[0].ended.startswith("died")
    alive = next(s for s in fan.states if s.ok)
    assert alive.rows == 1000
    # Exactly what it did not report: its share less its outcomes, said in the summary.
    assert dead[0].not_reported == 1000 - dead[0].rows and dead[0].not_reported > 0
    summary = "\n".join(fan.summary_lines())
    assert f"{dead[0].not_reported} requests of their shares have no outcome" in summary
    # Sent without an outcome: handed on as unknown fate, so the counts never fall short silently.
    lost = max(0, dead[0].sent - dead[0].rows)
    assert result.fleet.counters.requests == alive.rows + dead[0].rows + lost


async def test_four_loaders_follow_a_plan_each_with_its_part_of_every_stage():
    """2 workers over 4 loaders: loaders 2 and 3 have none (paused, never refused) until the
    open-loop stage gives each 10/s; the pause pauses them all; the plan's end ends them all."""
    from loadgen.ramp import parse
    from loadgen.steering import Steering
    from tui.commands.plan_flag import base_plan

    ramp = parse("2c@2s, 0@1s, 40r@2s")
    plan = base_plan(ramp)
    async with LocalTarget() as target:
        fan = FanOut(target, plan, 4, ramp=ramp, client=target.http_client)
        steering = Steering(ramp, plan, 0.0)
        sent_at: list[float] = []
        result = await run_experiment(
            target,
            plan,
            settle_timeout_s=30,
            runner=fan,
            steering=steering,
            on_batch=lambda b: sent_at.extend(o.sent_at for o in b),
        )
    assert all(s.ok for s in fan.states), [s.line() for s in fan.states]
    assert steering.started_at == fan.start_at  # the stage windows are the loaders' own
    open_from = fan.start_at + 3.0
    for s in fan.states[2:]:  # no worker in the closed stage: their first request is the open stage's
        assert s.rows > 0 and s.first_sent >= open_from - 0.25
    assert all(s.rows > 0 for s in fan.states[:2])
    pause = (fan.start_at + 2.25, fan.start_at + 2.75)  # inside the pause, off both edges
    assert not [t for t in sent_at if pause[0] < t < pause[1]]
    assert result.fleet.counters.requests == sum(s.rows for s in fan.states) == len(sent_at)
    assert result.missing == 0 and result.unaccounted == 0
    assert fan.histogram.get_total_count() == result.fleet.counters.requests - sum(
        n for k, n in fan.counts.items() if k != "ok"
    )


async def test_more_loaders_than_botocore_s_ten_connections_all_run_their_part():
    """Each loader holds its stream open all run: the 11th and 12th must not wait for a
    connection until the first ten end (they would start after the plan and send nothing)."""
    from loadgen.ramp import parse
    from tui.commands.plan_flag import base_plan

    # 4 s: a loader that reached its share late (12 cold starts on a busy machine: up to 1.8 s
    # after the shared start, stress run at f7ecf60) still runs part of it; one that waited for a
    # connection until the first ten ended would not.
    ramp = parse("12c@4s")
    async with LocalTarget() as target:
        fan = FanOut(target, base_plan(ramp), 12, ramp=ramp, client=target.http_client)
        result = await run_experiment(target, fan.plan, settle_timeout_s=30, runner=fan)
    assert all(s.ok and s.rows > 0 for s in fan.states), [s.line() for s in fan.states]
    assert result.missing == 0 and result.unaccounted == 0


async def test_a_level_change_reaches_every_loader_through_the_control_object():
    """apply() writes the whole plan to the control object; every loader takes its part
    (split.share_of), says so, and runs it: a loader left without a worker sends at most what
    it had in flight. close() stops them all through the same object: every share ends."""
    from loadgen.split import share_of
    from tui.methods.fanout_control import ControlObject

    async with LocalTarget() as target:
        control = ControlObject.for_local(target)
        fan = FanOut(target, Plan("closed", 4, hold_ms=50), 4, client=target.http_client, control=control)
        up, down = Plan("closed", 5, hold_ms=50), Plan("closed", 2, hold_ms=50)
        sent_when_paused: dict[int, int] = {}

        async def steer():
            async with asyncio.timeout(120):
                while not all(s.rows for s in fan.states):
                    await asyncio.sleep(0.05)
                fan.apply(up)
                while not fan.changes.last.reached(fan.alive):
                    await asyncio.sleep(0.02)
                assert fan.running_plan == up
                assert [s.part for s in fan.states] == [share_of(up, i, 4) for i in range(4)]
                fan.apply(down)
                while not fan.changes.last.reached(fan.alive):
                    await asyncio.sleep(0.02)
                sent_when_paused.update({s.index: s.sent_at_level for s in fan.states[2:]})
                rows_at = {s.index: s.rows for s in fan.states[:2]}
                while not all(fan.states[i].rows > rows_at[i] + 5 for i in rows_at):
                    await asyncio.sleep(0.05)  # the two that still run go on
                await fan.close()

        steerer = asyncio.create_task(steer())
        result = await run_experiment(target, fan.plan, settle_timeout_s=30, runner=fan)
        await steerer
    assert all(s.ok for s in fan.states), [s.line() for s in fan.states]
    assert [s.part.paused for s in fan.states] == [False, False, True, True]
    for i, sent in sent_when_paused.items():
        assert fan.states[i].rows == fan.states[i].sent == sent  # paused: nothing sent after it applied
    assert "reached 4 loaders in" in "\n".join(fan.summary_lines())
    assert result.fleet.counters.requests == fan.sent == sum(s.rows for s in fan.states)
    assert result.missing == 0 and result.unaccounted == 0

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

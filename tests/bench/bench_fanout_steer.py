"""How fast a key reaches a running fan-out: N loaders on the local Lambda, a series of level
changes through the control object (FanOut.apply), each timed from apply until the last running
loader applied it (its `level` record's time on this clock) and until its acknowledgement was
read here (this clock only). Figures beside their budgets (✓/✗), never asserts.

    .venv/bin/python -m pytest tests/bench/bench_fanout_steer.py -m bench -s

FANOUT_STEER_LOADERS (default 4) loaders, FANOUT_STEER_CHANGES (default 8) changes, one every
second, closed loop with a 100 ms hold. The loaders poll every fanout_control.EVERY_S (100 ms),
so about half of that is the expected wait; the rest is the PutObject, the GET and the stream.
"""

import asyncio
import os
import statistics

import pytest

from loadgen.plan import Plan
from tests.bench.budget import report
from tui.aws.target import LocalTarget
from tui.methods.fanout import FanOut
from tui.methods.fanout_control import ControlObject

pytestmark = pytest.mark.bench

LOADERS = int(os.environ.get("FANOUT_STEER_LOADERS", "4"))
CHANGES = int(os.environ.get("FANOUT_STEER_CHANGES", "8"))
LEVELS = [LOADERS + 1, LOADERS, 2 * LOADERS, LOADERS // 2 or 1]


async def _measure() -> tuple[list[float], list[float]]:
    reach, heard = [], []
    async with LocalTarget() as target:
        plan = Plan("closed", LOADERS, hold_ms=100)
        fan = FanOut(target, plan, LOADERS, client=target.http_client, control=ControlObject.for_local(target))

        async def steer():
            while not all(s.rows for s in fan.states):
                await asyncio.sleep(0.05)
            for i in range(CHANGES):
                fan.apply(Plan("closed", LEVELS[i % len(LEVELS)], hold_ms=100))
                change = fan.changes.last
                while not change.reached(fan.alive):
                    await asyncio.sleep(0.005)
                reach.append(change.reach_s(fan.alive))
                heard.append(change.heard_s(fan.alive))
                await asyncio.sleep(1.0)
            await fan.close()

        steerer = asyncio.create_task(steer())
        async with asyncio.timeout(300):
            async for _ in fan.run():
                pass
        await steerer
    return reach, heard


async def test_a_level_change_reaches_every_loader():
    reach, heard = await _measure()
    print(f"\nfan-out steering: {LOADERS} loaders, {len(reach)} level changes (apply -> every loader ran it)")
    for label, values in (("reach", reach), ("heard back", heard)):
        if values:
            report(f"  {label} median", statistics.median(values), unit=" s", at_most=0.25)
            report(f"  {label} worst", max(values), unit=" s", at_most=0.5)

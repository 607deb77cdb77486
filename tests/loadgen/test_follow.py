"""A loader following its part of a ramp plan: at every moment the parts add up to the plan,
ramps included; pauses pause every part; the plan's end is every loader's end. Pure: `now` is given."""

import pytest

from loadgen.loader.follow import ShareSteering
from loadgen.plan import Plan
from loadgen.ramp import parse
from tui.commands.plan_flag import base_plan

N = 4


def _loaders(text: str) -> tuple[list[ShareSteering], Plan]:
    ramp = parse(text)
    whole = base_plan(ramp)
    return [ShareSteering(ramp, whole, i, N, started_at=100.0) for i in range(N)], whole


def _running(part: Plan) -> float:
    return 0.0 if part.paused else part.level


@pytest.mark.parametrize("t", [0.0, 0.5, 3.3, 6.1, 9.99])
def test_a_closed_ramp_s_parts_add_up_to_the_plan_at_every_moment(t):
    loaders, whole = _loaders("10c..100c@10s")
    for lo in loaders:
        lo.start_plan()
    parts = [lo.steering.plan_for(lo.steering.position(100.0 + t)) for lo in loaders]
    assert {p.level for p in parts} == {round(10 + 90 * t / 10)}  # every loader sees the whole
    from loadgen.split import share_of

    mine = [share_of(p, i, N) for i, p in enumerate(parts)]
    assert sum(_running(p) for p in mine) == round(10 + 90 * t / 10)
    assert all(p.max_in_flight * N >= 100 for p in mine)  # room for its part of the peak


def test_stages_reach_every_loader_and_the_plan_s_end_is_theirs():
    loaders, _ = _loaders("2c@2s, 0@1s, 40r@2s")
    starts = [lo.start_plan() for lo in loaders]
    assert [s.paused for s in starts] == [False, False, True, True]  # 2 workers over 4 loaders
    ticks = {t: [lo.tick(100.0 + t) for lo in loaders] for t in (0.1, 2.5, 3.5)}
    assert ticks[0.1] == [None] * N  # still the first moment: nothing to apply
    paused = ticks[2.5]
    assert paused[0].paused and paused[1].paused and paused[2:] == [None, None]  # 2 and 3 were already
    assert all(p is not None and p.mode == "open" and p.rate == 10 and not p.paused for p in ticks[3.5])
    assert not any(lo.done(104.9) for lo in loaders) and all(lo.done(105.0) for lo in loaders)


def test_a_whole_that_moves_without_moving_this_part_applies_nothing():
    loaders, _ = _loaders("4c..5c@10s")
    for lo in loaders:
        lo.start_plan()
    at_5 = [lo.tick(100.0 + 9.0) for lo in loaders]  # 4c -> 5c: only loader 0 gets one more
    assert [p is not None for p in at_5] == [True, False, False, False]
    assert at_5[0].level == 2

"""A plan split into loader shares: the remainder spread, never dropped; impossible splits refused."""

import pytest

from loadgen.plan import Plan, PlanError
from loadgen.split import share_of, split_plan, spread


@pytest.mark.parametrize(("total", "n", "want"), [(2000, 4, [500] * 4), (2000, 3, [667, 667, 666]), (7, 7, [1] * 7)])
def test_spread_adds_up(total, n, want):
    assert spread(total, n) == want and sum(spread(total, n)) == total


def test_closed_loop_shares_add_up_to_the_plan():
    shares = split_plan(Plan("closed", 20, requests=2001, max_in_flight=1000), 3)
    assert [s.level for s in shares] == [7, 7, 6]
    assert [s.requests for s in shares] == [667, 667, 667]
    assert sum(s.max_in_flight for s in shares) == 1000


def test_open_loop_rate_divides_and_duration_is_every_shares():
    shares = split_plan(Plan("open", 100, duration=30, hold_ms=250), 4)
    assert [s.rate for s in shares] == [25.0] * 4
    assert {s.duration for s in shares} == {30} and {s.hold_ms for s in shares} == {250}
    assert {s.requests for s in shares} == {None}


@pytest.mark.parametrize(
    ("plan", "n", "field"),
    [(Plan("closed", 3, requests=100), 4, "level"), (Plan("closed", 10, requests=3), 4, "requests")],
)
def test_a_split_that_leaves_a_loader_nothing_is_refused(plan, n, field):
    with pytest.raises(PlanError) as err:
        split_plan(plan, n)
    assert err.value.field == field


@pytest.mark.parametrize("level", [1, 2, 3, 10, 11, 97])
def test_parts_of_a_moment_add_up_and_a_loader_without_a_worker_pauses(level):
    parts = [share_of(Plan("closed", level), i, 4) for i in range(4)]
    running = [p for p in parts if not p.paused]
    assert sum(int(p.level) for p in running) == level
    assert len(running) == min(level, 4)  # the rest are paused at 1, never refused
    assert all(p.level == 1 for p in parts if p.paused)


def test_an_open_part_is_the_rate_over_n_and_keeps_the_hold_and_the_pause():
    parts = [share_of(Plan("open", 30, hold_ms=100, paused=True), i, 4) for i in range(4)]
    assert [p.rate for p in parts] == [7.5] * 4
    assert {p.hold_ms for p in parts} == {100} and all(p.paused for p in parts)


def test_a_part_of_a_budget_with_nothing_in_it_is_refused_not_unbounded():
    with pytest.raises(PlanError) as err:
        share_of(Plan("closed", 4, requests=2), 3, 4)
    assert err.value.field == "requests"

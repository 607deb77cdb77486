"""The schedules offline: arrival times, held-back counting, worker tokens, the budget."""

import pytest

from loadgen.schedule import Budget, ClosedLoop, OpenLoop, OpenSchedule


def take_until(schedule, now):
    times = []
    while schedule.peek() <= now:
        times.append(schedule.take())
    return times


def test_open_schedule_is_exact_at_any_rate_and_does_not_drift():
    schedule = OpenSchedule(rate=1000, start=100.0)
    assert schedule.due(100.0 + 3600) == 3_600_001  # an hour at 1000/s, counted not summed
    times = take_until(schedule, 100.0 + 60)
    assert len(times) == 60_001
    assert times[0] == 100.0
    assert times[-1] == pytest.approx(160.0, abs=1e-9)


def test_open_schedule_does_not_wait_for_responses():
    # Nothing is taken for a second (say the function is slow): the arrivals are still due.
    schedule = OpenSchedule(rate=10, start=0.0)
    assert schedule.due(0.95) == 10
    assert schedule.due(1.0) == 11
    assert take_until(schedule, 1.0) == pytest.approx([i / 10 for i in range(11)])


def test_rate_change_applies_from_now_and_keeps_arrivals_already_due():
    schedule = OpenSchedule(rate=10, start=0.0)
    take_until(schedule, 0.25)  # 0.0, 0.1, 0.2 sent
    # 0.3 .. 0.5 are due but held (backlog of 3) when the rate goes to 100/s at t=0.55.
    schedule.set_rate(100, now=0.55)
    assert schedule.due(0.55) == 3 + 1  # the three held, plus the new run's first at 0.55
    expected = [0.3, 0.4, 0.5, 0.55, 0.56, 0.57, 0.58, 0.59, 0.60]
    assert take_until(schedule, 0.605) == pytest.approx(expected)


def test_slower_rate_starts_one_new_interval_after_the_last_arrival():
    schedule = OpenSchedule(rate=100, start=0.0)
    take_until(schedule, 1.0)
    schedule.set_rate(1, now=1.005)
    assert schedule.peek() == pytest.approx(2.0)
    schedule.set_rate(1000, now=1.5)  # faster: from now, not in the past
    assert schedule.peek() == pytest.approx(1.5)


def test_open_loop_sends_what_is_due_within_the_cap_and_counts_held_back():
    loop = OpenLoop(rate=100, start=0.0, cap=5, budget=Budget())
    sent = loop.ready(now=0.0, in_flight=0)
    assert [seq for seq, _ in sent] == [0]
    # 0.1 s later 10 more are due, but only 4 slots are free (1 in flight).
    sent = loop.ready(now=0.1, in_flight=1)
    assert len(sent) == 4 and loop.held_back == 6
    # Nothing frees up: the same arrivals are not counted twice; new ones are.
    loop.ready(now=0.1, in_flight=5)
    assert loop.held_back == 6
    loop.ready(now=0.12, in_flight=5)
    assert loop.held_back == 8
    # Slots free: the held arrivals go out first, keeping their scheduled times.
    sent = loop.ready(now=0.12, in_flight=0)
    assert [t for _, t in sent] == pytest.approx([0.05, 0.06, 0.07, 0.08, 0.09])
    assert loop.backlog(now=0.12) == 3
    assert loop.held_back == 8


def test_open_loop_budget_by_count_and_deadline():
    loop = OpenLoop(rate=1000, start=0.0, cap=100, budget=Budget(requests=25))
    assert len(loop.ready(now=1.0, in_flight=0)) == 25
    assert loop.finished()
    loop = OpenLoop(rate=10, start=0.0, cap=100, budget=Budget(deadline=1.0))
    sent = loop.ready(now=5.0, in_flight=0)
    assert [t for _, t in sent] == pytest.approx([i / 10 for i in range(10)])  # 1.0 excluded
    assert loop.finished()


def test_open_loop_never_counts_arrivals_past_the_budget_as_held_back():
    loop = OpenLoop(rate=1000, start=0.0, cap=1, budget=Budget(requests=3))
    loop.ready(now=10.0, in_flight=1)
    assert loop.held_back == 3


def test_pause_forgets_the_pause_and_resumes_at_the_same_rate():
    loop = OpenLoop(rate=10, start=0.0, cap=100, budget=Budget())
    assert len(loop.ready(0.05, 0)) == 1
    loop.pause()
    assert loop.ready(5.0, 0) == []
    loop.resume(now=5.0)
    assert [t for _, t in loop.ready(5.25, 0)] == pytest.approx([5.0, 5.1, 5.2])
    assert [seq for seq, _ in loop.ready(5.3, 0)] == [4]  # sequence numbers continue


def test_closed_loop_tokens():
    tokens = ClosedLoop()
    assert tokens.resize(3) == [0, 1, 2]
    assert tokens.resize(5) == [3, 4]
    tokens.resize(2)
    assert [tokens.keep(i) for i in range(5)] == [True, True, False, False, False]
    tokens.done(4)
    # Growing again before workers 2 and 3 left: they simply carry on; only 4 restarts.
    assert tokens.resize(5) == [4]
    assert tokens.running == {0, 1, 2, 3, 4}


def test_budget():
    budget = Budget(requests=2, deadline=10.0)
    assert budget.take(0.0) == 0
    assert budget.take(11.0) is None
    assert budget.take(1.0) == 1
    assert budget.take(1.0) is None and budget.spent(0.0)
    assert Budget().take(1e9) == 0 and not Budget().spent(1e9)

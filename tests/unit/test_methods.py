"""The classic probes' pure parts: how each reads its outcomes into a finding."""

from dataclasses import dataclass

import pytest

from tui.methods import idle_reclaim, lifetime, scaling


@dataclass
class Out:
    container_id: str | None
    error: str | None = None
    sent_at: float = 0.0


def test_idle_reclaim_classifies_answers_by_environment():
    outcomes = [Out("a"), Out("b"), Out("c"), Out(None, "reset"), Out("a", "throttled")]
    reused, new, failed, seen = idle_reclaim.classify(outcomes, {"a", "b"})
    assert (reused, new, failed, seen) == (2, 1, 2, {"a", "b", "c"})


@pytest.mark.parametrize(
    "probes, bracket, says",
    [
        ([(1, 3, 0), (2, 3, 0), (4, 0, 3)], [2, 4], "more than 2 s and at most 4 s idle (all replaced after 4 s)"),
        ([(1, 3, 0), (2, 1, 2), (4, 0, 3)], [1, 2], "more than 1 s and at most 2 s idle (2 of 3 replaced after 2 s)"),
        ([(60, 3, 0), (120, 3, 0)], None, "no warm environment was reclaimed after up to 2 min idle"),
        ([(600, 0, 3)], [0, 600], "more than 0 s and at most 10 min idle"),
    ],
)
def test_idle_reclaim_brackets_the_reclaim_time(probes, bracket, says):
    f = idle_reclaim.finding(3, [idle_reclaim.Probe(g, r, n, 0) for g, r, n in probes])
    assert f["reclaimed_after_s"] == bracket
    assert says in f["text"]


@pytest.mark.parametrize(
    "start, maximum, steps",
    [
        (1, 100, [1, 2, 5, 10, 20, 50, 100]),
        (1, 30, [1, 2, 5, 10, 20, 30]),
        (3, 3, [3]),
        (10, 1000, [10, 20, 50, 100, 200, 500, 1000]),
    ],
)
def test_scaling_ladder(start, maximum, steps):
    assert scaling.ladder(start, maximum) == steps


def test_scaling_finding_names_when_429s_began():
    steps = [
        scaling.Step(1, 1.0, 10, 1, 1, 0, 0, None),
        scaling.Step(2, 1.0, 20, 1, 2, 0, 0, None),
        scaling.Step(5, 1.0, 30, 3, 5, 4, 0, 2.25),
    ]
    f = scaling.finding(steps)
    assert f["throttles_began"] == {"concurrency": 5, "at_s": 2.25, "environments": 5}
    assert f["peak_new_per_s"] == 3.0
    assert "429s began at 5 concurrent, 2.2 s in, with 5 environments" in f["text"]
    calm = scaling.finding(steps[:2])
    assert calm["throttles_began"] is None and "no throttling up to 2 concurrent" in calm["text"]


def test_lifetime_reads_recycles_from_changes_of_environment():
    outcomes = (
        [Out("a", sent_at=t) for t in (0, 1, 2, 3)]
        + [Out("b", sent_at=t) for t in (3.2, 5, 6.2)]
        + [Out("c", sent_at=6.5), Out(None, "timeout", 4.0)]
    )
    lifes = lifetime.lives(outcomes, 0.0)
    assert [life.container_id for life in lifes] == ["a", "b", "c"]
    f = lifetime.finding(lifes, 7.0)
    assert [r["age_s"] for r in f["recycles"]] == [3.0, 3.0]
    assert f["longest_lifetime_s"] == 3.0
    assert "recycled 2 times" in f["text"]


def test_lifetime_without_a_recycle_is_a_lower_bound():
    f = lifetime.finding(lifetime.lives([Out("a", sent_at=t) for t in range(10)], 0.0), 10.0)
    assert f["recycles"] == [] and "a lower bound" in f["text"] and f["lower_bound_s"] == 9.0


def test_experiment_help_keeps_the_table_of_methods(capsys):
    import pytest

    from tui.cli import main

    with pytest.raises(SystemExit):
        main(["experiment", "--help"])
    out = capsys.readouterr().out
    # One method a line, as the module's docstring lays them out (not run into one paragraph).
    for name in ("blog", "scaling", "idle-reclaim", "lifetime", "packing"):
        assert any(line.lstrip().startswith(name + " ") for line in out.splitlines()), name


def test_a_burst_runs_on_no_more_loaders_than_it_has_workers_or_requests():
    from tui.methods.drive import burst_plan
    from tui.methods.fanout_send import FanOutSend

    send = FanOutSend(4)
    assert send.loaders_for(burst_plan(1, duration_s=2.0)) == 1
    assert send.loaders_for(burst_plan(20, duration_s=2.0)) == 4
    assert send.loaders_for(burst_plan(20, requests=3)) == 3
    assert send.loaders_for(burst_plan(1, rate=5.0, duration_s=20.0)) == 4  # an open trickle splits its rate


@dataclass
class Timed:
    sent_at: float
    latency_ms: float | None


def test_load_span_runs_from_the_first_request_sent_to_the_last_answer():
    from tui.methods.drive import load_span

    assert load_span([]) is None
    assert load_span([Timed(10.0, 50.0), Timed(11.0, 500.0), Timed(10.5, None)]) == pytest.approx(1.5)

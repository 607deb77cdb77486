"""The monitor's side of the load (tui/core/load.py): keys make whole plans, the header shows the plan
the generator reports, the figures are the generator's own snapshot (never frozen)."""

from loadgen.plan import Plan
from loadgen.stats import StatsSnapshot
from tui.core.load import LoadState


def test_keys_step_on_the_generator_ladders_and_clamp():
    s = LoadState()
    assert s.shown == Plan("closed", 10)
    assert [p.level for p in (s.stepped(1), s.stepped(-1), s.stepped(1, True), s.stepped(-1, True))] == [11, 9, 20, 5]
    s.asked(Plan("closed", 1))
    assert s.stepped(-1).level == 1 and s.stepped(-1, True).level == 1
    s.asked(Plan("closed", 1000))
    assert s.stepped(1).level == 1000  # max in flight
    s.asked(Plan("open", 100.0))
    assert [p.level for p in (s.stepped(1), s.stepped(-1), s.stepped(1, True))] == [120.0, 80.0, 200.0]
    assert s.describe() == "open loop: 100 req/s"
    assert s.toggled_pause() == Plan("open", 100.0, paused=True)
    assert s.as_dict() == {"mode": "open", "level": 100.0, "paused": False, "unit": "requests/s", "hold_ms": 0}


def test_m_keeps_about_the_same_load_and_remembers_levels():
    s = LoadState()
    s.take(StatsSnapshot(achieved_rps=137.4, p50_ms=5.0), at=1.0)
    assert s.switched() == Plan("open", 110.0)  # 80% of the achieved rate, which may be a ceiling
    s.asked(s.switched())
    s.take(StatsSnapshot(achieved_rps=137.4, p50_ms=50.0), at=2.0)
    assert s.switched() == Plan("closed", 7)  # Little's law: 137/s x 50 ms
    s.asked(Plan("closed", 7))
    s.take(StatsSnapshot(), at=3.0)  # no figures: the level last used in that mode
    assert s.switched() == Plan("open", 110.0)


def test_the_shown_plan_is_what_the_generator_reports():
    s = LoadState.from_plan(Plan("closed", 10))
    s.asked(Plan("closed", 11))
    assert s.running is None and s.describe() == "closed loop: 11 concurrent"  # nothing reported yet
    s.take(StatsSnapshot(plan=Plan("closed", 3, paused=True)), at=1.0)
    assert (s.level, s.paused) == (3, True) and s.describe() == "closed loop: 3 concurrent · PAUSED"
    s.take(None, at=2.0)  # a batch without a snapshot changes nothing
    assert s.level == 3


def test_figures_are_the_snapshot_and_never_frozen():
    s = LoadState()
    assert s.figures(0.0)["rate"] == 0.0 and s.figures(0.0)["p50_ms"] is None
    snap = StatsSnapshot(
        achieved_rps=202.0,
        p50_ms=34.3,
        p99_ms=290.0,
        in_flight=10,
        held_back=2,
        errors={"throttled": 4},
        plan=Plan("closed", 10),
    )
    s.take(snap, at=10.0)
    assert s.figures(12.0) == {
        "rate": 202.0,
        "p50_ms": 34.3,
        "p99_ms": 290.0,
        "in_flight": 10,
        "held_back": 2,
        "errors": {"throttled": 4},
    }
    stale = s.figures(13.5)  # no report for more than STALE_S: a stalled or dead generator
    assert (stale["rate"], stale["p50_ms"], stale["p99_ms"], stale["in_flight"]) == (0.0, None, None, 10)
    s.take(StatsSnapshot(achieved_rps=202.0, p50_ms=34.3, in_flight=0, plan=Plan("closed", 10, paused=True)), at=14.0)
    paused = s.figures(14.0)
    assert (paused["rate"], paused["p50_ms"], paused["p99_ms"]) == (None, None, None)

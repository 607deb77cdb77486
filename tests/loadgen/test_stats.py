"""Running stats from outcome batches, with an injected clock."""

import pytest

from loadgen.outcome import ERRORS, Outcome, new_request_id
from loadgen.plan import Plan
from loadgen.stats import Stats, StatsSnapshot


def outcome(seq, at, latency_ms=10.0, error=None, container="c1", cold=False, late_ms=0.0):
    return Outcome(
        seq,
        new_request_id(),
        at - late_ms / 1000,
        at,
        latency_ms,
        None if error else 200,
        error,
        container if not error else None,
        "r",
        cold if not error else None,
    )


def test_rate_over_the_window_and_percentiles():
    stats = Stats(window=5.0)
    # 10 s at 100/s; latencies 1..100 ms
    stats.add([outcome(i, 1000.0 + i / 100, latency_ms=1 + i % 100) for i in range(1000)])
    snap = stats.snapshot(now=1010.0)
    assert snap.completed == 1000 and snap.ok == 1000
    assert snap.achieved_rps == pytest.approx(100, rel=0.03)
    assert snap.p50_ms == pytest.approx(50, abs=1)
    assert snap.p99_ms == pytest.approx(99, abs=1)
    assert snap.late_p99_ms is not None


def test_rate_when_the_window_is_not_full_yet():
    stats = Stats(window=5.0)
    stats.add([outcome(i, 1000.0 + i / 100) for i in range(200)])  # 2 s at 100/s
    assert stats.snapshot(now=1002.0).achieved_rps == pytest.approx(100, rel=0.05)


def test_rate_falls_to_zero_when_the_load_stops():
    stats = Stats(window=5.0)
    stats.add([outcome(i, 1000.0 + i / 100) for i in range(500)])
    snap = stats.snapshot(now=1020.0)
    assert snap.achieved_rps == 0.0
    assert snap.p50_ms is None  # no stale percentiles shown as current


def test_errors_by_class_are_counted_apart_from_successes():
    stats = Stats()
    batch = [
        outcome(0, 1.0),
        outcome(1, 1.0, error="refused"),
        outcome(2, 1.0, error="refused"),
        outcome(3, 1.0, error="throttled"),
        outcome(4, 1.0, cold=True, container="c2"),
    ]
    stats.add(batch)
    snap = stats.snapshot(now=1.5)
    assert snap.errors == {"refused": 2, "throttled": 1}
    assert snap.ok == 2 and snap.completed == 5
    assert snap.ok_rps < snap.achieved_rps
    assert snap.cold == 1 and snap.containers == 2
    assert set(snap.errors) <= set(ERRORS)


def test_snapshot_round_trips_as_a_dict_with_runner_fields():
    stats = Stats()
    stats.add([outcome(0, 1.0)])
    snap = stats.snapshot(now=1.0, in_flight=3, held_back=2, sent=4, plan=Plan("open", 5.0, paused=True))
    as_dict = snap.to_dict()
    assert as_dict["plan"]["mode"] == "open" and as_dict["plan"]["paused"] is True
    assert StatsSnapshot.from_dict(as_dict) == snap
    assert StatsSnapshot.from_dict(dict(as_dict, unknown_later_field=1)) == snap
    assert snap.in_flight == 3 and snap.held_back == 2


def test_outcome_tuple_round_trip_and_request_ids():
    o = outcome(7, 5.0, late_ms=3.0)
    assert Outcome.from_tuple(o.to_tuple()) == o
    assert Outcome.from_tuple(o.to_tuple(with_record=False)).record is None
    assert o.lateness_ms == pytest.approx(3.0)
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    for rid in list(ids)[:50]:
        assert len(rid) == 32 and rid[12] == "4" and rid[16] in "89ab"

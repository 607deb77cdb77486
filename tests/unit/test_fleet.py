"""The fleet model: counting across both channels, cold-start evidence, cohorts, states, diffs."""

from types import SimpleNamespace

import pytest

from tui.core import lambdalog as L
from tui.core.fleet import Fleet

A = "2026/11/27/[$LATEST]" + "a" * 32
B = "2026/11/27/[$LATEST]" + "b" * 32
T0 = 1_795_789_200.0


def probe(stream, rid, t, cold=False, host="h1", cpu="Xeon E5-2666"):
    return L.Record(
        L.PROBE,
        stream,
        int(t * 1000),
        rid,
        {
            "lambdascope": 1,
            "container_id": stream,
            "request_id": rid,
            "cold": cold,
            "hostname": host,
            "boot_id": "boot-" + host,
            "cpu_model": cpu,
        },
    )


def report(stream, rid, t, init=None, status=None):
    data = {"duration_ms": 2.0, "max_memory_mb": 40.0}
    if init is not None:
        data["init_duration_ms"] = init
    if status is not None:
        data["status"] = status
    return L.Record(L.REPORT, stream, int(t * 1000), rid, data)


def outcome(stream, rid, t, cold=False, error=None, host="h1"):
    rec = (
        None
        if error
        else {
            "container_id": stream,
            "request_id": rid,
            "cold": cold,
            "hostname": host,
            "boot_id": "b",
            "cpu_model": "Xeon",
        }
    )
    return SimpleNamespace(
        status=200 if not error else 429,
        error=error,
        container_id=None if error else stream,
        request_id=None if error else rid,
        cold=cold,
        record=rec,
        sent_at=t,
        latency_ms=5.0,
    )


def test_invocation_counted_once_across_channels_and_confirmed_by_logs():
    f = Fleet()
    f.apply_outcomes([outcome(A, "r1", T0, cold=True), outcome(A, "r2", T0 + 1)], now=T0 + 1)
    c = f.containers[A]
    assert (c.invocations, c.confirmed, c.unconfirmed, c.cold_starts) == (2, 0, 2, 1)
    f.apply_records(
        [
            L.Record(L.INIT_START, A, int(T0 * 1000)),
            probe(A, "r1", T0, cold=True),
            report(A, "r1", T0, init=120.0),
            probe(A, "r2", T0 + 1),
            report(A, "r2", T0 + 1),
        ],
        now=T0 + 4,
    )
    assert (c.invocations, c.confirmed, c.unconfirmed, c.cold_starts) == (2, 2, 0, 1)
    assert not c.cold_signals_disagree
    assert c.init_duration_ms == 120.0
    assert f.counters.log_lag_s == pytest.approx(3.0)
    assert f.counters.invocations == 2


def test_logs_alone_without_probe_count_reports_and_init_durations():
    f = Fleet()
    f.apply_records(
        [
            report(A, "r1", T0, init=200.0),
            report(A, "r2", T0 + 1),
            report(B, "r3", T0 + 5, init=150.0),
            L.Record(L.END, B, int((T0 + 5) * 1000), "r3"),
        ],
        now=T0 + 10,
    )
    assert [(c.container_id, c.invocations, c.cold_starts) for c in f.ordered()] == [(A, 2, 1), (B, 1, 1)]


def test_duplicate_events_do_not_double_count():
    f = Fleet()
    batch = [probe(A, "r1", T0, cold=True), report(A, "r1", T0, init=1.0)]
    f.apply_records(batch, now=T0)
    f.apply_records(batch, now=T0)
    assert f.containers[A].invocations == 1
    assert f.containers[A].cold_starts == 1


def test_disagreeing_cold_signals_are_flagged():
    f = Fleet()
    f.apply_records(
        [
            probe(A, "r1", T0, cold=True),
            report(A, "r1", T0),
            probe(A, "r2", T0 + 1, cold=True),
            report(A, "r2", T0 + 1, init=3.0),
        ],
        now=T0 + 2,
    )
    c = f.containers[A]
    assert c.probe_colds == 2 and c.init_durations == 1
    assert c.cold_signals_disagree


def test_failures_and_throttles_are_counted_apart():
    f = Fleet()
    f.apply_outcomes(
        [outcome(A, "r1", T0), outcome(A, "x", T0, error="throttled"), outcome(A, "y", T0, error="timeout")], now=T0
    )
    assert (f.counters.requests, f.counters.invocations, f.counters.throttled, f.counters.errors) == (3, 1, 1, 1)


def test_function_errors_from_logs():
    f = Fleet()
    f.apply_records(
        [
            L.Record(L.TIMEOUT, A, int(T0 * 1000), "r1", {"seconds": 3.0}),
            report(A, "r1", T0, status="timeout"),
            L.Record(L.CRASH, A, int(T0 * 1000), "r1", {}),
        ],
        now=T0,
    )
    c = f.containers[A]
    assert (c.timeouts, c.crashes) == (1, 1)
    assert f.counters.errors == 1 and c.errors == 1  # one request failed, whichever lines say so


def test_foreign_and_malformed_lines_are_counted_not_fatal():
    f = Fleet()
    recs = L.parse_event(A, int(T0 * 1000), 'hello\n{"lambdascope": 1, broken\nREPORT no id here')
    f.apply_records(recs, now=T0)
    assert (f.counters.app_lines, f.counters.malformed) == (1, 2)
    assert not f.containers


def test_cohorts_follow_waves_of_new_containers():
    f = Fleet(cohort_gap_s=2.0)
    streams = [f"s{i}" for i in range(7)]
    times = [T0, T0 + 0.1, T0 + 0.2, T0 + 0.3, T0 + 10, T0 + 10.5, T0 + 30]
    f.apply_records([probe(s, f"r{i}", t, cold=True) for i, (s, t) in enumerate(zip(streams, times))], now=T0 + 31)
    assert [c.cohort for c in f.ordered()] == [0, 0, 0, 0, 1, 1, 2]


def test_states_busy_idle_gone():
    f = Fleet(idle_after_s=2.0, gone_after_s=60.0)
    f.apply_records([L.Record(L.START, A, int(T0 * 1000), "r1"), probe(B, "r2", T0)], now=T0)
    assert f.state(f.containers[A], T0 + 5) == "busy"  # START without REPORT
    assert f.state(f.containers[B], T0 + 1) == "busy"
    assert f.state(f.containers[B], T0 + 5) == "idle"
    assert f.state(f.containers[B], T0 + 61) == "gone"


def test_sort_orders_and_hosts():
    f = Fleet()
    f.apply_records(
        [probe(A, "r1", T0, host="h2"), probe(B, "r2", T0 + 1, host="h1"), probe(B, "r3", T0 + 2, host="h1")],
        now=T0 + 3,
    )
    assert [c.container_id for c in f.ordered("first")] == [A, B]
    assert [c.container_id for c in f.ordered("invocations")] == [B, A]
    assert [c.container_id for c in f.ordered("host")] == [B, A]
    assert f.hosts("hostname") == {"h2": 1, "h1": 1}
    assert f.hosts("cpu_model") == {"Xeon E5-2666": 2}


def test_diffs_report_added_then_changed_only():
    f = Fleet()
    f.apply_records([probe(A, "r1", T0)], now=T0)
    d = f.take_diff()
    assert (d.added, d.changed) == ([A], [])
    assert f.take_diff().added == [] and f.take_diff().changed == []
    f.apply_records([probe(A, "r2", T0 + 1), probe(B, "r3", T0 + 1)], now=T0 + 1)
    d = f.take_diff()
    assert (d.added, d.changed) == ([B], [A])
    f.forget(A)
    assert f.take_diff().removed == [A]


def test_timeline_buckets_and_cold_mark():
    f = Fleet(bucket_s=1.0, timeline_buckets=10)
    f.apply_records([probe(A, f"r{i}", T0 + i * 0.5, cold=(i == 0)) for i in range(6)], now=T0 + 3)
    c = f.containers[A]
    last = c.timeline.bucket(T0 + 2.5)
    assert c.timeline.window(last, 4) == [0, 2, 2, 2]
    assert c.cold_at == T0


def test_id_table_is_bounded():
    f = Fleet(max_tracked_ids=100)
    f.apply_outcomes([outcome(A, f"r{i}", T0 + i) for i in range(1000)], now=T0 + 1000)
    assert len(f._ledger.ids) == 100
    assert f.counters.evicted_ids == 900  # the logs never confirmed them: counted, not hidden


def test_a_response_body_of_the_wrong_shape_is_counted_never_raised():
    f = Fleet()
    bad = [outcome(A, "r1", T0), outcome(A, "r2", T0), outcome(A, "r3", T0)]
    bad[0].request_id = ["r1"]
    bad[1].record = {"hostname": 5}
    bad[2].container_id = {"x": 1}
    f.apply_outcomes(bad + [outcome(A, "r4", T0)], now=T0)
    assert f.counters.malformed_responses == 3
    assert f.counters.invocations == 1 and f.containers[A].hostname == "h1"


# ---- order independence (issue 8 item 4) -------------------------------------------------
import itertools  # noqa: E402


def model_of(f, now):
    """Everything a reader can see of a fleet, as plain data."""
    out = {}
    for c in f.ordered():
        out[c.container_id] = (
            c.invocations,
            c.confirmed,
            c.cold_starts,
            c.cold_at,
            c.first_seen,
            c.last_seen,
            c.first_invoked,
            c.last_invoked,
            c.init_at,
            c.hostname,
            c.errors,
            c.timeouts,
            c.max_memory_mb,
            c.reports,
            dict(c.in_flight),
            c.peak_concurrency,
            c.order,
            f.state(c, now),
            c.pre_initialized,
            c.timeline.counts(0, f.bucket_count),
        )
    return out, f.counters.invocations, f.counters.errors, f.origin, f.bucket_s, f.activity.counts(0, f.bucket_count)


def one_request(stream, rid, t, init=None):
    return [
        L.Record(L.START, stream, int(t * 1000), rid),
        probe(stream, rid, t + 0.001, cold=init is not None),
        L.Record(L.END, stream, int((t + 0.004) * 1000), rid),
        report(stream, rid, t + 0.005, init=init),
    ]


def test_any_arrival_order_of_start_probe_end_report_gives_the_same_model():
    recs = [L.Record(L.INIT_START, A, int((T0 - 0.2) * 1000))] + one_request(A, "r1", T0, init=150.0)
    results = set()
    for perm in itertools.permutations(recs):
        f = Fleet()
        f.apply_records(list(perm), now=T0 + 5)
        results.add(repr(model_of(f, T0 + 5)))
    assert len(results) == 1
    f = Fleet()
    f.apply_records(recs, now=T0 + 5)
    c = f.containers[A]
    assert not c.in_flight and f.state(c, T0 + 5) == "idle"
    assert (c.invocations, c.cold_starts, c.first_invoked) == (1, 1, T0)


def test_a_report_before_its_start_does_not_leave_the_request_in_flight():
    f = Fleet()
    f.apply_records([report(A, "r1", T0 + 0.005)], now=T0)
    f.apply_records([L.Record(L.START, A, int(T0 * 1000), "r1")], now=T0 + 1)
    c = f.containers[A]
    assert not c.in_flight and f.state(c, T0 + 10) == "idle"
    assert c.first_invoked == T0  # the START is the invocation's earliest line


def test_two_requests_interleaved_in_every_order_of_batches():
    recs = one_request(A, "r1", T0) + one_request(A, "r2", T0 + 0.5) + one_request(B, "r3", T0 + 0.2, init=9.0)
    rnd = __import__("random").Random(11)
    first = None
    for _ in range(200):
        rnd.shuffle(recs)
        f = Fleet()
        cut = rnd.randrange(len(recs))
        f.apply_records(recs[:cut], now=T0 + 1)
        f.apply_records(recs[cut:], now=T0 + 1)
        m = repr(model_of(f, T0 + 1))
        assert first is None or m == first
        first = m


def test_a_late_start_of_a_timed_out_request_is_not_in_flight():
    f = Fleet()
    f.apply_records(
        [
            L.Record(L.TIMEOUT, A, int((T0 + 3) * 1000), "r1", {"seconds": 3.0}),
            L.Record(L.START, A, int(T0 * 1000), "r1"),
        ],
        now=T0 + 4,
    )
    assert not f.containers[A].in_flight


# ---- states from evidence (issue 9 item 1) -------------------------------------------------
def init_start(stream, t, kind=L.INIT_START, init_type=None):
    return L.Record(kind, stream, int(t * 1000), None, {"runtime": "python:3.12.v89", "init_type": init_type})


def test_an_environment_initialised_and_never_invoked_is_pre_initialised_not_cold_not_a_host():
    f = Fleet()
    f.apply_records([init_start(A, T0)] + one_request(B, "r1", T0 + 0.1, init=100.0), now=T0 + 1)
    a, b = f.containers[A], f.containers[B]
    assert a.pre_initialized and not b.pre_initialized
    assert f.state(a, T0 + 1) == "pre-initialised"
    assert (a.cold_starts, f.cold_starts, f.serving, f.pre_initialized) == (0, 1, 1, 1)
    assert f.hosts("hostname") == {"h1": 1}
    assert [c.container_id for c in f.ordered()] == [B, A]  # pre-initialised after the serving ones
    assert a.init_at == T0 and a.first_invoked is None and a.init_to_first_s is None


@pytest.mark.parametrize(
    "name,recs,cold",
    [
        ("Init Duration on the REPORT", [init_start(A, T0)] + one_request(A, "r1", T0 + 30, init=200.0), 1),
        ("init just before the first request", [init_start(A, T0)] + one_request(A, "r1", T0 + 0.3), 1),
        ("initialised ahead of the request", [init_start(A, T0)] + one_request(A, "r1", T0 + 45), 0),
        (
            "provisioned concurrency",
            [init_start(A, T0, init_type="provisioned-concurrency")] + one_request(A, "r1", T0 + 0.3),
            0,
        ),
        (
            "managed instances",
            [init_start(A, T0, init_type="lambda-managed-instances")] + one_request(A, "r1", T0 + 0.3),
            0,
        ),
        ("only the probe says so", [probe(A, "r1", T0, cold=True)], 1),
        ("nothing says so", [report(A, "r1", T0)], 0),
        ("SnapStart restore", [init_start(A, T0, kind=L.RESTORE_START)] + [report(A, "r1", T0 + 0.4, init=None)], 1),
    ],
)
def test_cold_starts_count_only_invocations_that_paid_the_init(name, recs, cold):
    f = Fleet()
    f.apply_records(recs, now=T0 + 60)
    c = f.containers[A]
    assert c.cold_starts == cold, name
    assert (c.cold_at is not None) == bool(cold)


def test_the_init_to_first_gap_and_kinds():
    f = Fleet()
    rest = L.Record(L.REPORT, B, int((T0 + 0.5) * 1000), "r2", {"duration_ms": 3.0, "restore_duration_ms": 300.0})
    f.apply_records(
        [init_start(A, T0)]
        + one_request(A, "r1", T0 + 12.5, init=80.0)
        + [init_start(B, T0, kind=L.RESTORE_START), rest],
        now=T0 + 20,
    )
    assert f.containers[A].init_to_first_s == pytest.approx(12.5)
    assert f.containers[B].cold_kind == "restore" and f.containers[A].cold_kind == "init"
    assert f.cold_starts_by_kind == {"init": 1, "restore": 1}


def test_order_is_by_first_invocation_once_the_logs_refine_the_times():
    f = Fleet()
    # The responses arrive first (B before A); the logs then say A's request started earlier.
    f.apply_outcomes([outcome(B, "rb", T0 + 0.5), outcome(A, "ra", T0 + 0.6)], now=T0 + 1)
    assert [c.container_id for c in f.ordered()] == [B, A]
    f.apply_records([L.Record(L.START, A, int((T0 + 0.4) * 1000), "ra")], now=T0 + 2)
    assert [c.container_id for c in f.ordered()] == [A, B]
    assert [f.containers[A].order, f.containers[B].order] == [0, 1]


def test_latency_is_split_by_cold_and_bounded():
    f = Fleet()
    f.latency.limit = 50
    f.apply_outcomes(
        [outcome(A, "r0", T0, cold=True)] + [outcome(A, f"r{i}", T0 + i) for i in range(1, 500)], now=T0 + 500
    )
    assert f.latency.cold_ms == [5.0]
    assert len(f.latency.warm_ms) == 50 and f.latency.warm_seen == 499


@pytest.mark.parametrize("init_type", ["lambda-managed-instances", "provisioned-concurrency"])
def test_an_environment_initialised_ahead_has_no_cold_latency(init_type):
    # The probe's first answer in it says cold (its first run there), but no request waited for
    # the init: the run's "0 cold starts" and a cold latency would contradict each other.
    first = outcome(A, "r0", T0, cold=True)
    first.record["init_type"] = init_type
    f = Fleet()
    f.apply_outcomes([first, outcome(A, "r1", T0 + 1)], now=T0 + 2)
    assert f.latency.cold_ms == [] and f.latency.warm_seen == 2


def test_the_probe_cold_signal_does_not_disagree_where_it_cannot_work():
    f = Fleet()
    f.apply_records(
        [
            init_start(A, T0, kind=L.RESTORE_START, init_type="snap-start"),
            probe(A, "r1", T0 + 0.1, cold=False),
            L.Record(L.REPORT, A, int((T0 + 0.2) * 1000), "r1", {"duration_ms": 1.0, "restore_duration_ms": 90.0}),
            probe(A, "r2", T0 + 1, cold=True),
            report(A, "r2", T0 + 1.1),
        ],
        now=T0 + 2,
    )
    c = f.containers[A]
    assert not c.probe_reliable and not c.cold_signals_disagree and c.cold_starts == 1


def _snapstart_pair(stream, probe_id, rid, t):
    """What SnapStart gives: the probe names its environment by a /tmp id (it cannot see the
    stream name), in its log line (in the real stream) and in its answer alike."""
    line = probe(stream, rid, t)
    line.data.update(container_id=probe_id, container_id_from="tmp")
    answer = outcome(probe_id, rid, t)
    answer.record.update(container_id=probe_id, container_id_from="tmp")
    return line, answer


@pytest.mark.parametrize("answer_first", [True, False])
def test_snapstart_ids_are_tied_to_their_stream_one_environment_one_container(answer_first):
    S = "2026/12/01/[$LATEST]" + "a" * 32
    f = Fleet()
    pairs = [_snapstart_pair(S, "tmp-env-1", f"r{i}", 100.0 + i) for i in range(3)]
    for line, answer in pairs:
        if answer_first:
            f.apply_outcomes([answer], 200.0)
            f.apply_records([line], 200.0)
        else:
            f.apply_records([line], 200.0)
            f.apply_outcomes([answer], 200.0)
    assert list(f.containers) == [S]
    c = f.containers[S]
    assert c.invocations == 3 and c.confirmed == 3 and c.unconfirmed == 0
    assert f.counters.invocations == 3


def test_snapstart_answers_wait_bounded_until_the_logs_name_their_stream():
    f = Fleet()
    _, answer = _snapstart_pair("s", "tmp-env-9", "r1", 100.0)
    f.apply_outcomes([answer], 100.0)
    assert f.containers == {} and f.unplaced == 1  # not a container of its own: it waits


def test_an_ec2_host_names_itself():
    f = Fleet()
    rec = probe("s", "r1", 100.0)
    rec.data.update(instance_id="i-0123456789abcdef0", instance_type="m7i.xlarge")
    f.apply_records([rec], 100.0)
    c = f.containers["s"]
    assert (c.instance_id, c.instance_type) == ("i-0123456789abcdef0", "m7i.xlarge")


def test_snapstart_environments_restored_from_one_snapshot_share_an_id_yet_stay_apart():
    s1, s2 = "2026/12/01/[$LATEST]" + "1" * 32, "2026/12/01/[$LATEST]" + "2" * 32
    f = Fleet()
    pairs = [_snapstart_pair(s1, "snap-id", "r1", 100.0), _snapstart_pair(s2, "snap-id", "r2", 100.1)]
    f.apply_outcomes([answer for _, answer in pairs], 101.0)  # the answers first, as usual
    f.apply_records([line for line, _ in pairs], 102.0)
    assert sorted(f.containers) == [s1, s2]
    assert all(c.invocations == 1 and c.confirmed == 1 for c in f.containers.values())

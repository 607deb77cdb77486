"""The whole-run timeline: origin, 0.1 s buckets doubling so the run fits, counts(first, n, per)."""

import random
import tracemalloc
from types import SimpleNamespace

import pytest

from tui.core import lambdalog as L
from tui.core.fleet import Fleet
from tui.core.timeline import Clock, Timeline

T0 = 1_795_789_200.0
A = "2026/11/27/[$LATEST]" + "a" * 32
B = "2026/11/27/[$LATEST]" + "b" * 32


def report(stream, rid, t):
    return L.Record(L.REPORT, stream, int(round(t * 1000)), rid, {"duration_ms": 1.0})


def test_origin_is_the_first_time_less_a_second_floored_to_the_base_width():
    f = Fleet()
    assert f.origin is None and f.bucket_count == 0 and f.bucket_s == 0.1
    f.apply_records([report(A, "r1", T0 + 0.537)], now=T0)
    assert f.origin == pytest.approx(T0 - 0.5)  # T0 + 0.537 - 1 = T0 - 0.463, floored to 0.1 s
    assert f.bucket_of(T0 + 0.537) == 10
    assert f.bucket_start(10) == pytest.approx(T0 + 0.5)
    assert f.bucket_count == 11
    assert f.containers[A].timeline.counts(0, 12) == [0] * 10 + [1, 0]


def test_an_earlier_line_moves_the_origin_back_and_keeps_every_count():
    f = Fleet()
    f.apply_records([report(A, "r1", T0 + 10)], now=T0)
    f.apply_records([report(B, "r2", T0 + 2)], now=T0)
    assert f.origin == pytest.approx(T0 + 1)
    assert f.containers[A].timeline.counts(f.bucket_of(T0 + 10), 1) == [1]
    assert f.containers[B].timeline.counts(f.bucket_of(T0 + 2), 1) == [1]
    assert f.activity.counts(0, f.bucket_count).count(1) == 2


def test_the_width_doubles_so_the_whole_run_fits_and_nothing_is_lost():
    f = Fleet(timeline_buckets=4096)
    times = [T0 + i * 0.25 for i in range(0, 40_000)]  # 10,000 s of run
    f.apply_records([report(A if i % 3 else B, f"r{i}", t) for i, t in enumerate(times)], now=times[-1])
    assert f.bucket_count <= 4096
    assert f.bucket_s == pytest.approx(0.1 * 2**5)  # 10,001 s / 4096 needs 3.2 s buckets
    a, b = f.containers[A].timeline, f.containers[B].timeline
    assert a.total() + b.total() == 40_000 == f.activity.total()
    assert sum(a.counts(0, f.bucket_count)) + sum(b.counts(0, f.bucket_count)) == 40_000
    # Every bucket of the activity timeline holds what the raw times say.
    expect = [0] * f.bucket_count
    for t in times:
        expect[f.bucket_of(t)] += 1
    assert f.activity.counts(0, f.bucket_count) == expect


def test_doubling_gives_what_direct_bucketing_at_the_final_width_gives_in_any_order():
    rnd = random.Random(3)
    times = [T0 + rnd.uniform(0, 3000) for _ in range(3000)]
    results = []
    for _ in range(3):
        rnd.shuffle(times)
        f = Fleet(timeline_buckets=256)
        f.apply_records([report(A, f"r{i}", t) for i, t in enumerate(times)], now=T0)
        results.append((f.bucket_s, f.origin, f.containers[A].timeline.counts(0, f.bucket_count)))
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("per", [1, 2, 3, 7])
def test_counts_per_sums_consecutive_buckets_and_scrolls(per):
    f = Fleet()
    f.apply_records([report(A, f"r{i}", T0 + i * 0.1) for i in range(100)], now=T0)
    full = f.containers[A].timeline.counts(0, f.bucket_count)
    for first in (-5, 0, 3, 50, 200):
        got = f.containers[A].timeline.counts(first, 12, per)
        want = [
            sum(full[max(0, first + j * per) : max(0, first + (j + 1) * per)]) if first + (j + 1) * per > 0 else 0
            for j in range(12)
        ]
        assert got == want


def test_throttles_and_activity_share_the_bucketing():
    f = Fleet()
    out = [
        SimpleNamespace(
            status=429,
            error="throttled",
            container_id=None,
            request_id=None,
            cold=None,
            record=None,
            sent_at=T0 + i,
            latency_ms=1.0,
        )
        for i in range(3)
    ]
    f.apply_outcomes(out, now=T0 + 3)
    assert f.throttles.total() == 3 and f.activity.total() == 0
    assert f.throttles.counts(f.bucket_of(T0), 1) == [1]


def test_window_keeps_the_absolute_bucket_api_and_columns_of_any_width():
    clock = Clock(0.1, 4096)
    tl = Timeline(clock)
    clock.origin = clock.latest = clock.absolute(T0)
    for i in range(30):
        tl.add(T0 + i * 0.1)
    last = tl.bucket(T0 + 2.9)
    assert tl.window(last, 30) == [1] * 30
    assert tl.window(int((T0 + 2.9) // 1.0), 3, 1.0) == [10, 10, 10]


def test_memory_stays_flat_however_long_the_run():
    f = Fleet(timeline_buckets=512, max_tracked_ids=1000)
    streams = [f"s{k}" for k in range(50)]

    def feed(i0, n):
        f.apply_records([report(streams[i % 50], f"r{i}", T0 + i * 2.0) for i in range(i0, i0 + n)], now=T0)

    feed(0, 10_000)
    tracemalloc.start()
    feed(10_000, 5_000)
    before = tracemalloc.get_traced_memory()[0]
    feed(15_000, 15_000)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert all(len(c.timeline._counts) <= 512 for c in f.containers.values())
    assert after - before < 4 * 1024 * 1024  # the id table is bounded too; lanes hold <= 512 counts

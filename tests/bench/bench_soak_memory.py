"""Memory stays flat over a long run: 1M synthetic invocations on both channels through the model
and the widgets' refresh path (table diffs, timeline lanes, legend, header), with the clock
moving so the timeline scrolls through its ring many times over.

A soak, not a unit test: it runs beside the benchmarks (`make bench`), about a minute of one core.
It asserts memory, never time."""

import gc
import os
import tracemalloc

import pytest

from tests.tui.fakes import SIZE, T0, Clock, make_app, stream
from tui.core import lambdalog as L

pytestmark = pytest.mark.bench

CONTAINERS = 1000
INVOCATIONS = 1_000_000
RATE = 1000.0  # invocations per simulated second: 1M take ~17 minutes of clock
BATCH = 5000  # invocations between redraws
MARKS = (500_000, 750_000, 1_000_000)  # long after every bounded structure filled up (200k request ids)
HOSTS = [("host-%d" % i, "Xeon %d" % (i % 3)) for i in range(20)]
STREAMS = [stream(k) for k in range(CONTAINERS)]


class Outcome:
    """What the load generator reports, reduced to what the model reads."""

    __slots__ = ("sent_at", "latency_ms", "status", "error", "container_id", "request_id", "cold", "record")

    def __init__(self, sent_at, container_id, request_id, cold, record):
        self.sent_at, self.container_id, self.request_id = sent_at, container_id, request_id
        self.latency_ms, self.status, self.error, self.cold, self.record = 3.0, 200, None, cold, record


def batch(start: int, n: int):
    outcomes, records = [], []
    report, metrics = L.REPORT, {"duration_ms": 2.0}
    for i in range(start, start + n):
        k = i % CONTAINERS
        s = STREAMS[k]
        t = T0 + i / RATE
        rid = "r%d" % i
        rec = None
        if i < CONTAINERS:
            host, cpu = HOSTS[k % len(HOSTS)]
            rec = {
                "container_id": s,
                "request_id": rid,
                "cold": True,
                "hostname": host,
                "boot_id": host,
                "cpu_model": cpu,
            }
        outcomes.append(Outcome(t, s, rid, i < CONTAINERS, rec))
        records.append(L.Record(report, s, int(t * 1000) + 1, rid, metrics))
    return outcomes, records


async def test_memory_is_bounded_over_a_million_invocations(tmp_path):
    clock = Clock(T0)
    app = make_app(clock=clock, tmp_path=tmp_path)
    app.fleet.timeline_buckets = 100  # a smaller ring, so the run wraps it ten times over
    marks = {}
    async with app.run_test(size=SIZE) as pilot:
        app.stop_redraw()  # this test drives the redraws itself
        tracemalloc.start()
        try:
            done = 0
            while done < INVOCATIONS:
                outcomes, records = batch(done, BATCH)
                done += BATCH
                clock.t = T0 + done / RATE
                app.fleet.apply_outcomes(outcomes, clock.t)
                app.fleet.apply_records(records, clock.t + 0.5)
                app.refresh_view()
                if done % 50_000 == 0:
                    await pilot.pause()  # let the screen render what the refreshes changed
                if done in MARKS:
                    gc.collect()
                    marks[done] = tracemalloc.get_traced_memory()[0]
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert app.fleet.counters.invocations == INVOCATIONS
        assert len(app.fleet.containers) == CONTAINERS and app.table.row_count == CONTAINERS
        assert all(c.unconfirmed == 0 for c in app.fleet.containers.values())
        assert app.ticks >= INVOCATIONS // BATCH
    rss = rss_mib()
    print(
        "\nheld: "
        + ", ".join(f"{v / 2**20:.1f} MiB at {k // 1000}k" for k, v in marks.items())
        + f"; peak {peak / 2**20:.1f} MiB; process RSS {rss:.0f} MiB"
    )
    # Flat: once the bounded structures are full, what is held stops growing. A leak of one
    # small object per invocation (a 50-byte string) would add 24 MiB between the marks.
    first, last = marks[MARKS[0]], marks[MARKS[-1]]
    assert last - first < 10 * 2**20, f"grew {(last - first) / 2**20:.1f} MiB over 500k invocations"
    assert peak < 150 * 2**20
    assert rss < 300  # DESIGN.md: <= 300 MB at 1M invocations (the whole test process)


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

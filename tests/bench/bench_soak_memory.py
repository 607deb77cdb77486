"""Memory stays flat over a long run: 1M synthetic invocations on both channels through the model
and the widgets' refresh path (table diffs, timeline lanes, legend, header), with the clock
moving so the timeline scrolls through its ring many times over.

A soak, not a unit test: it runs beside the benchmarks (`make bench`), about a minute of one core.
It reports memory beside its budgets (DESIGN.md: <= 300 MB at 1M invocations) and asserts nothing:
a missed budget is a ✗ in the report, and a soak that could not do its work says so."""

import gc
import os
import tracemalloc

import pytest

from tests.bench.budget import report
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
RSS_BUDGET_MIB = 300  # DESIGN.md: <= 300 MB at 1M invocations (the whole process)
GROWTH_BUDGET_MIB = 10  # between the marks: a leak of one 50-byte string per invocation adds 24
PEAK_BUDGET_MIB = 150  # what Python allocated at most (tracemalloc), the screen included


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
    rss_before = rss_mib()  # what this process held before (earlier benches in the same run)
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
        # The soak's own work, checked: memory of a model that dropped invocations is not the
        # figure this bench is for.
        c = app.fleet.counters
        unconfirmed = sum(c2.unconfirmed for c2 in app.fleet.containers.values())
        problems = []
        if c.invocations != INVOCATIONS:
            problems.append(f"the model counted {c.invocations:,} of {INVOCATIONS:,} invocations")
        if len(app.fleet.containers) != CONTAINERS or app.table.row_count != CONTAINERS:
            problems.append(f"{len(app.fleet.containers)} containers, {app.table.row_count} rows (fed {CONTAINERS})")
        if unconfirmed:
            problems.append(f"{unconfirmed:,} responses never matched a log line")
        if app.ticks < INVOCATIONS // BATCH:
            problems.append(f"{app.ticks} redraws of {INVOCATIONS // BATCH}")
    rss = rss_mib()
    why = "; ".join(problems)
    print(
        "\nheld: "
        + ", ".join(f"{v / 2**20:.1f} MiB at {k // 1000}k" for k, v in marks.items())
        + f"; peak {peak / 2**20:.1f} MiB; process RSS {rss:.0f} MiB ({rss_before:.0f} MiB before the soak)"
    )
    # Flat: once the bounded structures are full, what is held stops growing.
    first, last = marks.get(MARKS[0]), marks.get(MARKS[-1])
    grew = (last - first) / 2**20 if first is not None and last is not None and not why else None
    report(
        f"soak: held memory growth, {MARKS[0] // 1000:,}k to {MARKS[-1] // 1000:,}k invocations",
        grew,
        unit=" MiB",
        fmt="{:.1f}",
        at_most=GROWTH_BUDGET_MIB,
        why_not=why or "a mark was never reached",
    )
    report(
        "soak: peak Python allocation (tracemalloc)",
        None if why else peak / 2**20,
        unit=" MiB",
        fmt="{:.1f}",
        at_most=PEAK_BUDGET_MIB,
        why_not=why,
    )
    report(
        f"soak: process RSS at {INVOCATIONS:,} invocations",
        None if why else rss,
        unit=" MiB",
        fmt="{:.0f}",
        at_most=RSS_BUDGET_MIB,
        why_not=why,
        note=f"{rss_before:.0f} MiB before the soak began in this process",
    )


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

"""The monitor's refresh rate with 1,000 containers under ~10k log events/s (DESIGN.md: >= 4 Hz).

A fake load and a fake log source feed the real app (headless, 200x60) both channels: every
100 ms, 250 invocations spread over 1,000 containers, i.e. 2,500 responses/s and 10,000 log
events/s (START, probe line, END, REPORT), parsed and applied as in a real run. Prints the redraw
rate achieved beside its budget (DESIGN.md: >= 4 Hz), the time one redraw takes, the events
applied and the CPU used. Nothing is asserted (run: make bench, or
`pytest tests/bench/bench_tui.py -m bench -s`).
"""

import asyncio
import statistics
import time

import pytest
from textual.widgets import DataTable

from tests.bench.budget import report as budget_row
from tests.tui.fakes import FakeLoad, FakeSource, Traffic, make_app, until
from tui.screen.widgets.containers import ContainerTable

pytestmark = pytest.mark.bench

CONTAINERS = 1000
SECONDS = 10.0
TICK = 0.1  # the producers' batch interval
INVOCATIONS_PER_TICK = 250  # x 4 log lines = 1,000 events per tick = 10k events/s
HZ_BUDGET = 4.0  # redraws a second at 1,000 containers under 10k events/s (DESIGN.md)


def prepare(t0: float):
    """Every batch of the run, built before the clock starts (generating text is not the app's cost)."""
    traffic = Traffic()
    warm_outcomes, warm_events = [], []
    for k in range(CONTAINERS):  # one cold invocation each: 1,000 rows before the run
        o, ev = traffic.invoke(k, t0 - 1, host=k % 7)
        warm_outcomes.append(o)
        warm_events += ev
    batches = []
    n = 0
    for tick in range(int(SECONDS / TICK)):
        outcomes, events = [], []
        for _ in range(INVOCATIONS_PER_TICK):
            o, ev = traffic.invoke(n % CONTAINERS, t0 + tick * TICK, host=(n % CONTAINERS) % 7)
            outcomes.append(o)
            events += ev
            n += 1
        batches.append((outcomes, events))
    return (warm_outcomes, warm_events), batches


async def run(sort: str, refresh_hz: float, cell_cache: bool = True) -> dict:
    if not cell_cache:  # DataTable's own drawing: every cell on screen again after any update
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ContainerTable, "_render_cell", DataTable._render_cell)
            return await run(sort, refresh_hz)
    load, source = FakeLoad(), FakeSource("bench")
    app = make_app(load=load, sources=[source], clock=time.time, refresh_hz=refresh_hz)
    app.fleet.idle_after_s = 60.0
    durations = []
    inner = app.refresh_view

    def timed_refresh():
        t = time.perf_counter()
        inner()
        durations.append(time.perf_counter() - t)

    app.refresh_view = timed_refresh
    (warm_o, warm_e), batches = prepare(time.time())
    async with app.run_test(size=(200, 60)) as pilot:
        load.feed(warm_o)
        source.feed(warm_e)
        await until(pilot, lambda: app.table.row_count == CONTAINERS and app.events_applied == len(warm_e), timeout=60)
        while app.sort_by != sort:
            await pilot.press("o")
        durations.clear()
        ticks0, events0, updates0, renders0 = app.ticks, app.events_applied, app.table.updates, app.table.renders
        lanes0 = app.timeline.rendered_lanes
        cpu0, wall0 = time.process_time(), time.perf_counter()
        next_at = wall0
        for outcomes, events in batches:
            load.feed(outcomes)
            source.feed(events)
            next_at += TICK
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        result = {
            "sort": sort,
            "target_hz": refresh_hz,
            "wall_s": wall,
            "hz": (app.ticks - ticks0) / wall,
            "events_per_s": (app.events_applied - events0) / wall,
            "offered_per_s": sum(len(e) for _, e in batches) / wall,
            "refresh_ms": [d * 1000 for d in durations],
            "cell_updates_per_tick": (app.table.updates - updates0) / max(1, app.ticks - ticks0),
            "lanes_per_tick": (app.timeline.rendered_lanes - lanes0) / max(1, app.ticks - ticks0),
            "cpu": cpu / wall,
            "cpu_ms_per_redraw": cpu * 1000 / max(1, app.ticks - ticks0),
            "renders_per_tick": (app.table.renders - renders0) / max(1, app.ticks - ticks0),
            "backlog_s": max(
                0.0,
                (sum(len(e) for _, e in batches) - (app.events_applied - events0))
                / max(1.0, (app.events_applied - events0) / wall),
            ),
        }
    return result


def report(r: dict) -> str:
    ms = sorted(r["refresh_ms"])
    head = (
        f"[tui sort={r['sort']}, {r['target_hz']:g} Hz asked] {CONTAINERS} containers, "
        f"{r['offered_per_s']:,.0f} log events/s offered, {r['events_per_s']:,.0f}/s applied: "
    )
    if not ms:
        return head + f"no redraw ran in {r['wall_s']:.1f} s, so there is no redraw time to show"
    p95 = ms[int(0.95 * (len(ms) - 1))]
    return head + (
        f"one redraw median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, "
        f"max {ms[-1]:.1f} ms; {r['cell_updates_per_tick']:.0f} cell updates and "
        f"{r['lanes_per_tick']:.0f} lanes drawn per redraw; process CPU {r['cpu'] * 100:.0f}% of a core "
        f"(parsing and model included)"
    )


@pytest.mark.parametrize("sort, refresh_hz", [("first", 5.0), ("invocations", 5.0), ("first", 10.0)])
async def test_refresh_rate_with_1000_containers(sort, refresh_hz):
    r = await run(sort, refresh_hz)
    print("\n" + report(r))
    budget_row(f"tui redraw rate, sort={sort}, {refresh_hz:g} Hz asked", r["hz"], unit=" Hz", at_least=HZ_BUDGET)


async def test_drawing_only_the_changed_cells_against_datatables_own():
    """ContainerTable._render_cell (a cell drawn again only when its text changed) against
    DataTable's (every cell on screen again after any update), side by side, interleaved."""
    rounds = {True: [], False: []}
    for _ in range(2):
        for cache in (False, True):
            rounds[cache].append(await run("first", 10.0, cell_cache=cache))
    med = {k: {f: statistics.median(r[f] for r in v) for f in ("hz", "cpu_ms_per_redraw")} for k, v in rounds.items()}
    cells = statistics.median(r["renders_per_tick"] for r in rounds[True])
    print(
        f"\n[tui cell drawing, 10 Hz asked, 2 interleaved rounds] changed cells only: "
        f"{med[True]['hz']:.2f} Hz, {med[True]['cpu_ms_per_redraw']:.0f} ms CPU a redraw ({cells:.0f} cells drawn); "
        f"DataTable's own: {med[False]['hz']:.2f} Hz, {med[False]['cpu_ms_per_redraw']:.0f} ms CPU a redraw"
    )
    budget_row(
        "tui CPU per redraw, changed cells only / DataTable's own",
        med[True]["cpu_ms_per_redraw"] / med[False]["cpu_ms_per_redraw"],
        unit="×",
        at_most=1.0,
    )

"""`watch` at Lambda's own scale, for real: the monitor (headless, 200x60, under Textual's Pilot)
started the way `lambdascope watch --concurrency 1000 --hold 2s --logs kinesis` starts it, its
1,000 rows fed by the Kinesis channel that moto's subscription filter writes. Two rows, side by
side in one run:

- apart: the local Lambda in its own process (`lambdascope local --kinesis`), the monitor reaching
  it by `--function --endpoint-url` as it reaches AWS: what the monitor itself costs, and how
  `watch` on the local Lambda runs (tui/aws/local_process.py);
- embedded, for comparison: the local Lambda in the monitor's own process and event loop (how
  `watch` ran before it ran apart), so the monitor shares its loop with a front door serving
  ~350 requests/s and its log shipping. No budget: no command runs it so at this scale.

Reports redraws a second beside the budget (apart: >= 4 Hz, issue 17), the rows held, the events
applied, the monitor's CPU share and the channel's MillisBehindLatest. Nothing is asserted (run:
make bench, or `pytest tests/bench/bench_watch_scale.py -m bench -s`).
"""

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from contextlib import AsyncExitStack, ExitStack, contextmanager

import pytest

from tests.bench.budget import report as budget_row
from tui.cli import build_parser
from tui.commands.watch import pending_target, plan_from_args, start
from tui.core.load import LoadState
from tui.screen.app import MonitorApp

pytestmark = pytest.mark.bench

ENVIRONMENTS = 1000
MEASURE_S = 40.0  # after the 1,000 rows are up
RAMP_TIMEOUT_S = 120.0  # 1,000 inits on 2 cores take ~30 s
HZ_BUDGET = 4.0


LOAD = ["--concurrency", str(ENVIRONMENTS), "--hold", "2s", "--logs", "kinesis", "--refresh-hz", "5"]


@contextmanager
def _local_apart():
    """`lambdascope local --kinesis` in its own process, with the test keys it accepts in this
    process's environment (the monitor signs with them, as with any endpoint)."""
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "local", "--kinesis"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        yield json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def _measure(where: str) -> dict:
    with ExitStack() as outer:
        argv = ["watch", *LOAD]
        if where == "apart":
            endpoints = outer.enter_context(_local_apart())
            argv += ["--function", endpoints["function_name"], "--endpoint-url", endpoints["endpoint_url"]]
            argv += ["--region", endpoints["region"]]
        return await _measure_args(build_parser().parse_args(argv))


async def _measure_args(args) -> dict:
    plan = plan_from_args(args)
    durations: list[float] = []
    async with AsyncExitStack() as stack:
        starting: list[asyncio.Task] = []
        app = MonitorApp(
            target=pending_target(args),
            load_state=LoadState.from_plan(plan),
            snapshot_dir="/tmp/lambdascope-bench-snaps",
            refresh_hz=args.refresh_hz,
            when_ready=lambda: starting.append(asyncio.create_task(start(app, args, plan, stack))),
        )
        inner = app.refresh_view

        def timed_refresh():
            t = time.perf_counter()
            inner()
            durations.append(time.perf_counter() - t)

        app.refresh_view = timed_refresh
        async with app.run_test(size=(200, 60)) as pilot:
            t0 = time.perf_counter()
            while app.table.row_count < ENVIRONMENTS and time.perf_counter() - t0 < RAMP_TIMEOUT_S:
                await pilot.pause(0.5)
            ramp_s = time.perf_counter() - t0
            rows_at_start = app.table.row_count
            durations.clear()
            ticks0, events0 = app.ticks, app.events_applied
            cpu0, wall0 = time.process_time(), time.perf_counter()
            lags = []
            while time.perf_counter() - wall0 < MEASURE_S:
                await pilot.pause(1.0)
                status = getattr(app.sources[0], "status", None) if app.sources else None
                lag_ms = getattr(status, "lag_ms", None)
                if lag_ms is not None:
                    lags.append(lag_ms / 1000.0)  # MillisBehindLatest, the channel's own lag
            wall = time.perf_counter() - wall0
            cpu = time.process_time() - cpu0
            result = {
                "ramp_s": ramp_s,
                "rows_at_start": rows_at_start,
                "rows": app.table.row_count,
                "hz": (app.ticks - ticks0) / wall,
                "events_per_s": (app.events_applied - events0) / wall,
                "cpu": cpu / wall,
                "refresh_ms": sorted(d * 1000 for d in durations),
                "lags": sorted(lags),
                "source": type(app.sources[0]).__name__ if app.sources else None,
                "requests": app.fleet.counters.requests,
            }
            await app.shutdown()
        if starting:
            await asyncio.wait(starting, timeout=30)
    return result


@pytest.mark.parametrize("where", ["apart", "embedded"])
async def test_watch_holds_1000_environments_from_kinesis_and_keeps_redrawing(where):
    r = await _measure(where)
    ms = r["refresh_ms"]
    redraw = (
        f"one redraw median {statistics.median(ms):.1f} ms, max {ms[-1]:.1f} ms"
        if ms
        else "no redraw ran while measured"
    )
    lags = r["lags"]
    lag = (
        f"MillisBehindLatest p50 {lags[len(lags) // 2]:.1f} s, max {lags[-1]:.1f} s"
        if lags
        else "channel lag not reported"
    )
    print(
        f"\n[watch, {ENVIRONMENTS} environments held 2 s each, --logs kinesis ({r['source']}), local Lambda {where}] "
        f"{r['rows_at_start']} rows after {r['ramp_s']:.0f} s, {r['rows']} at the end; "
        f"{r['events_per_s']:,.0f} log events/s applied; {redraw}; monitor process CPU "
        f"{r['cpu'] * 100:.0f}% of a core; {lag}; {r['requests']:,} requests"
    )
    budget_row(
        f"watch redraw rate, {ENVIRONMENTS} environments from Kinesis, local Lambda {where}"
        + ("" if where == "apart" else " (for comparison: how watch ran before)"),
        r["hz"],
        unit=" Hz",
        at_least=HZ_BUDGET if where == "apart" else None,
    )

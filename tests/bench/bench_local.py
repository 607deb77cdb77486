"""Local Lambda benchmarks: cold start per runtime, how many live environments the fork runtime
holds, what one held environment costs (the cap's budget), and 1,000 environments held under
load for a minute on the scale profile. They print figures beside their budgets and never assert
(run: make bench, or `pytest tests/bench/bench_local.py -m bench -s`; LOCAL_BENCH_STEADY_S
shortens the minute)."""

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from probe.handler import HOLD_HEADER
from probe.local import LocalLambda, capacity, load_profile
from probe.local.capacity import LOCAL_REASON, START_QUEUE_MAX_S
from probe.local.procs import descendants, peak_rss_mb

pytestmark = pytest.mark.bench
ROOT = Path(__file__).resolve().parents[2]

COLD_STARTS = 20
FLEET = 1000  # the design target for the fork runtime on 2 cores


def _fresh_every_time(runtime: str):
    prof = load_profile()
    prof.runtime = runtime
    prof.env_max_lifetime_s = 1e-6  # every released environment is retired: each call is cold
    return prof


@pytest.mark.parametrize("runtime", ["awslambdaric", "awslambdaric-fork", "fork"])
async def test_cold_start(runtime):
    async with LocalLambda(_fresh_every_time(runtime)) as ll, aiohttp.ClientSession() as http:
        latencies, warm = [], 0
        for _ in range(COLD_STARTS):
            t0 = time.perf_counter()
            async with http.get(ll.function_url) as resp:
                if (await resp.json()).get("cold") is not True:
                    warm += 1  # not what is being timed: counted and said, not asserted
                    continue
            latencies.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.05)  # let the retired one go, so starts do not overlap
        inits = [e["init_duration_ms"] for e in ll.environments if e.get("init_duration_ms") is not None]
    if not latencies or not inits:
        print(f"\n[{runtime}] cold start: not measured: {warm} of {COLD_STARTS} requests were warm, none cold")
        return
    print(
        f"\n[{runtime}] cold start over {len(latencies)}: Init Duration median "
        f"{statistics.median(inits):.1f} ms (min {min(inits):.1f}, max {max(inits):.1f}); "
        f"cold request end to end median {statistics.median(latencies):.1f} ms"
        + (f" ({warm} warm answers left out)" if warm else "")
    )


async def test_fork_runtime_fleet_size():
    """FLEET requests at once on the fork runtime, each held 20 s: how many environments run at
    once, how soon all are up, what they hold. What stopped short of FLEET is said in words."""
    prof = load_profile()
    prof.runtime = "fork"
    prof.timeout_s = 120.0
    prof.concurrency_limit = FLEET
    hold_s = 20.0  # long enough that the whole fleet is up at once
    ready_s = None
    pss_mb = 0.0
    async with LocalLambda(prof, handler="tests.local.handlers.behave") as ll:
        connector = aiohttp.TCPConnector(limit=FLEET + 10)
        timeout = aiohttp.ClientTimeout(total=300)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            t0 = time.perf_counter()

            async def one():
                async with http.post(ll.function_url, json={"sleep": hold_s}) as resp:
                    await resp.read()
                    return resp.status

            tasks = [asyncio.ensure_future(one()) for _ in range(FLEET)]
            peak = 0
            while not all(t.done() for t in tasks):
                live = sum(1 for e in ll.fleet.live.values() if e.state == "busy" and e.init_duration_ms is not None)
                peak = max(peak, live)
                if peak == FLEET:
                    ready_s = time.perf_counter() - t0
                    pss_mb = sum(_pss_kb(e.pid) for e in ll.fleet.live.values()) / 1024
                    break
                await asyncio.sleep(0.1)
            statuses = await asyncio.gather(*tasks, return_exceptions=True)
            status = ll.fleet.status()
        envs = ll.environments
        inits = sorted(e["init_duration_ms"] for e in envs if e["init_duration_ms"])
        queued = sorted(e["local_queue_ms"] for e in envs if e["local_queue_ms"] is not None)
        main_rss = peak_rss_mb(os.getpid())
        shipped = ll.shipper.shipped
    ok = statuses.count(200)
    if ready_s is not None:
        up = f"all {FLEET:,} up after {ready_s:.2f} s ✓; environments' total PSS {pss_mb:.0f} MB"
    else:
        up = f"never all {FLEET:,} at once ✗: {_why_short(status, statuses)}"
    print(
        f"\n[fork] {FLEET:,} concurrent requests: {ok:,} ok, peak {peak:,} environments running at once "
        f"(budget {FLEET:,}); {up}; Init Duration {_dist(inits)}; this machine's start queue "
        f"{_dist(queued)}; main process peak RSS {main_rss} MB; {shipped:,} log events shipped; "
        f"cap {ll.fleet.budget.describe()}"
    )


def _dist(values: list[float]) -> str:
    """Median and p95 (nearest rank) in ms, or why there are none: never nan."""
    if not values:
        return "none measured (no environment finished its init)"
    p95 = values[min(len(values) - 1, max(0, -(-len(values) * 95 // 100) - 1))]
    return f"median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms (n={len(values):,})"


def _why_short(status: dict, outcomes: list) -> str:
    """In words, what kept the fleet from its size: whose limit, how many times."""
    reasons = []
    if status.get("local_limited"):
        reasons.append(
            f"{status['local_limited']:,} requests got the local machine's 429 (cap "
            f"{status['max_environment_processes']:,} processes, set by {status['budget']['binding']}; "
            f"or a start queue past {START_QUEUE_MAX_S:.0f} s at ~{status['init_s_estimate'] * 1000:.0f} ms "
            f"per init, {status['max_starting']} at a time)"
        )
    lambda_throttles = {k: v for k, v in status.get("throttles", {}).items() if k != LOCAL_REASON}
    if lambda_throttles:
        reasons.append("Lambda's throttles " + ", ".join(f"{k} {v:,}" for k, v in lambda_throttles.items()))
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    if errors:
        reasons.append(f"{len(errors):,} requests failed at the client (first: {errors[0]!r:.80})")
    others = sum(1 for o in outcomes if isinstance(o, int) and o not in (200, 429))
    if others:
        reasons.append(f"{others:,} answered with another status")
    return "; ".join(reasons) or "the requests finished before the last environment was up (hold too short)"


def _pss_kb(pid) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, TypeError):
        pass
    return 0


# -- what one held environment costs, and 1,000 held under load -------------------------------
MEASURE_HELD = 200  # environments held asleep to measure one's cost (the cap's ENV_KB)


@pytest.mark.parametrize("runtime", ["fork", "awslambdaric-fork", "awslambdaric"])
async def test_memory_per_held_environment(runtime):
    """What capacity.ENV_KB budgets: MemAvailable, RSS, PSS and descriptors per held environment."""
    prof = load_profile()
    prof.runtime = runtime
    prof.timeout_s = 120.0
    async with LocalLambda(prof, handler="tests.local.handlers.hold_until") as ll:
        release = os.path.join(ll._tmp, "release")
        connector = aiohttp.TCPConnector(limit=MEASURE_HELD + 10)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
            before = (capacity.available_kb() or 0, _status_kb(os.getpid(), "VmRSS"), _fds())

            async def one():
                async with http.post(ll.function_url, json={"until": release}) as resp:
                    return resp.status

            tasks = [asyncio.ensure_future(one()) for _ in range(MEASURE_HELD)]
            try:
                async with asyncio.timeout(120):
                    while sum(1 for e in ll.fleet.live.values() if e.ready and e.state == "busy") < MEASURE_HELD:
                        await asyncio.sleep(0.1)
                await asyncio.sleep(1.0)  # let the page cache and the log shipper settle
                after = (capacity.available_kb() or 0, _status_kb(os.getpid(), "VmRSS"), _fds())
                rollups = [_rollup(e.pid) for e in ll.fleet.live.values()]
            finally:
                open(release, "w").close()
            statuses = await asyncio.gather(*tasks, return_exceptions=True)
    n = MEASURE_HELD
    per = {k: sum(r.get(k, 0) for r in rollups) / n / 1024 for k in ("Rss", "Pss")}
    drop_mb = (before[0] - after[0]) / n / 1024
    budget_mb = capacity.ENV_KB[runtime] / 1024
    print(
        f"\n[{runtime}] {n} environments held asleep ({statuses.count(200)} ok): per environment "
        f"MemAvailable {drop_mb:.1f} MB (budget {budget_mb:.1f} MB {'✓' if drop_mb <= budget_mb else '✗'}; "
        f"other work on the machine moves this figure), RSS {per['Rss']:.1f} MB, PSS {per['Pss']:.1f} MB, "
        f"the local Lambda's own RSS {(after[1] - before[1]) / n:.0f} KB, descriptors {(after[2] - before[2]) / n:.1f} "
        f"(budget {capacity.FDS_PER_ENV} + the test client's 1)"
    )


HELD = 1000
HOLD_S = 2.0  # each request sleeps this long in its handler: ~500 requests/s from 1,000 clients
HOLD = {HOLD_HEADER: str(int(HOLD_S * 1000))}
STEADY_S = float(os.environ.get("LOCAL_BENCH_STEADY_S", "60"))
RATE_BUDGET = 400.0
# The local Lambda as `lambdascope local` runs it, with its collector's policy (loadgen/gc_policy.py).
SERVER = """
import asyncio, json, os, sys
from loadgen import gc_policy
from probe.local import LocalLambda

async def main():
    async with LocalLambda(sys.argv[1], handler=sys.argv[2]) as ll:
        gc_policy.freeze_startup()
        print(json.dumps({"url": ll.function_url, "status": ll.status_url, "moto": ll.moto.pid}), flush=True)
        await asyncio.Event().wait()

gc_policy.tune()
try:
    asyncio.run(main())
except KeyboardInterrupt:
    pass  # the bench's SIGINT: the local Lambda stopped everything it started
"""


# scale: the fork runtime's small loop; today (the default): real awslambdaric, forked.
@pytest.mark.parametrize("profile", ["scale", "today"])
async def test_thousand_held_environments_under_load(profile):
    """1,000 closed-loop clients, each request held HOLD_S in its handler, for STEADY_S once all
    are up, against the local Lambda on `profile` in its own process (its CPU and RSS apart
    from the clients'). The probe itself holds each request (its hold header)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, profile, "probe.handler.handler"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        info = json.loads(proc.stdout.readline())
        report = await _hold_and_load(info, proc.pid, profile)
    finally:
        proc.send_signal(signal.SIGINT)  # the local Lambda stops everything it started
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    print("\n" + report)


async def _hold_and_load(info: dict, pid: int, profile: str) -> str:
    done: list[tuple[float, float, int]] = []  # (finished at, latency s, status)
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=HELD + 10)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:

        async def client():
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    async with http.get(info["url"], headers=HOLD) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError):
                    status = -1
                done.append((time.perf_counter(), time.perf_counter() - t0, status))

        t_start = time.perf_counter()
        clients = [asyncio.ensure_future(client()) for _ in range(HELD)]
        status: dict = {}
        ramp_s = None
        deadline = t_start + 60.0
        while time.perf_counter() < deadline:  # until all are up, or a minute
            async with http.get(info["status"]) as resp:
                status = await resp.json()
            if status["environments"] >= HELD and status["starting"] == 0:
                ramp_s = time.perf_counter() - t_start
                break
            await asyncio.sleep(0.5)
        ramp_status = status
        cpu0, w0 = _tree_cpu_s(pid), time.perf_counter()
        await asyncio.sleep(STEADY_S)
        cpu1, w1 = _tree_cpu_s(pid), time.perf_counter()
        async with http.get(info["status"]) as resp:
            status = await resp.json()
        mem = _tree_memory_mb(pid, info["moto"])
        stop.set()
        await asyncio.gather(*clients, return_exceptions=True)
    window = [(lat, st) for t, lat, st in done if w0 <= t <= w1]
    ok = sorted(lat for lat, st in window if st == 200)
    rate = len(ok) / (w1 - w0)
    envs = status["environments"]
    ramp = (
        f"all up after {ramp_s:.1f} s"
        if ramp_s is not None
        else f"not all up after 60 s: {ramp_status.get('environments', 0):,} there, "
        f"{ramp_status.get('starting', 0):,} still starting"
    )
    if ok:
        p99_ms = ok[min(len(ok) - 1, -(-len(ok) * 99 // 100) - 1)] * 1000
        p99 = f"p99 {p99_ms:,.0f} ms (hold {HOLD_S * 1000:,.0f} ms: +{p99_ms - HOLD_S * 1000:,.0f} ms here)"
    else:
        p99 = "p99 not measured: no request succeeded in the window"
    failed = len(window) - len(ok)
    cores = os.cpu_count() or 1
    return (
        f"[{profile}] {HELD:,} clients, each request held {HOLD_S:g} s, {w1 - w0:.0f} s once up ({ramp}):\n"
        f"  environments {envs:,} (budget ≥{HELD:,} {'✓' if envs >= HELD else '✗'})\n"
        f"  requests/s   {rate:,.0f} (budget ≥{RATE_BUDGET:,.0f} {'✓' if rate >= RATE_BUDGET else '✗'}); "
        f"{failed:,} failed or throttled in the window; local 429s {status['local_limited']:,}\n"
        f"  latency      {p99}\n"
        f"  CPU          the local Lambda's processes {(cpu1 - cpu0) / (w1 - w0) * 100:.0f}% of a core "
        f"({cores} cores; moto, the fork server and the environments included)\n"
        f"  memory       {mem} (cap's budget {HELD * capacity.ENV_KB['fork'] / 1024:,.0f} MB for "
        f"{HELD:,} environments)\n"
        f"  start queue  {status['queued_starts']:,} environments queued here, mean "
        f"{status['local_queue_ms_mean']:,.0f} ms, max {status['local_queue_ms_max']:,.0f} ms (not Lambda's)\n"
        f"  machine      load average {os.getloadavg()[0]:.1f} on {cores} cores at the end (other work shares them)"
    )


def _tree_cpu_s(root: int) -> float:
    """CPU seconds the process tree under `root` has used (its live members, reaped children too)."""
    total = 0.0
    for pid in [root, *descendants(root)]:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def _tree_memory_mb(root: int, moto: int) -> str:
    kids = descendants(root)
    envs = [p for p in kids if p != moto and _status_kb(p, "VmRSS")]
    env_pss = sum(_pss_kb(p) for p in envs) / 1024
    return (
        f"local Lambda RSS {_status_kb(root, 'VmRSS') / 1024:,.0f} MB, "
        f"moto {_status_kb(moto, 'VmRSS') / 1024:,.0f} MB, "
        f"{len(envs):,} environment processes (and the fork server) PSS {env_pss:,.0f} MB in all"
    )


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rollup(pid) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                parts = line.split()
                if parts[0] in ("Rss:", "Pss:"):
                    out[parts[0][:-1]] = int(parts[1])
    except (OSError, TypeError):
        pass
    return out

"""Local Lambda benchmarks: cold start per runtime, and how many live environments the fork
runtime holds. They print figures and never assert timing (run: make bench, or
`pytest tests/bench/bench_local.py -m bench -s`)."""

import asyncio
import os
import statistics
import time

import aiohttp
import pytest

from probe.local import LocalLambda, load_profile
from probe.local.procs import peak_rss_mb

pytestmark = pytest.mark.bench

COLD_STARTS = 20
FLEET = 1000  # the design target for the fork runtime on 2 cores


def _fresh_every_time(runtime: str):
    prof = load_profile()
    prof.runtime = runtime
    prof.env_max_lifetime_s = 1e-6  # every released environment is retired: each call is cold
    return prof


@pytest.mark.parametrize("runtime", ["awslambdaric", "fork"])
async def test_cold_start(runtime):
    async with LocalLambda(_fresh_every_time(runtime)) as ll, aiohttp.ClientSession() as http:
        latencies = []
        for _ in range(COLD_STARTS):
            t0 = time.perf_counter()
            async with http.get(ll.function_url) as resp:
                assert (await resp.json())["cold"] is True
            latencies.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.05)  # let the retired one go, so starts do not overlap
        inits = [e["init_duration_ms"] for e in ll.environments]
    print(
        f"\n[{runtime}] cold start over {COLD_STARTS}: Init Duration median "
        f"{statistics.median(inits):.1f} ms (min {min(inits):.1f}, max {max(inits):.1f}); "
        f"cold request end to end median {statistics.median(latencies):.1f} ms"
    )


async def test_fork_runtime_fleet_size():
    prof = load_profile()
    prof.runtime = "fork"
    prof.timeout_s = 120.0
    prof.concurrency_limit = FLEET
    hold_s = 20.0  # long enough that the whole fleet is up at once
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
            live = peak = 0
            while not all(t.done() for t in tasks):
                live = sum(1 for e in ll.fleet.live.values() if e.state == "busy" and e.init_duration_ms is not None)
                peak = max(peak, live)
                if peak == FLEET:
                    ready_s = time.perf_counter() - t0
                    pss_mb = sum(_pss_kb(e.pid) for e in ll.fleet.live.values()) / 1024
                    break
                await asyncio.sleep(0.1)
            else:
                ready_s = pss_mb = float("nan")
            statuses = await asyncio.gather(*tasks)
        envs = ll.environments
        inits = sorted(e["init_duration_ms"] for e in envs if e["init_duration_ms"])
        main_rss = peak_rss_mb(os.getpid())
        shipped = ll.shipper.shipped
    ok = statuses.count(200)
    print(
        f"\n[fork] {FLEET} concurrent requests: {ok} ok, peak {peak} environments running "
        f"at once, all up after {ready_s:.2f} s; Init Duration median "
        f"{statistics.median(inits):.1f} ms, p95 {inits[int(len(inits) * 0.95)]:.1f} ms; "
        f"environments' total PSS {pss_mb:.0f} MB; main process peak RSS {main_rss} MB; "
        f"{shipped} log events shipped"
    )


def _pss_kb(pid) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, TypeError):
        pass
    return 0

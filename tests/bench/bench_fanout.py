"""Fan-out benchmark: one plan run by this machine, then by 4 and by 16 loader functions, on the
local Lambda, side by side in one bench run. Figures beside their budgets (✓/✗), never asserts.

    .venv/bin/python -m pytest tests/bench/bench_fanout.py -m bench -s      (or: make bench)

FANOUT_BENCH_ROUNDS (default 3) rounds of one machine, 4 and 16 loaders, interleaved; each figure
is the median of its per-round ratios (a shared machine's other work drifts slowly).

The plan (FANOUT_BENCH_PLAN, default `16c@3s, 300r@3s`) has a closed stage (as fast as the
machine answers: the loaders' cost shows as lost rate) and an open stage (a rate the plan sets:
a fan-out must deliver it). Each run gets a fresh local Lambda, so each starts from the same cold
fleet, and the loaders' own cold starts count against them, as they would on Lambda.

Per run: the merged rate (requests sent inside the plan's stages over the plan's length, from the
outcomes on this clock, the same for every run) as a ratio to the single machine's, and per stage
(an open stage against the plan's own rate, the single machine's beside it). Per loader, its
overhead: its CPU before its first request (spawn, imports, client: read when every loader has
said hello, waiting for the shared start); the CPU per request of the rest of the run against the
single machine's, and from that what a loader costs per second beyond its requests; the time
from its invoke to its handler running against the shared start's lead (fanout.START_AHEAD_S: a
loader later than that misses the start); its peak RSS. CPU is this process (the monitor, the
local Lambda's front door, a single machine's load) plus every loader process; never the
probe's environments or moto.

On this 2-core machine the loaders share the cores with the probe's environments and the
monitor; on Lambda each loader has its own, so the closed stage's ratio here is a floor.
"""

import asyncio
import os
import statistics
import time

import pytest

from loadgen.ramp import parse
from loadgen.steering import Steering
from probe.local.procs import descendants, peak_rss_mb
from tests.bench.budget import report
from tui.aws.target import LocalTarget
from tui.commands.plan_flag import base_plan
from tui.methods.experiment import run_experiment
from tui.methods.fanout import START_AHEAD_S, FanOut

pytestmark = pytest.mark.bench

PLAN = os.environ.get("FANOUT_BENCH_PLAN", "16c@3s, 300r@3s")
LOADERS = (4, 16)
ROUNDS = int(os.environ.get("FANOUT_BENCH_ROUNDS", "3"))
RATE_BUDGET = 0.9  # x the single machine, whole plan: a fan-out should not lose a tenth of it here
OPEN_BUDGET = 0.99  # x the plan's rate in an open stage: a rate the plan sets, not the machine
# Proposed, not yet in DESIGN.md: a loader's cold start here is one Python process importing
# loadgen and aiohttp; a request through a loader is the single machine's work plus one row
# encoded there and decoded here, so at most twice the CPU.
START_CPU_BUDGET_MS = 500.0
CPU_RATIO_BUDGET = 2.0
RUNNING_BUDGET_MS = 20.0  # a loader beside its load: 2% of a core, so 16 cost a third of one here
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """utime + stime of a process and its live descendants, in seconds (0 once gone)."""
    total = 0.0
    for p in {pid, *descendants(pid)}:
        try:
            with open(f"/proc/{p}/stat", "rb") as fh:
                rest = fh.read().rsplit(b")", 1)[1].split()
            total += (int(rest[11]) + int(rest[12])) / TICKS
        except (OSError, IndexError, ValueError):
            pass
    return total


def _loader_envs(local) -> list:
    pool = local.loader.started if local.loader is not None else None
    return [e for e in pool.environments if e.pid] if pool is not None else []


async def _at_start(fan: FanOut, local, out: list[float]) -> None:
    """Each loader's CPU when all have said hello (spawned, imported, waiting for the shared
    start) or at the start if that comes first: what a loader costs before it sends anything."""
    while fan.start_at is None or (time.time() < fan.start_at and any(s.offset_max_s is None for s in fan.states)):
        await asyncio.sleep(0.01)
    out.extend(_cpu_s(e.pid) for e in _loader_envs(local))


async def _run(loaders: int | None) -> dict:
    """The plan on a fresh local Lambda, by this machine (None) or `loaders` loaders."""
    ramp = parse(PLAN)
    plan = base_plan(ramp)
    sent: list[tuple[float, float]] = []  # (sent_at, answered_at) on this clock
    async with LocalTarget() as target:
        steering = Steering(ramp, plan, time.time())
        fan = None if loaders is None else FanOut(target, plan, loaders, ramp=ramp, client=target.http_client)
        local = target.extra["local"]
        started: list[float] = []  # the loaders' CPU once every one is ready, before any load
        sampler = asyncio.create_task(_at_start(fan, local, started)) if fan is not None else None
        cpu0 = time.process_time()
        result = await run_experiment(
            target,
            plan,
            settle_timeout_s=60,
            runner=fan,
            steering=steering,
            on_batch=lambda b: sent.extend((o.sent_at, o.sent_at + (o.latency_ms or 0) / 1000) for o in b),
        )
        cpu = time.process_time() - cpu0
        if sampler is not None:
            sampler.cancel()
        envs = _loader_envs(local)
        cpu += sum(_cpu_s(e.pid) for e in envs)  # new processes: all their CPU is this run's
        rss = [r for r in (peak_rss_mb(e.pid) for e in envs) if r]
    start = steering.started_at
    stages, at = [], 0.0
    for s in ramp.stages:
        n = sum(1 for t, _ in sent if start + at <= t < start + at + s.duration_s)
        stages.append(n / s.duration_s)
        at += s.duration_s
    span = max(a for _, a in sent) - min(t for t, _ in sent) if sent else 0.0
    return {
        "requests": len(sent),
        # Sent inside the plan's windows over the plan's length: one straggler's answer (a slow
        # cold start) would stretch first-sent-to-last-answer and read as lost rate.
        "rate": sum(n * s.duration_s for n, s in zip(stages, ramp.stages, strict=True)) / ramp.duration_s,
        "span_s": span,
        "stages": stages,
        "cpu_s": cpu,
        "start_cpu": started if loaders is not None else [],
        "confirmed": result.missing == 0 and result.unaccounted == 0,
        "ok": fan is None or all(s.ok for s in fan.states),
        "starts": [s.offset_max_s for s in fan.states if s.offset_max_s is not None] if fan else [],
        "rss": rss,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def _figures(run: dict, single: dict, ramp, n: int) -> dict[str, float | None]:
    """One round's figures for `n` loaders against that round's single machine."""
    out: dict[str, float | None] = {"merged": _ratio(run["rate"], single["rate"]), "rate": run["rate"]}
    for i, (stage, mine, theirs) in enumerate(zip(ramp.stages, run["stages"], single["stages"], strict=True)):
        if stage.mode == "open" and stage.start == stage.end:
            out[f"stage{i}"], out[f"stage{i}_one"] = mine / stage.start, theirs / stage.start
        else:
            out[f"stage{i}"] = _ratio(mine, theirs)
        out[f"stage{i}_rate"] = mine
    per_request = single["cpu_s"] / single["requests"] if single["requests"] else None
    start_cpu = run["start_cpu"]
    out["start_cpu_ms"] = statistics.median(start_cpu) * 1000 if start_cpu else None
    mine_cpu = (run["cpu_s"] - sum(start_cpu)) / run["requests"] if run["requests"] else None
    out["cpu_ratio"] = _ratio(mine_cpu, per_request)
    out["cpu_ms"], out["cpu_one_ms"] = (mine_cpu or 0) * 1000, (per_request or 0) * 1000
    # What a loader costs while it runs, beyond the requests it carries (its loop, its ticks,
    # its batches encoded there and decoded here), per second of the plan.
    if mine_cpu is not None and per_request is not None:
        out["running_ms"] = (mine_cpu - per_request) * run["requests"] / n / ramp.duration_s * 1000
    out["start_s"] = max(run["starts"]) if run["starts"] else None
    out["start_median_s"] = statistics.median(run["starts"]) if run["starts"] else None
    out["rss_mb"] = statistics.median(run["rss"]) if run["rss"] else None
    out["whole"] = 1.0 if run["confirmed"] and run["ok"] else 0.0
    return out


def _median(rounds: list[dict], key: str) -> float | None:
    values = [r[key] for r in rounds if r.get(key) is not None]
    return statistics.median(values) if values else None


async def test_fan_out_against_one_machine():
    ramp = parse(PLAN)
    rounds: dict[int, list[dict]] = {n: [] for n in LOADERS}
    singles = []
    for _ in range(ROUNDS):  # interleaved: another engineer's work drifts slowly; a round's ratio cancels most
        single = await _run(None)
        singles.append(single)
        for n in LOADERS:
            rounds[n].append(_figures(await _run(n), single, ramp, n))
    one = ", ".join(f"{s['rate'] or 0:,.0f}/s" for s in singles)
    print(f"\nfan-out bench, plan {PLAN!r}, {ROUNDS} rounds (medians of per-round ratios); one machine {one}")
    for n, rs in rounds.items():
        m = lambda key: _median(rs, key)  # noqa: E731 - one name for the many medians below
        whole = sum(r["whole"] for r in rs)
        said = "" if whole == len(rs) else f"; only {whole:.0f} of {len(rs)} rounds confirmed every request"
        report(
            f"fan-out {n}: merged rate vs one machine",
            m("merged"),
            unit="×",
            at_least=RATE_BUDGET,
            note=f"{m('rate') or 0:,.0f}/s{said}",
        )
        for i, stage in enumerate(ramp.stages):
            if f"stage{i}_one" in rs[0]:
                report(
                    f"fan-out {n}: stage {i + 1} {stage.text()} rate vs the plan's",
                    m(f"stage{i}"),
                    unit="×",
                    fmt="{:.3f}",
                    at_least=OPEN_BUDGET,
                    note=f"one machine {m(f'stage{i}_one') or 0:.3f}×",
                )
            else:
                report(
                    f"fan-out {n}: stage {i + 1} {stage.text()} rate vs one machine",
                    m(f"stage{i}"),
                    unit="×",
                    at_least=RATE_BUDGET,
                    note=f"{m(f'stage{i}_rate') or 0:,.0f}/s",
                )
        report(
            f"fan-out {n}: loader CPU before its first request, median",
            m("start_cpu_ms"),
            unit=" ms",
            fmt="{:,.0f}",
            at_most=START_CPU_BUDGET_MS,
            why_not="no loader process to read at the start",
            note="spawn, imports, client",
        )
        report(
            f"fan-out {n}: CPU per request vs one machine",
            m("cpu_ratio"),
            unit="×",
            at_most=CPU_RATIO_BUDGET,
            note=f"{m('cpu_ms') or 0:.2f} ms against {m('cpu_one_ms') or 0:.2f} ms, loaders' start left out",
        )
        report(
            f"fan-out {n}: CPU per loader per second of load, beyond its requests",
            m("running_ms"),
            unit=" ms",
            fmt="{:,.1f}",
            at_most=RUNNING_BUDGET_MS,
            note="a thousandth of a core per ms",
        )
        report(
            f"fan-out {n}: slowest loader invoke to running",
            m("start_s"),
            unit=" s",
            at_most=START_AHEAD_S,
            why_not="no loader said hello",
            note=f"median loader {m('start_median_s') or 0:.2f} s",
        )
        report(
            f"fan-out {n}: loader peak RSS, median",
            m("rss_mb"),
            unit=" MB",
            fmt="{:,.0f}",
            why_not="no loader process left to read",
        )

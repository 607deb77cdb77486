"""`idle-reclaim`: after how long idle does Lambda reclaim an environment?

The method ("Peeking Behind the Curtains of Serverless Platforms", Wang et al., USENIX ATC 2018):
warm N environments with N concurrent requests, go quiet for a gap, then send N concurrent
requests again. Every answer names its environment (the probe's `container_id`), so the probe
tells at once how many of the warm ones served again and how many answers came from new ones.
The gaps grow; the first gap after which warm environments were replaced brackets the reclaim
time between the previous gap and this one. Each probe re-warms what it touches, so every gap
is measured from a fresh warm set.

Limits: it measures what the platform did to *these* environments; Lambda may reclaim earlier
under memory pressure or later when idle capacity is plentiful (observations say about 10
minutes today). N concurrent requests land on N environments only if none is busy: the probe
is the only load, so that holds unless another client shares the function.
"""

import asyncio
from dataclasses import dataclass

LOCAL_GAPS_S = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)
AWS_GAPS_S = (60.0, 120.0, 240.0, 360.0, 480.0, 600.0, 900.0, 1200.0, 1800.0)


@dataclass(frozen=True, slots=True)
class Probe:
    gap_s: float  # quiet before this probe
    reused: int  # answers from environments warm before the gap
    new: int  # answers from environments never seen before
    failed: int  # requests without an answer naming an environment


def classify(outcomes: list, warm: set[str]) -> tuple[int, int, int, set[str]]:
    """(reused, new, failed, environments that answered) for one probe's outcomes."""
    reused = new = failed = 0
    seen: set[str] = set()
    for o in outcomes:
        cid = o.container_id if o.error is None else None
        if not cid:
            failed += 1
            continue
        seen.add(cid)
        if cid in warm:
            reused += 1
        else:
            new += 1
    return reused, new, failed, seen


def finding(n: int, probes: list[Probe]) -> dict:
    """The method's finding: the bracket, every probe, and a line a person reads."""
    lo, hi = 0.0, None
    for p in probes:
        if p.new == 0 and p.reused > 0:
            lo = max(lo, p.gap_s)
        elif p.new > 0 and hi is None:
            hi = p.gap_s
    steps = [{"gap_s": p.gap_s, "reused": p.reused, "new": p.new, "failed": p.failed} for p in probes]
    if hi is None:
        text = (
            f"no warm environment was reclaimed after up to {_s(lo)} idle "
            f"({len(probes)} probes of {n}); try longer --gaps"
        )
    else:
        replaced = next(p for p in probes if p.gap_s == hi)
        whole = "all" if replaced.reused == 0 else f"{replaced.new} of {replaced.new + replaced.reused}"
        text = (
            f"idle environments were reclaimed after more than {_s(lo)} and at most {_s(hi)} idle "
            f"({whole} replaced after {_s(hi)})"
        )
    return {
        "kind": "idle_reclaim",
        "text": text,
        "environments": n,
        "reclaimed_after_s": None if hi is None else [lo, hi],
        "kept_after_s": lo,
        "probes": steps,
    }


def _s(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


async def run(target, *, environments: int, gaps_s: tuple[float, ...], send, progress, sleep=asyncio.sleep) -> dict:
    """Warm, then probe after each gap until every warm environment was replaced."""
    first = await send(target, environments, requests=environments)
    _, _, failed, warm = classify(first, set())
    progress(f"warmed {len(warm)} environments ({failed} requests failed)")
    if not warm:
        return {
            "kind": "idle_reclaim",
            "text": "no request was answered by the probe: nothing to measure",
            "environments": 0,
            "reclaimed_after_s": None,
            "kept_after_s": 0.0,
            "probes": [],
        }
    probes: list[Probe] = []
    for i, gap in enumerate(gaps_s, 1):
        await _quiet(gap, f"probe {i}/{len(gaps_s)}", progress, sleep)
        outcomes = await send(target, len(warm), requests=len(warm))
        reused, new, failed, seen = classify(outcomes, warm)
        probes.append(Probe(gap, reused, new, failed))
        progress(f"probe {i}/{len(gaps_s)} after {_s(gap)} idle: {reused} reused, {new} new, {failed} failed")
        warm = seen or warm
        if reused == 0 and new > 0:
            break  # every warm environment was replaced: the bracket is found
    return finding(environments, probes)


async def _quiet(gap: float, what: str, progress, sleep) -> None:
    """Wait `gap` seconds, counting down in whole seconds for a person watching."""
    left = gap
    while left > 0:
        progress(f"{what}: quiet, {left:.0f} s left", transient=True)
        step = min(1.0, left)
        await sleep(step)
        left -= step

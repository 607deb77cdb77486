"""`blog`: the seed's experiment (`ab -n 1000 -c 10`, then count per log stream), with its story.

The same as `lambdascope run --requests 1000 --concurrency 10`: both channels, settled against
the logs, then the per-container table and the findings under it.
"""

from loadgen.plan import Plan

REQUESTS, CONCURRENCY = 1000, 10


def plan() -> Plan:
    return Plan(mode="closed", level=CONCURRENCY, requests=REQUESTS)


async def run(target, *, progress, runner=None) -> dict:
    """`runner`: the load already made (experiment blog --fan-out N: a FanOut of loaders)."""
    from tui.core import findings
    from tui.core import snapshot as export
    from tui.methods.experiment import run_experiment

    progress(f"{REQUESTS} requests at {CONCURRENCY} concurrent")
    result = await run_experiment(target, plan(), runner=runner)
    story = findings.tell(result.fleet, result.finished_at)
    doc = export.snapshot(result.fleet, now=result.finished_at, source=target.describe())
    t = doc["totals"]
    text = (
        f"{t['containers']} containers, {t['invocations']} invocations, {t['cold_starts']} cold starts, "
        f"{t['errors']} errors, {t['throttled']} throttled ({result.missing} not confirmed by the logs)"
    )
    return {"kind": "blog", "text": text, "findings": story.lines(), "snapshot": doc}

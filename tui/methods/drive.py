"""The IO under the classic methods: send a measured amount of load, hand back every outcome.

A method is a procedure (warm up, wait, probe, step up) written as calls to `send`; each call
is one run of the load generator, so a method reads as the experiment it is and stays testable.
`experiment --fan-out N` swaps `send` for one whose bursts run on loader functions
(tui/methods/fanout_send.py); the methods do not know which one they were given.
"""

from loadgen.plan import Plan


def burst_plan(
    concurrency: int,
    *,
    requests: int | None = None,
    duration_s: float | None = None,
    rate: float | None = None,
    hold_ms: int = 0,
) -> Plan:
    """One burst: closed loop at `concurrency`, or open loop at `rate` with at most
    `concurrency` in flight, for `requests` or `duration_s`, each request held `hold_ms`."""
    return Plan(
        mode="open" if rate else "closed",
        level=rate if rate else concurrency,
        requests=requests,
        duration=duration_s,
        max_in_flight=max(concurrency, 1),
        hold_ms=hold_ms,
    )


def load_span(outcomes: list) -> float | None:
    """Seconds from the first request sent to the last answer: the load's own time, without the
    set-up around it (a runner's connections, a fan-out's shared start). None without outcomes."""
    if not outcomes:
        return None
    first = min(o.sent_at for o in outcomes)
    last = max(o.sent_at + (o.latency_ms or 0.0) / 1000.0 for o in outcomes)
    return max(last - first, 1e-6)


async def send(
    target,
    concurrency: int,
    *,
    requests: int | None = None,
    duration_s: float | None = None,
    rate: float | None = None,
    hold_ms: int = 0,
) -> list:
    """Run one burst of load against `target` (see burst_plan) and return its outcomes."""
    from loadgen.runner import Runner
    from loadgen.targets import target_from_spec

    plan = burst_plan(concurrency, requests=requests, duration_s=duration_s, rate=rate, hold_ms=hold_ms)
    runner = Runner(target_from_spec(target.load_spec()), plan, client=target.http_client)
    out = []
    async for batch in runner.run():
        out.extend(batch)
    return out

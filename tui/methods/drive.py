"""The IO under the classic methods: send a measured amount of load, hand back every outcome.

A method is a procedure (warm up, wait, probe, step up) written as calls to `send`; each call
is one run of the load generator, so a method reads as the experiment it is and stays testable.
"""

from loadgen.plan import Plan


async def send(
    target,
    concurrency: int,
    *,
    requests: int | None = None,
    duration_s: float | None = None,
    rate: float | None = None,
    hold_ms: int = 0,
) -> list:
    """Run one burst of load against `target` (closed loop at `concurrency`, or open loop at
    `rate`), for `requests` or `duration_s`, each request held `hold_ms` in the probe (--hold),
    and return its outcomes."""
    from loadgen.runner import Runner
    from loadgen.targets import target_from_spec

    if rate:
        plan = Plan(
            mode="open",
            level=rate,
            requests=requests,
            duration=duration_s,
            max_in_flight=max(concurrency, 1),
            hold_ms=hold_ms,
        )
    else:
        plan = Plan(
            mode="closed",
            level=concurrency,
            requests=requests,
            duration=duration_s,
            max_in_flight=max(concurrency, 1),
            hold_ms=hold_ms,
        )
    runner = Runner(target_from_spec(target.load_spec()), plan, client=target.http_client)
    out = []
    async for batch in runner.run():
        out.extend(batch)
    return out

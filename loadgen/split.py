"""A plan split into N equal shares, for N loaders (--fan-out). Pure: no IO.

Integers are divided with the remainder spread, one each to the first shares, never dropped:
2,000 requests over 3 loaders are 667 + 667 + 666, concurrency 20 over 3 is 7 + 7 + 6, so the
shares add up to the plan exactly. A rate divides as a float (each loader schedules its own
arrivals from the shared start at rate/N, so together they run the plan's rate). A duration and
a hold are every share's own. A plan that cannot give every loader a part (fewer workers or
requests than loaders) is refused with a PlanError naming the field.
"""

from dataclasses import replace

from loadgen.plan import Plan, PlanError


def spread(total: int, n: int) -> list[int]:
    """`total` in `n` parts that differ by at most one and add up to `total`."""
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def split_plan(plan: Plan, n: int) -> list[Plan]:
    if n < 1:
        raise PlanError("fan_out", f"must be at least 1 (got {n})")
    if plan.mode == "closed" and int(plan.level) < n:
        raise PlanError("level", f"must be at least the number of loaders ({n}) to give each a worker")
    if plan.requests is not None and plan.requests < n:
        raise PlanError("requests", f"must be at least the number of loaders ({n}) to give each a request")
    levels: list[float]
    if plan.mode == "closed":
        levels = [float(x) for x in spread(int(plan.level), n)]
    else:
        levels = [plan.level / n] * n
    requests = spread(plan.requests, n) if plan.requests is not None else [None] * n
    in_flight = spread(max(plan.max_in_flight, n), n)
    return [replace(plan, level=levels[i], requests=requests[i], max_in_flight=max(in_flight[i], 1)) for i in range(n)]

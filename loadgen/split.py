"""A plan split into N equal shares, for N loaders (--fan-out). Pure: no IO.

Integers are divided with the remainder spread, one each to the first shares, never dropped:
2,000 requests over 3 loaders are 667 + 667 + 666, concurrency 20 over 3 is 7 + 7 + 6, so the
shares add up to the plan exactly. A rate divides as a float (each loader schedules its own
arrivals from the shared start at rate/N, so together they run the plan's rate). A duration and
a hold are every share's own. A plan that cannot give every loader a part (fewer workers or
requests than loaders) is refused with a PlanError naming the field.

`share_of` is one loader's part of the load at one moment, for a fan-out that follows a ramp
plan (loadgen/loader/follow.py): each loader asks the whole plan what it wants now and takes its
part, so the parts add up to the plan at every moment, ramps included (splitting each stage's
ends instead would round each part on its own: 4 loaders on a 10c..100c ramp would be off by up
to 2 workers mid-ramp). A moment that asks fewer workers than loaders pauses the loaders
left without one, rather than refusing: the plan, not the loader count, says what runs.
"""

from dataclasses import replace

from loadgen.plan import MIN_RATE, Plan, PlanError


def spread(total: int, n: int) -> list[int]:
    """`total` in `n` parts that differ by at most one and add up to `total`."""
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def share_of(plan: Plan, index: int, n: int) -> Plan:
    """Loader `index`'s part (of `n`) of `plan`: never refused (see the module doc). A closed
    part of 0 workers is a paused plan at 1 (a closed plan has at least one); an open part below
    the smallest rate runs that rate (0.1/s: one loader's 0.1/s where 0.1 × n was asked)."""
    if not 0 <= index < n:
        raise PlanError("fan_out", f"loader {index} is not one of {n}")
    in_flight = max(spread(max(plan.max_in_flight, n), n)[index], 1)
    # A budget is never paused away: a part of 0 requests is refused by Plan (requests ≥ 1).
    requests = None if plan.requests is None else spread(plan.requests, n)[index]
    if plan.mode == "closed":
        workers = spread(int(plan.level), n)[index]
        level, paused = float(max(workers, 1)), plan.paused or workers == 0
    else:
        level, paused = max(plan.level / n, MIN_RATE), plan.paused
    return replace(plan, level=level, requests=requests, max_in_flight=in_flight, paused=paused)


def split_plan(plan: Plan, n: int) -> list[Plan]:
    if n < 1:
        raise PlanError("fan_out", f"must be at least 1 (got {n})")
    if plan.mode == "closed" and int(plan.level) < n:
        raise PlanError("level", f"must be at least the number of loaders ({n}) to give each a worker")
    if plan.requests is not None and plan.requests < n:
        raise PlanError("requests", f"must be at least the number of loaders ({n}) to give each a request")
    return [share_of(plan, i, n) for i in range(n)]

"""The function's and the account's limits, said before a run meets them: the hold a function's
timeout allows, and the concurrency Lambda will run before it throttles.

Pure: the numbers come from the target (tui/aws/aws_target.py reads GetFunctionConfiguration,
GetAccountSettings and GetFunctionConcurrency); this module only decides and words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadgen.duration import format_duration


@dataclass(frozen=True)
class ConcurrencyLimits:
    """What Lambda lets this function run at once. `account_limit` is the account's quota in the
    Region (ConcurrentExecutions), `unreserved` what is left of it for functions without a
    reservation (UnreservedConcurrentExecutions), `reserved` this function's own reservation
    (ReservedConcurrentExecutions; None when it has none). `source` names where they came from."""

    account_limit: int | None
    unreserved: int | None
    reserved: int | None = None
    source: str = "GetAccountSettings"

    @property
    def function_cap(self) -> int | None:
        """The most this function can run at once: its reservation if it has one (it can never
        go above it), else the account's unreserved pool (shared with every function without
        a reservation)."""
        if self.reserved is not None:
            return self.reserved
        return self.unreserved if self.unreserved is not None else self.account_limit


def max_hold_ms(timeout_s: float, margin_ms: int) -> int:
    """The longest hold the probe can keep inside a timeout of `timeout_s`: the timeout less the
    margin the probe leaves itself to answer (probe/handler.py HOLD_MARGIN_MS)."""
    return max(0, int(timeout_s * 1000) - margin_ms)


def hold_refusal(
    hold_ms: int,
    timeout_s: float | None,
    margin_ms: int,
    function: str,
    flag: str = "--hold",
    raise_timeout: str = "raise the function's timeout",
) -> str | None:
    """One line refusing a hold that would pass the function's timeout, else None."""
    if not hold_ms or timeout_s is None:
        return None
    bound = max_hold_ms(timeout_s, margin_ms)
    if hold_ms <= bound:
        return None
    return (
        f"{flag} {format_duration(hold_ms / 1000)} is longer than {function} can hold a request: its "
        f"timeout is {format_duration(timeout_s)} and the probe answers {margin_ms} ms before it, so "
        f"at most {format_duration(bound / 1000)}; shorten {flag}, or {raise_timeout}"
    )


def asked_concurrency(mode: str, level: float, hold_ms: int, max_in_flight: int) -> int:
    """How many requests a load keeps in flight at most: the concurrency in closed loop; in open
    loop, with a hold, about rate x hold (Little's law), never above the in-flight cap. An open
    loop without a hold asks for no known concurrency (0)."""
    if mode == "closed":
        return int(level)
    if not hold_ms:
        return 0
    return min(max_in_flight, math.ceil(level * hold_ms / 1000))


def concurrency_warning(asked: int, limits: ConcurrencyLimits | None, function: str) -> str | None:
    """One line when a run asks for more concurrency than Lambda will give this function, else
    None: the quota, the unreserved pool, the reservation, and what Lambda does with the rest."""
    if limits is None or not asked:
        return None
    cap = limits.function_cap
    if cap is None or asked <= cap:
        return None
    parts = []
    if limits.account_limit is not None:
        parts.append(f"the account's concurrency quota is {limits.account_limit:,}")
    if limits.reserved is not None:
        parts.append(f"{function} reserves {limits.reserved:,}")
    elif limits.unreserved is not None:
        parts.append(f"{limits.unreserved:,} unreserved, shared with every function without a reservation")
    where = " (" + "; ".join(parts) + ")" if parts else ""
    return (
        f"this run asks for {asked:,} concurrent requests, but Lambda will run at most {cap:,} of "
        f"{function} at once{where}: it throttles the excess ({asked - cap:,} at a time, 429 "
        f"TooManyRequestsException, counted as throttled); lower the load, or ask AWS for a "
        f"higher quota (Service Quotas: Lambda concurrent executions)"
    )


def peak_concurrency(plan, ramp_plan=None) -> int:
    """The most requests in flight a load plan (`loadgen.plan.Plan`), or any stage of a ramp
    plan run on it, asks for (see asked_concurrency)."""
    if ramp_plan is None:
        return asked_concurrency(plan.mode, plan.level, plan.hold_ms, plan.max_in_flight)
    return max(
        (
            asked_concurrency(
                s.mode, max(s.start, s.end), plan.hold_ms if s.hold_ms is None else s.hold_ms, plan.max_in_flight
            )
            for s in ramp_plan.stages
            if s.mode in ("closed", "open")
        ),
        default=0,
    )

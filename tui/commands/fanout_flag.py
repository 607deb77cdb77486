"""`--fan-out N`, the same for `run` and `watch`: the flag, and the fan-out of loaders it makes,
checked against the account's concurrency quota before anything starts."""

from tui.commands.options import positive_int
from tui.core.errors import UserError


def add_fan_out_flag(p) -> None:
    p.add_argument(
        "--fan-out",
        type=int,
        metavar="N",
        help="split the load over N loader functions (on Lambda; locally, the local Lambda's loader), merged here",
    )


def check_fan_out(args) -> None:
    """A bad N is said before any screen or target (exit 2)."""
    if getattr(args, "fan_out", None) is not None:
        positive_int("--fan-out", args.fan_out)


def make_fan_out(args, target, plan, ramp_plan=None, control=None):
    """(FanOut, its quota line) for --fan-out N, or (None, None) without it. With `ramp_plan` the
    loaders follow the plan themselves (tui/methods/fanout.py); with `control` keys steer them."""
    if args.fan_out is None:
        return None, None
    from loadgen.plan import PlanError
    from tui.methods.fanout import FanOut

    try:
        fan = FanOut(target, plan, args.fan_out, ramp=ramp_plan, client=target.http_client, control=control)
    except PlanError as exc:
        flag = {"level": "--concurrency" if plan.mode == "closed" else "--rate", "requests": "--requests"}
        raise UserError(f"--fan-out {args.fan_out}: {flag.get(exc.field, exc.field)} {exc.problem}") from None
    limits = target.limits
    limit = getattr(limits, "account_limit", None) if limits is not None else None
    peak = _peak_concurrency(plan, ramp_plan)
    flag = "--plan's largest stage" if ramp_plan is not None else "--concurrency"
    if limit and peak and args.fan_out + peak > limit:
        raise UserError(
            f"--fan-out {args.fan_out} with {flag} {peak} needs {args.fan_out + peak} "
            f"concurrent executions, over the account's quota of {limit}: lower one of them"
        )
    return fan, fan.quota_line(peak, limit)


def _peak_concurrency(plan, ramp_plan) -> int | None:
    """The most environments of the target the load asks for at once (closed loop only)."""
    if ramp_plan is None:
        return plan.concurrency
    closed = [max(s.start, s.end) for s in ramp_plan.stages if s.mode == "closed"]
    return int(max(closed)) if closed else None

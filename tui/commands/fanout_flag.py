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


async def fan_out_for(args, target, plan, ramp_plan=None, local_control=None):
    """(FanOut, its quota and cost line) for --fan-out N, or (None, None) without it. On AWS the
    loader deploy --loader made is found first (a missing one: one line, exit 2) and the run's
    control object is made in its bucket once the quota check has passed (tui/methods/fanout_aws.py);
    locally `local_control` (a ControlObject, or None) is used as given."""
    if args.fan_out is None:
        return None, None
    if target.kind != "aws":
        return make_fan_out(args, target, plan, ramp_plan, control=local_control)
    from tui.methods.fanout_aws import control_for, find_loader

    loader = await find_loader(target)
    fan, line = make_fan_out(args, target, plan, ramp_plan, loader=loader)
    fan.control = await control_for(target, loader)  # after every refusal: nothing left behind
    return fan, line


def make_fan_out(args, target, plan, ramp_plan=None, control=None, loader=None):
    """(FanOut, its quota and cost line) for --fan-out N, or (None, None) without it. With
    `ramp_plan` the loaders follow the plan themselves (tui/methods/fanout.py); with `control` keys
    steer them; `loader` (tui/methods/fanout_aws.Loader) prices the deployed loader's memory."""
    if args.fan_out is None:
        return None, None
    from loadgen.plan import PlanError
    from tui.methods.fanout import FanOut

    try:
        fan = FanOut(target, plan, args.fan_out, ramp=ramp_plan, client=target.http_client, control=control)
    except PlanError as exc:
        flag = {"level": "--concurrency" if plan.mode == "closed" else "--rate", "requests": "--requests"}
        raise UserError(f"--fan-out {args.fan_out}: {flag.get(exc.field, exc.field)} {exc.problem}") from None
    limit = account_limit(target)
    peak = _peak_concurrency(plan, ramp_plan)
    flag = "--plan's largest stage" if ramp_plan is not None else "--concurrency"
    check_quota(args.fan_out, peak, f"{flag} {peak}", limit)
    return fan, f"{fan.quota_line(peak, limit)}; {_cost(args.fan_out, plan, ramp_plan, loader)}"


def account_limit(target) -> int | None:
    """The account's concurrency quota as GetAccountSettings gave it (None: not known)."""
    limits = target.limits
    return getattr(limits, "account_limit", None) if limits is not None else None


def check_quota(loaders: int, peak: int | None, what: str, limit: int | None) -> None:
    """Refuse a fan-out whose loaders and the target's `peak` environments pass the quota."""
    if limit and peak and loaders + peak > limit:
        raise UserError(
            f"--fan-out {loaders} with {what} needs {loaders + peak} "
            f"concurrent executions, over the account's quota of {limit}: lower one of them"
        )


def loader_cost(loaders: int, seconds: float | None, loader=None) -> str:
    """The loaders' GB-seconds and dollars (tui/core/cost.py) for `seconds` each (None: per
    minute); on the local Lambda what the same fan-out would cost on AWS with deploy --loader's."""
    from probe.deploy_loader_spec import LOADER_MEMORY_MB
    from tui.core.cost import cost_line

    if loader is not None:
        return cost_line(loaders, seconds, loader.memory_mb, loader.arch)
    return "on AWS, " + cost_line(loaders, seconds, LOADER_MEMORY_MB)


def _cost(loaders, plan, ramp_plan, loader) -> str:
    from tui.core.cost import planned_seconds
    from tui.methods.fanout import START_AHEAD_S

    seconds = planned_seconds(plan.duration, ramp_plan.duration_s if ramp_plan is not None else None, START_AHEAD_S)
    return loader_cost(loaders, seconds, loader)


def _peak_concurrency(plan, ramp_plan) -> int | None:
    """The most environments of the target the load asks for at once (closed loop only)."""
    if ramp_plan is None:
        return plan.concurrency
    closed = [max(s.start, s.end) for s in ramp_plan.stages if s.mode == "closed"]
    return int(max(closed)) if closed else None

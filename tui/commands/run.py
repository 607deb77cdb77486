"""`lambdascope run`: the blog's experiment, no screen: load, read the logs, print the table."""

import sys

from tui import export
from tui.commands.options import (add_output_flags, add_target_flags, load_plan, positive_float, positive_int,
                                  write_output)
from tui.aws_errors import aws_errors


def register(sub) -> None:
    p = sub.add_parser("run", help="load the function, wait for its logs, print one row per container")
    p.add_argument("--requests", type=int, help="how many requests (default 1000 unless --duration)")
    p.add_argument("--concurrency", type=int, default=10, help="closed loop: requests in flight (default 10)")
    p.add_argument("--rate", type=float, help="open loop: requests per second instead of a concurrency")
    p.add_argument("--duration", type=float, help="seconds of load instead of a request count")
    p.add_argument("--settle-timeout", type=float, default=60.0,
                   help="seconds to wait for the logs after the last response (default 60)")
    add_target_flags(p)
    add_output_flags(p)
    p.set_defaults(handler=handle)


def plan_from_args(args):
    positive_int("--requests", args.requests)
    positive_int("--concurrency", args.concurrency)
    positive_float("--rate", args.rate)
    positive_float("--duration", args.duration)
    positive_float("--settle-timeout", args.settle_timeout)
    requests = args.requests if args.requests or args.duration else 1000
    return load_plan(args.concurrency, args.rate, requests=requests, duration=args.duration)


async def handle(args) -> int:
    from tui.experiment import run_experiment
    from tui.target import open_target

    plan = plan_from_args(args)
    with aws_errors(args):
        async with open_target(args) as target:
            result = await run_experiment(target, plan, settle_timeout_s=args.settle_timeout)
            load = {"mode": plan.mode, "level": plan.level, "requests": plan.requests, "duration_s": plan.duration}
            doc = export.snapshot(result.fleet, now=result.finished_at, source=target.describe(), load=load,
                                  extra={"run": _run_facts(result)})
    write_output(export.render(doc, args.format), args.out)
    print(_summary(result), file=sys.stderr)
    return 0 if result.missing == 0 else 1


def _run_facts(result) -> dict:
    return {"wall_s": round(result.wall_s, 3), "load_s": round(result.load_s, 3),
            "log_lag_s": None if result.log_lag_s is None else round(result.log_lag_s, 3),
            "missing_from_logs": result.missing, "log_requests": result.source_requests}


def _summary(result) -> str:
    c = result.fleet.counters
    rate = c.requests / result.load_s if result.load_s > 0 else 0.0
    if result.missing:
        tail = f"the logs never reported {result.missing} of {c.invocations} invocations (timed out)"
    else:
        tail = f"logs confirmed all {c.invocations} invocations {result.log_lag_s:.2f} s after the last response"
    return (f"lambdascope: {c.requests} requests in {result.load_s:.2f} s ({rate:.0f}/s), "
            f"{c.errors} errors, {c.throttled} throttled; {tail}; wall {result.wall_s:.2f} s")

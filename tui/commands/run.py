"""`lambdascope run`: the blog's experiment, no screen: load, read the logs, print the table.

Exit status: 0 when the logs account for every request that may have run; 1 when some are
missing from the logs or unaccounted for (sent, no answer, never seen in the logs); 2 when every
request failed (nothing to measure: a wrong --url, a stopped function) or on bad input; 130 on
Ctrl-C, after printing the table so far.
"""

import asyncio
import sys
import time

from loadgen import gc_policy
from tui.aws.errors import aws_errors
from tui.aws.sources.factory import KINDS
from tui.commands.export_flag import add_export_flag, write_export_folder
from tui.commands.fanout_flag import add_fan_out_flag, check_fan_out, fan_out_for
from tui.commands.options import (
    add_hold_flag,
    add_output_flags,
    add_target_flags,
    bound_to_target,
    duration_type,
    hold_ms,
    load_plan,
    positive_float,
    positive_int,
    write_output,
)
from tui.commands.plan_flag import add_plan_flag, base_plan, load_ramp
from tui.core import snapshot as export
from tui.core.errors import UserError, one_line
from tui.core.findings.common import percentile


def register(sub) -> None:
    p = sub.add_parser("run", help="load the function, wait for its logs, print one row per container")
    p.add_argument("--requests", type=int, help="how many requests (default 1000 unless --duration)")
    load = p.add_mutually_exclusive_group()
    load.add_argument("--concurrency", type=int, default=10, help="closed loop: requests in flight (default 10)")
    load.add_argument("--rate", type=float, help="open loop: requests per second instead of a concurrency")
    add_plan_flag(load)
    p.add_argument(
        "--duration",
        type=duration_type("--duration"),
        metavar="DURATION",
        help="how long to load instead of a request count (30s, 2m; a bare number is seconds)",
    )
    add_hold_flag(p)
    add_fan_out_flag(p)
    p.add_argument(
        "--settle-timeout",
        type=duration_type("--settle-timeout"),
        default=60.0,
        metavar="DURATION",
        help="how long to wait for the logs after the last response (default 60s)",
    )
    p.add_argument(
        "--logs",
        choices=KINDS,
        default="auto",
        help="log source, as watch's: kinesis (the stream of 'deploy --kinesis'; made on demand on the local "
        "Lambda), poll, livetail, or auto (Kinesis when the function has lambdascope's subscription, else polling)",
    )
    add_target_flags(p)
    add_output_flags(p)
    add_export_flag(p)
    p.set_defaults(handler=handle)


def plan_from_args(args):
    positive_int("--requests", args.requests)
    positive_int("--concurrency", args.concurrency)
    positive_float("--rate", args.rate)
    positive_float("--duration", args.duration)
    positive_float("--settle-timeout", args.settle_timeout)
    requests = args.requests if args.requests or args.duration else 1000
    return load_plan(args.concurrency, args.rate, requests=requests, duration=args.duration, hold_ms=hold_ms(args))


async def handle(args) -> int:
    from tui.aws.local_process import apart_for
    from tui.aws.local_status import read_start_queue, status_url
    from tui.aws.target import LocalTarget, open_target
    from tui.core.fleet import Fleet
    from tui.methods.experiment import run_experiment

    steering = tally = ramp_plan = None
    if args.plan:
        from loadgen.steering import Steering
        from tui.core.stage_figures import StageTally

        ramp_plan = load_ramp(args.plan)
        if args.requests or args.duration:
            raise UserError("--plan sets how long the load runs: drop --requests/--duration")
        plan = base_plan(ramp_plan, hold_ms=hold_ms(args))
        steering, tally = Steering(ramp_plan, plan, time.time()), StageTally()
    else:
        plan = plan_from_args(args)
    check_fan_out(args)
    load = {
        "mode": plan.mode,
        "level": plan.level,
        "requests": plan.requests,
        "duration_s": plan.duration,
        "hold_ms": plan.hold_ms,
    }
    fleet = Fleet()
    opening = open_target(args)
    if isinstance(opening, LocalTarget):
        opening.apart = apart_for(plan, ramp_plan)  # a core of its own at Lambda's scale
        opening.check(plan, ramp_plan)  # a hold its timeout refuses is said before anything starts
    with aws_errors(args):
        async with opening as target:
            plan, notes = bound_to_target(target, plan, ramp_plan)
            if steering is not None:
                steering.base = plan
            for line in notes:
                print(f"lambdascope: warning: {line}", file=sys.stderr)
            if target.local_code:
                print(f"lambdascope: local Lambda: {target.local_code}", file=sys.stderr)
            fan = await _fan_out(args, target, plan, ramp_plan)
            gc_policy.freeze_startup()  # the target and its clients are up (loadgen/gc_policy.py)
            try:
                result = await run_experiment(
                    target,
                    plan,
                    settle_timeout_s=args.settle_timeout,
                    fleet=fleet,
                    steering=steering,
                    on_batch=tally.add if tally else None,
                    runner=fan,
                    logs=args.logs,
                )
            except asyncio.CancelledError:
                # Ctrl-C: what was measured so far is still worth printing (then exit 130).
                doc = export.snapshot(
                    fleet, now=time.time(), source=target.describe(), load=load, extra={"run": {"interrupted": True}}
                )
                write_output(export.render(doc, args.format), args.out)
                print("lambdascope: interrupted: the table above is what was measured so far", file=sys.stderr)
                raise
            if fan is not None:
                load["fan_out"] = [s.line() for s in fan.states]  # each loader's share and end
                p50, p99 = fan.percentiles()
                # From the merged HDR histograms of every loader's successes, never an average.
                load["fan_out_latency_ms"] = {"p50": p50, "p99": p99, "samples": fan.histogram.get_total_count()}
            if steering is not None:
                load["plan"] = steering.to_dict(result.finished_at)
                load["stages"] = tally.stages(load["plan"]["stage_windows"], steering.started_at)
            # This machine's start queue, said beside the findings (tui/core/start_queue.py).
            result.fleet.start_queue = await read_start_queue(status_url(target))
            bundle = export.build(
                result.fleet,
                now=result.finished_at,
                source=target.describe(),
                load=load,
                extra={"run": _run_facts(result)},
            )
            doc = bundle.doc
            if isinstance(doc.get("totals"), dict):
                doc["totals"]["unknown"] = result.unaccounted
    write_output(export.render(doc, args.format), args.out)
    c = result.fleet.counters
    if c.requests and c.errors + c.throttled >= c.requests and c.invocations == 0:
        raise UserError(_all_failed(result, target))  # nothing was measured: not a result
    print(_summary(result), file=sys.stderr)
    if fan is not None:
        for line in fan.summary_lines():
            print(f"lambdascope: {line}", file=sys.stderr)
    for row in load.get("stages") or []:
        print(_stage_line(row), file=sys.stderr)
    write_export_folder(args.export, bundle)
    return 0 if result.missing == 0 and result.unaccounted == 0 else 1


async def _fan_out(args, target, plan, ramp_plan=None):
    """The fan-out of loaders for --fan-out N (None without it), said against the quota and its
    cost first. On AWS its control object lets close() stop the loaders (run's end, Ctrl-C)."""
    fan, quota = await fan_out_for(args, target, plan, ramp_plan)
    if quota:
        print(f"lambdascope: {quota}", file=sys.stderr)
    return fan


def _stage_line(row: dict) -> str:
    conc = "–" if row["concurrency"] is None else f"{row['concurrency']:.1f}"
    rate = "–" if row["rate"] is None else f"{row['rate']:.0f}/s"
    return (
        f"lambdascope: stage {row['stage']} {row['text']}: {row['requests']} requests in {row['seconds']:.1f} s "
        f"({rate}, {conc} in flight), {row['new_environments']} new environments, "
        f"{row['throttled']} throttled, {row['errors']} errors"
    )


def _run_facts(result) -> dict:
    return {
        "wall_s": round(result.wall_s, 3),
        "load_s": round(result.load_s, 3),
        "log_lag_s": None if result.log_lag_s is None else round(result.log_lag_s, 3),
        "missing_from_logs": result.missing,
        "log_source": result.source_name,
        "log_requests": result.source_requests,
        "log_events": getattr(result, "source_events", 0),
        "log_events_at_load_end": getattr(result, "at_load_end", {}),
        "late_events_swept": result.swept_late,
        "unknown_outcome": result.unknown,
        "seen_only_in_logs": result.log_only,
        "unaccounted": result.unaccounted,
        "errors_by_class": result.outcome_errors,
        **({"log_source_counts": _jsonable(result.source_extra)} if result.source_name != "poll" else {}),
    }


def _jsonable(extra: dict) -> dict:
    """The source's counts as the document holds them (numbers, strings, small dicts)."""
    return {k: v for k, v in extra.items() if isinstance(v, int | float | str | dict | type(None))}


def _summary(result) -> str:
    c = result.fleet.counters
    rate = c.requests / result.load_s if result.load_s > 0 else 0.0
    parts = []
    failed = _failed_inits(result.fleet)
    if failed:
        parts.append(failed)
    if result.function_errors:
        parts.append(
            f"{result.function_errors} function error{'s' * (result.function_errors != 1)} "
            "(X-Amz-Function-Error: the function ran and failed)"
        )
    if result.missing:
        parts.append(f"the logs never reported {result.missing} of {c.invocations} invocations (timed out)")
    if result.unknown:
        parts.append(
            f"{result.unknown} requests got no answer (reset, timeout or 5xx): the logs show "
            f"{min(result.log_only, result.unknown)} of them ran"
            + (f", {result.unaccounted} unknown" if result.unaccounted else "")
        )
    if not result.missing and not result.unaccounted:
        lag = f" {result.log_lag_s:.2f} s after the last response" if result.log_lag_s is not None else ""
        lags = sorted(getattr(result.fleet, "log_lags", None) or [])
        if lags:
            p50, p99 = percentile(lags, 50, is_sorted=True), percentile(lags, 99, is_sorted=True)
            lag += f" (each one's lag p50 {p50:.2f} s, p99 {p99:.2f} s)"
        parts.append(f"logs confirmed all {c.invocations} invocations{lag}")
    sampled = result.source_extra.get("sampled_updates") if result.source_extra else None
    if sampled:
        # Live Tail sends at most 500 events an update and samples above that (AWS-FACTS): said,
        # with what the FilterLogEvents backfill brought that the stream had left out.
        parts.append(
            f"Live Tail sampled {sampled:,} update{'s' if sampled != 1 else ''} (over 500 events each); "
            f"the FilterLogEvents backfill brought {result.source_extra.get('backfilled', 0):,} events it left out"
        )
    if (result.missing or result.unaccounted) and result.source_error:
        parts.append(f"log source: {one_line(result.source_error, limit=200)}")
    return (
        f"lambdascope: {c.requests} requests in {result.load_s:.2f} s ({rate:.0f}/s), "
        f"{c.errors} errors, {c.throttled} throttled; {'; '.join(parts)}; wall {result.wall_s:.2f} s"
    )


def _failed_inits(fleet) -> str | None:
    """'N environments failed the init (Extension.Crash)', from the INIT_REPORT lines, or None."""
    failed = [c for c in fleet.containers.values() if c.init_failures]
    if not failed:
        return None
    types = ", ".join(sorted({c.init_error or "error" for c in failed}))
    return f"{len(failed)} environment{'s' * (len(failed) != 1)} failed the init ({types})"


def _all_failed(result, target) -> str:
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(result.outcome_errors.items(), key=lambda kv: -kv[1]))
    where = target.function_url or target.function_name
    if set(result.outcome_errors) <= {"refused"}:
        fix = f"nothing is listening at {where}: check --url (or start the function)"
    elif set(result.outcome_errors) <= {"local_limit"}:
        fix = (
            "this machine, not Lambda, refused every request (the local Lambda's cap): lower "
            "--concurrency/--rate, or raise [machine] max_processes in the profile"
        )
    elif set(result.outcome_errors) <= {"throttled"}:
        fix = "Lambda throttled every request: lower --concurrency/--rate or raise the function's concurrency"
    else:
        fix = f"check --url/--function and that {where} answers"
    failed = _failed_inits(result.fleet)
    if failed:
        fix = f"{failed} (INIT_REPORT): fix the function's init (its handler's import, its extensions) and run again"
    return f"all {result.fleet.counters.requests} requests failed ({kinds}): {fix}"

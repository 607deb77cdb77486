"""`lambdascope experiment NAME`: one of the classic probes, run against the target, its finding
printed (and with --format json, the whole finding as data).

    blog          1,000 requests at 10 concurrent: the seed's experiment, with the story's findings
    scaling       step concurrency up until 429s: new environments a second, when throttling began
    idle-reclaim  warm N, go quiet for growing gaps, probe: after how long idle environments go
    lifetime      a steady trickle: how long a busy environment lives before it is recycled
    packing       a concurrency ladder: how many environments share a host key, wave by wave

Each method's module (tui/methods/) documents how it measures and where it can mislead.
"""

import argparse
import functools
import json
import sys
import time

from tui.commands.fanout_flag import add_fan_out_flag, check_fan_out
from tui.commands.options import (
    add_hold_flag,
    add_target_flags,
    duration_type,
    hold_ms,
    parse_duration_flag,
    positive_float,
    positive_int,
    write_output,
)
from tui.core.errors import UserError
from tui.methods import METHODS


def register(sub) -> None:
    p = sub.add_parser(
        "experiment",
        help="run a classic probe (blog, scaling, idle-reclaim, lifetime, packing)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        # The description is a table of methods, one a line: argparse must keep its lines.
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", choices=METHODS, metavar="NAME", help=", ".join(METHODS))
    p.add_argument("--environments", type=int, default=5, help="idle-reclaim: environments to warm (default 5)")
    p.add_argument(
        "--gaps",
        help="idle-reclaim: quiet gaps to try, e.g. '1s,2s,4s' or '1m,5m,10m' "
        "(default grows from 1 s locally, from 1 min on AWS)",
    )
    p.add_argument("--max", type=int, help="scaling/packing: the highest concurrency (default 50 locally, 200 on AWS)")
    p.add_argument(
        "--step",
        type=duration_type("--step"),
        metavar="DURATION",
        help="scaling/packing: how long each step lasts (default 2s locally, 10s on AWS)",
    )
    p.add_argument(
        "--rate", type=float, help="lifetime: requests per second of the trickle (default 5 locally, 1 on AWS)"
    )
    p.add_argument(
        "--duration",
        type=duration_type("--duration"),
        metavar="DURATION",
        help="lifetime: how long the trickle lasts (default 20s locally, 3h on AWS)",
    )
    add_hold_flag(p)
    add_fan_out_flag(p)
    p.add_argument("--format", choices=["table", "json"], default="table", help="output format")
    p.add_argument("--out", help="write to this file instead of standard output")
    add_target_flags(p)
    p.set_defaults(handler=handle)


def parse_gaps(text: str) -> tuple[float, ...]:
    gaps = [parse_duration_flag("--gaps", part.strip()) for part in text.split(",")]
    if any(g <= 0 for g in gaps) or gaps != sorted(gaps):
        raise UserError("--gaps must be growing durations above 0, e.g. '1s,2s,4s'")
    return tuple(gaps)


async def handle(args) -> int:
    from loadgen.plan import Plan
    from tui.aws.errors import aws_errors
    from tui.aws.local_status import read_start_queue, status_url
    from tui.aws.target import LocalTarget, open_target
    from tui.methods import drive

    positive_int("--environments", args.environments)
    positive_int("--max", args.max)
    positive_float("--step", args.step)
    positive_float("--rate", args.rate)
    positive_float("--duration", args.duration)
    gaps = parse_gaps(args.gaps) if args.gaps else None
    hold = hold_ms(args)
    opening = open_target(args)
    _check_fan_out(args, isinstance(opening, LocalTarget))
    if isinstance(opening, LocalTarget):
        opening.check(Plan(hold_ms=hold))  # a hold its timeout refuses is said before anything starts
    with aws_errors(args):
        async with opening as target:
            target.bound(Plan(hold_ms=hold))  # on AWS: the function's own timeout, once looked up
            local = target.kind == "local"
            asked = _asked_concurrency(args, local)
            warning = target.concurrency_warning(asked)
            if warning and args.name != "scaling":  # scaling steps up until Lambda throttles: its point
                print(f"lambdascope: warning: {warning}", file=sys.stderr)
            if args.fan_out:
                send = await _fan_out_send(args, target, local, asked, hold)
            else:
                send = functools.partial(drive.send, hold_ms=hold) if hold else drive.send
            result = await _run(args, target, local, gaps, send, _Progress())
            # This machine's start queue, beside a method's figures that its wait may have moved.
            queue = await read_start_queue(status_url(target))
            if queue is not None and queue.worth_saying:
                result["local_start_queue"] = queue.figures()
    if args.fan_out:
        result["fan_out"] = send.summary()
    result["target"] = target.describe()
    if args.format == "json":
        text = json.dumps(result, indent=2) + "\n"
    else:
        text = _table(result)
    write_output(text, args.out)
    return 0


async def _run(args, target, local: bool, gaps, send, progress) -> dict:
    name = args.name
    if name == "idle-reclaim":
        from tui.methods import idle_reclaim

        return await idle_reclaim.run(
            target,
            environments=args.environments,
            gaps_s=gaps or (idle_reclaim.LOCAL_GAPS_S if local else idle_reclaim.AWS_GAPS_S),
            send=send,
            progress=progress,
        )
    if name == "scaling":
        from tui.methods import scaling

        return await scaling.run(
            target,
            start=1,
            maximum=args.max or (50 if local else 200),
            step_s=args.step or (2.0 if local else 10.0),
            send=send,
            progress=progress,
            clock=time.time,
        )
    if name == "lifetime":
        from tui.methods import lifetime

        return await lifetime.run(
            target,
            rate=args.rate or (5.0 if local else 1.0),
            duration_s=args.duration or (20.0 if local else 3 * 3600.0),
            send=send,
            progress=progress,
            clock=time.time,
        )
    if name == "packing":
        from tui.methods import packing

        return await packing.run(
            target,
            maximum=args.max or (50 if local else 200),
            step_s=args.step or (2.0 if local else 10.0),
            send=send,
            progress=progress,
            clock=time.time,
        )
    from tui.methods import blog
    from tui.methods.fanout_send import FanOutSend

    if not isinstance(send, FanOutSend):
        return await blog.run(target, progress=progress)
    runner = await send.make(target, blog.plan())  # --fan-out: blog's one run is one fan-out
    try:
        return await blog.run(target, progress=progress, runner=runner)
    finally:
        await runner.close()
        send.record(runner)


async def _fan_out_send(args, target, local: bool, asked: int, hold: int):
    """--fan-out N: the method's `send` on N loader functions (tui/methods/fanout_send.py),
    refused before any load when the fan-out and the target's environments pass the quota."""
    from tui.commands.fanout_flag import account_limit, check_quota, loader_cost
    from tui.methods.fanout import quota_line
    from tui.methods.fanout_send import FanOutSend

    n = args.fan_out
    limit = account_limit(target)
    check_quota(n, asked, f"{args.name}'s {asked} concurrent", limit)
    loader = None
    if not local:
        from tui.methods.fanout_aws import find_loader

        loader = await find_loader(target)
    print(
        f"lambdascope: {quota_line(n, asked, limit)} (each burst on up to {n}); {loader_cost(n, None, loader)}",
        file=sys.stderr,
    )
    return FanOutSend(n, hold_ms=hold, loader=loader)


def _check_fan_out(args, local: bool) -> None:
    """What --fan-out N cannot do, said before the target starts: blog's 10 workers, a burst
    longer than a loader may run."""
    from tui.core.cost import LOADER_TIMEOUT_S

    check_fan_out(args)
    n = args.fan_out
    if n is None:
        return
    if args.name == "blog" and n > 10:
        raise UserError(f"--fan-out {n}: blog runs 10 concurrent, a worker a loader at most: use --fan-out 10 or fewer")
    longest = _longest_burst_s(args, local)
    if longest is not None and longest > LOADER_TIMEOUT_S:
        flag = "--duration" if args.name == "lifetime" else "--step"
        raise UserError(
            f"--fan-out {n}: {args.name}'s load lasts {longest:g} s in one burst, past a loader's "
            f"{LOADER_TIMEOUT_S} s (Lambda's longest timeout): use {flag} 900s or less, or drop --fan-out"
        )


def _longest_burst_s(args, local: bool) -> float | None:
    """The longest single burst a method sends (None: bounded by requests, not time)."""
    if args.name == "lifetime":
        return args.duration or (20.0 if local else 3 * 3600.0)
    if args.name in ("scaling", "packing"):
        return args.step or (2.0 if local else 10.0)
    return None


def _asked_concurrency(args, local: bool) -> int:
    """The most requests a method keeps in flight (its defaults as _run gives them)."""
    if args.name in ("scaling", "packing"):
        return args.max or (50 if local else 200)
    if args.name == "idle-reclaim":
        return args.environments
    if args.name == "blog":
        return 10
    return 0  # lifetime: a trickle, one request at a time


def _table(result: dict) -> str:
    """The finding's line, then its steps as an aligned table (their keys as the header)."""
    lines = [result["text"]]
    steps = result.get("probes") or result.get("steps") or result.get("recycles") or result.get("waves") or []
    if steps:
        keys = list(steps[0])
        cells = [[k.replace("_", " ") for k in keys]] + [[_cell(s.get(k)) for k in keys] for s in steps]
        widths = [max(len(row[i]) for row in cells) for i in range(len(keys))]
        lines.append("")
        lines += ["  " + "  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    if result.get("findings"):
        lines.append("")
        lines += [f"  {line}" for line in result["findings"]]
    if result.get("local_start_queue"):
        lines += ["", f"  {result['local_start_queue']['text']}"]
    fan = result.get("fan_out")
    if fan:
        lines.append("")
        lines.append(f"  {_fan_line(fan)}")
        lines += [f"    {line}" for line in fan["lines"]]
    return "\n".join(lines) + "\n"


def _fan_line(s: dict) -> str:
    text = (
        f"fan-out: {s['bursts']} burst{'s' if s['bursts'] != 1 else ''} on up to {s['loaders']} loaders "
        f"({s['invocations']} loader invocations), {s['reported']} outcomes reported"
    )
    if s["loaders_short"]:
        text += f"; {s['loaders_short']} loader(s) did not finish their share"
    if s["lines"]:
        text += "; of note:"
    return text


def _cell(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict):
        return ", ".join(f"{k} {n}" for k, n in v.items())
    text = str(v)
    # A log stream name (YYYY/MM/DD/[$LATEST]<32 hex>) reads as its id's first 8 hex, as on screen.
    return text.rsplit("]", 1)[-1][:8] if "]" in text else text


class _Progress:
    """One line per step on stderr; on a terminal, a countdown that rewrites itself."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._transient = False

    def __call__(self, text: str, transient: bool = False) -> None:
        if transient and not self.tty:
            return
        end = "" if transient else "\n"
        prefix = "\r\x1b[2K" if self.tty else ""
        print(f"{prefix}lambdascope: {text}", end=end, file=sys.stderr, flush=True)
        self._transient = transient

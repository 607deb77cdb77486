"""`lambdascope analyze FILE... | --log-group G`: the per-container table from logs alone.

Managed Instances: the capacity provider's system log gives each host its instance's AZ and
lifecycle. With files, give its export beside the function's (`analyze fn.json cp.json`: its
records are told apart by their stream, `<name>/managed-instances`); with --log-group, name the
provider (`--capacity-provider NAME`) and its group is read beside the function's."""

import asyncio
import sys
import time

from tui.aws.errors import aws_errors
from tui.commands.export_flag import add_export_flag, write_export_folder
from tui.commands.options import (
    add_aws_flags,
    add_capacity_provider_flag,
    add_output_flags,
    parse_since,
    write_output,
)
from tui.core import analysis
from tui.core import snapshot as export
from tui.core.errors import UserError

MAX_SINCE_S = 10 * 366 * 86400  # the longest retention CloudWatch Logs offers is 10 years
READ_ATTEMPTS = 4  # a throttled or dropped page is retried this often (one backoff) before giving up


def register(sub) -> None:
    p = sub.add_parser("analyze", help="the container table from logs alone (a file or a log group)")
    p.add_argument(
        "file",
        nargs="*",
        help="output of 'aws logs filter-log-events', or JSONL of events (several: e.g. the function's "
        "and its capacity provider's)",
    )
    p.add_argument("--log-group", help="read a live log group instead of a file")
    p.add_argument("--since", default="1h", help="with --log-group: how far back (e.g. 90s, 10m, 2h; default 1h)")
    add_aws_flags(p)
    add_capacity_provider_flag(p, default="none; with --log-group only")
    add_output_flags(p)
    add_export_flag(p)
    p.set_defaults(handler=handle)


def handle(args) -> int:
    if bool(args.file) == bool(args.log_group):
        raise UserError("give a FILE or --log-group NAME (one of them)")
    if args.file:
        from tui.aws.sources.file import FIX, read_files
        from tui.output.capped import text_chunks

        if args.capacity_provider:
            raise UserError(
                "--capacity-provider reads a live group (with --log-group); for files, give the "
                "capacity provider's export as another FILE"
            )
        # Read capped and streamed, gzip or not (tui/core/limits.py has the caps).
        events = read_files(args.file, lambda path: text_chunks(path, fix=FIX))
        source = {"kind": "file", "path": args.file[0]}
        if len(args.file) > 1:
            source["paths"] = list(args.file)
    else:
        since_s = parse_since(args.since)
        if since_s > MAX_SINCE_S:
            raise UserError(
                f"--since {args.since} reaches before CloudWatch keeps logs (10 years at most); use e.g. --since 7d"
            )
        if since_s <= 0:
            raise UserError(f"--since {args.since} is empty: use e.g. --since 10m")
        with aws_errors(args):
            events = asyncio.run(_read_group(args, since_s))
        source = {"kind": "log_group", "log_group": args.log_group, "since_s": since_s}
        if args.capacity_provider:
            source["capacity_provider_log_group"] = _cp_group(args)
        if not events:
            raise UserError(f"no events in {args.log_group} over the last {args.since}; try a longer --since")
    bundle = analysis_bundle(events, source)
    write_output(export.render(bundle.doc, args.format), args.out)
    write_export_folder(args.export, bundle)
    return 0


def analysis_bundle(events, source: dict) -> export.Bundle:
    """As `analysis.analyze`, keeping what the export folder needs besides the document."""
    fleet, now = analysis.fleet_of(events)
    return export.build(fleet, now=now, source=source)


async def _read_group(args, since_s: float):
    """Every event of the window, all pages. A missing group, throttling past the retries, an
    unreachable endpoint: one line naming the fix (aws_errors explains botocore's own errors)."""
    from tui.aws import clients as aws
    from tui.aws.errors import _origin
    from tui.aws.sources.factory import CP_HISTORY_S
    from tui.aws.sources.poll import LogGroupMissing, PollSource, Transient, Unreachable

    session = aws.make_session(args.profile, args.region)
    if not (args.region or session.region_name):
        raise UserError("no AWS region: pass --region (e.g. us-east-1) or set AWS_DEFAULT_REGION")
    # max_attempts=1: the loop below owns the retries, and a dead endpoint is told at once.
    async with aws.client(session, "logs", endpoint_url=args.endpoint_url, region=args.region, max_attempts=1) as logs:
        start = int((time.time() - since_s) * 1000)
        cp = _cp_group(args)
        # The system log's instances may have launched long before the window: read further back.
        extra = [(cp, start - CP_HISTORY_S * 1000)] if cp else ()
        source = PollSource(logs, args.log_group, start, min_lookback_ms=0, extra_groups=extra)
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                events = await source.poll_once()
                note = source.status.extra.get("groups", {}).get(cp) if cp else None
                if note and note["error"]:
                    # The function's table stands without it: said once, not fatal.
                    print(
                        f"lambdascope: {note['error']}: the hosts have no AZ or lifecycle (check --capacity-provider)",
                        file=sys.stderr,
                    )
                return events
            except LogGroupMissing:
                where = args.region or session.region_name
                raise UserError(
                    f"log group {args.log_group} not found in {where}: check --log-group "
                    "(e.g. /aws/lambda/NAME), --region and --profile"
                ) from None
            except Unreachable:
                # One-shot: a user waits at the prompt. botocore already tried twice.
                where = _origin(args.endpoint_url) or f"CloudWatch Logs in {args.region or session.region_name}"
                raise UserError(f"cannot reach {where}: check --endpoint-url, --region and your network") from None
            except Transient as exc:
                if attempt == READ_ATTEMPTS:
                    reason = str(exc).removesuffix("; retrying").removesuffix("; slowing down")
                    raise UserError(f"cannot read {args.log_group}: {reason}; try again in a minute") from None
                await asyncio.sleep(source.backoff.next())


def _cp_group(args) -> str | None:
    from tui.aws.capacity_provider import log_group_for

    return log_group_for(args.capacity_provider) if args.capacity_provider else None

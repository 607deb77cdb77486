"""`lambdascope analyze FILE | --log-group G`: the per-container table from logs alone."""

import asyncio
import time

from tui import analysis, export
from tui.commands.options import add_aws_flags, add_output_flags, parse_since, write_output
from tui.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("analyze", help="the container table from logs alone (a file or a log group)")
    p.add_argument("file", nargs="?", help="output of 'aws logs filter-log-events', or JSONL of events")
    p.add_argument("--log-group", help="read a live log group instead of a file")
    p.add_argument("--since", default="1h", help="with --log-group: how far back (e.g. 90s, 10m, 2h; default 1h)")
    add_aws_flags(p)
    add_output_flags(p)
    p.set_defaults(handler=handle)


def handle(args) -> int:
    if bool(args.file) == bool(args.log_group):
        raise UserError("give a FILE or --log-group NAME (one of them)")
    if args.file:
        from tui.sources.file import read_events

        events = read_events(args.file)
        source = {"kind": "file", "path": args.file}
    else:
        since_s = parse_since(args.since)
        events = asyncio.run(_read_group(args, since_s))
        source = {"kind": "log_group", "log_group": args.log_group, "since_s": since_s}
        if not events:
            raise UserError(f"no events in {args.log_group} over the last {args.since}; try a longer --since")
    doc = analysis.analyze(events, source)
    write_output(export.render(doc, args.format), args.out)
    return 0


async def _read_group(args, since_s: float):
    from tui import aws
    from tui.sources.poll import PollSource

    session = aws.make_session(args.profile, args.region)
    async with aws.client(session, "logs", endpoint_url=args.endpoint_url, region=args.region) as logs:
        start = int((time.time() - since_s) * 1000)
        source = PollSource(logs, args.log_group, start, min_lookback_ms=0)
        return await source.poll_once()

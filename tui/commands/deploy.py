"""`lambdascope deploy` and `lambdascope destroy`: the probe on real AWS (probe/deploy.py does the
work; this module parses flags, prints the summary and turns every failure into one line)."""

import argparse
import json
import shlex
import sys

from probe.deploy_spec import ARCHES, DEFAULT_NAME, MEMORY_MAX, MEMORY_MIN, SHARDS_MAX
from tui.aws.errors import aws_errors
from tui.commands.options import add_aws_flags
from tui.core.errors import UserError, mask, one_line


def register(subparsers):
    p = subparsers.add_parser(
        "deploy",
        help="deploy the probe function to AWS Lambda (or update it)",
        description="Create or update the probe: a least-privilege role, the function, its log "
        "group (1-day retention) and an AWS_IAM function URL, all tagged lambdascope=true.",
    )
    _add_target_flags(p)
    p.add_argument(
        "--memory",
        type=_memory,
        default=MEMORY_MIN,
        metavar="MB",
        help=f"function memory, {MEMORY_MIN}..{MEMORY_MAX} MB (default {MEMORY_MIN})",
    )
    p.add_argument("--arch", choices=ARCHES, default=ARCHES[0], help="CPU architecture (default x86_64)")
    p.add_argument(
        "--public",
        action="store_true",
        help="make the function URL public (AuthType NONE): anyone with the URL can invoke it",
    )
    p.add_argument(
        "--snapstart",
        action="store_true",
        help="SnapStart: publish a version, point the alias 'live' at it and put the function URL on the alias",
    )
    p.add_argument(
        "--kinesis",
        action="store_true",
        help="also a log channel that never samples: a Kinesis data stream, a role CloudWatch Logs may "
        "assume to write to it, and a subscription filter on the function's log group (read with --logs kinesis)",
    )
    p.add_argument(
        "--shards",
        type=_shards,
        metavar="N",
        help=f"with --kinesis: provisioned shards, 1..{SHARDS_MAX} (default 1; an existing stream keeps its count)",
    )
    p.add_argument(
        "--loader",
        action="store_true",
        help="also the loader function run/watch --fan-out invoke (lambdascope-loader: may invoke only this "
        "function, read its control objects and write its own logs) and its control bucket",
    )
    p.set_defaults(handler=run_deploy)

    p = subparsers.add_parser(
        "destroy",
        help="remove what deploy made (only things tagged lambdascope=true)",
        description="Delete the probe's function, URL, log group and role, its Kinesis stream, "
        "subscription filter and CloudWatch Logs role if deploy --kinesis made them, and the loader, its "
        "role, log group and control bucket if deploy --loader made them. Missing things are fine.",
    )
    _add_target_flags(p)
    p.set_defaults(handler=run_destroy)


def _add_target_flags(p):
    p.add_argument("--name", default=DEFAULT_NAME, help=f"function name (default {DEFAULT_NAME})")
    add_aws_flags(p)  # --region, --profile, --endpoint-url (IAM, Lambda and Logs all use it)


def _memory(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of MB (got {text!r})") from None
    if not MEMORY_MIN <= value <= MEMORY_MAX:
        raise argparse.ArgumentTypeError(f"must be {MEMORY_MIN}..{MEMORY_MAX} MB (got {value})")
    return value


def _shards(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of shards (got {text!r})") from None
    if not 1 <= value <= SHARDS_MAX:
        raise argparse.ArgumentTypeError(f"must be 1..{SHARDS_MAX} (got {value})")
    return value


async def _remember_credentials(args):
    """probe/deploy makes its own session: resolve the same chain once here, so whatever it
    resolves is masked in every error (botocore caches nothing across sessions, but the chain
    gives the same keys)."""
    from tui.aws import clients as aws

    await aws.remember_credentials(aws.make_session(args.profile, args.region))


async def run_deploy(args):
    from probe.deploy import deploy  # aioboto3: imported when used, not for every command's parser

    if args.shards is not None and not args.kinesis:
        raise UserError("--shards is the Kinesis stream's: give --kinesis too")
    from probe.deploy_loader import NEEDS

    with aws_errors(args, needs=NEEDS if args.loader else ()):
        await _remember_credentials(args)
        result = await deploy(
            name=args.name,
            memory=args.memory,
            arch=args.arch,
            region=args.region,
            profile=args.profile,
            endpoint_url=args.endpoint_url,
            public=args.public,
            snapstart=args.snapstart,
            kinesis=args.kinesis,
            shards=args.shards,
            loader=args.loader,
        )
    for warning in result["warnings"]:
        print(f"lambdascope: warning: {one_line(warning, limit=1000)}", file=sys.stderr)
    print(mask(json.dumps(result, indent=2)))
    print(f"watch it: {watch_command(args, result['region'], kinesis=result.get('kinesis', False))}")
    if result.get("loader"):
        print(f"fan out: {watch_command(args, result['region'], kinesis=result.get('kinesis', False))} --fan-out 4")
    return 0


async def run_destroy(args):
    from probe.deploy import destroy
    from probe.deploy_loader import NEEDS

    with aws_errors(args, needs=NEEDS):
        await _remember_credentials(args)
        result = await destroy(name=args.name, region=args.region, profile=args.profile, endpoint_url=args.endpoint_url)
    for thing in result["skipped"]:
        print(f"lambdascope: warning: left {thing} alone: it is not tagged lambdascope=true", file=sys.stderr)
    print(mask(json.dumps(result, indent=2)))
    return 0


def watch_command(args, region, kinesis=False):
    parts = ["lambdascope", "watch", "--function", args.name, "--region", region]
    if kinesis:
        parts += ["--logs", "kinesis"]
    if args.profile:
        parts += ["--profile", args.profile]
    if args.endpoint_url:
        parts += ["--endpoint-url", args.endpoint_url]
    return shlex.join(parts)

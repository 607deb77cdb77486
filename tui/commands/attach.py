"""`lambdascope attach` and `lambdascope detach`: the host extension layer on a user's function
(tui/aws/layer.py does the AWS calls; this module parses flags, says what changed and what it
means, and turns every failure into one line)."""

import json
import sys

from tui.aws.errors import aws_errors
from tui.commands.options import add_aws_flags
from tui.core.errors import mask

_ABOUT = (
    "Python runtimes only (python3.9 and later: the extension runs on the function's own python3); "
    "$LATEST only (a published version cannot change: --publish makes a new one)"
)


def register(subparsers):
    p = subparsers.add_parser(
        "attach",
        help="add the host extension layer to your function, so its environments name their host",
        description="Publish the lambdascope-host layer (or reuse the version already published with "
        "the same content), add it to the function's $LATEST keeping every layer already there, and "
        f"tag the function with the layer it added. {_ABOUT}.",
    )
    _add_flags(p)
    p.add_argument(
        "--publish",
        action="store_true",
        help="also publish a function version with the layer (aliases stay where they point)",
    )
    p.set_defaults(handler=run_attach)

    p = subparsers.add_parser(
        "detach",
        help="remove the host extension layer that attach added (every other layer stays)",
        description="Remove exactly the layer attach added to the function's $LATEST, and its tag. "
        "Nothing attached is fine.",
    )
    _add_flags(p)
    p.add_argument(
        "--delete-layer",
        action="store_true",
        help="also delete every layer version attach published (functions using one keep working)",
    )
    p.set_defaults(handler=run_detach)


def _add_flags(p):
    p.add_argument("--function", required=True, metavar="NAME", help="the function's name or ARN")
    add_aws_flags(p)


def _lambda(args):
    from tui.aws import clients as aws  # aioboto3: imported when used, not for every command's parser

    session = aws.make_session(args.profile, args.region)
    return aws.client(session, "lambda", endpoint_url=args.endpoint_url, region=args.region, max_attempts=3)


async def run_attach(args):
    from tui.aws import layer

    needs = layer.ATTACH_ACTIONS + (layer.PUBLISH_ACTIONS if args.publish else ())
    with aws_errors(args, needs):
        async with _lambda(args) as lam:
            result = await layer.attach(lam, args.function, publish=args.publish)
    print(mask(json.dumps(result, indent=2)))
    name = result["function"]
    if result["changed"]:
        print(
            f"attached {result['layer']} to {name} ($LATEST). Only environments started after this change "
            "report their host: the ones already running are not restarted (Lambda starts new ones "
            "for the new configuration as requests arrive, each a cold start).",
            file=sys.stderr,
        )
    else:
        print(f"{name} already has {result['layer']}: nothing changed.", file=sys.stderr)
    if result["version"]:
        print(
            f"published version {result['version']} with the layer; aliases still point where they did.",
            file=sys.stderr,
        )
    else:
        print(
            "published versions and aliases keep the layers they had: attach --publish makes a version with it.",
            file=sys.stderr,
        )
    return 0


async def run_detach(args):
    from tui.aws import layer

    needs = layer.DETACH_ACTIONS + (layer.DELETE_LAYER_ACTIONS if args.delete_layer else ())
    with aws_errors(args, needs):
        async with _lambda(args) as lam:
            result = await layer.detach(lam, args.function, delete_layer=args.delete_layer)
    print(mask(json.dumps(result, indent=2)))
    name = result["function"]
    if result["removed"]:
        print(f"removed {', '.join(result['removed'])} from {name} ($LATEST).", file=sys.stderr)
    else:
        print(f"{name} has no layer that attach added: nothing changed.", file=sys.stderr)
    for arn in result["left_alone"]:
        print(f"lambdascope: warning: left {arn} alone: attach did not add it (no tag names it)", file=sys.stderr)
    return 0

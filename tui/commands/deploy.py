"""`lambdascope deploy` and `lambdascope destroy`: the probe on real AWS (probe/deploy.py does the
work; this module parses flags, prints the summary and turns every failure into one line)."""

import argparse
import json
import os
import re
import shlex
import sys
from urllib.parse import urlsplit

from botocore import exceptions as boto_errors

from probe.deploy import deploy, destroy
from probe.deploy_spec import ARCHES, DEFAULT_NAME, MEMORY_MAX, MEMORY_MIN, DeployError
from tui.commands.options import add_aws_flags
from tui.errors import UserError

NO_CREDENTIALS = "no AWS credentials found: run 'aws configure' or set AWS_PROFILE"
# Codes AWS uses when the keys themselves are wrong or expired (not a missing permission).
_BAD_CREDENTIAL_CODES = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
}
# "... is not authorized to perform: iam:CreateRole on resource ..." and
# "... because no identity-based policy allows the logs:PutRetentionPolicy action".
_ACTION = re.compile(r"(?:perform: |allows the )([a-z0-9-]+:[A-Za-z0-9*]+)")


def register(subparsers):
    p = subparsers.add_parser(
        "deploy",
        help="deploy the probe function to AWS Lambda (or update it)",
        description="Create or update the probe: a least-privilege role, the function, its log "
        "group (1-day retention) and an AWS_IAM function URL, all tagged lambdascope=true.",
    )
    _add_target_flags(p)
    p.add_argument("--memory", type=_memory, default=MEMORY_MIN, metavar="MB",
                   help=f"function memory, {MEMORY_MIN}..{MEMORY_MAX} MB (default {MEMORY_MIN})")
    p.add_argument("--arch", choices=ARCHES, default=ARCHES[0], help="CPU architecture (default x86_64)")
    p.add_argument("--public", action="store_true",
                   help="make the function URL public (AuthType NONE): anyone with the URL can invoke it")
    p.set_defaults(handler=run_deploy)

    p = subparsers.add_parser(
        "destroy",
        help="remove what deploy made (only things tagged lambdascope=true)",
        description="Delete the probe's function, URL, log group and role. Missing things are fine.",
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


async def run_deploy(args):
    with aws_errors(args):
        result = await deploy(
            name=args.name,
            memory=args.memory,
            arch=args.arch,
            region=args.region,
            profile=args.profile,
            endpoint_url=args.endpoint_url,
            public=args.public,
        )
    for warning in result["warnings"]:
        print(f"lambdascope: warning: {warning}", file=sys.stderr)
    print(json.dumps(result, indent=2))
    print(f"watch it: {watch_command(args, result['region'])}")
    return 0


async def run_destroy(args):
    with aws_errors(args):
        result = await destroy(
            name=args.name, region=args.region, profile=args.profile, endpoint_url=args.endpoint_url
        )
    for thing in result["skipped"]:
        print(f"lambdascope: warning: left {thing} alone: it is not tagged lambdascope=true", file=sys.stderr)
    print(json.dumps(result, indent=2))
    return 0


def watch_command(args, region):
    parts = ["lambdascope", "watch", "--function", args.name, "--region", region]
    if args.profile:
        parts += ["--profile", args.profile]
    if args.endpoint_url:
        parts += ["--endpoint-url", args.endpoint_url]
    return shlex.join(parts)


class aws_errors:
    """Turn whatever deploy/destroy raise into a UserError: one line, naming the fix, no secrets.
    (A class, not @contextmanager, so it can be reused by other AWS commands as is.)"""

    def __init__(self, args):
        self.args = args

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, UserError):
            return False
        raise UserError(_redact(_one_line(explain(exc, self.args)))) from None


def explain(exc, args=None):
    """The user's one-line message for an exception from an AWS call."""
    profile = getattr(args, "profile", None)
    endpoint = getattr(args, "endpoint_url", None)
    if isinstance(exc, DeployError):
        return str(exc)
    if isinstance(exc, (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError)):
        return NO_CREDENTIALS
    if isinstance(exc, boto_errors.ProfileNotFound):
        name = exc.kwargs.get("profile", profile)
        return f"AWS profile {name!r} not found: run 'aws configure --profile {name}' or pick one from 'aws configure list-profiles'"
    if isinstance(exc, boto_errors.NoRegionError):
        return "no AWS region: pass --region (e.g. us-east-1) or set AWS_DEFAULT_REGION"
    if isinstance(exc, boto_errors.InvalidRegionError):
        return f"invalid region {exc.kwargs.get('region_name')!r}: pass --region like us-east-1"
    if isinstance(exc, (boto_errors.EndpointConnectionError, boto_errors.ConnectTimeoutError)):
        where = _origin(exc.kwargs.get("endpoint_url") or endpoint) or "the AWS endpoint"
        return f"cannot reach {where}: check --region (e.g. us-east-1), --endpoint-url and your network"
    if isinstance(exc, boto_errors.TokenRetrievalError):
        return f"your AWS SSO session has expired: run 'aws sso login{' --profile ' + profile if profile else ''}'"
    if isinstance(exc, boto_errors.ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if code.startswith("AccessDenied") or code in ("UnauthorizedOperation", "AuthorizationError"):
            match = _ACTION.search(message)
            action = match.group(1) if match else f"for {exc.operation_name}"
            return (
                f"missing AWS permission {action}: allow it for your IAM identity "
                "(or use --profile with one that has it) and retry"
            )
        if code in _BAD_CREDENTIAL_CODES:
            return f"AWS rejected your credentials ({code}): run 'aws configure' (or 'aws sso login') and retry"
        return f"AWS {exc.operation_name} failed: {code}: {message}"
    if isinstance(exc, ValueError) and "endpoint" in str(exc).lower():
        return f"invalid --endpoint-url {endpoint!r}: use a URL like http://127.0.0.1:5000"
    if isinstance(exc, boto_errors.BotoCoreError):
        return f"AWS call failed: {exc}"
    # Never a traceback: an unforeseen failure still gets one line.
    return f"{args and getattr(args, 'command', None) or 'deploy'} failed: {type(exc).__name__}: {exc}"


def _origin(url):
    """scheme://host:port only: the API path is noise, and userinfo could hold a secret."""
    try:
        parts = urlsplit(url or "")
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme and host else ""


def _one_line(text):
    return " ".join(str(text).split())


def _redact(text):
    """Belt and braces: no message we build contains a credential, but AWS text is echoed in a few,
    so strip the values of the credential variables if they ever appear."""
    for var in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"):
        value = os.environ.get(var)
        if value and len(value) >= 8:
            text = text.replace(value, "[redacted]")
    return text

"""AWS failures → one line that names the fix, never a traceback, never a secret.

Every command that calls AWS (deploy, destroy, run and watch against a function, analyze on a
log group) wraps its calls in `aws_errors(args)`.
"""

import re
from urllib.parse import urlsplit

from botocore import exceptions as boto_errors

from probe.deploy_spec import DeployError
from tui.core.errors import UserError, one_line

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


class aws_errors:
    """Turn whatever deploy/destroy raise into a UserError: one line, naming the fix, no secrets.
    (A class, not @contextmanager, so it can be reused by other AWS commands as is.)"""

    def __init__(self, args, needs=()):
        self.args = args
        self.needs = needs  # the IAM actions the command calls, named in full on an AccessDenied

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, UserError):
            return False
        # The list of actions a command needs is longer than a usual line: allow it its room.
        raise UserError(one_line(explain(exc, self.args, self.needs), limit=300 + 40 * len(self.needs))) from None


def explain(exc, args=None, needs=()):
    """The user's one-line message for an exception from an AWS call."""
    profile = getattr(args, "profile", None)
    endpoint = getattr(args, "endpoint_url", None)
    if isinstance(exc, DeployError):
        return str(exc)
    if isinstance(exc, (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError)):
        return NO_CREDENTIALS
    if isinstance(exc, boto_errors.ProfileNotFound):
        name = exc.kwargs.get("profile", profile)
        return (
            f"AWS profile {name!r} not found: run 'aws configure --profile {name}' "
            "or pick one from 'aws configure list-profiles'"
        )
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
            line = (
                f"missing AWS permission {action}: allow it for your IAM identity "
                "(or use --profile with one that has it) and retry"
            )
            if needs:
                line += f" ({getattr(args, 'command', None) or 'this command'} needs {', '.join(needs)})"
            return line
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

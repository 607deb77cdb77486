"""One Kinesis call, its failures classified for the stream's readers (kinesis.py).

A throttle (ProvisionedThroughputExceeded: a shard reads 5 calls and 2 MB a second) and an
expired iterator (5 minutes old) are the reader's to handle, each its own exception; a 5xx or a
dropped connection is Transient (the same call again, backed off); a missing stream or a denied
action is a UserError naming the action and the fix, which ends the source with one line.
"""

import asyncio

from botocore.exceptions import ClientError

from tui.aws.sources.failures import TRANSIENT, error_code
from tui.aws.sources.filterlogs import Transient
from tui.core.errors import UserError, one_line

THROTTLED = frozenset({"ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException"})
_DENIED = ("AccessDenied", "UnauthorizedOperation", "UnrecognizedClientException", "KMSAccessDenied")
# The actions a reader needs (the README's IAM table says the same).
READ_ACTIONS = "kinesis:ListShards, kinesis:GetShardIterator and kinesis:GetRecords"


class Throttled(Exception):
    """ProvisionedThroughputExceeded (or a control-plane limit): back off, then the same call."""


class Expired(Exception):
    """The iterator passed its 5 minutes: re-open it after the last sequence number read."""


async def call(stream: str, status, action: str, method, **kwargs) -> dict:
    """`method(**kwargs)` (one Kinesis action of `stream`), counted in `status.requests`."""
    status.requests += 1
    try:
        resp = await method(**kwargs)
    except ClientError as exc:
        raise explain(stream, action, exc) from None
    except TRANSIENT as exc:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # Cancelled mid-answer, the HTTP stack may raise a connection error instead: a
            # retry here would swallow the cancel and close() would wait for ever.
            raise asyncio.CancelledError from None
        raise Transient(f"Kinesis endpoint: {one_line(exc, limit=160)}; retrying") from None
    if not isinstance(resp, dict):
        raise Transient(f"{action} gave an answer that is not a document; retrying")
    return resp


def explain(stream: str, action: str, exc: ClientError) -> Exception:
    code = error_code(exc)
    if code == "ExpiredIteratorException":
        return Expired(code)
    if code in THROTTLED:
        return Throttled(f"Kinesis {action} throttled ({code}: a shard reads 5 calls and 2 MB a second); backing off")
    if code == "ResourceNotFoundException":
        return UserError(
            f"Kinesis stream {stream} not found: make it with 'lambdascope deploy --kinesis' "
            "(or read the logs with --logs poll)"
        )
    if any(d in code for d in _DENIED):
        return UserError(
            f"not allowed to read Kinesis stream {stream} (kinesis:{action} denied): grant "
            f"{READ_ACTIONS} on it, or read the logs with --logs poll"
        )
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    if status >= 500 or code in ("InternalFailure", "ServiceUnavailable", "KMSThrottlingException"):
        return Transient(f"Kinesis {action} failed ({code or status}); retrying")
    return Transient(f"Kinesis {action} failed: {code or 'HTTP error'}; retrying")

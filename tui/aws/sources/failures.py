"""AWS failures as a log source meets them: which are worth another try, and how to say one on
a single line of the header with anything credential-like masked. It names exception types of
the IO libraries but does no IO itself.
"""

import aiohttp
from botocore.eventstream import ParserError as FrameError
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from tui.core.errors import one_line

# API errors worth another try: the group may not exist yet (Lambda creates it on first write),
# throttling and session limits pass, 5xx are the server's problem.
_RETRYABLE_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "ThrottlingException",
        "LimitExceededException",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
        "SessionStreamingException",
        "SessionTimeoutException",
    }
)
# Transport and framing failures: the connection, not the request, went wrong.
TRANSIENT = (
    aiohttp.ClientError,
    BotoConnectionError,
    HTTPClientError,
    FrameError,
    ResponseParserError,
    TimeoutError,
    OSError,
)

_THROTTLING = frozenset({"ThrottlingException", "TooManyRequestsException", "LimitExceededException"})


def one_line_error(exc: BaseException) -> str:
    """An error as one short line for the header, credentials masked (tui.core.errors owns that).
    Throttling says so first: it is the one a user can act on (fewer readers, a lower rate)."""
    if isinstance(exc, ClientError) and error_code(exc) in _THROTTLING:
        return one_line(f"throttled ({error_code(exc)}); retrying: {exc}")
    return one_line(f"{type(exc).__name__}: {exc}")


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "") or ""


def retryable(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return error_code(exc) in _RETRYABLE_CODES or status >= 500

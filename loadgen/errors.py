"""Turn an HTTP status or a client exception into one of the error classes in `outcome.ERRORS`.

Both HTTP clients (aiohttp and the fast one) raise the standard OSError family or aiohttp's
wrappers of it; one function classifies both so their counts mean the same thing.
"""

import asyncio
import errno
import ssl
import sys

_RESET_ERRNOS: set[int] = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}
_REFUSED_ERRNOS: set[int] = {errno.ECONNREFUSED}


class ResponseError(Exception):
    """A response the fast client cannot accept: malformed, or larger than its bound."""


# What a request may legitimately raise (each client adds its own: `AiohttpClient.errors`);
# anything else is a bug in lambdascope and propagates.
CLIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, asyncio.TimeoutError, ssl.SSLError, ResponseError)


class CredentialsError(Exception):
    """No usable AWS credentials: the message names the fix and never contains a secret."""


def classify_status(status: int) -> str | None:
    if status < 400:
        return None
    if status == 429:
        return "throttled"
    if status < 500:
        return "http_4xx"
    return "http_5xx"


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """(error class, short detail) for an exception raised while sending a request."""
    return _error_class(exc), _detail(exc)


def _error_class(exc: BaseException) -> str:
    # aiohttp's own errors can only come from the aiohttp client, which imported it: the fast
    # client's path never pays for the import.
    aiohttp = sys.modules.get("aiohttp")
    # Timeouts first: aiohttp's timeout errors are also OSError/ClientError subclasses.
    if isinstance(exc, asyncio.TimeoutError) or (aiohttp and isinstance(exc, aiohttp.ServerTimeoutError)):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if aiohttp is None:
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return "reset"
        return _errno_class(exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_errno = getattr(exc.os_error, "errno", None)
        if os_errno in _REFUSED_ERRNOS:
            return "refused"
        if os_errno in _RESET_ERRNOS:
            return "reset"
        return "other"
    if isinstance(
        exc,
        (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientPayloadError,
            ConnectionResetError,
            BrokenPipeError,
            ConnectionAbortedError,
        ),
    ):
        return "reset"
    return _errno_class(exc)


def _errno_class(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno in _REFUSED_ERRNOS:
        return "refused"
    if isinstance(exc, OSError) and exc.errno in _RESET_ERRNOS:
        return "reset"
    return "other"


def _detail(exc: BaseException) -> str:
    # Exception text from the clients names the host and the reason, never request headers,
    # so no signature or token can leak through it. Bounded: it travels with every outcome.
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:200]

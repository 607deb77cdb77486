"""What a StartLiveTail request asks for, checked the way AWS checks it (API_StartLiveTail), and
the filter pattern it carries, compiled to a predicate. No IO: the server (logs_front.py) answers
with `ApiError.response()` when a check fails.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

_JSON_11 = "application/x-amz-json-1.1"

# AWS limits (API_StartLiveTail / botocore model).
MAX_GROUPS = 10
MAX_STREAM_FILTERS = 100
MAX_PATTERN_CHARS = 1024

_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):logs:(?P<region>[\w-]*):(?P<account>\d*):log-group:(?P<name>[^*]+)$")
_STREAM_NAME = re.compile(r"^[^:*]{1,512}$")


class ApiError(Exception):
    """An error AWS would answer with, as a JSON 1.1 error body."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def response(self) -> web.Response:
        return web.Response(
            status=self.status,
            body=json.dumps({"__type": self.code, "message": self.message}).encode(),
            headers={"Content-Type": _JSON_11, "x-amzn-RequestId": str(uuid.uuid4())},
        )


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidParameterException", message)


# --- filter patterns ---------------------------------------------------------------------------

_TERM = re.compile(r'([?-]?)(?:"([^"]*)"|(\S+))')


def compile_filter_pattern(pattern: str) -> Callable[[str], bool]:
    """The subset of CloudWatch filter syntax that applies to plain text lines.

    "" matches all; `%regex%` is a regular expression; otherwise terms (or "quoted phrases") that
    must all appear, `?term` of which at least one must appear, `-term` that must not appear.
    JSON (`{...}`) and space-delimited (`[...]`) patterns are refused rather than guessed at, so a
    session never silently shows more or less than AWS would.
    """
    text = pattern.strip()
    if not text:
        return lambda _message: True
    if len(text) >= 2 and text[0] == text[-1] == "%":
        try:
            regex = re.compile(text[1:-1])
        except re.error as exc:
            raise _invalid(f"Invalid regex filter pattern: {exc}") from exc
        return lambda message: regex.search(message) is not None
    if text[0] in "{[":
        raise _invalid("The local Live Tail supports term, phrase and %regex% filter patterns only")
    required: list[str] = []
    any_of: list[str] = []
    excluded: list[str] = []
    for sign, phrase, word in _TERM.findall(text):
        term = phrase if phrase else word
        {"?": any_of, "-": excluded}.get(sign, required).append(term)

    def matches(message: str) -> bool:
        return (
            all(t in message for t in required)
            and (not any_of or any(t in message for t in any_of))
            and not any(t in message for t in excluded)
        )

    return matches


# --- request validation ------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class TailSpec:
    """What a session listens to, validated as AWS validates StartLiveTail."""

    groups: dict[str, str]  # log group name -> ARN as the caller gave it
    stream_names: frozenset[str] | None
    stream_prefixes: tuple[str, ...] | None
    pattern: str
    matches: Callable[[str], bool]

    def wants_stream(self, stream: str) -> bool:
        if self.stream_names is not None:
            return stream in self.stream_names
        if self.stream_prefixes is not None:
            return stream.startswith(self.stream_prefixes)
        return True


def _stream_list(params: Mapping[str, Any], key: str) -> list[str] | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_STREAM_FILTERS:
        raise _invalid(f"{key} must hold 1-{MAX_STREAM_FILTERS} items")
    for item in value:
        if not isinstance(item, str) or not _STREAM_NAME.match(item):
            raise _invalid(f"{key} items must be 1-512 characters without ':' or '*'")
    return value


def parse_request(params: Mapping[str, Any]) -> TailSpec:
    idents = params.get("logGroupIdentifiers")
    if not isinstance(idents, list) or not 1 <= len(idents) <= MAX_GROUPS:
        raise _invalid(
            "1 validation error detected: Value at 'logGroupIdentifiers' failed to satisfy "
            f"constraint: Member must have length between 1 and {MAX_GROUPS}"
        )
    groups: dict[str, str] = {}
    for ident in idents:
        if not isinstance(ident, str):
            raise _invalid("logGroupIdentifiers must be strings")
        if ident.endswith("*"):
            raise _invalid(f"Log group ARN must not end with '*': {ident}")
        match = _ARN.match(ident)
        if not match:
            raise _invalid(f"Live Tail needs log group ARNs (arn:aws:logs:REGION:ACCOUNT:log-group:NAME): {ident}")
        groups[match["name"]] = ident
    names = _stream_list(params, "logStreamNames")
    prefixes = _stream_list(params, "logStreamNamePrefixes")
    if names is not None and prefixes is not None:
        raise _invalid("Only one of logStreamNames or logStreamNamePrefixes can be provided.")
    if (names is not None or prefixes is not None) and len(idents) != 1:
        raise _invalid("logStreamNames and logStreamNamePrefixes can only be used with a single log group.")
    pattern = params.get("logEventFilterPattern") or ""
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_CHARS:
        raise _invalid(f"logEventFilterPattern must be a string of at most {MAX_PATTERN_CHARS} characters")
    return TailSpec(
        groups=groups,
        stream_names=frozenset(names) if names is not None else None,
        stream_prefixes=tuple(prefixes) if prefixes is not None else None,
        pattern=pattern,
        matches=compile_filter_pattern(pattern),
    )


def split_group(log_group: str) -> tuple[str, str | None]:
    """A publish() target as (name, ARN or None); accepts either form."""
    match = _ARN.match(log_group)
    if match:
        return match["name"], log_group
    return log_group, None

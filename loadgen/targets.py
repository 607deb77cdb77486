"""What the load hits: a function URL, or the Lambda Invoke API.

A target builds each request (`prepare`) and reads each response (`read`); the runner does the
IO. Both carry the client request id so the probe echoes it into its record and log line, and
the plan's hold (`hold_ms`), which the probe sleeps after writing its record (a header on a
function URL, since a GET has no body; a field of the event on the Invoke API).
A target is described by a picklable spec (a dict of plain values, never credentials) so the
load process can rebuild it on its side of the process boundary:

    {"kind": "url", "url": "https://<id>.lambda-url.<region>.on.aws/", "method": "GET",
     "auth": "none" | "aws_iam", "region": None, "profile": None,
     "path": None, "headers": [["k", "v"], ...], "body": None | bytes}
    {"kind": "invoke", "function_name": "probe", "region": "eu-west-1", "endpoint_url": None,
     "qualifier": None, "log_tail": False, "profile": None, "payload": None | bytes}

Any function, not only the probe: `payload` is the Invoke API's event as given (the user's JSON,
sent byte for byte), and `method`/`path`/`headers`/`body` shape a function URL request. The
client request id then still travels as a header (a function URL passes it to the function;
the Invoke API cannot). A response is the probe's record only when it says so (its `lambdascope`
key); any other answer names no container, and the runner keeps its `x-amzn-RequestId`, Lambda's
request id, which the REPORT line of the logs confirms.

Signed targets read credentials from botocore's standard chain in the process that sends.
"""

import base64
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict
from urllib.parse import quote

import orjson
from yarl import URL

from loadgen.errors import classify_status
from loadgen.outcome import (
    FUNCTION_ERROR,
    HOLD_HEADER,
    LOCAL_LIMIT_HEADER,
    REQUEST_ID_HEADER,
    SENT_AT_HEADER,
    ProbeRecord,
)

if TYPE_CHECKING:
    from loadgen.signing import CredentialsProvider, SigV4Signer

_URL_REGION = re.compile(r"\.lambda-url\.([a-z0-9-]+)\.on\.aws$")
_INIT_DURATION = re.compile(rb"(?:Init|Restore) Duration: ([0-9.]+) ms")
_JSON = "application/json"


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# What Lambda accepts: 6 MB for a synchronous invocation's payload and a function URL's body.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


class _UrlRequired(TypedDict):
    kind: Literal["url"]
    url: str
    method: str
    auth: Literal["none", "aws_iam"]
    region: str | None
    profile: str | None


class UrlSpec(_UrlRequired, total=False):
    path: str | None
    headers: list[list[str]]
    body: bytes | None


class _InvokeRequired(TypedDict):
    kind: Literal["invoke"]
    function_name: str
    region: str
    endpoint_url: str | None
    qualifier: str | None
    log_tail: bool
    profile: str | None


class InvokeSpec(_InvokeRequired, total=False):
    payload: bytes | None


TargetSpec = UrlSpec | InvokeSpec


class Response:
    """What `read` makes of a response: error class, probe record, detail, init duration."""

    __slots__ = ("error", "record", "detail", "init_duration_ms")

    def __init__(
        self,
        error: str | None = None,
        record: ProbeRecord | None = None,
        detail: str | None = None,
        init_duration_ms: float | None = None,
    ) -> None:
        self.error = error
        self.record = record
        self.detail = detail
        self.init_duration_ms = init_duration_ms


class Target(Protocol):
    """What a Runner drives (UrlTarget, InvokeTarget): it builds each request and reads each
    response; the runner does the IO. Response headers are read with lower-case names."""

    @property
    def kind(self) -> str: ...

    def prepare(self, client_request_id: str, hold_ms: int = 0) -> tuple[str, str, Mapping[str, str], bytes | None]:
        """(method, url, headers, body) for one request asking the probe to hold `hold_ms`."""
        ...

    def read(self, status: int, headers: Mapping[str, str], body: bytes) -> Response: ...

    def spec(self) -> TargetSpec:
        """The picklable description `target_from_spec` rebuilds the target from."""
        ...


class UrlTarget:
    """A function URL (or any URL answering with the probe record).

    `signer` (a SigV4Signer) signs each request for AuthType AWS_IAM; without one the URL must
    allow public access (AuthType NONE).
    """

    kind = "url"

    def __init__(
        self,
        url: str,
        signer: "SigV4Signer | None" = None,
        method: str = "GET",
        *,
        path: str | None = None,
        headers: list[list[str]] | None = None,
        body: bytes | None = None,
    ) -> None:
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"--url must be an http(s) URL with a host (got {url!r})")
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"--method must be one of {', '.join(METHODS)} (got {method!r})")
        if path is not None:
            if not path.startswith("/"):
                raise ValueError(f"--path must start with / (got {path!r})")
            # The path (and its query) replaces the URL's: a function URL answers on any path.
            parsed = parsed.join(URL(path))
        if body is not None and len(body) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"--body is {len(body):,} bytes, over Lambda's 6 MB for a request")
        # The encoded form is both what is signed and what is sent, byte for byte.
        self.url = str(parsed)
        self.method = method
        self.signer = signer
        self.path = path
        self.headers = [[str(k), str(v)] for k, v in headers or []]
        self.body = body
        self._fixed = {k: v for k, v in self.headers}
        if body is not None and not any(k.lower() == "content-type" for k in self._fixed):
            self._fixed["Content-Type"] = _JSON if _is_json(body) else "application/octet-stream"

    def prepare(self, client_request_id: str, hold_ms: int = 0) -> tuple[str, str, dict[str, str], bytes | None]:
        """(method, url, headers, body) for one request."""
        sent_at = f"{time.time():.3f}"
        headers = (
            {**self._fixed, REQUEST_ID_HEADER: client_request_id, SENT_AT_HEADER: sent_at}
            if self._fixed
            else {REQUEST_ID_HEADER: client_request_id, SENT_AT_HEADER: sent_at}
        )
        if hold_ms:  # only when asked: every header costs signing time
            headers[HOLD_HEADER] = str(int(hold_ms))
        body = self.body
        if body is None and self.method == "POST":
            headers["Content-Type"] = _JSON
            body = _event(client_request_id, hold_ms)
        if self.signer is not None:
            headers = self.signer.sign(self.method, self.url, headers, body)
        return self.method, self.url, headers, body

    def read(self, status: int, headers: Mapping[str, str], body: bytes) -> Response:
        return _read_probe_response(status, headers, body)

    def spec(self) -> UrlSpec:
        signer = self.signer
        return {
            "kind": "url",
            "url": self.url,
            "method": self.method,
            "auth": "aws_iam" if signer else "none",
            "region": signer.region if signer else None,
            "profile": signer.profile if signer else None,
            "path": self.path,
            "headers": [list(h) for h in self.headers],
            "body": self.body,
        }

    def __repr__(self) -> str:
        return f"UrlTarget({self.url!r}, auth={'aws_iam' if self.signer else 'none'})"


class InvokeTarget:
    """The Invoke API, `POST /2015-03-31/functions/{name}/invocations`, SigV4-signed.

    `credentials_provider` is a botocore credentials object (anything with
    `get_frozen_credentials()`). `log_tail` asks for the last 4 KB of the execution log
    (`X-Amz-Log-Type: Tail`), whose REPORT line gives Init Duration on a cold start.
    """

    kind = "invoke"

    def __init__(
        self,
        endpoint_url: str | None,
        function_name: str | None,
        region: str | None,
        credentials_provider: "CredentialsProvider | None",
        *,
        qualifier: str | None = None,
        log_tail: bool = False,
        profile: str | None = None,
        payload: bytes | None = None,
    ) -> None:
        if payload is not None and len(payload) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"--payload is {len(payload):,} bytes, over Lambda's 6 MB for a synchronous invocation")
        self.payload = payload
        if not function_name:
            raise ValueError("--function must name a Lambda function (got an empty name)")
        if not region:
            raise ValueError("--region is needed for the Invoke API (or set AWS_REGION)")
        endpoint = endpoint_url or f"https://lambda.{region}.amazonaws.com"
        base = URL(endpoint)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"--endpoint-url must be an http(s) URL (got {endpoint!r})")
        # Quoted like botocore quotes it (an ARN's colons become %3A); the same string is then
        # signed (SigV4 encodes it once more, as AWS expects) and sent untouched.
        path = f"/2015-03-31/functions/{quote(function_name, safe='')}/invocations"
        # Any path on the endpoint is kept as a prefix, as botocore does.
        url = str(base.with_query(None).with_fragment(None)).rstrip("/") + path
        if qualifier:
            url += f"?Qualifier={quote(qualifier, safe='')}"
        self.url = url
        self.endpoint_url = endpoint_url
        self.function_name = function_name
        self.region = region
        self.qualifier = qualifier
        self.log_tail = log_tail
        self.profile = profile
        from loadgen.signing import SigV4Signer  # botocore: imported only when a request is signed

        self.signer = SigV4Signer(region, credentials_provider, profile=profile)
        self.method = "POST"

    def prepare(self, client_request_id: str, hold_ms: int = 0) -> tuple[str, str, dict[str, str], bytes | None]:
        # The Invoke API passes no HTTP headers to the function: the id and the hold travel in
        # the event. Few headers, since each one costs signing time (RequestResponse is the
        # default type). A user's own event is sent as given: the function reads what it expects.
        body = self.payload if self.payload is not None else _event(client_request_id, hold_ms)
        headers = {"Content-Type": _JSON}
        if self.log_tail:
            headers["X-Amz-Log-Type"] = "Tail"
        return "POST", self.url, self.signer.sign("POST", self.url, headers, body), body

    def read(self, status: int, headers: Mapping[str, str], body: bytes) -> Response:
        response = _read_probe_response(status, headers, body)
        function_error = headers.get("x-amz-function-error")
        if function_error and response.error is None:
            # The function ran and raised (or timed out): Lambda says so, with its request id.
            response = Response("function_error", None, _short(f"{FUNCTION_ERROR}{function_error})", body))
        tail = headers.get("x-amz-log-result")
        if tail:
            response.init_duration_ms = _init_duration(tail)
        return response

    def spec(self) -> InvokeSpec:
        return {
            "kind": "invoke",
            "function_name": self.function_name,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "qualifier": self.qualifier,
            "log_tail": self.log_tail,
            "profile": self.profile,
            "payload": self.payload,
        }

    def __repr__(self) -> str:
        return f"InvokeTarget({self.function_name!r}, region={self.region!r})"


def _event(client_request_id: str, hold_ms: int) -> bytes:
    """The event body: the client request id, and the hold when there is one."""
    if hold_ms:
        return b'{"client_request_id":"%s","hold_ms":%d}' % (client_request_id.encode(), int(hold_ms))
    return b'{"client_request_id":"%s"}' % client_request_id.encode()


def target_from_spec(spec: Mapping[str, Any]) -> UrlTarget | InvokeTarget:
    """Build a target from its spec; credentials come from the standard chain, here."""
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind == "url":
        _only(spec, {"url", "method", "auth", "region", "profile", "path", "headers", "body"})
        auth = spec.get("auth") or "none"
        if auth not in ("none", "aws_iam"):
            raise ValueError(f"auth must be 'none' or 'aws_iam' (got {auth!r})")
        signer = None
        if auth == "aws_iam":
            region = spec.get("region") or _region_from_url(spec["url"])
            from loadgen.signing import SigV4Signer  # botocore: only for AWS_IAM

            signer = SigV4Signer.from_chain(region, spec.get("profile"))
        return UrlTarget(
            spec["url"],
            signer,
            spec.get("method") or "GET",
            path=spec.get("path"),
            headers=spec.get("headers"),
            body=spec.get("body"),
        )
    if kind == "invoke":
        _only(spec, {"function_name", "region", "endpoint_url", "qualifier", "log_tail", "profile", "payload", "keys"})
        from loadgen.signing import chain_credentials, static_credentials

        credentials: CredentialsProvider | None
        if spec.get("keys"):  # a local endpoint's fixed test keys
            credentials, default_region = static_credentials(*spec["keys"]), None
        else:
            credentials, default_region = chain_credentials(spec.get("profile"))
        return InvokeTarget(
            spec.get("endpoint_url"),
            spec.get("function_name"),
            spec.get("region") or default_region,
            credentials,
            qualifier=spec.get("qualifier"),
            log_tail=bool(spec.get("log_tail")),
            profile=spec.get("profile"),
            payload=spec.get("payload"),
        )
    raise ValueError(f"target kind must be 'url' or 'invoke' (got {kind!r})")


def _only(spec: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(spec) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise ValueError(f"unknown target setting {unknown[0]!r} (known: {known})")


def _region_from_url(url: str) -> str | None:
    match = _URL_REGION.search(URL(url).host or "")
    return match.group(1) if match else None


def _read_probe_response(status: int, headers: Mapping[str, str], body: bytes) -> Response:
    error = classify_status(status)
    if error == "throttled" and headers.get(LOCAL_LIMIT_HEADER) == "local-machine":
        return Response("local_limit", None, "the local machine is at its limit (not Lambda)")
    if error is not None:
        kind = headers.get("x-amzn-errortype") or f"HTTP {status}"
        return Response(error, None, _short(kind, body))
    return Response(None, _parse_record(body))


def _parse_record(body: bytes) -> ProbeRecord | None:
    # A 2xx that is not the probe's record is still a success at the HTTP level; it just names
    # no container (a user's function, a wrong URL), so the record stays None. Only an object
    # with the probe's schema key is one: a user's `{"request_id": ...}` is not Lambda's id.
    if not body or body[:1] != b"{":
        return None
    try:
        record = orjson.loads(body)  # every response: ~1 us against json's ~6 us (bench_loadgen)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) and "lambdascope" in record else None


def _is_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True


def _short(prefix: str, body: bytes | None) -> str:
    text = (body or b"")[:120].decode("utf-8", "replace").replace("\n", " ").strip()
    return f"{prefix}: {text}" if text else prefix


def _init_duration(tail_b64: str) -> float | None:
    try:
        text = base64.b64decode(tail_b64)
    except ValueError:
        return None
    match = _INIT_DURATION.search(text)
    return float(match.group(1)) if match else None

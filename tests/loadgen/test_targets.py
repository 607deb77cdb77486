"""Targets offline: requests they build, how they read responses."""

import base64
import json
import time

import pytest
from botocore.credentials import Credentials

from loadgen.errors import classify_status
from loadgen.targets import InvokeTarget, UrlTarget

RECORD = {"lambdascope": 1, "container_id": "2026/11/27/[$LATEST]abc", "request_id": "r-1", "cold": True}


def body(obj):
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    "status, error",
    [
        (200, None),
        (202, None),
        (302, None),
        (400, "http_4xx"),
        (403, "http_4xx"),
        (429, "throttled"),
        (500, "http_5xx"),
        (502, "http_5xx"),
        (503, "http_5xx"),
    ],
)
def test_status_classes(status, error):
    assert classify_status(status) == error


def test_url_target_request_carries_the_client_request_id():
    before = time.time()
    method, url, headers, payload = UrlTarget("http://127.0.0.1:9/fn").prepare("ab" * 16)
    assert (method, url, payload) == ("GET", "http://127.0.0.1:9/fn", None)
    # ... and when it was sent, for the local Lambda's INIT_START (ms, as the header carries it)
    sent_at = float(headers.pop("x-lambdascope-sent-at"))
    assert int(before * 1000) / 1000 <= sent_at <= time.time() + 0.001
    assert headers == {"x-lambdascope-request-id": "ab" * 16}
    method, _, headers, payload = UrlTarget("http://h/", method="post").prepare("cd" * 16)
    assert method == "POST" and json.loads(payload) == {"client_request_id": "cd" * 16}


def test_url_target_reads_the_probe_record_or_the_error():
    target = UrlTarget("http://h/")
    ok = target.read(200, {}, body(RECORD))
    assert ok.error is None and ok.record == RECORD
    throttled = target.read(429, {"x-amzn-errortype": "TooManyRequestsException"}, b'{"message":"Rate Exceeded."}')
    assert throttled.error == "throttled" and throttled.record is None
    assert throttled.detail.startswith("TooManyRequestsException")
    assert target.read(502, {}, b"").detail == "HTTP 502"
    # The local Lambda's machine cap says no with a 429 of its own: not Lambda's throttling.
    local = target.read(429, {"x-lambdascope-limit": "local-machine"}, b'{"message":"Rate Exceeded."}')
    assert local.error == "local_limit" and "local machine" in local.detail
    not_probe = target.read(200, {}, b"<html>hello</html>")
    assert not_probe.error is None and not_probe.record is None


@pytest.mark.parametrize("url", ["ftp://h/x", "not a url", "http:///nohost"])
def test_bad_urls_are_rejected_in_one_line(url):
    with pytest.raises(ValueError, match="^--url must be an http"):
        UrlTarget(url)


def test_invoke_target_function_error_and_log_tail():
    target = InvokeTarget("http://127.0.0.1:1", "probe", "us-east-1", Credentials("AKID", "SECRET"), log_tail=True)
    method, url, headers, payload = target.prepare("ef" * 16)
    assert method == "POST" and url.endswith("/2015-03-31/functions/probe/invocations")
    assert headers["X-Amz-Log-Type"] == "Tail" and "Authorization" in headers
    assert json.loads(payload) == {"client_request_id": "ef" * 16}

    tail = base64.b64encode(b"REPORT RequestId: r-1\tDuration: 1.00 ms\tInit Duration: 123.45 ms")
    ok = target.read(200, {"x-amz-log-result": tail.decode()}, body(RECORD))
    assert ok.record == RECORD and ok.init_duration_ms == 123.45

    crashed = target.read(
        200, {"x-amz-function-error": "Unhandled"}, b'{"errorMessage":"boom","errorType":"Exception"}'
    )
    assert crashed.error == "function_error" and crashed.record is None
    assert crashed.detail.startswith("function error (Unhandled): ")
    assert target.read(429, {}, b"{}").error == "throttled"


def test_invoke_target_needs_a_name_and_region():
    with pytest.raises(ValueError, match="--function"):
        InvokeTarget(None, "", "us-east-1", Credentials("A", "B"))
    with pytest.raises(ValueError, match="--region"):
        InvokeTarget(None, "probe", None, Credentials("A", "B"))

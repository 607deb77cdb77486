"""SigV4: what arrives at a server verifies exactly as botocore computes it.

An echo server on 127.0.0.1 returns each request as received; the test re-signs that request
with botocore's own SigV4Auth at the same time and compares the Authorization header. No AWS.
"""

import base64
import datetime
import io
import json

import botocore.auth
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials, RefreshableCredentials

from loadgen.plan import Plan
from loadgen.runner import Runner
from loadgen.signing import SigV4Signer
from loadgen.targets import InvokeTarget, UrlTarget, target_from_spec

SECRET = "s3cr3t/ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:probe"


def creds(token=TOKEN):
    return Credentials("AKIDTEST", SECRET, token)


async def one_request(target, client):
    runner = Runner(target, Plan("closed", 1, requests=1), client=client)
    outcomes = [o async for batch in runner.run() for o in batch]
    assert len(outcomes) == 1 and outcomes[0].error is None, outcomes
    return outcomes[0]


def botocore_authorization(seen, port, region, credentials, monkeypatch):
    """Re-sign the request as received, with botocore, at the time it carries."""
    headers = dict(seen["headers"])
    auth = headers["Authorization"]
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    when = datetime.datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: when)
    lower = {k.lower(): v for k, v in headers.items()}
    request = AWSRequest(
        method=seen["method"],
        url=f"http://127.0.0.1:{port}{seen['raw_path']}",
        headers={name: lower[name] for name in signed if name not in ("host", "x-amz-date")},
        data=base64.b64decode(seen["body"]),
    )
    SigV4Auth(credentials, "lambda", region).add_auth(request)
    return request.headers["Authorization"], signed, auth


@pytest.mark.parametrize("client", ["aiohttp", "fast"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_signed_function_url_request_verifies_as_botocore_signs_it(server, client, method, monkeypatch):
    signer = SigV4Signer("eu-west-1", creds())
    target = UrlTarget(f"{server.url}/echo?x=1&a=b", signer, method=method)
    seen = (await one_request(target, client)).record
    expected, signed, got = botocore_authorization(seen, server.port, "eu-west-1", creds(), monkeypatch)
    assert got == expected
    assert {"host", "x-amz-date", "x-amz-security-token", "x-lambdascope-request-id"} <= set(signed)
    assert dict(seen["headers"])["X-Amz-Security-Token"] == TOKEN


@pytest.mark.parametrize("client", ["aiohttp", "fast"])
async def test_invoke_request_by_arn_verifies_and_uses_botocores_path(server, client, monkeypatch):
    # The endpoint is the echo route, so the server shows the Invoke request as it arrived.
    target = InvokeTarget(f"{server.url}/echo", ARN, "us-east-1", creds(token=None), qualifier="$LATEST")
    invoke_path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aprobe/invocations"
    assert invoke_path == botocore_lambda_path(server.url, ARN)
    seen = (await one_request(target, client)).record
    assert seen["raw_path"] == f"/echo{invoke_path}?Qualifier=%24LATEST"
    expected, signed, got = botocore_authorization(seen, server.port, "us-east-1", creds(token=None), monkeypatch)
    assert got == expected
    assert json.loads(base64.b64decode(seen["body"]))["client_request_id"]
    assert "x-amz-security-token" not in signed


def botocore_lambda_path(endpoint, function_name):
    """The path botocore's own Lambda client puts on the wire for Invoke (no network)."""
    sent = {}

    def capture(request, **_):
        sent["url"] = request.url
        raw = io.BytesIO(b"{}")
        raw.stream = lambda **_: iter([b"{}"])
        return AWSResponse(request.url, 200, {}, raw)

    session = botocore.session.get_session()
    client = session.create_client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key=SECRET,
    )
    client.meta.events.register("before-send.lambda.Invoke", capture)
    client.invoke(FunctionName=function_name, Payload=b"{}")
    return sent["url"][len(endpoint) :].split("?")[0]


def test_same_inputs_and_time_give_botocores_authorization(monkeypatch):
    when = datetime.datetime(2026, 11, 27, 12, 0, 0)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: when)
    url = "https://abc.lambda-url.us-east-1.on.aws/?q=1"
    ours = SigV4Signer("us-east-1", creds()).sign("POST", url, {"X-A": "1"}, b"{}")
    reference = AWSRequest(method="POST", url=url, headers={"X-A": "1"}, data=b"{}")
    SigV4Auth(creds(), "lambda", "us-east-1").add_auth(reference)
    assert ours["Authorization"] == reference.headers["Authorization"]
    assert ours["X-Amz-Date"] == "20261127T120000Z"


class Expiring:
    """Like botocore's RefreshableCredentials: each get_frozen_credentials may return new keys."""

    def __init__(self):
        self.calls = 0

    def get_frozen_credentials(self):
        self.calls += 1
        return Credentials(f"AKID{self.calls}", SECRET, None).get_frozen_credentials()


def test_credentials_are_read_fresh_for_every_request():
    provider = Expiring()
    signer = SigV4Signer("us-east-1", provider)
    first = signer.sign("GET", "https://x.lambda-url.us-east-1.on.aws/", {}, None)
    second = signer.sign("GET", "https://x.lambda-url.us-east-1.on.aws/", {}, None)
    assert "Credential=AKID1/" in first["Authorization"]
    assert "Credential=AKID2/" in second["Authorization"]


def test_botocore_refreshable_credentials_renew_before_they_expire():
    calls = []

    def refresh():
        calls.append(1)
        return {
            "access_key": "AKIDNEW",
            "secret_key": SECRET,
            "token": TOKEN,
            "expiry_time": (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).isoformat(),
        }

    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=30)
    credentials = RefreshableCredentials.create_from_metadata(
        {"access_key": "AKIDOLD", "secret_key": SECRET, "token": TOKEN, "expiry_time": soon.isoformat()},
        refresh,
        "test",
    )
    target = InvokeTarget("http://127.0.0.1:1", "probe", "us-east-1", credentials)
    headers = target.prepare("a" * 32)[2]
    assert "Credential=AKIDNEW/" in headers["Authorization"] and calls == [1]
    target.prepare("b" * 32)
    assert calls == [1]  # fresh for an hour now: no second refresh


def test_no_secret_in_reprs_specs_or_outcome_details():
    signer = SigV4Signer("us-east-1", creds())
    target = UrlTarget("https://abc.lambda-url.us-east-1.on.aws/", signer)
    invoke = InvokeTarget(None, "probe", "us-east-1", creds())
    for text in (repr(signer), repr(target), repr(invoke), json.dumps(target.spec()), json.dumps(invoke.spec())):
        assert SECRET not in text and TOKEN not in text and "AKIDTEST" not in text


def test_spec_round_trip_uses_the_standard_chain():
    spec = {
        "kind": "url",
        "url": "https://abc.lambda-url.eu-west-2.on.aws/",
        "method": "GET",
        "auth": "aws_iam",
        "region": None,
        "profile": None,
    }
    target = target_from_spec(spec)
    assert target.signer.region == "eu-west-2"  # from the URL's host
    # The request's shape (any function's) travels too, empty for the probe's plain GET.
    assert target.spec() == {**spec, "region": "eu-west-2", "path": None, "headers": [], "body": None}
    invoke = target_from_spec({"kind": "invoke", "function_name": "probe"})
    assert invoke.region == "us-east-1"  # AWS_DEFAULT_REGION, as the SDKs do
    assert invoke.url == ("https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/probe/invocations")


def test_missing_credentials_is_one_line_naming_the_fix(monkeypatch):
    from loadgen.errors import CredentialsError

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(CredentialsError, match="^no AWS credentials found: set AWS_PROFILE"):
        target_from_spec({"kind": "invoke", "function_name": "probe"})
    with pytest.raises(ValueError, match="unknown target setting 'secret_key'"):
        target_from_spec({"kind": "url", "url": "http://x/", "secret_key": "no"})

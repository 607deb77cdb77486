"""The Invoke API through aioboto3's own lambda client, LogType=Tail, function errors, throttling,
handler timeouts and runtime crashes, and the JSON log format."""

import asyncio
import base64
import json
import os

import aioboto3
import pytest
from botocore.config import Config

from probe.local import LocalLambda, load_profile
from tests.local.conftest import assert_nothing_left, fetch_events

RUNTIMES = pytest.mark.parametrize("runtime", ["awslambdaric", "awslambdaric-fork", "fork"])
NO_RETRY = Config(retries={"total_max_attempts": 1})


def lambda_client(ll, config=None):
    key, secret = ll.credentials
    return aioboto3.Session().client(
        "lambda",
        endpoint_url=ll.invoke_endpoint,
        region_name=ll.region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=config,
    )


async def invoke(client, name, payload, **kwargs):
    resp = await client.invoke(FunctionName=name, Payload=json.dumps(payload), **kwargs)
    body = await resp["Payload"].read()
    return resp, body


async def test_invoke_with_log_tail():
    async with LocalLambda() as ll, lambda_client(ll) as client:
        resp, body = await invoke(client, ll.function_name, {"x-lambdascope-request-id": "via-invoke"}, LogType="Tail")
        assert resp["StatusCode"] == 200 and resp["ExecutedVersion"] == "$LATEST"
        assert "FunctionError" not in resp
        record = json.loads(body)
        assert record["client_request_id"] == "via-invoke" and record["cold"] is True
        tail = base64.b64decode(resp["LogResult"]).decode()
        rid = resp["ResponseMetadata"]["RequestId"]
        assert record["request_id"] == rid
        assert f"START RequestId: {rid} Version: $LATEST" in tail
        assert f"END RequestId: {rid}" in tail
        assert f"REPORT RequestId: {rid}\tDuration: " in tail and "Init Duration: " in tail
        assert '"lambdascope":1' in tail
        # The ARN and name:qualifier forms name the same function.
        resp, _ = await invoke(client, f"arn:aws:lambda:us-east-1:123456789012:function:{ll.function_name}:$LATEST", {})
        assert resp["StatusCode"] == 200
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            await invoke(client, "no-such-function", {})
    assert_nothing_left(ll)


@pytest.mark.parametrize(
    "runtime, awslambdaric, forked",
    [("awslambdaric", True, False), ("awslambdaric-fork", True, True), ("fork", False, True)],
)
async def test_each_runtime_is_what_it_says(runtime, awslambdaric, forked):
    # awslambdaric-fork must be the real client, forked from the fork server (not the local
    # Lambda, whose child a spawned runtime is), not the fork runtime's small loop.
    async with (
        LocalLambda(handler="tests.local.handlers.runtime_client", runtime=runtime) as ll,
        lambda_client(ll) as client,
    ):
        _, body = await invoke(client, ll.function_name, {})
        got = json.loads(body)
        assert got["awslambdaric"] is awslambdaric
        assert (got["ppid"] != os.getpid()) is forked
    assert_nothing_left(ll)


@RUNTIMES
async def test_tail_keeps_only_the_last_4_kb(runtime):
    async with LocalLambda(handler="tests.local.handlers.behave", runtime=runtime) as ll, lambda_client(ll) as client:
        resp, _ = await invoke(client, ll.function_name, {"lines": 400}, LogType="Tail")
        tail = base64.b64decode(resp["LogResult"])
        assert len(tail) <= 4096
        assert tail.decode().rstrip("\n").splitlines()[-1].startswith("REPORT RequestId: ")
    assert_nothing_left(ll)


@RUNTIMES
async def test_handler_error_is_a_function_error(runtime):
    async with LocalLambda(handler="tests.local.handlers.behave", runtime=runtime) as ll, lambda_client(ll) as client:
        resp, body = await invoke(client, ll.function_name, {"raise": "boom"}, LogType="Tail")
        assert resp["StatusCode"] == 200 and resp["FunctionError"] == "Unhandled"
        error = json.loads(body)
        assert error["errorType"] == "ValueError" and error["errorMessage"] == "boom"
        assert "[ERROR] ValueError: boom" in base64.b64decode(resp["LogResult"]).decode()
        resp, _ = await invoke(client, ll.function_name, {})  # the environment lives on
        assert "FunctionError" not in resp and len(ll.environments) == 1
    assert_nothing_left(ll)


@RUNTIMES
async def test_timeout_then_a_fresh_environment(http, runtime):
    prof = load_profile()
    prof.timeout_s = 0.5
    async with (
        LocalLambda(prof, handler="tests.local.handlers.behave", runtime=runtime) as ll,
        lambda_client(ll) as client,
    ):
        resp, body = await invoke(client, ll.function_name, {"sleep": 5})
        assert resp["FunctionError"] == "Unhandled"
        assert "Task timed out after 0.50 seconds" in json.loads(body)["errorMessage"]
        resp, body = await invoke(client, ll.function_name, {})
        assert "FunctionError" not in resp
        first, second = ll.environments
        assert first["retire_reason"] == "timed out" and first["state"] == "stopped"
        events = await fetch_events(ll, lambda evs: sum(e["message"].startswith("REPORT") for e in evs) == 2)
        lines = [e["message"] for e in events if e["logStreamName"] == first["stream"]]
        timed_out = [line for line in lines if "Task timed out" in line]
        assert len(timed_out) == 1 and timed_out[0].endswith("Task timed out after 0.50 seconds")
        report = next(line for line in lines if line.startswith("REPORT"))
        assert "Billed Duration: " in report
        async with http.post(ll.function_url, json={"sleep": 5}) as r:
            assert r.status == 502  # a function URL answers a timed-out invocation with 502
    assert_nothing_left(ll)


@RUNTIMES
async def test_runtime_crash_is_runtime_exit_error(http, runtime):
    async with LocalLambda(handler="tests.local.handlers.behave", runtime=runtime) as ll, lambda_client(ll) as client:
        resp, body = await invoke(client, ll.function_name, {"exit": 1}, LogType="Tail")
        assert resp["FunctionError"] == "Unhandled"
        error = json.loads(body)
        assert error["errorType"] == "Runtime.ExitError"
        assert error["errorMessage"].endswith("Error: Runtime exited with error: exit status 1")
        tail = base64.b64decode(resp["LogResult"]).decode()
        assert "Error: Runtime exited with error: exit status 1\nRuntime.ExitError" in tail
        async with http.post(ll.function_url, json={"exit": 3}) as r:
            assert r.status == 502
        resp, _ = await invoke(client, ll.function_name, {})
        assert "FunctionError" not in resp
        assert [e["retire_reason"] for e in ll.environments] == ["crashed", "crashed", None]
    assert_nothing_left(ll)


async def test_throttle_is_too_many_requests():
    async with (
        LocalLambda(handler="tests.local.handlers.behave", concurrency_limit=1) as ll,
        lambda_client(ll, NO_RETRY) as client,
    ):
        slow = asyncio.ensure_future(invoke(client, ll.function_name, {"sleep": 3}))
        # The one slot is taken once the handler runs; a fixed sleep lost that race on a slow CI.
        async with asyncio.timeout(20):
            while not any(env["state"] == "busy" for env in ll.environments):
                await asyncio.sleep(0.01)
        with pytest.raises(client.exceptions.TooManyRequestsException) as err:
            await invoke(client, ll.function_name, {})
        assert err.value.response["Error"]["Message"] == "Rate Exceeded."
        assert err.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        resp, _ = await slow
        assert resp["StatusCode"] == 200
    assert_nothing_left(ll)


async def test_json_log_format():
    async with LocalLambda(log_format="json") as ll, lambda_client(ll) as client:
        for _ in range(2):
            await invoke(client, ll.function_name, {})
        events = await fetch_events(ll, lambda evs: sum('"platform.report"' in e["message"] for e in evs) == 2)
        records = [json.loads(e["message"]) for e in events]
        kinds = [r.get("type") for r in records if "type" in r]
        assert kinds == ["platform.initStart", "platform.start", "platform.report", "platform.start", "platform.report"]
        init = records[0]["record"]
        assert init["instanceId"] == ll.environments[0]["stream"]
        assert init["runtimeVersion"].startswith("python:3.11.v")
        reports = [r["record"] for r in records if r.get("type") == "platform.report"]
        assert [r["status"] for r in reports] == ["success", "success"]
        assert "initDurationMs" in reports[0]["metrics"]
        assert "initDurationMs" not in reports[1]["metrics"]
        assert reports[0]["metrics"]["memorySizeMB"] == 128
    assert_nothing_left(ll)

"""The front door as the one AWS endpoint: Lambda's control-plane reads in AWS's shapes, and
CloudWatch Logs calls (StartLiveTail's event stream included) passed through to the logs
endpoint, all read with aioboto3's own clients pointed at `endpoint_url`."""

import asyncio
import base64
import json
import socket
import types

import aioboto3
import aiohttp
import pytest
from aiobotocore.config import AioConfig
from aiohttp import web

from probe.local import LocalLambda, load_profile
from probe.local.control_api import ControlApi
from probe.local.frontdoor import FrontDoor
from probe.local.function import FunctionConfig
from probe.local.logs_front import LogsFront
from tests.local.conftest import assert_nothing_left

ARN = "arn:aws:lambda:us-east-1:123456789012:function:lambdascope-probe"
NO_RETRY = AioConfig(retries={"total_max_attempts": 1}, inject_host_prefix=False)


def client(service: str, endpoint_url: str, config=NO_RETRY):
    return aioboto3.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        config=config,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _profile(**knobs):
    prof = load_profile()
    for key, value in knobs.items():
        setattr(prof, key, value)
    return prof


# --- the control plane, against a real local Lambda ------------------------------------------


async def test_control_plane_reads(http):
    async with (
        LocalLambda(_profile(memory_mb=256, timeout_s=5.0)) as ll,
        client("lambda", ll.endpoints()["endpoint_url"]) as lam,
    ):
        assert ll.endpoints()["endpoint_url"] == ll.invoke_endpoint
        cfg = await lam.get_function_configuration(FunctionName="lambdascope-probe")
        assert cfg["FunctionName"] == "lambdascope-probe"
        assert cfg["FunctionArn"] == ARN
        assert cfg["Runtime"] == "python3.11"
        assert cfg["Handler"] == "probe.handler.handler"
        assert cfg["MemorySize"] == 256 and cfg["Timeout"] == 5
        assert cfg["Architectures"] in (["x86_64"], ["arm64"])
        assert cfg["State"] == "Active" and cfg["Version"] == "$LATEST"
        assert cfg["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/lambdascope-probe"}
        assert cfg["CodeSize"] > 0 and len(base64.b64decode(cfg["CodeSha256"])) == 32
        # An ARN, a partial ARN and name:$LATEST name the same function.
        for name in (ARN, "123456789012:function:lambdascope-probe", "lambdascope-probe:$LATEST"):
            other = await lam.get_function_configuration(FunctionName=name)
            assert other["FunctionName"] == "lambdascope-probe"
        qualified = await lam.get_function_configuration(FunctionName="lambdascope-probe", Qualifier="$LATEST")
        assert qualified["FunctionArn"] == ARN + ":$LATEST"

        fn = await lam.get_function(FunctionName="lambdascope-probe")
        assert fn["Code"] == {"RepositoryType": "S3", "Location": ""}
        assert fn["Configuration"]["FunctionArn"] == ARN

        url = await lam.get_function_url_config(FunctionName="lambdascope-probe")
        assert url["FunctionUrl"] == ll.function_url and url["AuthType"] == "NONE"
        assert url["CreationTime"].endswith("Z") and url["FunctionArn"] == ARN
        async with http.get(url["FunctionUrl"]) as resp:  # the URL it gives really works
            assert resp.status == 200 and (await resp.json())["cold"] is True

        listed = await lam.list_functions()
        assert [f["FunctionName"] for f in listed["Functions"]] == ["lambdascope-probe"]

        for call, kwargs in (
            (lam.get_function_configuration, {}),
            (lam.get_function, {}),
            (lam.get_function_url_config, {}),
            (lam.get_function_configuration, {"Qualifier": "7"}),
        ):
            name = "no-such-function" if not kwargs else "lambdascope-probe"
            with pytest.raises(lam.exceptions.ResourceNotFoundException) as err:
                await call(FunctionName=name, **kwargs)
            assert (
                "Function not found: arn:aws:lambda:us-east-1:123456789012:function:" in str(err.value)
                or call is lam.get_function_url_config
            )
        # A Lambda call we do not serve is a clear error, not an invocation of the function.
        with pytest.raises(lam.exceptions.InvalidRequestContentException, match="GetFunction"):
            await lam.get_alias(FunctionName="lambdascope-probe", Name="live")
        assert ll.environments[0]["invocations"] == 1

        # The raw 404, as AWS writes it.
        async with http.get(f"{ll.invoke_endpoint}/2015-03-31/functions/nope/configuration") as r:
            assert r.status == 404
            assert r.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
            body = await r.json()
            assert body["Type"] == "User"
            assert body["message"] == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"
    assert_nothing_left(ll)


def test_configuration_follows_the_profile():
    """JSON log format and fractional timeouts, without starting anything."""
    prof = _profile(log_format="json", memory_mb=1769, timeout_s=2.5)
    config = FunctionConfig(
        function_name="f",
        region="eu-west-1",
        account="123456789012",
        handler="probe.handler.handler",
        memory_mb=prof.memory_mb,
        timeout_s=prof.timeout_s,
        runtime=prof.runtime,
        log_format=prof.log_format,
    )
    door = types.SimpleNamespace(config=config, fleet=types.SimpleNamespace(profile=prof), port=8123)
    api = ControlApi(door)
    cfg = api.configuration()
    assert cfg["FunctionArn"] == "arn:aws:lambda:eu-west-1:123456789012:function:f"
    assert cfg["MemorySize"] == 1769 and cfg["Timeout"] == 2.5
    assert cfg["LoggingConfig"] == {
        "LogFormat": "JSON",
        "LogGroup": "/aws/lambda/f",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
    }
    assert api.url_config()["FunctionUrl"] == "http://127.0.0.1:8123/"


# --- CloudWatch Logs through the same endpoint ------------------------------------------------


async def test_logs_calls_through_the_invoke_endpoint():
    async with (
        LocalLambda() as ll,
        client("lambda", ll.invoke_endpoint) as lam,
        client("logs", ll.invoke_endpoint) as logs,
    ):
        resp = await lam.invoke(FunctionName=ll.function_name, Payload=b"{}")
        rid = json.loads(await resp["Payload"].read())["request_id"]
        for _ in range(100):  # the shipper batches every ~200 ms
            found = await logs.filter_log_events(logGroupName=ll.log_group)
            if any(e["message"].startswith(f"REPORT RequestId: {rid}") for e in found["events"]):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the REPORT line never showed through the invoke endpoint")
        streams = await logs.describe_log_streams(logGroupName=ll.log_group)
        assert [s["logStreamName"] for s in streams["logStreams"]] == [ll.environments[0]["stream"]]
        got = await logs.get_log_events(
            logGroupName=ll.log_group, logStreamName=ll.environments[0]["stream"], startFromHead=True
        )
        assert got["events"][0]["message"].startswith("INIT_START Runtime Version: ")
        # The same answers as the logs endpoint itself gives.
        async with client("logs", ll.logs_endpoint) as direct:
            same = await direct.filter_log_events(logGroupName=ll.log_group)
        assert [e["eventId"] for e in same["events"]] == [e["eventId"] for e in found["events"]]
        with pytest.raises(logs.exceptions.ResourceNotFoundException):
            await logs.filter_log_events(logGroupName="/aws/lambda/nothing-here")
    assert_nothing_left(ll)


async def test_live_tail_streams_through_the_invoke_endpoint():
    """aioboto3's own start_live_tail, via the front door, against a real streaming Live Tail:
    successive updates carry the invocations that happen while the session is open."""
    async with LocalLambda() as ll, LogsFront(ll.moto.endpoint, update_interval=0.2) as front:
        ll.on_shipped.append(front.publish)
        ll.door.logs_endpoint = front.url  # the door passes Logs calls on to this Live Tail
        group_arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{ll.log_group}"
        async with client("lambda", ll.invoke_endpoint) as lam, client("logs", ll.invoke_endpoint) as logs:
            await lam.invoke(FunctionName=ll.function_name, Payload=b"{}")  # the group exists
            resp = await logs.start_live_tail(logGroupIdentifiers=[group_arn])
            stream = resp["responseStream"]
            sent, seen_in = [], {}
            updates = 0

            async def load():
                for _ in range(15):
                    r = await lam.invoke(FunctionName=ll.function_name, Payload=b"{}")
                    sent.append(json.loads(await r["Payload"].read())["request_id"])
                    await asyncio.sleep(0.15)

            async def read():
                nonlocal updates
                async for event in stream:
                    if "sessionStart" in event:
                        assert event["sessionStart"]["logGroupIdentifiers"] == [group_arn]
                        loader.append(asyncio.ensure_future(load()))
                        continue
                    updates += 1
                    for result in event["sessionUpdate"]["sessionResults"]:
                        msg = result["message"]
                        if msg.startswith("REPORT RequestId: "):
                            seen_in[msg.split()[2]] = updates
                    if loader and loader[0].done() and set(sent) <= set(seen_in):
                        return

            loader: list = []
            await asyncio.wait_for(read(), 30)
            await loader[0]
        assert len(sent) == 15 and set(sent) <= set(seen_in)
        assert len(set(seen_in[rid] for rid in sent)) >= 3  # spread over successive updates
        # The reader has gone; the front notices and ends the session.
        for _ in range(50):
            if front.session_count == 0:
                break
            await asyncio.sleep(0.1)
        assert front.session_count == 0
    assert_nothing_left(ll)


# --- the pass-through itself, against a stand-in logs endpoint (no processes) -----------------


def _bare_door(logs_endpoint) -> FrontDoor:
    prof = load_profile()
    config = FunctionConfig(
        function_name="f",
        region="us-east-1",
        account="123456789012",
        handler="probe.handler.handler",
        memory_mb=128,
        timeout_s=3.0,
        runtime="awslambdaric",
        log_format="text",
    )
    return FrontDoor(types.SimpleNamespace(profile=prof), config, logs_endpoint=logs_endpoint)


@pytest.fixture
async def slow_logs():
    """A logs endpoint that sends one chunk, then waits to be told before the second."""
    release = asyncio.Event()
    seen = []

    async def handle(request):
        seen.append((request.headers.get("X-Amz-Target"), await request.read()))
        resp = web.StreamResponse(headers={"Content-Type": "application/vnd.amazon.eventstream"})
        await resp.prepare(request)
        await resp.write(b"first")
        await release.wait()
        await resp.write(b"second")
        return resp

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield types.SimpleNamespace(url=url, release=release, seen=seen)
    release.set()
    await runner.cleanup()


async def test_logs_answers_are_streamed_not_buffered(slow_logs):
    door = _bare_door(lambda: slow_logs.url)
    await door.start()
    try:
        async with aiohttp.ClientSession() as http:
            headers = {"X-Amz-Target": "Logs_20140328.StartLiveTail", "Content-Type": "application/x-amz-json-1.1"}
            async with http.post(f"http://127.0.0.1:{door.port}/", data=b'{"x": 1}', headers=headers) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"] == "application/vnd.amazon.eventstream"
                # The first chunk arrives while the endpoint still holds the second one back.
                first = await asyncio.wait_for(resp.content.readexactly(5), 10)
                assert first == b"first" and not slow_logs.release.is_set()
                slow_logs.release.set()
                assert await asyncio.wait_for(resp.content.read(), 10) == b"second"
        assert slow_logs.seen == [("Logs_20140328.StartLiveTail", b'{"x": 1}')]
    finally:
        await door.stop()


async def test_stop_ends_a_stream_in_flight(slow_logs):
    door = _bare_door(slow_logs.url)
    await door.start()
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"http://127.0.0.1:{door.port}/", data=b"{}", headers={"X-Amz-Target": "Logs_20140328.StartLiveTail"}
        ) as resp:
            assert await asyncio.wait_for(resp.content.readexactly(5), 10) == b"first"
            await asyncio.wait_for(door.stop(), 10)
            with pytest.raises(
                (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, asyncio.IncompleteReadError)
            ):
                await asyncio.wait_for(resp.content.readexactly(6), 10)


async def test_unreachable_logs_endpoint_is_a_503():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    door = _bare_door(f"http://127.0.0.1:{port}")
    await door.start()
    try:
        async with client("logs", f"http://127.0.0.1:{door.port}") as logs:
            with pytest.raises(logs.exceptions.ServiceUnavailableException, match="unreachable"):
                await logs.describe_log_groups()
    finally:
        await door.stop()

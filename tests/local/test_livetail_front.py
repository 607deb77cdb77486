"""LogsFront: moto behind it for every call, a real streaming StartLiveTail in front.

moto runs out of process (one per module); the front runs in the test's loop; the client is
aioboto3's own, so these tests prove botocore parses what the front writes.
"""

import asyncio
import time
import uuid

import aioboto3
import pytest
from aiobotocore.config import AioConfig
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError

from probe.local.eventstream import encode_message, event_message, exception_message, initial_response
from probe.local.livetail_request import compile_filter_pattern, parse_request
from probe.local.logs_front import LiveTailSession, LogsFront
from probe.local.moto_server import MotoServer

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
INTERVAL = 0.2  # seconds between updates in these tests (AWS: 1 s)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_url():
    server = MotoServer().start_blocking()
    yield server.endpoint
    server.stop_blocking()


@pytest.fixture
async def front(moto_url):
    async with LogsFront(moto_url, update_interval=INTERVAL) as f:
        yield f


def client(url: str):
    session = aioboto3.Session(
        aws_access_key_id="AKIAFAKEFAKEFAKE1234", aws_secret_access_key="fake-secret", region_name=REGION
    )
    # inject_host_prefix=False, or botocore dials streaming-127.0.0.1 (AWS-FACTS §1.1).
    return session.client(
        "logs",
        endpoint_url=url,
        config=AioConfig(inject_host_prefix=False, retries={"mode": "standard", "max_attempts": 1}),
    )


async def make_group(logs, streams=("s1",)) -> tuple[str, str]:
    name = f"/aws/lambda/t-{uuid.uuid4().hex[:8]}"
    await logs.create_log_group(logGroupName=name)
    for s in streams:
        await logs.create_log_stream(logGroupName=name, logStreamName=s)
    return name, f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"


def now_ms() -> int:
    return int(time.time() * 1000)


# --- framing (pure) ------------------------------------------------------------------------------


def _decode(data: bytes):
    buf = EventStreamBuffer()
    buf.add_data(data)
    return list(buf)


def test_frames_decode_with_botocore_and_crc_is_checked():
    data = (
        initial_response()
        + event_message("sessionUpdate", {"sessionResults": []})
        + exception_message("SessionTimeoutException", "over")
    )
    msgs = _decode(data)
    assert [m.headers[":event-type"] for m in msgs[:2]] == ["initial-response", "sessionUpdate"]
    assert msgs[0].payload == b"{}"
    assert msgs[2].headers[":message-type"] == "exception"
    assert msgs[2].headers[":exception-type"] == "SessionTimeoutException"
    assert msgs[2].to_response_dict()["status_code"] == 400

    bad = bytearray(encode_message({":message-type": "event"}, b"payload"))
    bad[-6] ^= 0xFF  # a payload byte: the message CRC no longer matches
    with pytest.raises(ChecksumMismatch):
        _decode(bytes(bad))


def test_filter_patterns():
    assert compile_filter_pattern("")("anything")
    both = compile_filter_pattern("ERROR 404")
    assert both("ERROR code 404") and not both("ERROR code 500")
    assert compile_filter_pattern('"Task timed out"')("x Task timed out after 3 s")
    assert not compile_filter_pattern('"Task timed out"')("Task was timed out")
    either = compile_filter_pattern("?START ?END")
    assert either("END RequestId: 1") and not either("REPORT RequestId: 1")
    assert not compile_filter_pattern("REPORT -Init")("REPORT Init Duration: 3 ms")
    assert compile_filter_pattern("%^RE[A-Z]+ %")("REPORT RequestId")


def test_request_validation_matches_aws():
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/g"
    spec = parse_request({"logGroupIdentifiers": [arn], "logStreamNamePrefixes": ["2026/"]})
    assert spec.groups == {"/g": arn} and spec.wants_stream("2026/01/01/x") and not spec.wants_stream("x")

    def code(params):
        with pytest.raises(Exception) as info:
            parse_request(params)
        return info.value.code

    assert code({"logGroupIdentifiers": ["/aws/lambda/fn"]}) == "InvalidParameterException"  # not an ARN
    assert code({"logGroupIdentifiers": [arn + ":*"]}) == "InvalidParameterException"  # legacy ARN
    assert code({"logGroupIdentifiers": [arn] * 11}) == "InvalidParameterException"
    assert code({"logGroupIdentifiers": []}) == "InvalidParameterException"
    assert code({"logGroupIdentifiers": [arn], "logStreamNames": ["a"], "logStreamNamePrefixes": ["a"]}) == (
        "InvalidParameterException"
    )
    assert code({"logGroupIdentifiers": [arn, arn + "2"], "logStreamNames": ["a"]}) == "InvalidParameterException"
    assert code({"logGroupIdentifiers": [arn], "logEventFilterPattern": "{ $.level = 1 }"}) == (
        "InvalidParameterException"
    )


def test_slow_reader_buffer_drops_oldest():
    spec = parse_request({"logGroupIdentifiers": [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/g"]})
    s = LiveTailSession(spec)
    for update in range(12):
        for i in range(600):
            s.offer({"timestamp": update * 1000 + i, "message": f"{update}:{i}"})
        s.cut_update()
    assert len(s.outbox) == 10 and s.outbox_events == 5000
    assert all(u["sessionMetadata"]["sampled"] for u in s.outbox)
    assert all(len(u["sessionResults"]) == 500 for u in s.outbox)
    # Updates 0 and 1 went first (oldest), then nothing else was needed.
    assert s.dropped == 1000
    first = s.take()
    assert first["sessionResults"][0]["message"].startswith("2:")
    # A sample stays in timestamp order.
    stamps = [e["timestamp"] for e in first["sessionResults"]]
    assert stamps == sorted(stamps)


# --- through the front ---------------------------------------------------------------------------


async def test_normal_calls_are_forwarded_to_moto(front):
    async with client(front.url) as logs:
        name, arn = await make_group(logs)
        t = now_ms()
        await logs.put_log_events(
            logGroupName=name,
            logStreamName="s1",
            logEvents=[{"timestamp": t + i, "message": f"line {i}"} for i in range(3)],
        )
        got = await logs.filter_log_events(logGroupName=name, startTime=t)
        assert [e["message"] for e in got["events"]] == ["line 0", "line 1", "line 2"]
        groups = await logs.describe_log_groups(logGroupNamePrefix=name)
        assert groups["logGroups"][0]["logGroupArn"] == arn
        # Errors come back as moto wrote them (status and code).
        with pytest.raises(ClientError) as info:
            await logs.filter_log_events(logGroupName=name + "-missing")
        assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


async def _next(it, timeout=5.0):
    return await asyncio.wait_for(it.__anext__(), timeout)


async def test_live_tail_streams_published_events_in_successive_updates(front):
    async with client(front.url) as logs:
        name, arn = await make_group(logs, streams=("2026/01/01/[$LATEST]a", "2026/01/01/[$LATEST]b"))
        resp = await logs.start_live_tail(logGroupIdentifiers=[arn])
        it = resp["responseStream"].__aiter__()
        start = (await _next(it))["sessionStart"]
        assert start["logGroupIdentifiers"] == [arn] and start["sessionId"] and start["requestId"]

        async def publisher():
            for i in range(6):
                stream = "2026/01/01/[$LATEST]" + "ab"[i % 2]
                ev = [{"timestamp": now_ms(), "message": f"m{i}"}]
                await logs.put_log_events(logGroupName=name, logStreamName=stream, logEvents=ev)
                front.publish(name, stream, ev)
                await asyncio.sleep(INTERVAL * 1.5)

        task = asyncio.create_task(publisher())
        messages, updates_with_events, empty_updates = [], 0, 0
        async with asyncio.timeout(10):
            while len(messages) < 6 or empty_updates < 1:
                update = (await _next(it))["sessionUpdate"]
                assert update["sessionMetadata"]["sampled"] is False
                results = update["sessionResults"]
                if results:
                    updates_with_events += 1
                    assert {r["logGroupIdentifier"] for r in results} == {arn}
                    assert all(r["ingestionTime"] >= r["timestamp"] for r in results)
                else:
                    empty_updates += 1
                messages += [r["message"] for r in results]
        await task
        assert messages == [f"m{i}" for i in range(6)]
        assert updates_with_events >= 3  # spread over updates, not one batch
        resp["responseStream"].close()


async def test_sampled_above_500_per_update(front):
    async with client(front.url) as logs:
        name, arn = await make_group(logs)
        resp = await logs.start_live_tail(logGroupIdentifiers=[arn])
        it = resp["responseStream"].__aiter__()
        await _next(it)  # sessionStart
        await _next(it)  # the first update starts a fresh interval
        t = now_ms()
        front.publish(name, "s1", [{"timestamp": t + i, "message": f"e{i}"} for i in range(1200)])
        update = (await _next(it))["sessionUpdate"]
        assert update["sessionMetadata"]["sampled"] is True
        assert len(update["sessionResults"]) == 500
        assert len({r["message"] for r in update["sessionResults"]}) == 500
        # A sample, not just the first 500.
        assert max(r["timestamp"] for r in update["sessionResults"]) - t >= 500
        after = (await _next(it))["sessionUpdate"]
        assert after == {"sessionMetadata": {"sampled": False}, "sessionResults": []}
        resp["responseStream"].close()


async def test_stream_prefix_and_filter_pattern(front):
    async with client(front.url) as logs:
        name, arn = await make_group(logs, streams=("keep-1", "drop-1"))
        resp = await logs.start_live_tail(
            logGroupIdentifiers=[arn], logStreamNamePrefixes=["keep"], logEventFilterPattern="REPORT"
        )
        it = resp["responseStream"].__aiter__()
        start = (await _next(it))["sessionStart"]
        assert start["logStreamNamePrefixes"] == ["keep"] and start["logEventFilterPattern"] == "REPORT"
        t = now_ms()
        front.publish(name, "keep-1", [{"timestamp": t, "message": "REPORT a"}, {"timestamp": t, "message": "START a"}])
        front.publish(name, "drop-1", [{"timestamp": t, "message": "REPORT b"}])
        front.publish("/other/group", "keep-1", [{"timestamp": t, "message": "REPORT c"}])
        front.publish(arn, "keep-2", [{"timestamp": t, "message": "REPORT d"}])  # by ARN works too
        seen = []
        async with asyncio.timeout(5):
            while len(seen) < 2:
                seen += [r["message"] for r in (await _next(it))["sessionUpdate"]["sessionResults"]]
        assert seen == ["REPORT a", "REPORT d"]
        resp["responseStream"].close()


async def test_session_ends_with_timeout_exception(moto_url):
    async with LogsFront(moto_url, update_interval=INTERVAL, session_limit=0.7) as front:
        async with client(front.url) as logs:
            _, arn = await make_group(logs)
            resp = await logs.start_live_tail(logGroupIdentifiers=[arn])
            updates = 0
            with pytest.raises(EventStreamError) as info:
                async with asyncio.timeout(5):
                    async for event in resp["responseStream"]:
                        updates += "sessionUpdate" in event
            assert info.value.response["Error"]["Code"] == "SessionTimeoutException"
            assert 1 <= updates <= 4  # 3 on time; a loaded machine may tick late, never more
            resp["responseStream"].close()


async def test_start_errors_are_aws_shaped(front):
    async with client(front.url) as logs:
        _, arn = await make_group(logs)
        for kwargs, code in [
            ({"logGroupIdentifiers": ["/aws/lambda/not-an-arn"]}, "InvalidParameterException"),
            (
                {"logGroupIdentifiers": [arn], "logStreamNames": ["a"], "logStreamNamePrefixes": ["a"]},
                "InvalidParameterException",
            ),
            ({"logGroupIdentifiers": [arn + "-missing"]}, "ResourceNotFoundException"),
            ({"logGroupIdentifiers": [arn.replace(ACCOUNT, "999999999999")]}, "ResourceNotFoundException"),
        ]:
            with pytest.raises(ClientError) as info:
                await logs.start_live_tail(**kwargs)
            assert info.value.response["Error"]["Code"] == code, kwargs
        assert front.session_count == 0


async def test_closing_the_stream_ends_the_session_and_stop_ends_open_ones(moto_url):
    front = await LogsFront(moto_url, update_interval=INTERVAL).start()
    try:
        async with client(front.url) as logs:
            _, arn = await make_group(logs)
            first = await logs.start_live_tail(logGroupIdentifiers=[arn])
            it = first["responseStream"].__aiter__()
            await _next(it)
            assert front.session_count == 1
            first["responseStream"].close()
            async with asyncio.timeout(3):
                while front.session_count:
                    await asyncio.sleep(0.05)

            second = await logs.start_live_tail(logGroupIdentifiers=[arn])
            await _next(second["responseStream"].__aiter__())
            assert front.session_count == 1
            async with asyncio.timeout(3):
                await front.stop()
            assert front.session_count == 0
            second["responseStream"].close()
    finally:
        await front.stop()

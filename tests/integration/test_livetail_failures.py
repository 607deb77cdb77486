"""LiveTailSource against a scripted StartLiveTail server that misbehaves on purpose, with
FilterLogEvents answered by moto, so every gap must be filled by backfill and every overlap
removed by de-duplication; and the pure pieces recovery rests on (de-duplication, the
one-line error, the ARN check).
"""

import asyncio
import json
import logging
import struct
import uuid
import zlib
from collections import deque

import aiohttp
import pytest
from aiohttp import web
from botocore.exceptions import ClientError

from probe.local.eventstream import event_message, exception_message, initial_response
from probe.local.logs_front import LIVE_TAIL_TARGET
from tests.integration.conftest import FAKE_ACCESS_KEY, FAKE_REGION
from tests.integration.livetail_helpers import (
    ACCOUNT,
    STREAM,
    Collector,
    events,
    factory,
    group_names,
    make_group,
    now_ms,
    until,
)
from tui.aws.sources.livetail import LiveTailSource, one_line_error
from tui.core.recent import RecentKeys


class ScriptedLiveTail:
    """StartLiveTail answered from a script (one list of steps per connection); all other calls
    are forwarded to moto, so FilterLogEvents sees what the steps stored.

    Steps: ("do", async fn) runs test code (e.g. PutLogEvents); ("start",) sessionStart;
    ("update", events, sampled); ("end",) a clean end; ("exception", type); ("drop",) half a
    frame, then the connection is cut; ("stall", s) silence; ("hold",) empty updates until stop;
    ("deny", code, message) an HTTP error instead of a stream; ("huge",) a frame announcing 1 GiB.
    """

    def __init__(self, moto_url: str, arn: str, scripts: list[list[tuple]]) -> None:
        self.moto_url, self.arn = moto_url, arn
        self.scripts = deque(scripts)
        self.connections = 0
        self.huge_sent = 0
        self._stopping = asyncio.Event()

    async def __aenter__(self):
        self.http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc):
        self._stopping.set()
        await self.runner.cleanup()
        await self.http.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.headers.get("X-Amz-Target") != LIVE_TAIL_TARGET:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
            async with self.http.post(self.moto_url + request.path_qs, headers=headers, data=body) as up:
                return web.Response(
                    status=up.status, body=await up.read(), headers={"Content-Type": up.headers.get("Content-Type", "")}
                )
        self.connections += 1
        script = self.scripts.popleft() if self.scripts else [("start",), ("hold",)]
        if script[0][0] == "deny":
            _, code, message = script[0]
            return web.Response(
                status=400,
                body=json.dumps({"__type": code, "message": message}).encode(),
                headers={"Content-Type": "application/x-amz-json-1.1"},
            )
        resp = web.StreamResponse(headers={"Content-Type": "application/vnd.amazon.eventstream"})
        await resp.prepare(request)
        await resp.write(initial_response())
        for step in script:
            kind = step[0]
            if kind == "do":
                await step[1]()
            elif kind == "start":
                await resp.write(
                    event_message(
                        "sessionStart",
                        {
                            "requestId": str(uuid.uuid4()),
                            "sessionId": str(uuid.uuid4()),
                            "logGroupIdentifiers": [self.arn],
                        },
                    )
                )
            elif kind == "update":
                await resp.write(self._update(step[1], step[2]))
            elif kind == "end":
                return resp
            elif kind == "exception":
                await resp.write(exception_message(step[1], "scripted failure"))
                return resp
            elif kind == "drop":
                frame = self._update([{"timestamp": now_ms(), "message": "never delivered"}], False)
                await resp.write(frame[: len(frame) // 2])
                request.transport.close()  # mid-frame, mid-chunk: the client sees a broken body
                return resp
            elif kind == "huge":
                # A frame's prelude announcing 1 GiB of payload, and then nothing: a reader that
                # waited for the frame, or buffered it, would hang here or grow to 1 GiB.
                prelude = struct.pack(">II", (1 << 30) + 16, 0)
                await resp.write(prelude + struct.pack(">I", zlib.crc32(prelude)))
                self.huge_sent += 1
                await self._stopping.wait()
                return resp
            elif kind == "stall":
                await asyncio.sleep(step[1])
            elif kind == "hold":
                while not self._stopping.is_set():
                    await resp.write(self._update([], False))
                    await asyncio.sleep(0.1)
                return resp
        return resp

    def _update(self, evs: list[dict], sampled: bool) -> bytes:
        return event_message(
            "sessionUpdate",
            {
                "sessionMetadata": {"sampled": sampled},
                "sessionResults": [
                    {
                        "logStreamName": STREAM,
                        "logGroupIdentifier": self.arn,
                        "message": e["message"],
                        "timestamp": e["timestamp"],
                        "ingestionTime": now_ms(),
                    }
                    for e in evs
                ],
            },
        )


async def test_no_loss_no_repeat_across_every_kind_of_stream_failure(moto_endpoint, fake_aws_env, caplog):
    caplog.set_level(logging.INFO)
    name, arn = group_names()
    t0 = now_ms()
    ev = events(t0, 0, 140)
    async with factory(moto_endpoint)() as logs:
        await make_group(logs, name)

        def put(lo, hi):
            async def run():
                await logs.put_log_events(logGroupName=name, logStreamName=STREAM, logEvents=ev[lo:hi])

            return ("do", run)

        scripts = [
            # 1: ends early and cleanly; 15-19 were stored after its last update
            [put(0, 15), ("start",), ("update", ev[0:10], False), ("update", ev[10:15], False), put(15, 20), ("end",)],
            # 2: 20-24 stored before it started; fails with SessionStreamingException
            [
                put(20, 25),
                ("start",),
                put(25, 30),
                ("update", ev[25:30], False),
                ("exception", "SessionStreamingException"),
            ],
            # 3: a sampled update (every 4th of 30-129), then an unsampled one, then a cut connection
            [
                ("start",),
                put(30, 130),
                ("update", ev[30:130:4], True),
                put(130, 135),
                ("update", ev[130:135], False),
                ("drop",),
            ],
            # 4: goes silent (the source's stall timeout is 0.4 s)
            [("start",), ("stall", 1.5)],
            # 5: the 3-hour end
            [("start",), ("exception", "SessionTimeoutException")],
            # 6: healthy from here on
            [("start",), put(135, 140), ("update", ev[135:140], False), ("hold",)],
        ]
        async with ScriptedLiveTail(moto_endpoint, arn, scripts) as server:
            source = LiveTailSource(
                # A wide margin: these timestamps are fixed up front, however slowly the script runs.
                factory(server.url),
                arn,
                since_ms=t0,
                backfill_interval_s=0.2,
                backfill_margin_ms=60_000,
                backoff_initial_s=0.05,
                backoff_max_s=0.2,
                stall_timeout_s=0.4,
            )
            col = Collector(source)
            await col.wait_for(len(ev), timeout=20)
            await until(lambda: server.connections >= 6)
            await col.stop()
    col.assert_exactly(ev)
    extra = source.status.extra
    assert extra["sessions"] >= 6 and extra["reconnects"] >= 5
    assert extra["sampled_updates"] == 1 and col.sampled_seen
    assert extra["duplicates"] > 0  # backfill and live overlapped, and the overlap was removed
    assert extra["backfilled"] >= 10 + 75  # 15-24 and what the sample left out
    assert "fAkEsEcReT" not in caplog.text


async def test_a_frame_announcing_1_gib_is_refused_at_its_prelude_and_the_gap_backfilled(
    moto_endpoint, fake_aws_env, caplog
):
    caplog.set_level(logging.INFO)
    name, arn = group_names()
    t0 = now_ms()
    ev = events(t0, 0, 20)
    async with factory(moto_endpoint)() as logs:
        await make_group(logs, name)

        async def put():
            await logs.put_log_events(logGroupName=name, logStreamName=STREAM, logEvents=ev)

        scripts = [[("start",), ("do", put), ("huge",)], [("start",), ("hold",)]]
        async with ScriptedLiveTail(moto_endpoint, arn, scripts) as server:
            # The stall timeout is far off: the reconnect must come from the refused frame.
            source = LiveTailSource(
                factory(server.url), arn, since_ms=t0, backfill_interval_s=0.2, backoff_initial_s=0.05
            )
            col = Collector(source)
            await col.wait_for(len(ev), timeout=10)
            await col.stop()
    col.assert_exactly(ev)
    assert server.huge_sent == 1 and source.status.extra["reconnects"] >= 1
    assert "a Live Tail frame over botocore's cap" in caplog.text


async def test_fatal_error_ends_batches_with_a_clean_one_line_error(moto_endpoint, fake_aws_env, caplog):
    name, arn = group_names()
    message = (
        f"User is not authorized. Credential={FAKE_ACCESS_KEY}/20261127/{FAKE_REGION}/logs/aws4_request, "
        "Signature=0123abcd"
    )
    async with ScriptedLiveTail(moto_endpoint, arn, [[("deny", "AccessDeniedException", message)]]) as server:
        source = LiveTailSource(factory(server.url), arn, backfill_interval_s=60)
        with pytest.raises(ClientError) as info:
            async with asyncio.timeout(10):
                async for _ in source.batches():
                    pass
        await source.close()
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    error = source.status.error
    assert "AccessDeniedException" in error and "\n" not in error
    assert FAKE_ACCESS_KEY not in error and "0123abcd" not in error
    assert FAKE_ACCESS_KEY not in caplog.text


async def test_close_while_waiting_ends_batches(moto_endpoint, fake_aws_env):
    name, arn = group_names()
    async with ScriptedLiveTail(moto_endpoint, arn, [[("start",), ("hold",)]]) as server:
        source = LiveTailSource(factory(server.url), arn, backfill_interval_s=60)
        col = Collector(source)
        await until(lambda: source.status.extra["sessions"] == 1)
        async with asyncio.timeout(5):  # not parked until the next backfill, 60 s away
            await col.stop()
    assert col.events == []


# --- pure pieces ---------------------------------------------------------------------------------


def test_recent_keys_dedups_within_window_and_stays_bounded():
    keys = RecentKeys(window_ms=1000, max_keys=500)
    assert keys.add("s", 1, "a") and not keys.add("s", 1, "a")
    assert keys.add("s", 1, "b") and keys.add("t", 1, "a") and keys.add("s", 2, "a")
    for ts in range(10_000):
        keys.add("s", ts, "x")
        assert len(keys) <= 500 + 1
    assert keys.horizon is not None and keys.horizon >= 10_000 - 1000
    assert keys.too_old(keys.horizon - 1) and not keys.too_old(keys.horizon)
    assert not keys.add("s", 9_999, "x")  # still remembered


def test_one_line_error_masks_credentials():
    exc = RuntimeError(
        "bad\nrequest Credential=AKIAABCDEFGHIJKLMNOP/2026/us-east-1 X-Amz-Security-Token=abc ASIAABCDEFGHIJKLMNOP"
    )
    text = one_line_error(exc)
    assert "\n" not in text and "AKIAABCDEFGHIJKLMNOP" not in text and "abc " not in text
    assert "ASIAABCDEFGHIJKLMNOP" not in text and text.startswith("RuntimeError: bad request")


def test_constructor_wants_an_arn():
    with pytest.raises(ValueError):
        LiveTailSource(lambda: None, "/aws/lambda/fn")
    src = LiveTailSource(lambda: None, f"arn:aws:logs:{FAKE_REGION}:{ACCOUNT}:log-group:/aws/lambda/fn:*")
    assert src.log_group_arn.endswith(":/aws/lambda/fn") and src.log_group_name == "/aws/lambda/fn"

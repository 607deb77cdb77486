"""PollSource against moto's real server: every event once, late events and new streams included."""

import asyncio

import aioboto3
import pytest
from aiobotocore.config import AioConfig

from probe.local.moto_server import MotoServer
from tui.aws.sources.poll import PollSource

GROUP = "/aws/lambda/poll-test"
T0 = 1_795_789_200_000


@pytest.fixture(scope="module")
def moto():
    server = MotoServer().start_blocking()
    yield server
    server.stop_blocking()


@pytest.fixture
async def logs(moto):
    moto.reset()
    session = aioboto3.Session()
    async with session.client(
        "logs",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=AioConfig(retries={"max_attempts": 2}),
    ) as client:
        await client.create_log_group(logGroupName=GROUP)
        yield client


async def put(client, stream, items, create=True):
    if create:
        await client.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    await client.put_log_events(
        logGroupName=GROUP, logStreamName=stream, logEvents=[{"timestamp": t, "message": m} for t, m in items]
    )


class Clock:
    """A frozen clock that moves only when the code under test sleeps."""

    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t

    async def sleep(self, seconds):
        self.t += seconds
        await asyncio.sleep(0)


async def test_each_event_once_with_late_events_and_new_streams(logs):
    clock = Clock(T0 / 1000)
    src = PollSource(logs, GROUP, T0 - 1000, min_lookback_ms=5000, now=clock, sleep=clock.sleep)
    await put(logs, "s1", [(T0 + i, f"a{i}") for i in range(5)])
    first = await src.poll_once()
    assert [e.message for e in first] == [f"a{i}" for i in range(5)]
    # a new stream appears, and s1 gets an event stamped *before* the newest seen (late ingestion)
    await put(logs, "s2", [(T0 + 10, "b0")])
    await put(logs, "s1", [(T0 + 7, "a-late")], create=False)
    second = await src.poll_once()
    assert sorted(e.message for e in second) == ["a-late", "b0"]
    assert {e.stream for e in second} == {"s1", "s2"}
    assert await src.poll_once() == []  # nothing new: nothing repeated
    assert src.status.events == 7


async def test_pages_are_followed(logs):
    clock = Clock(T0 / 1000)
    src = PollSource(logs, GROUP, T0 - 1000, now=clock, sleep=clock.sleep, budget_per_s=1.0)
    for chunk in range(3):
        await put(logs, f"p{chunk}", [(T0 + chunk * 5000 + i, f"m{chunk}-{i}") for i in range(5000)])
    got = await src.poll_once()
    assert len(got) == 15000 and len({e.event_id for e in got}) == 15000
    assert src.status.requests >= 2  # 10,000 events a page at most
    assert clock.t > T0 / 1000  # pages waited for the request budget


async def test_missing_group_is_transient_then_recovers(moto):
    moto.reset()
    session = aioboto3.Session()
    async with session.client(
        "logs",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        clock = Clock(T0 / 1000)
        src = PollSource(client, GROUP, T0 - 1000, interval=0.01, now=clock, sleep=clock.sleep)
        gen = src.batches()
        task = asyncio.create_task(gen.__anext__())
        for _ in range(200):
            await asyncio.sleep(0.01)
            if src.status.error:
                break
        assert "not found yet" in src.status.error
        await client.create_log_group(logGroupName=GROUP)
        await put(client, "s1", [(T0, "hello")])
        batch = await asyncio.wait_for(task, 30)
        assert [e.message for e in batch] == ["hello"]
        await src.close()
        await gen.aclose()


def recent_ms() -> int:
    """Timestamps from now on: moto stamps ingestion with the real clock, and an ingestion delay
    seen (days from an old T0, seconds from a recent one) rightly stretches the source's window
    over the late event. From now on, the window stays at its 2 s minimum."""
    import time

    return int(time.time() * 1000)


async def test_the_final_sweep_finds_what_the_window_missed_and_nothing_twice(logs):
    t0 = recent_ms()
    clock = Clock(t0 / 1000)
    src = PollSource(logs, GROUP, t0 - 1000, min_lookback_ms=2000, now=clock, sleep=clock.sleep)
    await put(logs, "s1", [(t0 + i * 1000, f"a{i}") for i in range(10)])  # newest: t0 + 9 s
    assert len(await src.poll_once()) == 10
    # An event stamped 8 s before the newest, stored only now (a slow shipper, a loaded machine):
    # the 2 s window never reaches back to it.
    await put(logs, "s2", [(t0 + 1000, "late")])
    assert await src.poll_once() == []
    late = await src.sweep()
    assert [e.message for e in late] == ["late"]
    assert await src.sweep() == []  # each event once, sweep or not


async def test_no_sweep_once_ids_were_pruned(logs):
    t0 = recent_ms()
    clock = Clock(t0 / 1000)
    src = PollSource(logs, GROUP, t0 - 1000, min_lookback_ms=2000, keep_ids=5, now=clock, sleep=clock.sleep)
    await put(logs, "s1", [(t0 + i * 1000, f"a{i}") for i in range(10)])
    await src.poll_once()
    await src.poll_once()  # the window has moved on: ids before it are forgotten (keep_ids=5)
    assert src.pruned and await src.sweep() is None  # it could not tell old from new: it says so


CP_GROUP = "/aws/lambda/capacity-provider/poll-test"
CP_STREAM = "poll-test/managed-instances"
DAY_MS = 86_400_000


async def test_an_extra_group_is_read_from_its_own_start_and_never_twice(logs):
    # The system log's launch is a day older than the run: the extra group's start reaches it.
    await put(logs, "2026/11/27/[$LATEST]aaaa", [(T0 + 10, "START RequestId: r1 Version: $LATEST")])
    await logs.create_log_group(logGroupName=CP_GROUP)
    await logs.create_log_stream(logGroupName=CP_GROUP, logStreamName=CP_STREAM)
    await logs.put_log_events(
        logGroupName=CP_GROUP, logStreamName=CP_STREAM, logEvents=[{"timestamp": T0 - DAY_MS, "message": "{}"}]
    )
    clock = Clock(T0 / 1000 + 1)
    source = PollSource(logs, GROUP, T0, now=clock, sleep=clock.sleep, extra_groups=[(CP_GROUP, T0 - 2 * DAY_MS)])
    first = await source.poll_once()
    assert sorted(e.stream for e in first) == ["2026/11/27/[$LATEST]aaaa", CP_STREAM]
    await logs.put_log_events(
        logGroupName=CP_GROUP, logStreamName=CP_STREAM, logEvents=[{"timestamp": T0 + 20, "message": "{}"}]
    )
    second = await source.poll_once()
    assert [(e.stream, e.timestamp) for e in second] == [(CP_STREAM, T0 + 20)]
    assert await source.sweep() == []  # the whole of both groups again: nothing new
    assert source.status.extra["groups"][CP_GROUP] == {"events": 2, "error": None}


async def test_a_missing_extra_group_costs_the_functions_events_nothing(logs):
    await put(logs, "2026/11/27/[$LATEST]aaaa", [(T0 + 10, "START RequestId: r1 Version: $LATEST")])
    clock = Clock(T0 / 1000 + 1)
    source = PollSource(logs, GROUP, T0, now=clock, sleep=clock.sleep, extra_groups=[(CP_GROUP, T0 - DAY_MS)])
    got = await source.poll_once()
    assert [e.stream for e in got] == ["2026/11/27/[$LATEST]aaaa"]
    assert "not found" in source.status.extra["groups"][CP_GROUP]["error"]
    assert source.status.error is None
    assert await source.sweep() == []

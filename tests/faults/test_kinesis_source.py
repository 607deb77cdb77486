"""The Kinesis log source against moto's server (out of process): moto's CloudWatch Logs writes
the records itself (PutLogEvents → the subscription filter → Kinesis, gzip JSON as AWS writes
them), and the source reads them back. Exact counts against ground truth (every message written
is unique): nothing lost, nothing counted twice, across shards, a reshard mid-run, duplicated
records, control messages, garbage, throttling, expired iterators, resets and the sweep.

What moto does not do by itself is AWS speaking in its wire format: a CONTROL_MESSAGE, a record
delivered twice and garbage are PutRecord-ed into the stream; throttles, expired iterators and
resets come from the fault proxy (tests/faults/proxy.py) as Kinesis' JSON 400s.
"""

import asyncio
import gzip
import json
import time
from collections import Counter

import boto3
import pytest

from tests.faults.proxy import FaultProxy, Faults
from tui.aws import clients as aws
from tui.aws.sources.kinesis import KinesisSource
from tui.core.errors import UserError

REGION = "us-east-1"
GROUP = "/aws/lambda/fn"
STREAM = "fn-logs"
ROLE = "arn:aws:iam::123456789012:role/lambdascope/fn-cwl-us-east-1"
FAST = {
    "idle_s": 0.02,
    "busy_gap_s": 0.0,
    "list_every_s": 0.1,
    "sweep_every_s": 0,
    "backoff_initial_s": 0.01,
    "backoff_max_s": 0.1,
}


def _boto(endpoint, service):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def _channel(endpoint, shards=2):
    """A log group whose subscription filter writes to a stream of `shards` shards."""
    logs, kin = _boto(endpoint, "logs"), _boto(endpoint, "kinesis")
    logs.create_log_group(logGroupName=GROUP)
    kin.create_stream(StreamName=STREAM, ShardCount=shards)
    arn = kin.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamARN"]
    _subscribe(logs, arn)
    return logs, kin, arn


def _subscribe(logs, arn):
    logs.put_subscription_filter(
        logGroupName=GROUP, filterName="lambdascope-kinesis", filterPattern="", destinationArn=arn, roleArn=ROLE
    )


class Writer:
    """PutLogEvents in batches over a few streams; every message unique; what was written kept."""

    def __init__(self, logs, streams=4):
        self.logs = logs
        self.streams = [f"2026/12/07/[$LATEST]{i:032x}" for i in range(streams)]
        for s in self.streams:
            logs.create_log_stream(logGroupName=GROUP, logStreamName=s)
        self.written: list[str] = []
        self.calls = 0

    def put(self, batches, size=25):
        for _ in range(batches):
            stream = self.streams[self.calls % len(self.streams)]
            now = int(time.time() * 1000)
            messages = [f"line {len(self.written) + i}" for i in range(size)]
            self.logs.put_log_events(
                logGroupName=GROUP, logStreamName=stream, logEvents=[{"timestamp": now, "message": m} for m in messages]
            )
            self.written += messages
            self.calls += 1


class Reading:
    """A source read in a task; `until(pred)` waits (bounded) for its status to get there."""

    def __init__(self, source):
        self.source = source
        self.messages: list[str] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self):
        async for batch in self.source.batches():
            self.messages.extend(e.message for e in batch)

    async def until(self, predicate, timeout=60.0):
        try:
            async with asyncio.timeout(timeout):
                while not predicate(self.source.status.extra):
                    if self.task.done():
                        self.task.result()
                    await asyncio.sleep(0.01)
        except TimeoutError:
            shards = {s.shard_id: (s.parents, s.closed, s.started, s.done) for s in self.source._shards.values()}
            raise AssertionError(f"not reached: {self.source.status.extra} {shards}") from None

    async def stop(self):
        async with asyncio.timeout(30):
            await self.source.close()
            await asyncio.gather(self.task, return_exceptions=True)


def _clients(endpoint):
    session = aws.make_session(None, REGION)
    return (
        aws.client(session, "kinesis", endpoint_url=endpoint, region=REGION, max_attempts=1),
        aws.client(session, "logs", endpoint_url=endpoint, region=REGION, max_attempts=1),
    )


def _exactly(got: list[str], written: list[str]):
    counts = Counter(got)
    assert [m for m, n in counts.items() if n > 1] == []  # nothing twice
    assert set(got) == set(written) and len(got) == len(written)  # nothing lost, nothing foreign


@pytest.mark.parametrize("reshard", ["update_shard_count", "split_shard"])
async def test_every_event_once_across_shards_and_a_reshard_mid_run(reshard, moto_endpoint, fake_aws_env):
    logs, kin, arn = _channel(moto_endpoint, shards=2)
    writer = Writer(logs)
    since = int(time.time() * 1000) - 1000
    kc, lc = _clients(moto_endpoint)
    async with kc as k, lc as lg:
        source = KinesisSource(k, lg, arn, [GROUP], since, **FAST)
        await source.start()
        reading = Reading(source)
        try:
            writer.put(10)
            await reading.until(lambda x: x["records"] == 10)
            if reshard == "update_shard_count":
                kin.update_shard_count(StreamName=STREAM, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
                children, parents_done = 4, 2
            else:
                shard = kin.list_shards(StreamName=STREAM)["Shards"][0]
                lo, hi = int(shard["HashKeyRange"]["StartingHashKey"]), int(shard["HashKeyRange"]["EndingHashKey"])
                kin.split_shard(
                    StreamName=STREAM, ShardToSplit=shard["ShardId"], NewStartingHashKey=str((lo + hi) // 2)
                )
                children, parents_done = 2, 1
            writer.put(30)
            await reading.until(lambda x: x["records"] == 40 and x["reshards"] == children)
            await reading.until(lambda x: x["shards_done"] == parents_done)
        finally:
            await reading.stop()
    _exactly(reading.messages, writer.written)
    assert source.status.events == len(writer.written) == 1000
    assert source.status.extra["duplicates"] == 0 and source.status.extra["garbage_records"] == 0


async def test_control_messages_duplicated_records_and_garbage_are_counted_never_yielded(moto_endpoint, fake_aws_env):
    logs, kin, arn = _channel(moto_endpoint, shards=1)
    writer = Writer(logs)
    since = int(time.time() * 1000) - 1000
    writer.put(3)
    shard = kin.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    it = kin.get_shard_iterator(StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    moto_record = kin.get_records(ShardIterator=it)["Records"][1]["Data"]  # one moto wrote: 25 events
    control = {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [{"id": "", "timestamp": since, "message": "CWL CONTROL MESSAGE: Checking health of destination"}],
    }
    bomb = gzip.compress(b"[" + b" " * (20 << 20) + b"]")  # 20 MiB of JSON from ~20 KB
    extra = [
        gzip.compress(json.dumps(control).encode()),
        moto_record,  # delivered twice, as a producer's retry would
        b"not gzip at all",
        gzip.compress(b"{not json"),
        gzip.compress(b"[1, 2, 3]"),
        bomb,
    ]
    for data in extra:
        kin.put_record(StreamName=STREAM, Data=data, PartitionKey="k")
    writer.put(2)
    kc, lc = _clients(moto_endpoint)
    async with kc as k, lc as lg:
        source = KinesisSource(k, lg, arn, [GROUP], since, **FAST)
        await source.start()
        reading = Reading(source)
        try:
            await reading.until(lambda x: x["records"] == 5 + len(extra))
        finally:
            await reading.stop()
    _exactly(reading.messages, writer.written)
    x = source.status.extra
    assert x["control_messages"] == 1
    assert x["duplicates"] == 25
    assert x["garbage_records"] == 4
    assert x["garbage_reasons"] == {
        "not gzip": 1,
        "not JSON": 1,
        "JSON but not an object": 1,
        f"inflates past {8 << 20} bytes": 1,
    }


async def test_the_sweep_finds_what_the_stream_missed_and_counts_nothing_twice(moto_endpoint, fake_aws_env):
    logs, kin, arn = _channel(moto_endpoint, shards=1)
    writer = Writer(logs)
    since = int(time.time() * 1000) - 1000
    writer.put(4)
    logs.delete_subscription_filter(logGroupName=GROUP, filterName="lambdascope-kinesis")
    writer.put(2)  # stored, never delivered to the stream
    _subscribe(logs, arn)
    writer.put(4)
    kc, lc = _clients(moto_endpoint)
    async with kc as k, lc as lg:
        options = dict(FAST, sweep_every_s=0.1, sweep_delay_ms=0, sweep_budget_per_s=50.0)
        source = KinesisSource(k, lg, arn, [GROUP], since, **options)
        await source.start()
        reading = Reading(source)
        try:
            await reading.until(lambda x: x["records"] == 8 and x["swept"] == 50 and x["sweep_passes"] >= 2)
        finally:
            await reading.stop()
        assert await source.sweep() == []  # the final sweep of a run: nothing new
    _exactly(reading.messages, writer.written)
    assert source.status.extra["sweep_overlap"] >= 200  # what the stream gave, seen again


@pytest.mark.parametrize(
    "fault, counter",
    [
        (
            Faults(throttle=1 / 3, throttle_code="ProvisionedThroughputExceededException", only="GetRecords"),
            "throttled",
        ),
        (Faults(throttle=1 / 3, throttle_code="ExpiredIteratorException", only="GetRecords"), "expired_iterators"),
        (Faults(reset_mid_response=1 / 3, only="GetRecords"), "reconnects"),
    ],
    ids=["throttling-storm", "expired-iterators", "reset-mid-GetRecords"],
)
async def test_throttles_expired_iterators_and_resets_lose_nothing(fault, counter, moto_endpoint, fake_aws_env):
    logs, kin, arn = _channel(moto_endpoint, shards=2)
    writer = Writer(logs)
    since = int(time.time() * 1000) - 1000
    async with FaultProxy(moto_endpoint, fault) as proxy:
        kc, lc = _clients(proxy.url)
        async with kc as k, lc as lg:
            source = KinesisSource(k, lg, arn, [GROUP], since, **FAST)
            await source.start()
            reading = Reading(source)
            try:
                for _ in range(6):
                    writer.put(5)
                    await asyncio.sleep(0)  # let the readers run between batches
                await reading.until(lambda x: x["records"] == 30 and x[counter] >= 3)
            finally:
                await reading.stop()
    _exactly(reading.messages, writer.written)
    assert source.status.extra["duplicates"] == 0


async def test_a_throttled_shard_is_shown_until_a_read_succeeds(moto_endpoint, fake_aws_env):
    _, _, arn = _channel(moto_endpoint, shards=1)
    since = int(time.time() * 1000) - 1000
    throttling = Faults(throttle=1.0, throttle_code="ProvisionedThroughputExceededException", only="GetRecords")
    async with FaultProxy(moto_endpoint, throttling) as proxy:
        kc, lc = _clients(proxy.url)
        async with kc as k, lc as lg:
            source = KinesisSource(k, lg, arn, [GROUP], since, **dict(FAST, backoff_max_s=0.05))
            await source.start()
            reading = Reading(source)
            try:
                await reading.until(lambda x: x["throttled"] >= 3)
                assert source.status.behind
                assert "throttled (ProvisionedThroughputExceededException" in (source.status.error or "")
                proxy.faults = Faults()
                async with asyncio.timeout(30):
                    while source.status.behind or source.status.error:
                        await asyncio.sleep(0.01)
            finally:
                await reading.stop()


async def test_a_missing_stream_or_permission_is_one_line_naming_the_fix(moto_endpoint, fake_aws_env):
    _, _, arn = _channel(moto_endpoint, shards=1)
    kc, lc = _clients(moto_endpoint)
    async with kc as k, lc as lg:
        with pytest.raises(UserError, match=r"Kinesis stream nope-logs not found: make it with 'lambdascope deploy"):
            await KinesisSource(k, lg, "nope-logs", [GROUP], 0, **FAST).start()
    denied = Faults(throttle=1.0, throttle_code="AccessDeniedException", only="ListShards")
    async with FaultProxy(moto_endpoint, denied) as proxy:
        kc, lc = _clients(proxy.url)
        async with kc as k, lc as lg:
            with pytest.raises(UserError) as err:
                await KinesisSource(k, lg, arn, [GROUP], 0, **FAST).start()
    text = str(err.value)
    assert "\n" not in text
    assert "kinesis:ListShards denied" in text and "kinesis:GetRecords" in text and "--logs poll" in text


async def test_the_sweep_leaves_what_was_stored_just_now_to_the_stream(moto_endpoint, fake_aws_env):
    """An event stored seconds after its timestamp (the local shipper at 1,000 streams) is in the
    sweep's window as soon as it is stored: taken there, the stream's copy a moment later was a
    duplicate and the channel's own share fell short. Left until it has been stored `delay`, it
    comes from the stream; one the stream never delivers is still swept, a pass later."""
    logs, kin, arn = _channel(moto_endpoint, shards=1)
    writer = Writer(logs)
    since = int(time.time() * 1000) - 20_000
    late = int(time.time() * 1000) - 6_000  # written now, stamped 6 s ago: older than the delay

    def put_stamped(batches):
        for _ in range(batches):
            stream = writer.streams[writer.calls % len(writer.streams)]
            messages = [f"line {len(writer.written) + i}" for i in range(25)]
            events = [{"timestamp": late, "message": m} for m in messages]
            logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)
            writer.written += messages
            writer.calls += 1

    logs.delete_subscription_filter(logGroupName=GROUP, filterName="lambdascope-kinesis")
    put_stamped(2)  # stored, never delivered: the sweep's
    _subscribe(logs, arn)
    kc, lc = _clients(moto_endpoint)
    async with kc as k, lc as lg:
        # The stream is read every 1.5 s, the sweep every 0.1 s: without the wait for the store,
        # the sweep takes each delivered batch first (in about 14 of 15 cases, each).
        options = dict(FAST, idle_s=1.5, sweep_every_s=0.1, sweep_delay_ms=3_000, sweep_budget_per_s=50.0)
        source = KinesisSource(k, lg, arn, [GROUP], since, **options)
        await source.start()
        reading = Reading(source)
        try:
            for _ in range(4):
                await asyncio.sleep(0.4)
                put_stamped(1)  # delivered: the stream's
            await reading.until(lambda x: x["records"] == 4 and x["swept"] >= 50)
        finally:
            await reading.stop()
    _exactly(reading.messages, writer.written)
    x = source.status.extra
    assert x["duplicates"] == 0 and x["swept"] == 50  # the stream's 100 from the stream, once
    assert x["sweep_deferred"] >= 1


async def test_drain_waits_for_what_the_stream_still_holds_before_the_final_sweep(moto_endpoint, fake_aws_env):
    """At a run's end the final sweep counts what the stream did not deliver; drain() first lets
    the reader hand over what the stream holds, so the sweep does not take the stream's events."""
    logs, kin, arn = _channel(moto_endpoint, shards=2)
    writer = Writer(logs)
    since = int(time.time() * 1000) - 1000
    kc, lc = _clients(moto_endpoint)
    async with kc as k, lc as lg:
        source = KinesisSource(k, lg, arn, [GROUP], since, **dict(FAST, idle_s=1.0))
        await source.start()
        reading = Reading(source)
        try:
            await reading.until(lambda x: x["shards"] == 2 and all(s.empty_at for s in source._shards.values()))
            writer.put(6)  # in the stream now; the readers are asleep for up to a second
            assert await source.drain(10.0)
            assert sorted(reading.messages) == sorted(writer.written)  # all given to the consumer
        finally:
            await reading.stop()
        assert await source.sweep() == []
    assert source.status.extra["swept"] == 0 and source.status.extra["duplicates"] == 0

"""Every PutLogEvents that moto answered reaches the Kinesis stream its group is subscribed to,
however many run at once (the local shipper keeps up to 64 in flight, one per log stream).

moto's server is threaded and its Kinesis shard numbers a record by reading the largest
sequence number and storing at that + 1: two deliveries at once could get one number, and the
second overwrote the first (2 of 2,000 records with 32 threads: the Kinesis channel's 99.9% in
bench_channels). probe/local/moto_main.py locks the shard; this runs the product's own launcher
(MotoServer) with the thread switch interval at 1 µs, where moto without the lock lost records
in every run tried (2-3 of 300 in 6 runs; 6, 1 and 2 of 400 in 3 runs of this test), and counts
what the stream holds.
"""

import gzip
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from probe.local.moto_server import MotoServer

THREADS = 16
STREAMS = 50  # one put per stream at a time, as the shipper does
ROUNDS = 12  # 600 PutLogEvents in all
EVENTS = 4  # a put: one invocation's START, record, END, REPORT


@pytest.fixture(scope="module")
def racy_moto():
    server = MotoServer(switch_interval_s=1e-6).start_blocking()
    try:
        yield server.endpoint
    finally:
        server.stop_blocking()


def _clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return kw, boto3.client("logs", **kw), boto3.client("kinesis", **kw), boto3.client("iam", **kw)


def _read_all(kinesis, stream: str) -> tuple[int, list[str]]:
    records, messages = 0, []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        iterator = it["ShardIterator"]
        while True:
            resp = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            for rec in resp["Records"]:
                records += 1
                messages += [e["message"] for e in json.loads(gzip.decompress(rec["Data"]))["logEvents"]]
            if not resp["Records"]:
                break
            iterator = resp["NextShardIterator"]
    return records, messages


def test_concurrent_deliveries_to_kinesis_are_all_kept(racy_moto):
    kw, logs, kinesis, iam = _clients(racy_moto)
    kinesis.create_stream(StreamName="logs", ShardCount=1)
    arn = kinesis.describe_stream(StreamName="logs")["StreamDescription"]["StreamARN"]
    role = iam.create_role(RoleName="to-kinesis", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    logs.create_log_group(logGroupName="/aws/lambda/f")
    logs.put_subscription_filter(
        logGroupName="/aws/lambda/f", filterName="f", filterPattern="", destinationArn=arn, roleArn=role
    )
    for i in range(STREAMS):
        logs.create_log_stream(logGroupName="/aws/lambda/f", logStreamName=f"s{i}")
    local = threading.local()

    def put(n: int) -> None:
        if not hasattr(local, "logs"):
            local.logs = boto3.client("logs", **kw)
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": f"put {n} line {k}"} for k in range(EVENTS)]
        local.logs.put_log_events(logGroupName="/aws/lambda/f", logStreamName=f"s{n % STREAMS}", logEvents=events)

    with ThreadPoolExecutor(THREADS) as pool:
        for r in range(ROUNDS):
            list(pool.map(put, range(r * STREAMS, (r + 1) * STREAMS)))  # every put answered 200

    records, messages = _read_all(kinesis, "logs")
    puts = ROUNDS * STREAMS
    assert len(messages) == len(set(messages))  # no record stored twice
    assert records == puts, f"{puts - records} of {puts} deliveries lost from the stream"
    assert len(messages) == puts * EVENTS

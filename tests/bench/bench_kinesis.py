"""The Kinesis channel's decoder and the model behind it, against the floor any reader of the
stream pays (issue 17's goal: >= 100k events/s, >= 0.5x the floor).

Records as CloudWatch Logs writes them to the stream: gzip JSON DATA_MESSAGEs, one per
PutLogEvents batch of one log stream, here 25 invocations (100 events: START, the probe's record,
END, REPORT) a record, over 1,000 containers: bench_core's events, packed as moto and AWS pack
them. Side by side on one core (process time):
- floor: `zlib.decompress` + `json.loads` of every record (the least a reader can do);
- decoder: `kinesis_records.decode` (bounded inflate, orjson, LogEvents, checks);
- decoder + model: that, then `feed` (parse + Fleet) as the source's consumer does.
Prints events/s with the ratio and the budget beside each; asserts nothing (run: make bench).
"""

import gzip
import json
import time
import zlib

import pytest

from tests.bench.bench_core import CONTAINERS, INVOCATIONS, T0, events
from tui.aws.sources.kinesis_records import decode
from tui.core.analysis import feed
from tui.core.fleet import Fleet

pytestmark = pytest.mark.bench

PER_RECORD = 100  # events a record: one stream's PutLogEvents batch of 25 invocations


def records():
    by_stream: dict[str, list] = {}
    for stream, ts, msg in events():
        by_stream.setdefault(stream, []).append((ts, msg))
    out, n, event_id = [], 0, 0
    for stream, evs in by_stream.items():
        for k in range(0, len(evs), PER_RECORD):
            chunk = evs[k : k + PER_RECORD]
            log_events = []
            for ts, msg in chunk:
                log_events.append({"id": f"{event_id:056d}", "timestamp": ts, "message": msg})
                event_id += 1
            doc = {
                "messageType": "DATA_MESSAGE",
                "owner": "123456789012",
                "logGroup": "/aws/lambda/f",
                "logStream": stream,
                "subscriptionFilters": ["lambdascope-kinesis"],
                "logEvents": log_events,
            }
            out.append(gzip.compress(json.dumps(doc, separators=(",", ":")).encode()))
            n += len(chunk)
    return out, n


def rate(fn, n):
    start = time.process_time()
    fn()
    took = time.process_time() - start
    return n / took if took > 0 else 0.0


def test_kinesis_decoder_and_model_throughput():
    recs, n = records()

    def floor():
        total = 0
        for data in recs:
            total += len(json.loads(zlib.decompress(data, 16 + zlib.MAX_WBITS))["logEvents"])
        assert total == n

    def decoder():
        assert sum(len(decode(data).events) for data in recs) == n

    def decoder_and_model():
        fleet = Fleet()
        for data in recs:
            feed(fleet, decode(data).events, now=T0 / 1000)
        assert fleet.counters.invocations == INVOCATIONS and len(fleet.containers) == CONTAINERS

    floor_rate = rate(floor, n)
    decoder_rate = rate(decoder, n)
    ours_rate = rate(decoder_and_model, n)
    size = sum(len(r) for r in recs)

    def ratio(x):
        return x / floor_rate if floor_rate else 0.0

    def mark(ok):
        return "✓" if ok else "✗"

    print(f"\nKinesis records: {len(recs):,} ({n:,} events, {PER_RECORD} a record, {size / len(recs):,.0f} bytes each)")
    print(f"  floor, zlib.decompress + json.loads: {floor_rate:>11,.0f} events/s   1.00x")
    print(f"  decoder (kinesis_records.decode):   {decoder_rate:>11,.0f} events/s   {ratio(decoder_rate):.2f}x")
    print(
        f"  decoder + model (parse + Fleet):    {ours_rate:>11,.0f} events/s   {ratio(ours_rate):.2f}x"
        f"   budget >=100,000/s {mark(ours_rate >= 100_000)}, >=0.5x {mark(ratio(ours_rate) >= 0.5)}"
    )

"""The Kinesis channel's decoder and the model behind it, against the floor any reader of the
stream pays (issue 17's goal: >= 100k events/s, >= 0.5x the floor).

Records as CloudWatch Logs writes them to the stream: gzip JSON DATA_MESSAGEs, one per
PutLogEvents batch of one log stream, here 25 invocations (100 events: START, the probe's record,
END, REPORT) a record, over 1,000 containers: bench_core's events, packed as moto and AWS pack
them. Side by side on one core (process time), in ROUNDS interleaved rounds (each runs every
path once, so a busy spell of a shared machine falls on all of them); each figure is the median
over the rounds, and each ratio the median of the rounds' own ratios:
- floor: `zlib.decompress` + `json.loads` of every record (the least a reader can do);
- decoder: `kinesis_records.decode` (bounded inflate, orjson, LogEvents, checks);
- decoder + model: that, then `feed` (parse + Fleet) as the source's consumer does;
- and, to show where the time goes, parse alone (of the decoded events) and the Fleet alone (of
  the parsed records), per invocation (four events);
- a bare reading: the decoder, each line told apart, the probe line and REPORT read with the
  parser's own fast paths, and a count per container, nothing else (no ledger of two channels,
  no in-flight, timelines or diff): the least any model of these lines pays, so the gap between
  it and the model is the model's own work.
Prints events/s with the ratio and the budget beside each; asserts nothing (run: make bench).
"""

import gc
import gzip
import json
import statistics
import time
import zlib

import pytest

from tests.bench.bench_core import CONTAINERS, INVOCATIONS, T0, events
from tests.bench.budget import report
from tui.aws.sources.kinesis_records import decode
from tui.core.analysis import feed
from tui.core.fleet import Fleet
from tui.core.lambdalog import _REPORT_OK, parse_events
from tui.core.probe_record import probe_as_written

pytestmark = pytest.mark.bench

PER_RECORD = 100  # events a record: one stream's PutLogEvents batch of 25 invocations
ROUNDS = 7


def timed_rounds(fns: dict) -> dict[str, list[float]]:
    """CPU seconds of each of `fns` in every round, the rounds interleaved, a collection before
    each run so one's garbage is not the next one's bill."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(ROUNDS):
        for name, fn in fns.items():
            gc.collect()
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    return times


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


def bare_reading(recs: list[bytes]) -> tuple[int, int]:
    """(invocations, containers) of the records, read with no model: see the module's doc."""
    containers: dict[str, list] = {}  # stream -> [invocations, duration sum, in flight by id]
    seen: set[str] = set()
    for data in recs:
        events = decode(data).events
        c = containers.setdefault(events[0].stream, [0, 0.0, {}])
        for e in events:
            m = e.message
            if m.startswith("START RequestId: "):
                c[2][m[17 : m.find(" ", 17)]] = e.timestamp
            elif m.startswith('{"lambdascope"'):
                rid = (probe_as_written(m) or {}).get("request_id")
                if rid not in seen:
                    seen.add(rid)
                    c[0] += 1
            elif m.startswith("REPORT RequestId: "):
                g = _REPORT_OK.fullmatch(m.strip())
                if g is not None:
                    c[2].pop(g.group(1), None)
                    c[1] += float(g.group(2))
    return len(seen), len(containers)


def test_kinesis_decoder_and_model_throughput():
    recs, n = records()
    counted: dict[str, tuple] = {}

    def floor():
        counted["floor"] = (sum(len(json.loads(zlib.decompress(d, 16 + zlib.MAX_WBITS))["logEvents"]) for d in recs),)

    def decoder():
        counted["decoder"] = (sum(len(decode(data).events) for data in recs),)

    def decoder_and_model():
        fleet = Fleet()
        for data in recs:
            feed(fleet, decode(data).events, now=T0 / 1000)
        counted["model"] = (fleet.counters.invocations, len(fleet.containers))

    decoded = [decode(data).events for data in recs]
    parsed = [parse_events(evs) for evs in decoded]

    def parse_alone():
        for evs in decoded:
            parse_events(evs)

    def fleet_alone():
        fleet = Fleet()
        for batch in parsed:
            fleet.apply_records(batch, now=T0 / 1000)

    def bare():
        counted["bare"] = bare_reading(recs)

    times = timed_rounds(
        {
            "floor": floor,
            "decoder": decoder,
            "model": decoder_and_model,
            "parse": parse_alone,
            "fleet": fleet_alone,
            "bare": bare,
        }
    )
    median = {name: statistics.median(ts) for name, ts in times.items()}
    floor_rate, decoder_rate, ours_rate = (n / median[k] for k in ("floor", "decoder", "model"))

    def to_floor(name: str) -> float:
        return statistics.median(f / t for f, t in zip(times["floor"], times[name], strict=True))

    # A path that lost events was not doing the work being timed: said, never asserted.
    why = next(
        (
            f"{name} counted {got} instead of {want}"
            for name, got, want in (
                ("the floor", counted["floor"], (n,)),
                ("the decoder", counted["decoder"], (n,)),
                ("the model", counted["model"], (INVOCATIONS, CONTAINERS)),
                ("the bare reading", counted["bare"], (INVOCATIONS, CONTAINERS)),
            )
            if got != want
        ),
        "",
    )
    size = sum(len(r) for r in recs)
    print(f"\nKinesis records: {len(recs):,} ({n:,} events, {PER_RECORD} a record, {size / len(recs):,.0f} bytes each)")
    print(f"  floor, zlib.decompress + json.loads: {floor_rate:,.0f} events/s ({ROUNDS} interleaved rounds, medians)")
    per_invocation = 4e6 / n  # seconds for all events -> microseconds an invocation
    print(
        "  per invocation (4 events): floor {:.2f} µs; decode {:.2f}, parse {:.2f}, Fleet {:.2f} µs".format(
            *(median[k] * per_invocation for k in ("floor", "decoder", "parse", "fleet"))
        )
    )
    if not why:
        print(
            f"  bare reading (no model): {median['bare'] * per_invocation:.2f} µs an invocation, "
            f"{to_floor('bare'):.2f}× the floor: the least a model of these lines pays"
        )
    report("kinesis decoder", None if why else decoder_rate, unit=" events/s", fmt="{:,.0f}", why_not=why)
    report("kinesis decoder / floor", None if why else to_floor("decoder"), unit="×", why_not=why)
    report(
        "kinesis decoder + model",
        None if why else ours_rate,
        unit=" events/s",
        fmt="{:,.0f}",
        at_least=100_000,
        why_not=why,
    )
    report(
        "kinesis decoder + model / floor",
        None if why else to_floor("model"),
        unit="×",
        at_least=0.5,
        why_not=why,
    )

"""The per-stream paths read and apply exactly what the per-event ones do.

`parse_events` reads a batch in runs of one stream (a Kinesis record is one stream's batch) and
`Fleet.apply_records` looks a run's container up once. Over the fuzzer's lines (any text, the
probe's and the platform's shapes with any field replaced) and over well-formed invocations
mixed with answers and evictions, they must give what `parse_event` of each event and one
`apply_records` call per record give, field for field.
"""

import json
import random
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_fuzz_parser import SETTINGS, T0, invocation_events, messages
from tui.core import lambdalog as L
from tui.core import snapshot as export
from tui.core.events import LogEvent
from tui.core.fleet import Fleet

STREAMS = ["2026/11/27/[$LATEST]abc", "2026/11/27/[$LATEST]def", "s" * 600, "", "x$system"]


def one_by_one(events: list[LogEvent]) -> list[L.Record]:
    out = []
    for e in events:
        out.extend(L.parse_event(e.stream, e.timestamp, e.message))
    return out


def fields(records: list[L.Record]) -> list[tuple]:
    """Everything a record holds, its data's key order too."""
    return [
        (r.kind, r.stream, r.timestamp, r.request_id, None if r.data is None else list(r.data.items())) for r in records
    ]


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(STREAMS),
            st.one_of(st.integers(-5, 5000).map(lambda dt: T0 + dt), st.floats(0, 1e12), st.none()),
            messages | st.sampled_from(["START RequestId:  \n", "END RequestId: \t", " START RequestId: x\n"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_parse_events_reads_what_parse_event_reads(items):
    events = [LogEvent(s, ts, m) for s, ts, m in items]  # type: ignore[arg-type]
    assert fields(L.parse_events(events)) == fields(one_by_one(events))


def model_of(fleet: Fleet, now: float) -> dict:
    doc = export.snapshot(fleet, now=now, source={"kind": "test"})
    diff = fleet.take_diff()
    return {
        "doc": json.loads(json.dumps(doc, default=repr)),
        "counters": {k: getattr(fleet.counters, k) for k in type(fleet.counters).__slots__},
        "added": diff.added,
        "changed": sorted(diff.changed),
        "removed": diff.removed,
        "ledger": [(rid, e[:4], e[4] and e[4].container_id) for rid, e in fleet._ledger.ids.items()],
        "in_flight": {cid: dict(c.in_flight) for cid, c in fleet.containers.items()},
        "unplaced": list(fleet._unplaced),
    }


def test_a_batch_applies_as_its_records_one_at_a_time():
    rnd = random.Random(11)
    for case in range(60):
        streams = [f"2026/11/27/[$LATEST]{i:032x}" for i in range(rnd.randint(1, 6))]
        batches, n = [], 0
        for _ in range(rnd.randint(1, 6)):
            events, answers = [], []
            for _ in range(rnd.randint(1, 5)):
                s = rnd.choice(streams)
                for _ in range(rnd.randint(1, 4)):
                    n += 1
                    rid = f"req-{n}" if rnd.random() < 0.9 else f"req-{rnd.randint(1, n)}"
                    t = T0 + rnd.randint(-3000, 60_000)
                    fmt, probe, first = rnd.choice(["text", "json"]), rnd.random() < 0.8, rnd.random() < 0.3
                    lines = invocation_events(s, rid, t, fmt, probe, first)
                    if rnd.random() < 0.2:
                        lines.append(f"{rid} Task timed out after 3.00 seconds")
                    if rnd.random() < 0.3:
                        rnd.shuffle(lines)
                    events += [LogEvent(s, t + j, line) for j, line in enumerate(lines)]
                    if rnd.random() < 0.4:  # answers, some waiting for the logs to place them
                        answers.append(
                            SimpleNamespace(
                                status=200,
                                error=None,
                                container_id=rnd.choice([s, None]),
                                request_id=rid,
                                cold=False,
                                record=rnd.choice([None, {"container_id_from": "tmp", "hostname": "h"}]),
                                sent_at=t / 1000,
                                latency_ms=3.0,
                            )
                        )
            batches.append((events, answers))
        limits = {"max_containers": rnd.choice([1, 2, 1000]), "max_tracked_ids": rnd.choice([8, 100_000])}
        whole, single = Fleet(**limits), Fleet(**limits)
        for k, (events, answers) in enumerate(batches):
            now = T0 / 1000 + k
            whole.apply_outcomes(answers[::2], now)
            single.apply_outcomes(answers[::2], now)
            whole.apply_records(L.parse_events(events), now)
            for rec in one_by_one(events):
                single.apply_records([rec], now)
            whole.apply_outcomes(answers[1::2], now)
            single.apply_outcomes(answers[1::2], now)
        now = T0 / 1000 + 100
        assert model_of(whole, now) == model_of(single, now), f"case {case}"

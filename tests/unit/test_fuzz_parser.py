"""Fuzzing the pure core end to end (issue 8): parse_event → Fleet → analyze → every export.

Three properties, each over generated input:
- nothing a log line holds makes any of them raise (arbitrary text, arbitrary JSON in the probe's
  and the platform's shapes with every field replaced by any JSON value, deep nesting, huge
  numbers, NaN);
- well-formed streams (N invocations over K environments, text and JSON log formats mixed,
  events shuffled and duplicated) give exactly N invocations and K containers;
- every line that looks like ours but cannot be read is counted in `counters.malformed`.
The runs are bounded (max_examples) so the file takes seconds.
"""

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core import lambdalog as L
from tui.core import snapshot as export
from tui.core.analysis import analyze
from tui.core.events import LogEvent
from tui.core.fleet import Fleet

T0 = 1_795_789_200_000
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)

PROBE_KEYS = [
    "request_id",
    "container_id",
    "cold",
    "hostname",
    "boot_id",
    "cpu_model",
    "cpu_mhz",
    "bogomips",
    "init_type",
    "seq",
]
PLATFORM_KINDS = [
    "platform.report",
    "platform.start",
    "platform.initStart",
    "platform.restoreStart",
    "platform.runtimeDone",
    "platform.initReport",
    "platform.restoreReport",
    "platform.logsDropped",
]
PLATFORM_KEYS = [
    "requestId",
    "status",
    "metrics",
    "initializationType",
    "runtimeVersion",
    "phase",
    "errorType",
    "droppedRecords",
    "droppedBytes",
    "tenantId",
]
METRIC_KEYS = [
    "durationMs",
    "billedDurationMs",
    "memorySizeMB",
    "maxMemoryUsedMB",
    "initDurationMs",
    "restoreDurationMs",
]


@st.composite
def probe_lines(draw):
    rec = {"lambdascope": 1, "request_id": "r1", "container_id": "c", "cold": True, "hostname": "h"}
    for key in draw(st.lists(st.sampled_from(PROBE_KEYS), max_size=4)):
        rec[key] = draw(json_values)
    return json.dumps(rec)


@st.composite
def platform_lines(draw):
    record = {"requestId": "r1"}
    for key in draw(st.lists(st.sampled_from(PLATFORM_KEYS), max_size=4)):
        record[key] = draw(json_values)
    if draw(st.booleans()):
        record["metrics"] = {k: draw(json_values) for k in draw(st.lists(st.sampled_from(METRIC_KEYS), max_size=3))}
    return json.dumps(
        {"time": "t", "type": draw(st.sampled_from(PLATFORM_KINDS)), "record": draw(st.just(record) | json_values)}
    )


text_lines = st.sampled_from(
    [
        "START RequestId: ",
        "END RequestId: ",
        "REPORT RequestId: x\tDuration: ",
        "INIT_START Runtime Version: ",
        "RESTORE_START ",
        "INIT_REPORT Init Duration: ",
        "x Task timed out after ",
        "Runtime exited with error",
        "REPORT RequestId: r\tDuration: " + "9" * 400 + " ms",
        '{"lambdascope": 1, "request_id": [1]}',
    ]
).flatmap(lambda head: st.text(max_size=30).map(lambda tail: head + tail))

any_line = (
    st.text(max_size=60)
    | probe_lines()
    | platform_lines()
    | text_lines
    | st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
    | st.integers(1, 3000).map(lambda n: '{"a":' * n + "1" + "}" * n)
    | st.just('{"lambdascope": 1, "seq": ' + "9" * 5000 + "}")
)
messages = st.lists(any_line, min_size=1, max_size=4).map("\n".join)


def exercise(events: list[LogEvent]) -> dict:
    """Everything a user can do with these events, without a screen."""
    fleet = Fleet()
    recs = []
    for e in events:
        recs.extend(L.parse_event(e.stream, e.timestamp, e.message))
    fleet.apply_records(recs, now=T0 / 1000 + 100)
    for c in fleet.containers.values():
        fleet.state(c, T0 / 1000 + 100)
    doc = analyze(events, {"kind": "fuzz"})
    export.to_table(doc)
    export.to_csv(doc)
    json.loads(export.to_json(doc))  # strict enough for any reader: no NaN sneaks through as a number
    for text in export.build(fleet, now=T0 / 1000 + 100, source={"kind": "fuzz"}).files().values():
        assert isinstance(text, str)
    return doc


@SETTINGS
@given(
    st.lists(
        st.tuples(st.sampled_from(["s1", "s2", "2026/11/27/[$LATEST]abc"]), st.integers(0, 5000), messages),
        min_size=1,
        max_size=6,
    )
)
def test_no_input_raises(items):
    events = [LogEvent(s, T0 + dt, m) for s, dt, m in items]
    exercise(events)


@SETTINGS
@given(
    st.one_of(st.integers(), st.floats(), st.none(), st.text(max_size=5)),
    st.one_of(st.text(max_size=5), st.none(), st.integers(), st.lists(st.integers(), max_size=2)),
    st.one_of(st.text(max_size=20), st.none(), st.integers()),
)
def test_parse_event_takes_any_argument_types(timestamp, stream, message):
    for rec in L.parse_event(stream, timestamp, message):
        assert type(rec.stream) is str and type(rec.timestamp) is int
        assert rec.request_id is None or L.is_id(rec.request_id)


def invocation_events(stream: str, rid: str, t: int, fmt: str, probe: bool, first: bool) -> list[str]:
    if fmt == "json":
        lines = [
            json.dumps({"time": "t", "type": "platform.start", "record": {"requestId": rid, "version": "$LATEST"}})
        ]
        metrics = {"durationMs": 1.5, "billedDurationMs": 2.0, "memorySizeMB": 128, "maxMemoryUsedMB": 40.0}
        if first:
            metrics["initDurationMs"] = 120.25
        report = json.dumps(
            {
                "time": "t",
                "type": "platform.report",
                "record": {"requestId": rid, "status": "success", "metrics": metrics},
            }
        )
    else:
        lines = [f"START RequestId: {rid} Version: $LATEST"]
        init = "\tInit Duration: 120.25 ms" if first else ""
        report = (
            f"REPORT RequestId: {rid}\tDuration: 1.50 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
            f"Max Memory Used: 40 MB{init}\t"
        )
    if probe:
        lines.append(
            json.dumps(
                {
                    "lambdascope": 1,
                    "container_id": stream,
                    "request_id": rid,
                    "cold": first,
                    "hostname": "169.254.1.1",
                    "boot_id": "b",
                    "cpu_model": "Xeon",
                    "cpu_mhz": 2500.0,
                }
            )
        )
    if fmt == "text":
        lines.append(f"END RequestId: {rid}")
    lines.append(report)
    return lines


@st.composite
def fleets(draw):
    k = draw(st.integers(1, 6))
    streams = [f"2026/11/27/[$LATEST]{i:032x}" for i in range(k)]
    n = draw(st.integers(k, 40))
    owner = list(range(k)) + [draw(st.integers(0, k - 1)) for _ in range(n - k)]  # every stream serves
    fmts = [draw(st.sampled_from(["text", "json"])) for _ in range(k)]
    probe = draw(st.booleans())
    return streams, owner, fmts, probe, draw(st.randoms(use_true_random=False))


@SETTINGS
@given(fleets(), st.integers(0, 3), st.integers(0, 5))
def test_well_formed_streams_count_exactly(spec, dup_every, malformed):
    streams, owner, fmts, probe, rnd = spec
    events, seen = [], set()
    for i, k in enumerate(owner):
        first = k not in seen
        seen.add(k)
        t = T0 + i * 10
        if first:
            events.append(
                LogEvent(streams[k], t - 5, "INIT_START Runtime Version: python:3.12.v89\tRuntime Version ARN: x")
            )
        for j, line in enumerate(invocation_events(streams[k], f"req-{i}", t, fmts[k], probe, first)):
            events.append(LogEvent(streams[k], t + j, line))
    bad = [
        '{"lambdascope": 1, "request_id": ["x"]}',
        json.dumps({"type": "platform.report", "record": {"requestId": {"a": 1}}}),
        '{"lambdascope": 1, "hostname": 5, "request_id": "z"}',
        json.dumps({"type": "platform.report", "record": {"requestId": "q", "metrics": {"durationMs": "3"}}}),
        '{"lambdascope": 1, "cpu_mhz": NaN}',
    ]
    if dup_every:  # a source's retries deliver good lines twice; the model counts them once
        events += events[:: dup_every + 1]
    for m in range(malformed):
        events.append(LogEvent(streams[m % len(streams)], T0 + m, bad[m % len(bad)]))
    rnd.shuffle(events)
    doc = exercise(events)
    n, k = len(owner), len(streams)
    assert doc["totals"]["invocations"] == n
    assert doc["totals"]["containers"] == k
    assert doc["totals"]["cold_starts"] == k
    assert doc["totals"]["malformed_lines"] == malformed
    assert sum(c["invocations"] for c in doc["containers"]) == n


def test_nesting_deeper_than_the_decoder_is_one_malformed_line():
    deep = '{"lambdascope": ' + "[" * 100_000 + "]" * 100_000 + "}"
    recs = L.parse_event("s", T0, deep + "\nREPORT RequestId: r1\tDuration: 1 ms")
    assert [r.kind for r in recs] == [L.MALFORMED, L.REPORT]


def test_shuffles_of_one_stream_agree():
    rnd = random.Random(7)
    events = [
        LogEvent("s", T0 + j, line)
        for j, line in enumerate(
            invocation_events("s", "r1", T0, "text", True, True)
            + invocation_events("s", "r2", T0 + 10, "json", True, False)
        )
    ]
    first = exercise(events)["totals"]
    for _ in range(20):
        rnd.shuffle(events)
        assert exercise(events)["totals"] == first

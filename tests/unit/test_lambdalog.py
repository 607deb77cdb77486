"""The parser over real-format lines, both log formats (AWS-FACTS.md §3)."""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.core import lambdalog as L

STREAM = "2026/11/27/[$LATEST]0f5b29cc53814cf480fb7d70a028c76d"
GOLDEN = (Path(__file__).parent.parent / "golden" / "probe_record.json").read_text().strip()

CASES = [
    # (message, expected kinds, request id of the first record, data subset)
    ("START RequestId: 6a1b Version: $LATEST\n", [L.START], "6a1b", None),
    ("END RequestId: 6a1b\n", [L.END], "6a1b", None),
    (
        "REPORT RequestId: 6a1b\tDuration: 2.31 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 41 MB\tInit Duration: 130.72 ms\t\n",
        [L.REPORT],
        "6a1b",
        {"duration_ms": 2.31, "billed_ms": 3, "memory_mb": 128, "max_memory_mb": 41, "init_duration_ms": 130.72},
    ),
    # docs copies use spaces; quirk "47 ms \t"; XRAY line in the same event
    (
        "REPORT RequestId: xmpl  Duration: 46.61 ms  Billed Duration: 47 ms \tMemory Size: 512 MB"
        "  Max Memory Used: 60 MB\nXRAY TraceId: 1-5e34 SegmentId: 0c3f Sampled: true\n",
        [L.REPORT, L.APP],
        "xmpl",
        {"duration_ms": 46.61, "billed_ms": 47, "max_memory_mb": 60},
    ),
    # field order varied; SnapStart restore
    (
        "REPORT RequestId: r1\tMemory Size: 128 MB\tDuration: 306.34 ms\tRestore Duration: 303.00 ms"
        "\tBilled Restore Duration: 303 ms\tBilled Duration: 610 ms\tMax Memory Used: 90 MB\t",
        [L.REPORT],
        "r1",
        {"restore_duration_ms": 303.0, "billed_restore_ms": 303, "billed_ms": 610},
    ),
    (
        "INIT_START Runtime Version: python:3.12.v89\tRuntime Version ARN: "
        "arn:aws:lambda:us-east-1::runtime:" + "a" * 64 + "\n",
        [L.INIT_START],
        None,
        {"runtime": "python:3.12.v89"},
    ),
    ("RESTORE_START Runtime Version: java:11.v20\tRuntime Version ARN: x\n", [L.RESTORE_START], None, None),
    (
        "2026-11-27T10:00:03.812Z 6a1b Task timed out after 3.00 seconds\n\n",
        [L.TIMEOUT],
        "6a1b",
        {"seconds": 3.0},
    ),
    (
        # Lambda's crash event is two lines, one crash: its `Runtime.ExitError` tail is not another.
        "RequestId: 6a1b Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n",
        [L.CRASH],
        "6a1b",
        None,
    ),
    ("[INFO]\t2026-11-27T10:00:00.000Z\t6a1b\thello\n", [L.APP], None, None),
    (GOLDEN + "\n", [L.PROBE], "8f6c2a53-3b1e-4a1b-9d0c-6c1f3a7e2b10", {"cold": True, "cpu_mhz": 2900.05}),
    # a prefixed probe line (a runtime decorating stdout)
    ("2026-11-27T10:00:00.000Z\t6a1b\tINFO\t" + GOLDEN, [L.PROBE], "8f6c2a53-3b1e-4a1b-9d0c-6c1f3a7e2b10", None),
    ('{"lambdascope":1,"request_id":"x"', [L.MALFORMED], None, None),
    ("{not json at all", [L.APP], None, None),
    ("   \n\t\n", [], None, None),
    # JSON log format
    (
        json.dumps(
            {
                "time": "2026-11-27T10:00:00.000Z",
                "type": "platform.initStart",
                "record": {
                    "initializationType": "on-demand",
                    "phase": "init",
                    "runtimeVersion": "python:3.12.v89",
                    "functionName": "f",
                    "functionVersion": "$LATEST",
                    "instanceId": STREAM,
                },
            }
        ),
        [L.INIT_START],
        None,
        {"runtime": "python:3.12.v89"},
    ),
    (
        json.dumps({"time": "t", "type": "platform.start", "record": {"requestId": "j1", "version": "$LATEST"}}),
        [L.START],
        "j1",
        None,
    ),
    (
        json.dumps(
            {
                "time": "t",
                "type": "platform.report",
                "record": {
                    "requestId": "j1",
                    "status": "success",
                    "metrics": {
                        "durationMs": 2.5,
                        "billedDurationMs": 3,
                        "memorySizeMB": 128,
                        "maxMemoryUsedMB": 40,
                        "initDurationMs": 120.5,
                    },
                },
            }
        ),
        [L.REPORT],
        "j1",
        {"duration_ms": 2.5, "init_duration_ms": 120.5, "status": "success"},
    ),
    (
        json.dumps(
            {
                "time": "t",
                "type": "platform.report",
                "record": {"requestId": "j2", "status": "timeout", "metrics": {"durationMs": 3000.6}},
            }
        ),
        [L.REPORT],
        "j2",
        {"status": "timeout"},
    ),
    (json.dumps({"time": "t", "type": "platform.report", "record": {}}), [L.MALFORMED], None, None),
    (json.dumps({"time": "t", "type": "platform.telemetrySubscription", "record": {}}), [L.APP], None, None),
    (json.dumps({"timestamp": "t", "level": "INFO", "requestId": "j1", "message": "hi"}), [L.APP], "j1", None),
    (
        json.dumps({"timestamp": "t", "level": "INFO", "requestId": "j1", "message": GOLDEN}),
        [L.PROBE],
        "8f6c2a53-3b1e-4a1b-9d0c-6c1f3a7e2b10",
        None,
    ),
    ("[1, 2]", [L.APP], None, None),
]


@pytest.mark.parametrize("message,kinds,rid,data", CASES)
def test_parse_event(message, kinds, rid, data):
    recs = L.parse_event(STREAM, 1_795_789_200_000, message)
    assert [r.kind for r in recs] == kinds
    if recs:
        assert recs[0].request_id == rid
        assert recs[0].stream == STREAM
    for key, value in (data or {}).items():
        assert recs[0].data[key] == value


def test_golden_record_matches_the_probe_contract():
    """The golden example carries every key DESIGN.md lists: the written contract, checked."""
    rec = json.loads(GOLDEN)
    for key in (
        "lambdascope container_id request_id client_request_id cold seq started_at hostname "
        "boot_id booted_at cpu_model cpu_mhz bogomips vcpus mem_total_kb kernel arch "
        "function_name function_version memory_mb region ts"
    ).split():
        assert key in rec


BAD_LINES = [
    '{"lambdascope": 1, "request_id": ["a", "b"]}',
    '{"lambdascope": 1, "request_id": "r", "hostname": 5}',
    '{"lambdascope": 1, "request_id": "r", "cold": "yes"}',
    '{"lambdascope": 1, "request_id": "r", "cpu_mhz": NaN}',
    '{"lambdascope": 1, "request_id": "r", "bogomips": Infinity}',
    '{"lambdascope": 1, "request_id": "r", "container_id": {"a": 1}}',
    '{"lambdascope": 1, "seq": ' + "1" * 5000 + "}",  # longer than Python converts
    json.dumps({"type": "platform.report", "record": {"requestId": {"id": 1}}}),
    json.dumps({"type": "platform.start", "record": {"requestId": 7}}),
    json.dumps({"type": "platform.report", "record": {"requestId": "r", "metrics": {"durationMs": "2.5"}}}),
    json.dumps({"type": "platform.report", "record": {"requestId": "r", "metrics": {"durationMs": True}}}),
    json.dumps({"type": "platform.report", "record": {"requestId": "r", "metrics": {"durationMs": 1e300}}}),
    json.dumps({"type": "platform.report", "record": {"requestId": "r", "metrics": [1]}}),
    json.dumps({"type": "platform.report", "record": {"requestId": "r", "status": ["x"]}}),
    '{"type": "platform.report", "record": {"requestId": "r", "metrics": {"durationMs": NaN}}}',
    "REPORT RequestId: r\tDuration: " + "9" * 400 + " ms",
    "START RequestId: " + "x" * 1000,
    '{"lambdascope": ' + "[" * 5000 + "]" * 5000 + "}",
]


@pytest.mark.parametrize("line", BAD_LINES, ids=[line[:40] for line in BAD_LINES])
def test_a_field_of_the_wrong_type_makes_the_line_malformed_never_an_exception(line):
    recs = L.parse_event(STREAM, 1_795_789_200_000, line)
    assert [r.kind for r in recs] == [L.MALFORMED]


@pytest.mark.parametrize(
    "stream,timestamp,message",
    [
        (None, 1, "START RequestId: a"),
        (["s"], 1, "x"),
        (STREAM, "1", "START RequestId: a"),
        (STREAM, float("nan"), "x"),
        (STREAM, 10**30, "x"),
        (STREAM, -5, "x"),
        (STREAM, 1, None),
        (STREAM, 1, b"x"),
    ],
)
def test_bad_event_envelopes_are_one_malformed_record(stream, timestamp, message):
    assert [r.kind for r in L.parse_event(stream, timestamp, message)] == [L.MALFORMED]


def test_foreign_lines_stay_app_lines_however_odd():
    assert [r.kind for r in L.parse_event(STREAM, 1, "[" * 5000 + "]" * 5000)] == [L.APP]
    assert [r.kind for r in L.parse_event(STREAM, 1, '{"a": ' * 3000 + "1" + "}" * 3000)] == [L.MALFORMED]


def test_timeout_with_a_garbled_number_is_an_app_line():
    assert [r.kind for r in L.parse_event(STREAM, 1, "x Task timed out after 1.2.3 seconds")] == [L.APP]


@given(st.text(alphabet=st.sampled_from(list("RequestId: \t\n\x0b\x1cab-1é")), max_size=40))
def test_the_request_id_reader_reads_what_the_regex_reads(line):
    # _request_id reads the word after "RequestId:" with str methods (the hot path); it must read
    # exactly what the pattern it replaced read.
    import re

    from tui.core.lambdalog import _request_id

    m = re.search(r"RequestId:\s*(\S+)", line)
    assert _request_id(line) == (m.group(1) if m else None)


@pytest.mark.parametrize(
    "duration, kind, value",
    [
        ("999999999999999.5", L.REPORT, 999999999999999.5),  # 15 digits: the one-match path
        ("1000000000000000", L.REPORT, 1e15),  # 16 digits, at the bound: the general path, same reading
        ("1000000000000001", L.MALFORMED, None),  # past MAX_NUMBER: not a measurement
    ],
)
def test_a_report_number_near_the_bound_reads_the_same_on_either_path(duration, kind, value):
    line = (
        f"REPORT RequestId: 6a1b\tDuration: {duration} ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 41 MB"
    )
    (rec,) = L.parse_event("2026/12/07/[$LATEST]abc", 1, line + "\n")
    assert rec.kind == kind
    if value is not None:
        assert rec.data == {"duration_ms": value, "billed_ms": 3.0, "memory_mb": 128.0, "max_memory_mb": 41.0}

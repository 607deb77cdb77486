"""Today's Lambda (issue 10 items 1 and 2) in the parser and the model: init phases and statuses,
SnapStart restores, Managed Instances' concurrency, dropped logs, tenants, stream names. The
JSON fixtures are the AWS documentation's examples (Telemetry API schema reference,
telemetry-schema-reference.html, as CloudWatch stores them); the text lines are real ones quoted
in LANDSCAPE-2026.md §1.4 and AWS-FACTS.md §3.2. (The rest of the parser: test_lambdalog.py.)"""

import json

import pytest

from tui.core import lambdalog as L
from tui.core.fleet import Fleet

S = "2026/11/27/[$LATEST]0f5b29cc53814cf480fb7d70a028c76d"
T = 1_795_789_200_000


def j(kind, record, time="2022-10-12T00:00:15.064Z"):
    return json.dumps({"time": time, "type": kind, "record": record})


DOCS_INIT_START = j(
    "platform.initStart",
    {
        "initializationType": "on-demand",
        "phase": "init",
        "runtimeVersion": "nodejs-14.v3",
        "runtimeVersionArn": "arn",
        "functionName": "myFunction",
        "functionVersion": "$LATEST",
        "instanceId": "82561ce0-53dd-47d1-90e3-c7f5e063f2a5",
        "instanceMaxMemory": 256,
    },
)
DOCS_INIT_REPORT = j(
    "platform.initReport",
    {
        "initializationType": "on-demand",
        "status": "success",
        "phase": "init",
        "metrics": {"durationMs": 125.33},
        "spans": [{"name": "someTimeSpan", "start": "2022-06-02T12:02:33.913Z", "durationMs": 90.1}],
    },
)
DOCS_START = j(
    "platform.start",
    {
        "requestId": "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa",
        "version": "$LATEST",
        "tracing": {
            "spanId": "54565fb41ac79632",
            "type": "X-Amzn-Trace-Id",
            "value": "Root=1-62e900b2-710d76f009d6e7785905449a;Parent=0efbd19962d95b05;Sampled=1",
        },
    },
)
DOCS_REPORT = j(
    "platform.report",
    {
        "requestId": "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa",
        "metrics": {
            "durationMs": 1.0,
            "billedDurationMs": 1,
            "memorySizeMB": 128,
            "maxMemoryUsedMB": 90,
            "initDurationMs": 1.0,
        },
        "tracing": {"type": "X-Amzn-Trace-Id", "value": "Root=1-62e900b2-710d76f009d6e7785905449a"},
        "status": "success",
    },
)
DOCS_RESTORE_START = j(
    "platform.restoreStart",
    {
        "runtimeVersion": "python:3.12.v31",
        "runtimeVersionArn": "arn",
        "functionName": "myFunction",
        "functionVersion": "3",
        "instanceId": "82561ce0-53dd-47d1-90e3-c7f5e063f2a5",
        "instanceMaxMemory": 256,
    },
)
DOCS_RESTORE_REPORT = j(
    "platform.restoreReport",
    {"status": "success", "metrics": {"durationMs": 15.19}, "spans": [{"name": "someTimeSpan", "durationMs": 10.1}]},
)
DOCS_LOGS_DROPPED = j(
    "platform.logsDropped",
    {
        "droppedBytes": 12345,
        "droppedRecords": 123,
        "reason": "Some logs were dropped because the downstream consumer is slower than the logs production rate",
    },
)
TENANT_START = j("platform.start", {"requestId": "t1", "version": "$LATEST", "tenantId": "BlueTenant"})
TENANT_REPORT = j(
    "platform.report",
    {
        "requestId": "t1",
        "status": "success",
        "tenantId": "BlueTenant",
        "metrics": {"durationMs": 2.5, "billedDurationMs": 3, "memorySizeMB": 128, "maxMemoryUsedMB": 40},
    },
)
LMI_INIT_START = j(
    "platform.initStart",
    {
        "initializationType": "lambda-managed-instances",
        "phase": "init",
        "functionName": "f",
        "functionVersion": "$LATEST.PUBLISHED",
        "instanceId": "a" * 32,
        "instanceMaxMemory": 4294967296,
    },
)
FAILED_INIT_JSON = j(
    "platform.initReport",
    {
        "initializationType": "on-demand",
        "status": "error",
        "phase": "invoke",
        "errorType": "Runtime.Unknown",
        "metrics": {"durationMs": 9999.5},
    },
)

TEXT_INIT_ERROR = (
    "INIT_REPORT Init Duration: 150.79 ms\tPhase: init\tStatus: error\tError Type: Runtime.UserCodeSyntaxError"
)
TEXT_INIT_TIMEOUT = "INIT_REPORT Init Duration: 9999.79 ms    Phase: init    Status: timeout"
TEXT_REPORT_TIMEOUT = (
    "REPORT RequestId: 5f6e3cc8-3b0a-4b1e-9c1d-2b3a4c5d6e7f\tDuration: 3000.00 ms\tBilled Duration: 3000 ms"
    "\tMemory Size: 128 MB\tMax Memory Used: 113 MB Init Duration: 578.07 ms Status: timeout"
)
TEXT_REPORT_ERROR = (
    "REPORT RequestId: e1\tDuration: 2.68 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB"
    "\tMax Memory Used: 10 MB\tStatus: error\tError Type: Runtime.InvalidEntrypoint"
)
TEXT_RESTORE_REPORT = "RESTORE_REPORT Restore Duration: 303.00 ms"
TEXT_LMI_REPORT = "REPORT RequestId: m1\tDuration: 12.50 ms"


@pytest.mark.parametrize(
    "line,kind,data",
    [
        (DOCS_INIT_START, L.INIT_START, {"init_type": "on-demand", "phase": "init", "runtime": "nodejs-14.v3"}),
        (DOCS_INIT_REPORT, L.INIT_REPORT, {"init_type": "on-demand", "status": "success", "duration_ms": 125.33}),
        (DOCS_REPORT, L.REPORT, {"duration_ms": 1.0, "init_duration_ms": 1.0, "memory_mb": 128.0, "status": "success"}),
        (DOCS_RESTORE_START, L.RESTORE_START, {"runtime": "python:3.12.v31"}),
        (DOCS_RESTORE_REPORT, L.RESTORE_REPORT, {"status": "success", "duration_ms": 15.19}),
        (DOCS_LOGS_DROPPED, L.LOGS_DROPPED, {"records": 123, "bytes": 12345}),
        (TENANT_START, L.START, {"tenant_id": "BlueTenant"}),
        (TENANT_REPORT, L.REPORT, {"tenant_id": "BlueTenant", "billed_ms": 3.0}),
        (LMI_INIT_START, L.INIT_START, {"init_type": "lambda-managed-instances"}),
        (FAILED_INIT_JSON, L.INIT_REPORT, {"phase": "invoke", "status": "error", "error_type": "Runtime.Unknown"}),
        (
            j("platform.initStart", {"initializationType": "some-future-type"}),
            L.INIT_START,
            {"init_type": "some-future-type"},
        ),
        (
            j("platform.report", {"requestId": "x", "status": "weird", "metrics": {"durationMs": 1}}),
            L.REPORT,
            {"status": "weird"},
        ),
        (
            TEXT_INIT_ERROR,
            L.INIT_REPORT,
            {"duration_ms": 150.79, "phase": "init", "status": "error", "error_type": "Runtime.UserCodeSyntaxError"},
        ),
        (TEXT_INIT_TIMEOUT, L.INIT_REPORT, {"duration_ms": 9999.79, "status": "timeout"}),
        (TEXT_REPORT_TIMEOUT, L.REPORT, {"init_duration_ms": 578.07, "status": "timeout", "max_memory_mb": 113.0}),
        (TEXT_REPORT_ERROR, L.REPORT, {"status": "error", "error_type": "Runtime.InvalidEntrypoint"}),
        (TEXT_RESTORE_REPORT, L.RESTORE_REPORT, {"duration_ms": 303.0}),
        (TEXT_LMI_REPORT, L.REPORT, {"duration_ms": 12.5}),
    ],
)
def test_todays_lines_in_both_formats(line, kind, data):
    recs = L.parse_event(S, T, line + "\n")
    assert [r.kind for r in recs] == [kind]
    for key, value in data.items():
        assert recs[0].data[key] == value, key


@pytest.mark.parametrize(
    "name,parts",
    [
        ("2026/11/27/[$LATEST]0f5b29cc53814cf480fb7d70a028c76d", ("", "$LATEST", "0f5b29cc53814cf480fb7d70a028c76d")),
        ("2026/11/27/[72]0f5b29cc53814cf480fb7d70a028c76d", ("", "72", "0f5b29cc53814cf480fb7d70a028c76d")),
        ("2026/11/27/my-function[$LATEST]0f5b29cc", ("my-function", "$LATEST", "0f5b29cc")),
        ("2026/11/27/my-function[12][0f5b29cc]", ("my-function", "12", "0f5b29cc")),
        ("2026/11/27/f[$LATEST.PUBLISHED]0f5b29cc", ("f", "$LATEST.PUBLISHED", "0f5b29cc")),
    ],
)
def test_stream_names_with_custom_groups_and_versions(name, parts):
    p = L.stream_parts(name)
    assert (p["function"], p["version"], p["id"]) == parts and p["date"] == "2026/11/27"
    assert L.stream_parts("my-app/managed-instances") is None


def feed(lines_by_stream, now_ms):
    f = Fleet()
    recs = []
    for stream, lines in lines_by_stream:
        for dt, line in lines:
            recs += L.parse_event(stream, T + dt, line)
    f.apply_records(recs, now=now_ms / 1000)
    return f


def test_a_failed_init_retried_in_the_invoke_is_an_init_failure_and_its_request_an_error():
    f = feed(
        [
            (
                S,
                [
                    (0, "INIT_START Runtime Version: python:3.13.v43\tRuntime Version ARN: arn"),
                    (10, TEXT_INIT_ERROR),
                    (3000, "START RequestId: e1 Version: $LATEST"),
                    (
                        3010,
                        "INIT_REPORT Init Duration: 120.00 ms\tPhase: invoke\tStatus: error"
                        "\tError Type: Runtime.Unknown",
                    ),
                    (3020, TEXT_REPORT_ERROR),
                ],
            )
        ],
        T + 4000,
    )
    c = f.containers[S]
    assert (c.init_failures, c.errors, f.counters.errors, c.invocations) == (2, 1, 1, 1)
    assert not c.in_flight


def test_report_statuses_count_errors_and_timeouts_once_per_request():
    f = feed(
        [
            (
                S,
                [
                    (0, TEXT_REPORT_TIMEOUT),
                    (
                        0,
                        "2026-11-27T10:00:03.812Z 5f6e3cc8-3b0a-4b1e-9c1d-2b3a4c5d6e7f"
                        " Task timed out after 3.00 seconds",
                    ),
                    (5, json.dumps({"type": "platform.report", "record": {"requestId": "j", "status": "failure"}})),
                ],
            )
        ],
        T + 10,
    )
    c = f.containers[S]
    assert (c.timeouts, c.errors, f.counters.errors) == (1, 2, 2)


def test_dropped_logs_reach_the_counters_and_make_no_container():
    f = feed([(S, [(0, DOCS_LOGS_DROPPED), (1, DOCS_LOGS_DROPPED)])], T + 10)
    assert (f.counters.logs_dropped, f.counters.logs_dropped_bytes) == (246, 24690) and not f.containers


def test_managed_instances_concurrency_without_end_lines():
    # One environment serving 3 requests at once; REPORT carries only durationMs; no END.
    lines = [(0, LMI_INIT_START)]
    for i, (start, dur) in enumerate([(100, 50.0), (110, 50.0), (120, 50.0), (400, 10.0)]):
        lines.append((start, j("platform.start", {"requestId": f"m{i}", "version": "$LATEST.PUBLISHED"})))
        lines.append(
            (
                start + int(dur),
                j("platform.report", {"requestId": f"m{i}", "status": "success", "metrics": {"durationMs": dur}}),
            )
        )
    f = feed([(S, lines)], T + 1000)
    c = f.containers[S]
    assert c.init_type == "lambda-managed-instances" and c.peak_concurrency == 3 and c.concurrency == 0
    assert c.cold_starts == 0  # LMI scales ahead of the requests: no cold start on the request path
    assert not c.probe_reliable


def test_peak_concurrency_is_the_same_whatever_order_the_reports_arrive_in():
    import random

    lines = []
    for i, (start, dur) in enumerate([(0, 100.0), (10, 30.0), (50, 100.0), (60, 10.0), (200, 5.0), (201, 5.0)]):
        lines.append((start + int(dur), TEXT_LMI_REPORT.replace("m1", f"r{i}").replace("12.50", f"{dur:.2f}")))
    rnd = random.Random(5)
    peaks = set()
    for _ in range(30):
        rnd.shuffle(lines)
        peaks.add(feed([(S, lines)], T + 1000).containers[S].peak_concurrency)
    assert peaks == {3}  # [0,100) [10,40) [50,150) [60,70): three at once at 60 ms


def test_snapstart_restores_are_cold_starts_of_kind_restore_and_the_probe_is_not_trusted():
    probe = json.dumps(
        {"lambdascope": 1, "request_id": "r1", "cold": False, "hostname": "h", "init_type": "snap-start"}
    )
    f = feed(
        [
            (
                S,
                [
                    (0, DOCS_RESTORE_START),
                    (20, DOCS_RESTORE_REPORT),
                    (30, "START RequestId: r1 Version: 3"),
                    (31, probe),
                    (
                        40,
                        "REPORT RequestId: r1\tDuration: 306.34 ms\tRestore Duration: 303.00 ms"
                        "\tBilled Restore Duration: 303 ms\tBilled Duration: 610 ms",
                    ),
                ],
            )
        ],
        T + 100,
    )
    c = f.containers[S]
    assert (c.cold_starts, c.cold_kind, c.init_type, c.restore_duration_ms) == (1, "restore", "snap-start", 303.0)
    assert f.cold_starts_by_kind == {"init": 0, "restore": 1}
    assert not c.probe_reliable and not c.cold_signals_disagree


def test_init_report_alone_makes_a_pre_initialised_environment():
    f = feed([(S, [(500, DOCS_INIT_REPORT)])], T + 1000)
    c = f.containers[S]
    assert c.pre_initialized and c.init_at == pytest.approx((T + 500) / 1000 - 0.12533)
    assert c.init_report_ms == 125.33 and f.pre_initialized == 1 and f.serving == 0


def test_tenants_are_kept_per_environment():
    f = feed([(S, [(0, TENANT_START), (5, TENANT_REPORT)])], T + 10)
    assert f.containers[S].tenant_id == "BlueTenant"


def test_todays_facts_reach_the_snapshot_document():
    from tui.core.analysis import analyze
    from tui.core.events import LogEvent

    lines = [(0, LMI_INIT_START), (5, DOCS_LOGS_DROPPED)]
    for i, start in enumerate((100, 110)):
        lines.append((start, j("platform.start", {"requestId": f"m{i}", "version": "$LATEST.PUBLISHED"})))
        lines.append(
            (
                start + 50,
                j("platform.report", {"requestId": f"m{i}", "status": "success", "metrics": {"durationMs": 50.0}}),
            )
        )
    doc = analyze([LogEvent(S, T + dt, line) for dt, line in lines], {"kind": "file"})
    row = doc["containers"][0]
    assert (row["init_type"], row["peak_concurrency"], row["init_failures"]) == ("lambda-managed-instances", 2, 0)
    assert doc["totals"]["logs_dropped"] == 123 and doc["totals"]["cold_starts"] == 0

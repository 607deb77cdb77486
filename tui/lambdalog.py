"""Parse what Lambda writes into a log stream: the probe record and the platform lines.

Pure: no IO imports. One CloudWatch event may hold several lines (REPORT is followed by an XRAY
line in the same event), so `parse_event` returns a list. Lines are read by field name, in either
log format (AWS-FACTS.md §3): text (`REPORT RequestId: … Duration: 1.2 ms …`) and JSON
(`{"type": "platform.report", "record": {…}}`). Anything else is an app line or foreign: counted
by the caller, never fatal.
"""

import json
import re
from dataclasses import dataclass

# Record kinds.
PROBE = "probe"
INIT_START = "init_start"
RESTORE_START = "restore_start"
START = "start"
END = "end"
REPORT = "report"
TIMEOUT = "timeout"
CRASH = "crash"
APP = "app"  # a line the function wrote that is not the probe record
MALFORMED = "malformed"  # looked like ours (probe or platform) but could not be read

_REQUEST_ID = re.compile(r"RequestId:\s*(\S+)")
# Longest names first: at "Billed Duration" the alternation must not stop at "Duration".
_METRIC = re.compile(
    r"(Billed Restore Duration|Billed Duration|Restore Duration|Init Duration"
    r"|Max Memory Used|Memory Size|Duration)\s*:\s*([0-9]+(?:\.[0-9]+)?)"
)
_METRIC_KEYS = {
    "Duration": "duration_ms",
    "Billed Duration": "billed_ms",
    "Memory Size": "memory_mb",
    "Max Memory Used": "max_memory_mb",
    "Init Duration": "init_duration_ms",
    "Restore Duration": "restore_duration_ms",
    "Billed Restore Duration": "billed_restore_ms",
}
# platform.report metrics (JSON format) → the same names as the text format's.
_JSON_METRIC_KEYS = {
    "durationMs": "duration_ms",
    "billedDurationMs": "billed_ms",
    "memorySizeMB": "memory_mb",
    "maxMemoryUsedMB": "max_memory_mb",
    "initDurationMs": "init_duration_ms",
    "restoreDurationMs": "restore_duration_ms",
    "billedRestoreDurationMs": "billed_restore_ms",
}
_TIMEOUT = re.compile(r"(\S+)\s+Task timed out after\s+([0-9.]+)\s*seconds")
_PROBE_MARK = '{"lambdascope"'


@dataclass(slots=True)
class Record:
    """One fact read from a log line.

    `data` holds the probe record (PROBE), the report metrics and status (REPORT), the runtime
    version (INIT_START), the timeout in seconds (TIMEOUT) or the line itself (APP, MALFORMED).
    """

    kind: str
    stream: str
    timestamp: int
    request_id: str | None = None
    data: dict | None = None


def parse_event(stream: str, timestamp: int, message: str) -> list[Record]:
    """All records in one log event, in line order."""
    if "\n" not in message:
        rec = parse_line(stream, timestamp, message)
        return [] if rec is None else [rec]
    out = []
    for line in message.split("\n"):
        rec = parse_line(stream, timestamp, line)
        if rec is not None:
            out.append(rec)
    return out


def parse_line(stream: str, timestamp: int, line: str) -> Record | None:
    """One line → one record, or None for a blank line."""
    line = line.strip()
    if not line:
        return None
    head = line[0]
    if head == "{":
        return _parse_json(stream, timestamp, line)
    if head == "R" and line.startswith("REPORT"):
        return _parse_report_text(stream, timestamp, line)
    if head == "S" and line.startswith("START"):
        return Record(START, stream, timestamp, _request_id(line))
    if head == "E" and line.startswith("END"):
        return Record(END, stream, timestamp, _request_id(line))
    if head == "I" and line.startswith("INIT_START"):
        return Record(INIT_START, stream, timestamp, None, {"runtime": _runtime_version(line)})
    if head == "R" and line.startswith("RESTORE_START"):
        return Record(RESTORE_START, stream, timestamp, None, {"runtime": _runtime_version(line)})
    if "Task timed out after" in line:
        m = _TIMEOUT.search(line)
        if m:
            return Record(TIMEOUT, stream, timestamp, m.group(1), {"seconds": float(m.group(2))})
    if "Runtime exited with error" in line or "Runtime.ExitError" in line:
        return Record(CRASH, stream, timestamp, _request_id(line), {"line": line})
    # The probe record behind a prefix (a runtime that decorates stdout lines).
    at = line.find(_PROBE_MARK)
    if at > 0:
        return _parse_json(stream, timestamp, line[at:])
    return Record(APP, stream, timestamp, None, {"line": line})


def _request_id(line: str) -> str | None:
    m = _REQUEST_ID.search(line)
    return m.group(1) if m else None


def _runtime_version(line: str) -> str | None:
    _, _, rest = line.partition("Runtime Version:")
    rest = rest.strip()
    return rest.split()[0] if rest else None


def _parse_report_text(stream: str, timestamp: int, line: str) -> Record:
    rid = _request_id(line)
    if rid is None:
        return Record(MALFORMED, stream, timestamp, None, {"line": line})
    metrics: dict = {}
    for name, value in _METRIC.findall(line):
        metrics[_METRIC_KEYS[name]] = float(value)
    return Record(REPORT, stream, timestamp, rid, metrics)


def _parse_json(stream: str, timestamp: int, line: str) -> Record:
    try:
        obj = json.loads(line)
    except ValueError:
        kind = MALFORMED if line.startswith(_PROBE_MARK) or '"platform.' in line else APP
        return Record(kind, stream, timestamp, None, {"line": line})
    if not isinstance(obj, dict):
        return Record(APP, stream, timestamp, None, {"line": line})
    if "lambdascope" in obj:
        return Record(PROBE, stream, timestamp, obj.get("request_id"), obj)
    kind = obj.get("type")
    if isinstance(kind, str) and kind.startswith("platform."):
        return _parse_platform_json(stream, timestamp, kind, obj.get("record"), line)
    # A JSON-format app log whose message is the probe record (logging instead of print).
    msg = obj.get("message")
    if isinstance(msg, dict) and "lambdascope" in msg:
        return Record(PROBE, stream, timestamp, msg.get("request_id"), msg)
    if isinstance(msg, str) and msg.startswith(_PROBE_MARK):
        return _parse_json(stream, timestamp, msg)
    return Record(APP, stream, timestamp, obj.get("requestId"), {"line": line})


def _parse_platform_json(stream, timestamp, kind, record, line) -> Record:
    if not isinstance(record, dict):
        return Record(MALFORMED, stream, timestamp, None, {"line": line})
    rid = record.get("requestId")
    if kind == "platform.report":
        if not rid:
            return Record(MALFORMED, stream, timestamp, None, {"line": line})
        metrics: dict = {}
        raw = record.get("metrics") or {}
        if isinstance(raw, dict):
            for key, name in _JSON_METRIC_KEYS.items():
                value = raw.get(key)
                if isinstance(value, (int, float)):
                    metrics[name] = float(value)
        if "status" in record:
            metrics["status"] = record["status"]
        return Record(REPORT, stream, timestamp, rid, metrics)
    if kind == "platform.start":
        return Record(START, stream, timestamp, rid)
    if kind == "platform.initStart":
        if record.get("initializationType") == "snap-start":
            return Record(RESTORE_START, stream, timestamp, None, {"runtime": record.get("runtimeVersion")})
        return Record(INIT_START, stream, timestamp, None, {"runtime": record.get("runtimeVersion")})
    if kind == "platform.restoreStart":
        return Record(RESTORE_START, stream, timestamp, None, {"runtime": record.get("runtimeVersion")})
    if kind == "platform.runtimeDone" and record.get("status") == "timeout":
        return Record(TIMEOUT, stream, timestamp, rid, {"seconds": None})
    # runtimeDone, initReport, telemetry…: true platform facts the model does not need.
    return Record(APP, stream, timestamp, rid, {"line": line})

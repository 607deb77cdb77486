"""The JSON log format's platform lines (`{"type": "platform.report", "record": {…}}`), read into
the same records as the text format's (tui/core/lambdalog.py reads the text format and decides
which line is which; AWS-FACTS.md §3 has both formats).

Pure: no IO imports. Every field is validated by type (tui/core/records.py: number, opt_id,
opt_text); a record of the wrong shape raises Bad, which the caller turns into one MALFORMED
record, never an exception out of the parser.
"""

from tui.core.records import (
    APP,
    INIT_REPORT,
    INIT_START,
    LOGS_DROPPED,
    MAX_TEXT,
    REPORT,
    RESTORE_REPORT,
    RESTORE_START,
    START,
    TIMEOUT,
    Bad,
    Record,
    number,
    opt_id,
    opt_text,
)

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


def _json_words(record: dict, data: dict) -> None:
    """status, phase, errorType and tenantId of a platform record: text, kept whatever the value."""
    for src, key in (("status", "status"), ("phase", "phase"), ("errorType", "error_type"), ("tenantId", "tenant_id")):
        value = opt_text(record.get(src))
        if value is not None:
            data[key] = value


def parse_platform(stream: str, timestamp: int, kind: str, record, line: str) -> Record:
    """The record of one `platform.*` line (`kind` its type); raises Bad for a record of the
    wrong shape (the caller makes it one MALFORMED record)."""
    if not isinstance(record, dict):
        raise Bad
    rid = opt_id(record.get("requestId"))
    if kind == "platform.report":
        if rid is None:
            raise Bad
        metrics: dict = {}
        raw = record.get("metrics")
        if raw is not None:
            if not isinstance(raw, dict):
                raise Bad
            for key, name in _JSON_METRIC_KEYS.items():
                value = raw.get(key)
                if value is not None:
                    metrics[name] = number(value)
        _json_words(record, metrics)
        return Record(REPORT, stream, timestamp, rid, metrics)
    if kind == "platform.start":
        if rid is None:
            raise Bad
        tenant = opt_text(record.get("tenantId"))
        return Record(START, stream, timestamp, rid, None if tenant is None else {"tenant_id": tenant})
    if kind == "platform.initStart":
        # snap-start here is the init that takes the snapshot (at publish): an init, not a restore.
        return Record(
            INIT_START,
            stream,
            timestamp,
            None,
            {
                "runtime": opt_text(record.get("runtimeVersion")),
                "init_type": opt_text(record.get("initializationType")),
                "phase": opt_text(record.get("phase")),
                "instance_id": opt_text(record.get("instanceId")),
            },
        )
    if kind == "platform.restoreStart":
        return Record(
            RESTORE_START,
            stream,
            timestamp,
            None,
            {"runtime": opt_text(record.get("runtimeVersion")), "instance_id": opt_text(record.get("instanceId"))},
        )
    if kind == "platform.initReport" or kind == "platform.restoreReport":
        data: dict = {}
        raw = record.get("metrics")
        if raw is not None:
            if not isinstance(raw, dict):
                raise Bad
            if raw.get("durationMs") is not None:
                data["duration_ms"] = number(raw["durationMs"])
        _json_words(record, data)
        init_type = opt_text(record.get("initializationType"))
        if init_type is not None:
            data["init_type"] = init_type
        return Record(INIT_REPORT if kind == "platform.initReport" else RESTORE_REPORT, stream, timestamp, None, data)
    if kind == "platform.logsDropped":
        dropped_records, dropped_bytes = record.get("droppedRecords"), record.get("droppedBytes")
        return Record(
            LOGS_DROPPED,
            stream,
            timestamp,
            None,
            {
                "records": 0 if dropped_records is None else int(number(dropped_records)),
                "bytes": 0 if dropped_bytes is None else int(number(dropped_bytes)),
                "reason": opt_text(record.get("reason")),
            },
        )
    if kind == "platform.runtimeDone" and record.get("status") == "timeout":
        if rid is None:
            raise Bad
        return Record(TIMEOUT, stream, timestamp, rid, {"seconds": None})
    # runtimeDone, telemetry…: true platform facts the model does not need.
    return Record(APP, stream, timestamp, rid, {"line": line[:MAX_TEXT]})

"""Parse what Lambda writes into a log stream: the probe record and the platform lines.

Pure: no IO imports. The records it gives are defined in tui/core/records.py; a capacity
provider's system log stream is read by tui/core/system_log.py. One CloudWatch event may hold
several lines (REPORT is followed by an XRAY line in the same event), so `parse_event` returns a
list. Lines are read by field name, in either log format (AWS-FACTS.md §3): text (`REPORT
RequestId: … Duration: 1.2 ms …`) and JSON (`{"type": "platform.report", "record": {…}}`, whose
platform records tui/core/platform_json.py reads). Anything else is an app line or foreign:
counted by the caller, never fatal.

Every field the model reads is validated by type here, once (issue 8): a line that looks like
ours but carries a request id that is a list, a host name that is a number, a metric that is a
string or NaN, or JSON nested too deep to decode becomes one MALFORMED record. Nothing a log line
holds can make `parse_event` raise.
"""

import json
import re

import orjson

from tui.core.platform_json import parse_platform
from tui.core.probe_record import probe_as_written, probe_fields
from tui.core.records import (  # the kinds and Record, as `L.REPORT`, `L.Record` read them
    APP,
    CRASH,
    END,
    HOST,
    INIT_REPORT,
    INIT_START,
    LOGS_DROPPED,
    MALFORMED,
    MAX_ID,
    MAX_NUMBER,
    MAX_STREAM,
    MAX_TEXT,
    MAX_TIMESTAMP_MS,
    PROBE,
    REPORT,
    RESTORE_REPORT,
    RESTORE_START,
    START,
    SYSTEM,
    TIMEOUT,
    Bad,
    Record,
    is_id,
    is_stream,
)
from tui.core.system_log import SYSTEM_STREAM_SUFFIX, parse_system

# What the model reads from here (the kinds and Record live in tui/core/records.py).
__all__ = [
    "APP", "CRASH", "END", "HOST", "INIT_REPORT", "INIT_START", "LOGS_DROPPED", "MALFORMED", "PROBE", "REPORT",
    "RESTORE_REPORT", "RESTORE_START", "START", "SYSTEM", "TIMEOUT", "Record", "is_id", "is_stream",
    "parse_event", "parse_events", "parse_line", "probe_fields", "stream_parts",
]  # fmt: skip

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
# The REPORT line as Lambda writes it for a successful invoke, whole (after strip): read with one
# match instead of _METRIC.findall's scan, which cost 2 µs a line (tests/bench/bench_kinesis.py).
# It only admits lines whose reading by the general path is the same, field for field: an id of
# the characters Lambda's ids are made of (no space, no colon: no metric name can hide in it),
# the four metrics in Lambda's order and units, then Init Duration or nothing. Anything else
# (Status:, Restore Duration, another spacing, an XRAY tail) goes the general way. At most 15
# digits before the point: every number it admits is below MAX_NUMBER (1e15), so the fast path
# needs no range check (a longer one goes the general way, which checks it).
_NUM = r"([0-9]{1,15}(?:\.[0-9]+)?)"
_REPORT_OK = re.compile(
    rf"REPORT RequestId: ([0-9A-Za-z-]{{1,{MAX_ID}}})\tDuration: {_NUM} ms\tBilled Duration: {_NUM} ms"
    rf"\tMemory Size: {_NUM} MB\tMax Memory Used: {_NUM} MB(?:\tInit Duration: {_NUM} ms)?"
)
_TIMEOUT = re.compile(r"(\S+)\s+Task timed out after\s+([0-9]+(?:\.[0-9]+)?)\s*seconds")
_PROBE_MARK = '{"lambdascope"'
# The extension's line (probe/extension/extension.py): `{"lambdascope_host": <format>, ...}`. It
# starts with _PROBE_MARK too, so a decorated line is found by the same search. Any format >= 1
# is read by field name (fields are added, never renamed).
_HOST_KEY = "lambdascope_host"
_DECODER = json.JSONDecoder()
# Text-format fields that are words, not numbers (INIT_REPORT, RESTORE_REPORT, REPORT since 2023-11:
# LANDSCAPE-2026.md §1.4). Values are kept as written, known or not.
_STATUS = re.compile(r"\bStatus:\s*(\S+)")
_PHASE = re.compile(r"\bPhase:\s*(\S+)")
_ERROR_TYPE = re.compile(r"\bError Type:\s*(\S+)")
_DURATION = re.compile(r"(?:Init|Restore) Duration\s*:\s*([0-9]+(?:\.[0-9]+)?)")
# Stream names (AWS-FACTS.md §3.1, LANDSCAPE-2026.md §1.7): YYYY/MM/DD/[<version>]<id>, with a
# custom log group YYYY/MM/DD/<function>[<version>]<id>; versions $LATEST, 12, $LATEST.PUBLISHED.
_STREAM = re.compile(r"^(\d{4}/\d{2}/\d{2})/([^\[\]/]*)\[([^\]]*)\]\[?([^\[\]]+?)\]?$")


def parse_event(stream: str, timestamp: int, message: str) -> list[Record]:
    """All records in one log event, in line order. Never raises."""
    if (
        type(message) is not str
        or type(stream) is not str
        or type(timestamp) is not int
        or not 0 < len(stream) <= MAX_STREAM
        or not 0 <= timestamp <= MAX_TIMESTAMP_MS
    ):
        return _bad_envelope(stream, timestamp, message)
    if stream.endswith(SYSTEM_STREAM_SUFFIX):
        return [parse_system(stream, timestamp, message)]
    try:
        nl = message.find("\n")
        if nl < 0 or nl == len(message) - 1:  # most events: one line, and its newline
            rec = parse_line(stream, timestamp, message)
            return [] if rec is None else [rec]
        out: list[Record] = []
        for line in message.split("\n"):
            if line == "Runtime.ExitError" and out and out[-1].kind == CRASH:
                continue  # the crash event's second line (`RequestId: … Error: …\nRuntime.ExitError`): one crash
            rec = parse_line(stream, timestamp, line)
            if rec is not None:
                out.append(rec)
        return out
    except Exception:  # a defect here must cost one line, not the session (issue 8)
        return [Record(MALFORMED, stream, timestamp, None, {"line": message[:MAX_TEXT]})]


def parse_events(events) -> list[Record]:
    """All records of a batch of `LogEvent`s, in order: what `parse_event` of each gives, with
    the stream checked once per run of events of one stream (a Kinesis record is one stream's
    batch; Live Tail and polling give runs too) and the one-line event, nearly all of them,
    read without the per-event call and list."""
    out: list[Record] = []
    append = out.append
    stream, plain = None, False
    for e in events:
        s, ts, message = e.stream, e.timestamp, e.message
        if s is not stream:
            stream = s
            plain = type(s) is str and 0 < len(s) <= MAX_STREAM and not s.endswith(SYSTEM_STREAM_SUFFIX)
        if (
            not plain
            or type(message) is not str
            or type(ts) is not int
            or not 0 <= ts <= MAX_TIMESTAMP_MS
            or -1 < message.find("\n") < len(message) - 1
        ):
            out += parse_event(s, ts, message)  # a system stream, a bad envelope, several lines
            continue
        try:
            # The four lines of every invocation, read as parse_line reads them, minus its calls:
            # the word after "RequestId:" is the same in the line and in the stripped line.
            if message.startswith("START RequestId: "):
                words = message[16:].split(None, 1)
                if words and len(words[0]) <= MAX_ID:
                    append(Record(START, s, ts, words[0]))
                    continue
            elif message.startswith("END RequestId: "):
                words = message[14:].split(None, 1)
                if words and len(words[0]) <= MAX_ID:
                    append(Record(END, s, ts, words[0]))
                    continue
            elif message.startswith("REPORT RequestId: "):
                append(_parse_report_text(s, ts, message.strip()))
                continue
            elif message.startswith(_PROBE_MARK):
                fields = probe_as_written(message)
                if fields is not None:
                    append(Record(PROBE, s, ts, fields["request_id"], fields))
                    continue
                # orjson skips the newline after the object (JSON whitespace), so the line is
                # not copied by strip() unless it is needed: for the text of a MALFORMED or app
                # record, or when orjson refuses the line as written (then as before).
                try:
                    obj = orjson.loads(message)
                except orjson.JSONDecodeError:
                    line = message.strip()
                    try:
                        obj = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        append(_parse_json_stdlib(s, ts, line))
                        continue
                if type(obj) is dict and "lambdascope" in obj:
                    fields = probe_fields(obj)
                    if fields is None:
                        append(Record(MALFORMED, s, ts, None, {"line": message.strip()[:MAX_TEXT]}))
                    else:
                        append(Record(PROBE, s, ts, fields["request_id"], fields))
                else:
                    append(_json_record(s, ts, obj, message.strip()))
                continue
            rec = parse_line(s, ts, message)
        except Exception:  # as parse_event: a defect here costs one line (issue 8)
            rec = Record(MALFORMED, s, ts, None, {"line": message[:MAX_TEXT]})
        if rec is not None:
            append(rec)
    return out


def _bad_envelope(stream, timestamp, message) -> list[Record]:
    """An event whose stream, time or text is not what any source gives: one MALFORMED record
    (a float time from a file is taken, rounded down)."""
    if type(timestamp) is float and 0 <= timestamp <= MAX_TIMESTAMP_MS:  # NaN fails the range
        timestamp = int(timestamp)
        if type(message) is str and type(stream) is str and 0 < len(stream) <= MAX_STREAM:
            return parse_event(stream, timestamp, message)
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP_MS:
        timestamp = 0
    text = message[:MAX_TEXT] if type(message) is str else repr(message)[:MAX_TEXT]
    return [Record(MALFORMED, stream[:MAX_STREAM] if type(stream) is str else "", timestamp, None, {"line": text})]


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
        return _with_id(START, stream, timestamp, line)
    if head == "E" and line.startswith("END"):
        return _with_id(END, stream, timestamp, line)
    if head == "I" and line.startswith("INIT_START"):
        return Record(INIT_START, stream, timestamp, None, {"runtime": _runtime_version(line)})
    if head == "R" and line.startswith("RESTORE_START"):
        return Record(RESTORE_START, stream, timestamp, None, {"runtime": _runtime_version(line)})
    if head == "I" and line.startswith("INIT_REPORT"):
        return _phase_report_text(INIT_REPORT, stream, timestamp, line)
    if head == "R" and line.startswith("RESTORE_REPORT"):
        return _phase_report_text(RESTORE_REPORT, stream, timestamp, line)
    if "Task timed out after" in line:
        m = _TIMEOUT.search(line)
        if m and is_id(m.group(1)):
            return Record(TIMEOUT, stream, timestamp, m.group(1), {"seconds": float(m.group(2))})
    if "Runtime exited with error" in line or "Runtime.ExitError" in line:
        rid = _request_id(line)
        return Record(CRASH, stream, timestamp, rid if is_id(rid) else None, {"line": line[:MAX_TEXT]})
    # The probe record behind a prefix (a runtime that decorates stdout lines).
    at = line.find(_PROBE_MARK)
    if at > 0:
        return _parse_json(stream, timestamp, line[at:])
    return Record(APP, stream, timestamp, None, {"line": line[:MAX_TEXT]})


def _request_id(line: str) -> str | None:
    r"""The word after `RequestId:` (what `RequestId:\s*(\S+)` matches), read without the regex
    engine: START, END and REPORT lines, half of all events, each ask for it."""
    at = line.find("RequestId:")
    if at < 0:
        return None
    words = line[at + 10 :].split(None, 1)
    return words[0] if words else None


def _with_id(kind: str, stream: str, timestamp: int, line: str) -> Record:
    rid = _request_id(line)
    if rid is None or len(rid) > MAX_ID:
        return Record(MALFORMED, stream, timestamp, None, {"line": line[:MAX_TEXT]})
    return Record(kind, stream, timestamp, rid)


def _runtime_version(line: str) -> str | None:
    _, _, rest = line.partition("Runtime Version:")
    rest = rest.strip()
    return rest.split()[0][:MAX_TEXT] if rest else None


def _parse_report_text(stream: str, timestamp: int, line: str) -> Record:
    rec = _report_as_written(stream, timestamp, line)
    if rec is not None:
        return rec
    rid = _request_id(line)
    if rid is None or len(rid) > MAX_ID:
        return Record(MALFORMED, stream, timestamp, None, {"line": line[:MAX_TEXT]})
    metrics: dict = {}
    for name, value in _METRIC.findall(line):
        v = float(value)
        if v > MAX_NUMBER:  # hundreds of digits: not a measurement
            return Record(MALFORMED, stream, timestamp, None, {"line": line[:MAX_TEXT]})
        metrics[_METRIC_KEYS[name]] = v
    if "Status:" in line:  # only when the invoke was not a success
        _words(line, metrics)
    return Record(REPORT, stream, timestamp, rid, metrics)


def _report_as_written(stream: str, timestamp: int, line: str) -> Record | None:
    """A REPORT line of the one shape `_REPORT_OK` admits, read with one match; None for any
    other (the general path reads it, and says MALFORMED for a number past MAX_NUMBER)."""
    m = _REPORT_OK.fullmatch(line)
    if m is None:
        return None
    rid, duration, billed, memory, used, init = m.groups()
    metrics = {
        "duration_ms": float(duration),
        "billed_ms": float(billed),
        "memory_mb": float(memory),
        "max_memory_mb": float(used),
    }
    if init is not None:
        metrics["init_duration_ms"] = float(init)
    return Record(REPORT, stream, timestamp, rid, metrics)


def _words(line: str, data: dict) -> None:
    for key, pattern in (("status", _STATUS), ("phase", _PHASE), ("error_type", _ERROR_TYPE)):
        m = pattern.search(line)
        if m:
            data[key] = m.group(1)[:MAX_TEXT]


def _phase_report_text(kind: str, stream: str, timestamp: int, line: str) -> Record:
    """`INIT_REPORT Init Duration: 150.79 ms\tPhase: init\tStatus: error\tError Type: …` and
    `RESTORE_REPORT Restore Duration: X ms`; every field optional."""
    data: dict = {}
    m = _DURATION.search(line)
    if m:
        v = float(m.group(1))
        if v > MAX_NUMBER:
            return Record(MALFORMED, stream, timestamp, None, {"line": line[:MAX_TEXT]})
        data["duration_ms"] = v
    _words(line, data)
    return Record(kind, stream, timestamp, None, data)


def stream_parts(name: str) -> dict | None:
    """A Lambda log stream name's parts: date, function (custom log groups only, else ""),
    version and the environment id; None for a name of another shape."""
    m = _STREAM.match(name) if type(name) is str else None
    if m is None:
        return None
    return {"date": m.group(1), "function": m.group(2), "version": m.group(3), "id": m.group(4)}


def _parse_json(stream: str, timestamp: int, line: str) -> Record:
    if line.startswith(_PROBE_MARK):
        fields = probe_as_written(line)
        if fields is not None:
            return Record(PROBE, stream, timestamp, fields["request_id"], fields)
    try:
        # orjson first: the probe line is a quarter of all events and json.loads its costliest
        # step (tests/bench/bench_core.py). What orjson refuses (NaN, integers past 64 bits, lone
        # surrogates, nesting past 1,024) goes to the standard decoder, so what is read is the same.
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return _parse_json_stdlib(stream, timestamp, line)
    return _json_record(stream, timestamp, obj, line)


def _parse_json_stdlib(stream: str, timestamp: int, line: str) -> Record:
    try:
        obj, end = _DECODER.raw_decode(line)  # the line is stripped: no whitespace to skip
        if end != len(line):
            raise ValueError("extra data")
    except RecursionError:  # nested deeper than the decoder goes: not a line of ours to read
        return Record(MALFORMED, stream, timestamp, None, {"line": line[:MAX_TEXT]})
    except ValueError:  # also: integers longer than Python converts
        kind = MALFORMED if line.startswith(_PROBE_MARK) or '"platform.' in line else APP
        return Record(kind, stream, timestamp, None, {"line": line[:MAX_TEXT]})
    return _json_record(stream, timestamp, obj, line)


def _json_record(stream: str, timestamp: int, obj, line: str) -> Record:
    if not isinstance(obj, dict):
        return Record(APP, stream, timestamp, None, {"line": line[:MAX_TEXT]})
    if "lambdascope" in obj:
        return _probe(stream, timestamp, obj, line)
    if _HOST_KEY in obj:
        return _host(stream, timestamp, obj, line)
    rtype = obj.get("type")
    if type(rtype) is str and rtype.startswith("platform."):
        try:
            return parse_platform(stream, timestamp, rtype, obj.get("record"), line)
        except Bad:
            return Record(MALFORMED, stream, timestamp, None, {"line": line[:MAX_TEXT]})
    # A JSON-format app log whose message is the probe record (logging instead of print).
    msg = obj.get("message")
    if isinstance(msg, dict) and "lambdascope" in msg:
        return _probe(stream, timestamp, msg, line)
    if type(msg) is str and msg.startswith(_PROBE_MARK):
        return _parse_json(stream, timestamp, msg)
    rid = obj.get("requestId")
    return Record(APP, stream, timestamp, rid if is_id(rid) else None, {"line": line[:MAX_TEXT]})


def _probe(stream: str, timestamp: int, obj: dict, line: str) -> Record:
    fields = probe_fields(obj)
    if fields is None:
        return Record(MALFORMED, stream, timestamp, None, {"line": line[:MAX_TEXT]})
    return Record(PROBE, stream, timestamp, fields["request_id"], fields)


def _host(stream: str, timestamp: int, obj: dict, line: str) -> Record:
    """The extension's host-facts line: the probe's host fields, checked the same way."""
    version = obj.get(_HOST_KEY)
    fields = probe_fields(obj) if type(version) is int and version >= 1 else None
    if fields is None or fields.get("request_id") is not None or fields.get("cold") is not None:
        return Record(MALFORMED, stream, timestamp, None, {"line": line[:MAX_TEXT]})
    del fields["request_id"], fields["cold"]
    fields["format"] = version
    return Record(HOST, stream, timestamp, None, fields)

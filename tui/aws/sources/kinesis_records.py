"""One Kinesis record of a CloudWatch Logs subscription → the log events it carries. Pure: bytes
in, events out (zlib, msgspec and orjson only, no IO).

CloudWatch Logs writes each delivery as one gzip-compressed JSON document (base64 on the wire;
botocore hands us the bytes), AWS-FACTS and the CloudWatch Logs guide's "Subscription filters"
page:

    {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/f",
     "logStream": "2026/12/07/[$LATEST]…", "subscriptionFilters": ["lambdascope-kinesis"],
     "logEvents": [{"id": "3195…", "timestamp": 1432826855000, "message": "…"}, …]}

`CONTROL_MESSAGE` records (CloudWatch Logs checks that the destination is reachable) carry no
function events and are skipped. moto 5.2.6 writes the same document with `id` as a number
(its global event counter), the same number FilterLogEvents gives as `eventId`: ids are turned
into strings, so the two channels' ids compare equal.

Bounded: a record's compressed bytes are capped (Kinesis's own limit is 1 MiB), and it is
inflated with `zlib.decompressobj(...).decompress(data, max_length)`, so a gzip bomb stops at
the cap instead of taking the memory. Anything that is not such a document (not gzip, not JSON,
too big, the wrong shape) is a `garbage` result with its reason: counted by the source, never
raised.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Annotated, Literal

import msgspec
import orjson

from tui.core.events import LogEvent

# Kinesis refuses records over 1 MiB; anything bigger did not come from Kinesis as it is.
MAX_RECORD_BYTES = 1 << 20
# One PutLogEvents batch is at most 1 MiB of messages (plus 26 bytes an event); its JSON can grow
# by escaping (a control character becomes six bytes), so the cap leaves room for that.
MAX_DECODED_BYTES = 8 << 20
# wbits for a gzip wrapper (16 + the 15-bit window): what CloudWatch Logs and moto write.
_GZIP = 16 + zlib.MAX_WBITS

DATA, CONTROL, GARBAGE = "data", "control", "garbage"


@dataclass(slots=True)
class Decoded:
    """What one record held: `kind` is data, control or garbage (then `reason` says why)."""

    kind: str
    events: list[LogEvent] = field(default_factory=list)
    log_group: str | None = None
    reason: str | None = None


# Within orjson's exact integers (it reads a wider one as a float, which the general path
# refuses as a time and writes as an id in float notation): the typed path steps aside for
# anything past int64, msgspec's widest bound.
_Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _Event(msgspec.Struct):
    id: str | _Int64
    timestamp: _Int64
    message: str


class _DataMessage(msgspec.Struct):
    """A DATA_MESSAGE as CloudWatch Logs writes it, every event well formed: read and checked by
    msgspec in one pass (C), 2x faster than orjson and a check per event in Python
    (bench_kinesis's records). Anything else (a control message, one bad event, ...) is read by
    `decode_general`, which says what is wrong; tests/unit/test_fast_paths.py holds the two to
    the same answer."""

    messageType: Literal["DATA_MESSAGE"]
    logStream: str
    logEvents: list[_Event]
    logGroup: str | None = None


_DATA_MESSAGE = msgspec.json.Decoder(_DataMessage)


def _garbage(reason: str) -> Decoded:
    return Decoded(GARBAGE, reason=reason)


def decode(data: bytes, *, max_record: int = MAX_RECORD_BYTES, max_decoded: int = MAX_DECODED_BYTES) -> Decoded:
    """The record's events, or why it is not a CloudWatch Logs record (never raises)."""
    raw = _inflate(data, max_record, max_decoded)
    if type(raw) is Decoded:
        return raw
    try:
        doc = _DATA_MESSAGE.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return _read_general(raw)
    stream = doc.logStream
    events = [LogEvent(stream, e.timestamp, e.message, e.id if type(e.id) is str else str(e.id)) for e in doc.logEvents]
    return Decoded(DATA, events, doc.logGroup)


def decode_general(data: bytes, *, max_record: int = MAX_RECORD_BYTES, max_decoded: int = MAX_DECODED_BYTES) -> Decoded:
    """What `decode` gives, read by orjson and checked in Python only: the reading every record
    may take, and the one that says what is wrong with one."""
    raw = _inflate(data, max_record, max_decoded)
    return raw if type(raw) is Decoded else _read_general(raw)


def _inflate(data, max_record: int, max_decoded: int) -> bytes | Decoded:
    """The record's JSON, inflated within the caps, or the garbage it is."""
    if not isinstance(data, bytes | bytearray | memoryview):
        return _garbage("not bytes")
    if len(data) > max_record:
        return _garbage(f"record of {len(data)} bytes, over {max_record}")
    inflater = zlib.decompressobj(_GZIP)
    try:
        raw = inflater.decompress(data, max_decoded)
    except zlib.error:
        return _garbage("not gzip")
    if inflater.unconsumed_tail:
        return _garbage(f"inflates past {max_decoded} bytes")
    if not inflater.eof:
        return _garbage("truncated gzip")
    return raw


def _read_general(raw: bytes) -> Decoded:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _garbage("not JSON")
    if not isinstance(doc, dict):
        return _garbage("JSON but not an object")
    kind = doc.get("messageType")
    if kind == "CONTROL_MESSAGE":
        return Decoded(CONTROL, log_group=_str(doc.get("logGroup")))
    if kind != "DATA_MESSAGE":
        return _garbage(f"messageType {str(kind)[:40]!r}")
    stream, group, items = doc.get("logStream"), doc.get("logGroup"), doc.get("logEvents")
    if not isinstance(stream, str) or not isinstance(items, list):
        return _garbage("DATA_MESSAGE without logStream or logEvents")
    events: list[LogEvent] = []
    append = events.append
    for item in items:
        # One bad event in a good record costs that event, not its neighbours: a field missing
        # (KeyError), an item that is no object (TypeError: a list or a string indexed by name),
        # a time that is not an int (orjson gives exact ints; `type() is` also refuses a bool).
        # Indexing inside one try, with exact type checks, instead of isinstance and .get per
        # field: the decoder 1.53x -> 1.77x its floor (zlib + json.loads), medians of 7
        # interleaved rounds on a shared machine (/tmp harness, bench_kinesis's records).
        try:
            ts, message, event_id = item["timestamp"], item["message"], item["id"]
        except (KeyError, TypeError, IndexError):
            continue
        if type(ts) is not int or type(message) is not str or event_id is None:
            continue
        # moto numbers events (an int); AWS gives a string, kept as it is.
        append(LogEvent(stream, ts, message, event_id if type(event_id) is str else str(event_id)))
    return Decoded(DATA, events, _str(group), None if len(events) == len(items) else "some events malformed")


def _str(value) -> str | None:
    return value if isinstance(value, str) else None

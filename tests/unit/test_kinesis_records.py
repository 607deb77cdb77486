"""kinesis_records.decode, table-driven over records built as CloudWatch Logs (and moto) write
them: every good event kept with its id as a string, every bad one costing itself only, and a
record that is not such a document counted as garbage with its reason, never raised."""

import gzip
import json
import zlib

import pytest

from tui.aws.sources.kinesis_records import CONTROL, DATA, GARBAGE, decode
from tui.core.events import LogEvent

STREAM = "2026/12/07/[$LATEST]0123456789abcdef0123456789abcdef"


def _record(events, **fields) -> bytes:
    doc = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/f",
        "logStream": STREAM,
        "subscriptionFilters": ["lambdascope-kinesis"],
        "logEvents": events,
        **fields,
    }
    return gzip.compress(json.dumps(doc).encode())


GOOD = {"id": "36" * 28, "timestamp": 1_795_789_200_000, "message": "START RequestId: r Version: $LATEST\n"}


@pytest.mark.parametrize(
    "item, kept",
    [
        (GOOD, LogEvent(STREAM, GOOD["timestamp"], GOOD["message"], GOOD["id"])),
        ({**GOOD, "id": 41}, LogEvent(STREAM, GOOD["timestamp"], GOOD["message"], "41")),  # moto's ids
        ({**GOOD, "timestamp": True}, None),  # a bool is not a time
        ({**GOOD, "timestamp": 1.5}, None),
        ({**GOOD, "timestamp": "1795789200000"}, None),
        ({**GOOD, "message": 7}, None),
        ({**GOOD, "message": None}, None),
        ({**GOOD, "id": None}, None),
        ({k: v for k, v in GOOD.items() if k != "id"}, None),
        ({k: v for k, v in GOOD.items() if k != "timestamp"}, None),
        ({k: v for k, v in GOOD.items() if k != "message"}, None),
        ([GOOD["id"], GOOD["timestamp"], GOOD["message"]], None),  # not an object
        ("an event", None),
        (None, None),
        (3, None),
    ],
)
def test_each_event_is_kept_or_costs_only_itself(item, kept):
    neighbour = {**GOOD, "id": "neighbour"}
    got = decode(_record([neighbour, item, neighbour]))
    assert got.kind == DATA and got.log_group == "/aws/lambda/f"
    want = [LogEvent(STREAM, GOOD["timestamp"], GOOD["message"], "neighbour")] * 2
    if kept is not None:
        want.insert(1, kept)
    assert got.events == want
    assert got.reason == (None if kept is not None else "some events malformed")


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"not gzip at all", "not gzip"),
        (gzip.compress(b"{not json"), "not JSON"),
        (gzip.compress(b"[1, 2]"), "JSON but not an object"),
        (gzip.compress(json.dumps({"messageType": "OTHER"}).encode()), "messageType 'OTHER'"),
        (_record("not a list"), "DATA_MESSAGE without logStream or logEvents"),
        (_record([GOOD], logStream=5), "DATA_MESSAGE without logStream or logEvents"),
        (gzip.compress(json.dumps({"messageType": "DATA_MESSAGE"}).encode())[:-8], "truncated gzip"),
    ],
    # Named, not by their bytes: gzip writes the time into its header, and pytest-xdist's workers
    # must collect the same ids (a second apart they did not: make stress at 26fb41a).
    ids=["not gzip", "not JSON", "not an object", "another type", "events not a list", "stream not text", "truncated"],
)
def test_a_record_that_is_no_such_document_is_garbage_with_its_reason(data, reason):
    got = decode(data)
    assert (got.kind, got.reason, got.events) == (GARBAGE, reason, [])


def test_the_caps_hold_a_huge_record_and_a_gzip_bomb():
    assert decode(b"\0" * 101, max_record=100).reason == "record of 101 bytes, over 100"
    bomb = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    data = bomb.compress(b" " * (1 << 20)) + bomb.flush()  # 1 MiB of blanks: 1 KiB of gzip
    got = decode(data, max_decoded=64 << 10)
    assert (got.kind, got.reason) == (GARBAGE, f"inflates past {64 << 10} bytes")


def test_a_control_message_carries_no_events():
    data = gzip.compress(json.dumps({"messageType": "CONTROL_MESSAGE", "logGroup": "", "logEvents": []}).encode())
    got = decode(data)
    assert (got.kind, got.events) == (CONTROL, [])

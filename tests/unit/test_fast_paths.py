"""The msgspec fast paths read exactly what the general paths read, where they read at all.

`probe_record.probe_as_written` (the probe line) and `kinesis_records.decode`'s typed reading of a
DATA_MESSAGE each admit only input whose reading by the general path (orjson, then checks in
Python) is the same. Over generated input near every bound they check (lengths at MAX_TEXT and
MAX_ID, numbers at 0 and MAX_NUMBER, nulls, bools for numbers, ints past 64 bits, unknown and
duplicated keys), each gives the general path's answer or steps aside (None), and steps aside
only where the general path refuses or changes the value.
"""

import gzip
import json

import orjson
from hypothesis import event, given
from hypothesis import strategies as st

from tests.unit.test_fuzz_parser import SETTINGS
from tui.aws.sources import kinesis_records as K
from tui.core import lambdalog as L
from tui.core.records import MAX_ID, MAX_NUMBER, MAX_TEXT

TEXT_KEYS = ["container_id", "hostname", "boot_id", "cpu_model", "init_type", "container_id_from", "instance_type"]
NUMBER_KEYS = ["cpu_mhz", "bogomips", "max_concurrency"]


# A record of values both readers admit, at their bounds too; then, in most examples, one field
# spoiled: beside a bound the fast path checks, or of another type.
def lengths(*ns: int):
    return st.sampled_from(ns).map(lambda n: "é" * n)


TEXT = st.one_of(lengths(0, 1, MAX_TEXT - 1, MAX_TEXT), st.text(max_size=12))
ID = st.one_of(lengths(1, MAX_ID), st.uuids().map(str))
NUMBER = st.one_of(st.sampled_from([0, -0.0, 0.5, 2500, 10**15, MAX_NUMBER]), st.floats(0, MAX_NUMBER))
OTHERS = st.one_of(st.none(), st.booleans(), st.integers(), st.lists(st.integers(), max_size=2))
SPOILED = {
    "text": st.one_of(lengths(MAX_TEXT + 1, 5 * MAX_TEXT), OTHERS),
    "id": st.one_of(lengths(0, MAX_ID + 1), OTHERS),
    "number": st.one_of(st.sampled_from([MAX_NUMBER + 1, -1, -0.5, 2**63, 2**64 + 1, 10**30]), OTHERS),
    "bool": OTHERS.filter(lambda v: v is not None and type(v) is not bool),
}
KINDS = {"request_id": "id", "cold": "bool", **dict.fromkeys(TEXT_KEYS, "text"), **dict.fromkeys(NUMBER_KEYS, "number")}


@st.composite
def probe_records(draw) -> str:
    rec: dict = {"lambdascope": 1, "request_id": draw(st.none() | ID), "cold": draw(st.none() | st.booleans())}
    for key in draw(st.lists(st.sampled_from(TEXT_KEYS), max_size=4)):
        rec[key] = draw(TEXT)
    for key in draw(st.lists(st.sampled_from(NUMBER_KEYS), max_size=3)):
        rec[key] = draw(NUMBER)
    if draw(st.booleans()):
        rec["seq"] = draw(OTHERS)  # a field the model does not read
    spoil = draw(st.sampled_from([None, "missing", *rec]))
    if spoil == "missing":
        del rec[draw(st.sampled_from(["lambdascope", "request_id", "cold"]))]
    elif spoil in KINDS:
        rec[spoil] = draw(SPOILED[KINDS[spoil]])
    text = json.dumps(rec, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):  # a key twice: both readers keep the last
        text = text[:-1] + ', "hostname": "dup"}'
    return text + draw(st.sampled_from(["", "\n", " \n"]))


def general(line: str) -> dict | None:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict or "lambdascope" not in obj:
        return None
    return L.probe_fields(obj)


@SETTINGS
@given(probe_records())
def test_the_probe_fast_path_reads_what_probe_fields_reads(line):
    fast = L.probe_as_written(line)
    if fast is not None:
        assert fast == general(line)
    event("fast path" if fast is not None else "general path")


def test_the_probe_fast_path_takes_the_probes_own_record():
    line = json.dumps(
        {
            "lambdascope": 1,
            "request_id": "r1",
            "client_request_id": None,  # null in a field the model does not read: skipped
            "cold": True,
            "container_id": "2026/12/08/[$LATEST]abc",
            "hostname": "169.254.32.1",
            "cpu_mhz": 2500,
            "max_concurrency": 4,
        }
    )
    assert L.probe_as_written(line + "\n") == general(line)
    assert L.probe_as_written(line)["cpu_mhz"] == 2500.0


def test_the_probe_fast_path_steps_aside_where_the_general_path_cuts_or_refuses():
    long_host = json.dumps({"lambdascope": 1, "request_id": "r", "cold": None, "hostname": "h" * (MAX_TEXT + 1)})
    assert L.probe_as_written(long_host) is None
    assert general(long_host)["hostname"] == "h" * MAX_TEXT  # cut, not refused
    deep = '{"lambdascope": 1, "request_id": "r", "cold": null, "x": ' + "[" * 5000 + "]" * 5000 + "}"
    assert L.probe_as_written(deep) is None
    assert L.parse_line("s", 1, deep).kind == L.MALFORMED


def data_message(events: list) -> bytes:
    doc = {
        "messageType": "DATA_MESSAGE",
        "owner": "1",
        "logGroup": "/aws/lambda/f",
        "logStream": "s",
        "logEvents": events,
    }
    return gzip.compress(json.dumps(doc).encode())


EVENT_FIELDS = {
    "id": (st.one_of(st.text(max_size=4), st.integers(0, 10**6), st.just(2**63 - 1)), st.just(2**63) | OTHERS),
    "timestamp": (st.sampled_from([0, 1_795_789_200_000, 2**63 - 1]), st.sampled_from([2**63, 2**64, -(2**63) - 1])),
    "message": (st.text(max_size=8), OTHERS),
}


@st.composite
def log_events(draw) -> list[dict]:
    events = [{key: draw(good) for key, (good, _) in EVENT_FIELDS.items()} for _ in range(draw(st.integers(0, 4)))]
    if events and draw(st.booleans()):
        key = draw(st.sampled_from(list(EVENT_FIELDS)))
        draw(st.sampled_from(events))[key] = draw(EVENT_FIELDS[key][1])
    return events


@SETTINGS
@given(log_events())
def test_the_typed_decode_reads_what_the_general_decode_reads(events):
    data = data_message(events)
    decoded = K.decode(data)
    assert decoded == K.decode_general(data)
    event("every event kept" if len(decoded.events) == len(events) else "an event refused")


def test_the_fast_path_knows_the_fields_probe_fields_reads():
    """A field added to one reader and not the other would be read one way only."""
    from tui.core import probe_record as P

    typed = set(P._ProbeAsWritten.__annotations__) - {"lambdascope"}
    assert typed == {"request_id", "cold", *P._PROBE_TEXT, *P._PROBE_NUMBERS}

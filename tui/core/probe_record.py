"""The probe record's fields the model reads, each checked by type and bound: read from a log
line or a response body (`probe_fields`, from what a JSON reader gave), or straight from a log
line in one pass of msgspec (`probe_as_written`, the fast path for the probe's own records).

Pure: no IO. The record itself is DESIGN.md's probe record (probe/handler.py writes it).
"""

from typing import Annotated, Any, Required, TypedDict, cast

import msgspec

from tui.core.records import MAX_ID, MAX_NUMBER, MAX_STREAM, MAX_TEXT

# The probe record's fields the model reads, by type. Everything else in it is ignored.
_PROBE_TEXT = (
    "container_id",
    "hostname",
    "boot_id",
    "cpu_model",
    "init_type",
    "container_id_from",
    "instance_id",
    "instance_type",
    "cpu_implementer",
    "cpu_part",
)
_PROBE_NUMBERS = ("cpu_mhz", "bogomips", "max_concurrency")

_Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]
_Number = Annotated[float, msgspec.Meta(ge=0, le=MAX_NUMBER)]


class _ProbeAsWritten(TypedDict, total=False):
    """The probe record as the probe writes it, read and checked by msgspec in one pass (C), for
    `parse_events`' probe lines: 1.9 µs a line instead of 4.2 for orjson + `probe_fields`
    (bench_kinesis's records). It admits only records whose reading by `probe_fields` is the
    same, key for key: texts within MAX_TEXT (a longer one is cut there by `probe_fields`),
    no field that is null, numbers in range (ints become floats, as there); unknown fields
    are skipped. Anything else goes `probe_fields`' way. tests/unit/test_fast_paths.py holds
    the two to the same answer."""

    lambdascope: Required[Any]
    request_id: Required[Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID)] | None]
    cold: Required[bool | None]
    container_id: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
    hostname: _Text
    boot_id: _Text
    cpu_model: _Text
    init_type: _Text
    container_id_from: _Text
    instance_id: _Text
    instance_type: _Text
    cpu_implementer: _Text
    cpu_part: _Text
    cpu_mhz: _Number
    bogomips: _Number
    max_concurrency: _Number


_PROBE_DECODER = msgspec.json.Decoder(_ProbeAsWritten)
# What the probe fast path may meet: a line of another shape (ValidationError), not JSON as
# msgspec reads it (DecodeError), or nested past its depth (RecursionError).
_NOT_AS_WRITTEN = (msgspec.DecodeError, RecursionError)


def probe_as_written(line: str) -> dict | None:
    """`probe_fields` of the probe line `line`, when msgspec can read it as the probe writes
    it; None when it cannot (then the general path reads the line)."""
    try:
        fields = cast(dict, _PROBE_DECODER.decode(line))  # a plain dict: TypedDict is its type only
    except _NOT_AS_WRITTEN:
        return None
    del fields["lambdascope"]
    return fields


def probe_fields(obj) -> dict | None:
    """The probe record's fields, validated by type (the one place identity is checked, for
    log lines and response bodies alike); None if any field is of the wrong type."""
    if not isinstance(obj, dict):
        return None
    get = obj.get
    rid = get("request_id")
    if rid is not None and (type(rid) is not str or not 0 < len(rid) <= MAX_ID):
        return None
    cold = get("cold")
    if cold is not None and type(cold) is not bool:
        return None
    out: dict = {"request_id": rid, "cold": cold}
    for key in _PROBE_TEXT:
        value = get(key)
        if value is not None:
            if type(value) is not str:
                return None
            out[key] = value if len(value) <= MAX_TEXT else value[:MAX_TEXT]
    for key in _PROBE_NUMBERS:
        value = get(key)
        if value is not None:
            kind = type(value)
            if (kind is float or kind is int) and 0 <= value <= MAX_NUMBER:  # NaN fails the range
                out[key] = float(value)
            else:
                return None
    cid = out.get("container_id")
    if cid is not None and not 0 < len(cid) <= MAX_STREAM:
        return None
    return out

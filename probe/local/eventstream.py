"""AWS event-stream framing (application/vnd.amazon.eventstream), encode side only.

Live Tail answers with a stream of these binary messages. botocore decodes them (and checks both
CRCs), so the local logs endpoint only needs to write them. Layout of one message, big-endian:

    total length u32 | headers length u32 | CRC32 of those 8 bytes u32
    headers: name length u8, name, value type u8, value (strings: u16 length + UTF-8)
    payload
    CRC32 of everything before it u32

Only the header types Live Tail uses are supported: string (7), and for completeness bool/int32.
"""

from __future__ import annotations

import json
import struct
from binascii import crc32
from collections.abc import Mapping
from typing import Any

_PRELUDE = struct.Struct("!II")
_U32 = struct.Struct("!I")

# Header value type codes from the event-stream spec.
_TRUE, _FALSE, _INT32, _STRING = 0, 1, 4, 7

# Limits from the spec: botocore refuses bigger messages (16 MiB) and headers (128 KiB).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
MAX_HEADERS_BYTES = 128 * 1024


def _encode_headers(headers: Mapping[str, str | int | bool]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name = name.encode("utf-8")
        if not 0 < len(raw_name) < 256:
            raise ValueError(f"event-stream header name must be 1-255 bytes: {name!r}")
        out.append(len(raw_name))
        out += raw_name
        # bool before int: bool is a subclass of int.
        if isinstance(value, bool):
            out.append(_TRUE if value else _FALSE)
        elif isinstance(value, int):
            out.append(_INT32)
            out += struct.pack("!i", value)
        elif isinstance(value, str):
            raw = value.encode("utf-8")
            if len(raw) > 0xFFFF:
                raise ValueError(f"event-stream header {name!r} value too long")
            out.append(_STRING)
            out += struct.pack("!H", len(raw))
            out += raw
        else:
            raise TypeError(f"unsupported event-stream header type for {name!r}: {type(value).__name__}")
    return bytes(out)


def encode_message(headers: Mapping[str, str | int | bool], payload: bytes) -> bytes:
    """One complete message: prelude, prelude CRC, headers, payload, message CRC."""
    raw_headers = _encode_headers(headers)
    if len(raw_headers) > MAX_HEADERS_BYTES:
        raise ValueError("event-stream headers exceed 128 KiB")
    total = _PRELUDE.size + 4 + len(raw_headers) + len(payload) + 4
    if total > MAX_MESSAGE_BYTES:
        raise ValueError(f"event-stream message of {total} bytes exceeds 16 MiB")
    prelude = _PRELUDE.pack(total, len(raw_headers))
    head = prelude + _U32.pack(crc32(prelude) & 0xFFFFFFFF)
    body = head + raw_headers + payload
    return body + _U32.pack(crc32(body) & 0xFFFFFFFF)


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def event_message(event_type: str, body: Any) -> bytes:
    """An `event` message whose JSON payload is one member of the response stream union."""
    return encode_message(
        {
            ":message-type": "event",
            ":event-type": event_type,
            ":content-type": "application/json",
        },
        _json(body),
    )


def initial_response() -> bytes:
    """The first message of a JSON-protocol event stream.

    botocore/aiobotocore parse the response's non-stream members from it and drop the stream
    if the first message is anything else ("First event was not of type initial-response").
    StartLiveTail's response has no other members, so the payload is an empty object.
    """
    return event_message("initial-response", {})


def exception_message(exception_type: str, message: str) -> bytes:
    """A modelled in-stream error; botocore raises it as EventStreamError with this code."""
    return encode_message(
        {
            ":message-type": "exception",
            ":exception-type": exception_type,
            ":content-type": "application/json",
        },
        _json({"message": message}),
    )

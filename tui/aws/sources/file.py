"""Log events from a file: what `aws logs filter-log-events` prints (one JSON document with an
`events` array, or several such documents one after another, as `--no-paginate` loops write them),
a JSON array of events, or a JSONL of events. Pure parsing over text chunks; opening the file
(capped, gzip or not: tui/output/capped.py) is the caller's.

Streamed, in bounded memory: the events of a document's `events` array (or of a top-level
array) are decoded one at a time, however the document is laid out (the AWS CLI's indented
output, or compact on one line), so the largest thing held besides the events is one event, at
most caps.EVENT_JSON. A longer value (a 300 MB line) is refused at that cap, before it is
whole; so is a file naming more than caps.STREAMS log streams.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator

from tui.core import caps
from tui.core.errors import UserError
from tui.core.events import LogEvent

_REQUIRED = ("logStreamName", "timestamp", "message")
FIX = "pass the output of 'aws logs filter-log-events ... > FILE' or one JSON event per line"
_WS = re.compile(r"\s*")
_ARRAY_START = re.compile(r'\[|\{\s*"events"\s*:\s*\[')  # the items of this array are events
_LOOKAHEAD = 256  # enough to see a document's `{"events": [` however it is spaced
_DECODER = json.JSONDecoder()


def read_files(paths: list[str], open_text: Callable[[str], Iterable[str]]) -> list[LogEvent]:
    """Every event of one or several files (a function's export and its capacity provider's),
    one event id once, in timestamp order. `open_text(path)` gives a file's text in chunks."""
    seen: set[str] = set()
    streams: set[str] = set()
    out: list[LogEvent] = []
    for path in paths:
        out.extend(_parse(open_text(path), path, seen, streams))
    if not out:
        raise UserError(f"{paths[0]}: no log events found; expected 'aws logs filter-log-events' output")
    out.sort(key=lambda e: e.timestamp)
    return out


def parse_events(text: str | Iterable[str], name: str = "input") -> list[LogEvent]:
    """Every event in `text` (a string, or its chunks), de-duplicated by event id, in timestamp order."""
    events = list(_parse([text] if isinstance(text, str) else text, name, set(), set()))
    if not events:
        raise UserError(f"{name}: no log events found; expected 'aws logs filter-log-events' output")
    events.sort(key=lambda e: e.timestamp)
    return events


def _parse(chunks: Iterable[str], name: str, seen: set[str], streams: set[str]) -> Iterator[LogEvent]:
    text = _Text(iter(chunks), name)
    while text.skip_ws():
        head = text.match(_ARRAY_START)
        if head is None:
            values: Iterable = _events_of(text.value(caps.EVENT_JSON), name)
        else:
            values = _array_items(text, head.group(0) != "[")
        for raw in values:
            eid = raw.get("eventId")
            if eid is not None:
                if eid in seen:
                    continue
                seen.add(eid)
            stream = raw["logStreamName"]
            if stream not in streams:
                if len(streams) >= caps.STREAMS:
                    raise UserError(
                        f"{name}: more than {caps.STREAMS:,} log streams (the most lambdascope keeps); "
                        "export fewer, e.g. with --log-stream-name-prefix or a shorter time range"
                    )
                streams.add(stream)
            yield LogEvent(stream, int(raw["timestamp"]), raw["message"], eid, raw.get("ingestionTime"))


def _array_items(text: "_Text", in_document: bool) -> Iterator[dict]:
    """The events of an array whose `[` was just read, one at a time; then, inside a document,
    the rest of it (its other keys are read and dropped)."""
    if not text.skip_ws():
        text.fail()
    if not text.take("]"):
        while True:
            yield from _events_of(text.value(caps.EVENT_JSON), text.name, item=True)
            text.skip_ws()
            if text.take("]"):
                break
            if not text.take(","):
                text.fail()
            text.skip_ws()
    if not in_document:
        return
    while True:
        text.skip_ws()
        if text.take("}"):
            return
        if not text.take(","):
            text.fail()
        text.skip_ws()
        if not isinstance(text.value(caps.DOCUMENT_VALUE), str):
            text.fail()
        text.skip_ws()
        if not text.take(":"):
            text.fail()
        text.skip_ws()
        text.value(caps.DOCUMENT_VALUE)


class _Text:
    """A window on the text as it streams in: decode one JSON value at a time, holding at most
    the value being decoded (and one chunk)."""

    def __init__(self, chunks: Iterator[str], name: str):
        self._chunks = chunks
        self.name = name
        self._buf = ""
        self._pos = 0
        self._lines_before = 0  # newlines in the text already dropped from the window
        self._eof = False

    def _more(self) -> bool:
        if self._eof:
            return False
        chunk = next(self._chunks, None)
        if chunk is None:
            self._eof = True
            return False
        if self._pos:
            self._lines_before += self._buf.count("\n", 0, self._pos)
            self._buf = self._buf[self._pos :]
            self._pos = 0
        self._buf += chunk
        return True

    def skip_ws(self) -> bool:
        """Past any whitespace; False at the end of the text."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()
            if self._pos < len(self._buf):
                return True
            if not self._more():
                return False

    def match(self, pattern: re.Pattern):
        while len(self._buf) - self._pos < _LOOKAHEAD and self._more():
            pass
        m = pattern.match(self._buf, self._pos)
        if m:
            self._pos = m.end()
        return m

    def take(self, char: str) -> bool:
        if self._pos >= len(self._buf) and not self._more():
            return False
        if self._buf[self._pos] == char:
            self._pos += 1
            return True
        return False

    def value(self, cap: int):
        """The JSON value here, reading on until it is whole, refused once it passes `cap`."""
        while True:
            try:
                obj, end = _DECODER.raw_decode(self._buf, self._pos)
            except (ValueError, RecursionError) as exc:
                err_pos = getattr(exc, "pos", self._pos)
                # Cut short by the window's end (not wrong): read on.
                cut = "Unterminated string" in str(exc) or err_pos >= len(self._buf) - 8
                if not (cut and self._grow(cap)):
                    self.fail(err_pos)
                continue
            if end >= len(self._buf) and not self._eof and not isinstance(obj, (dict, list, str)):
                # A number at the window's end may go on in the next chunk.
                if self._grow(cap):
                    continue
            self._pos = end
            return obj

    def _grow(self, cap: int) -> bool:
        if len(self._buf) - self._pos > cap:
            raise UserError(
                f"{self.name}:{self.line()}: a JSON value over {caps.size(cap)} (CloudWatch's events are at "
                f"most {caps.size(caps.CLOUDWATCH_EVENT)}); {FIX}"
            )
        return self._more()

    def line(self, pos: int | None = None) -> int:
        return self._lines_before + self._buf.count("\n", 0, self._pos if pos is None else pos) + 1

    def fail(self, pos: int | None = None):
        raise UserError(f"{self.name}:{self.line(pos)}: not JSON; {FIX}")


def _events_of(obj, name, item: bool = False):
    """The events of one value: a document's `events`, an array's items, or the event itself
    (always the last for an item of an array that is being streamed)."""
    if item:
        items = [obj]
    elif isinstance(obj, dict) and isinstance(obj.get("events"), list):
        items = obj["events"]
    elif isinstance(obj, dict):
        items = [obj]
    elif isinstance(obj, list):
        items = obj
    else:
        raise UserError(f"{name}: expected JSON objects with logStreamName, timestamp and message")
    for raw in items:
        if not isinstance(raw, dict) or any(k not in raw for k in _REQUIRED):
            missing = [k for k in _REQUIRED if not isinstance(raw, dict) or k not in raw]
            raise UserError(
                f"{name}: an event lacks {', '.join(missing)}; expected 'aws logs filter-log-events' output"
            )
        ts = raw["timestamp"]
        if (
            isinstance(ts, bool)
            or not isinstance(ts, (int, float))
            or not 0 <= ts <= caps.LATEST_S * 1000
            or not isinstance(raw["message"], str)
            or not isinstance(raw["logStreamName"], str)
        ):
            raise UserError(
                f"{name}: an event's timestamp is not epoch ms from 1970 to 9999, or its message or stream "
                "is not text; expected 'aws logs filter-log-events' output"
            )
        eid, ingested = raw.get("eventId"), raw.get("ingestionTime")
        if eid is not None and not isinstance(eid, str):
            raw["eventId"] = str(eid)  # kept only as a de-dup key
        if ingested is not None and (
            isinstance(ingested, bool) or not isinstance(ingested, (int, float)) or not 0 <= ingested <= 2**53
        ):
            raw["ingestionTime"] = None  # only lag figures read it
        yield raw

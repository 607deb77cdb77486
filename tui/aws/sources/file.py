"""Log events from a file: what `aws logs filter-log-events` prints (one JSON document with an
`events` array, or several such documents one after another, as `--no-paginate` loops write them),
or a JSONL of events. Pure parsing over text; reading the file is the caller's one line of IO.
"""

import json
import math

from tui.core.errors import UserError
from tui.core.events import LogEvent

_REQUIRED = ("logStreamName", "timestamp", "message")


def read_events(path: str) -> list[LogEvent]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; pass the output of 'aws logs filter-log-events ... > FILE'") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory; pass a file of log events") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read it ({exc.__class__.__name__}); pass a readable UTF-8 file") from None
    return parse_events(text, path)


def read_files(paths: list[str]) -> list[LogEvent]:
    """Every event of several files (a function's export and its capacity provider's), one
    event id once, in timestamp order."""
    if len(paths) == 1:
        return read_events(paths[0])
    seen: set[str] = set()
    out: list[LogEvent] = []
    for path in paths:
        for e in read_events(path):
            if e.event_id is not None:
                if e.event_id in seen:
                    continue
                seen.add(e.event_id)
            out.append(e)
    out.sort(key=lambda e: e.timestamp)
    return out


def parse_events(text: str, name: str = "input") -> list[LogEvent]:
    """Every event in `text`, de-duplicated by event id, in timestamp order."""
    decoder = json.JSONDecoder()
    events: list[LogEvent] = []
    seen: set[str] = set()
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            break
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except ValueError:
            line = text.count("\n", 0, pos) + 1
            raise UserError(
                f"{name}:{line}: not JSON; pass the output of 'aws logs filter-log-events' or one JSON event per line"
            ) from None
        for raw in _events_of(obj, name):
            eid = raw.get("eventId")
            if eid is not None:
                if eid in seen:
                    continue
                seen.add(eid)
            events.append(
                LogEvent(raw["logStreamName"], int(raw["timestamp"]), raw["message"], eid, raw.get("ingestionTime"))
            )
    if not events:
        raise UserError(f"{name}: no log events found; expected 'aws logs filter-log-events' output")
    events.sort(key=lambda e: e.timestamp)
    return events


def _events_of(obj, name):
    if isinstance(obj, dict) and isinstance(obj.get("events"), list):
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
            or not math.isfinite(ts)
            or not isinstance(raw["message"], str)
        ):
            raise UserError(
                f"{name}: an event has a non-numeric timestamp or non-text message; "
                "expected 'aws logs filter-log-events' output"
            )
        yield raw

"""Logs alone → the per-container document. Pure: events in, snapshot document out."""

from tui.core import snapshot as export
from tui.core.events import LogEvent
from tui.core.fleet import Fleet
from tui.core.lambdalog import parse_event


def feed(fleet: Fleet, events: list[LogEvent], now: float) -> None:
    records = []
    for e in events:
        records.extend(parse_event(e.stream, e.timestamp, e.message))
    fleet.apply_records(records, now)


def analyze(events: list[LogEvent], source: dict) -> dict:
    # "now" is the last event's time, so states (busy/idle/gone) read the same on every run.
    now = max(e.timestamp for e in events) / 1000.0 if events else 0.0
    fleet = Fleet()
    feed(fleet, events, now)
    return export.snapshot(fleet, now=now, source=source)

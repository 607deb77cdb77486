"""Logs alone → the per-container document. Pure: events in, snapshot document out."""

from tui.core import snapshot as export
from tui.core.events import LogEvent
from tui.core.fleet import Fleet
from tui.core.lambdalog import parse_events


def feed(fleet: Fleet, events: list[LogEvent], now: float) -> None:
    fleet.apply_records(parse_events(events), now)


def fleet_of(events: list[LogEvent]) -> tuple[Fleet, float]:
    """The fleet of a finished log, and the data's own "now": its last event's time, so states
    read the same on every run, and are never "busy" (the data has ended)."""
    now = max(e.timestamp for e in events) / 1000.0 if events else 0.0
    fleet = Fleet()
    fleet.data_ended = True
    feed(fleet, events, now)
    return fleet, now


def analyze(events: list[LogEvent], source: dict) -> dict:
    fleet, now = fleet_of(events)
    return export.snapshot(fleet, now=now, source=source)

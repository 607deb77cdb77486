"""The log shipper's queue: which stream's events go to the log store next (no IO here).

moto takes a few hundred PutLogEvents calls a second whatever the batch size, and a call carries
one stream's events; so with 1,000 active streams the calls, not the events, are what runs out.
The queue spends them fairly: the stream whose oldest pending event has waited longest is put
next, with everything it has pending (within AWS's batch limits), and a stream is not put again
while its previous put is in flight (two puts of one stream racing could store its lines out of
order). Each stream therefore waits about `streams waiting ÷ calls per second` between puts:
its flush interval grows with the number of streams, its batches grow with it, and every event
is shipped. Streams are kept in the order they began waiting (a dict's insertion order), so
"oldest first" is the front of the dict, not a sort.

Memory is bounded by `max_events`: past it new events are dropped and counted, never queued.
"""

import time
from collections import deque
from dataclasses import dataclass, field

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD


def batches(events: list[dict]) -> list[list[dict]]:
    """Split events (already in timestamp order) into batches within AWS's PutLogEvents limits."""
    out, batch, size = [], [], 0
    for ev in events:
        ev_size = len(ev["message"].encode()) + EVENT_OVERHEAD
        if batch and (len(batch) >= MAX_BATCH_EVENTS or size + ev_size > MAX_BATCH_BYTES):
            out.append(batch)
            batch, size = [], 0
        batch.append(ev)
        size += ev_size
    if batch:
        out.append(batch)
    return out


def clip(message: str) -> str:
    """A message cut to the largest event PutLogEvents takes."""
    data = message.encode()
    if len(data) <= MAX_EVENT_BYTES:
        return message
    return data[:MAX_EVENT_BYTES].decode(errors="ignore")


@dataclass
class _Stream:
    events: deque = field(default_factory=deque)  # {"timestamp", "message"} in arrival order
    waiting_since: float = 0.0  # when its oldest pending event was queued (monotonic s)


class ShipQueue:
    """Pending events per stream, handed out oldest-waiting stream first.

    `now` is injected (monotonic seconds) so the order is testable without a clock.
    """

    def __init__(self, max_events: int, full_at: int, now=time.monotonic):
        self.max_events = max_events
        self.full_at = full_at  # a stream with this many pending is due however briefly it waited
        self._now = now
        self._streams: dict[str, _Stream] = {}  # only streams with events pending, oldest first
        self._full: set[str] = set()
        self._in_flight: set[str] = set()
        self.pending = 0
        self.added = 0
        self.dropped = 0

    def add(self, stream: str, event: dict) -> int:
        """Queue one event; returns how many its stream now has pending (0: dropped)."""
        if self.pending >= self.max_events:
            self.dropped += 1
            return 0
        s = self._streams.get(stream)
        if s is None:
            s = self._streams[stream] = _Stream(waiting_since=self._now())
        s.events.append(event)
        self.pending += 1
        self.added += 1
        if len(s.events) >= self.full_at:
            self._full.add(stream)
        return len(s.events)

    @property
    def streams_waiting(self) -> int:
        return len(self._streams)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def oldest_wait_s(self) -> float:
        """How long the oldest pending event has waited to be put (0 with none pending)."""
        for s in self._streams.values():
            return max(0.0, self._now() - s.waiting_since)
        return 0.0

    def take(self, min_wait_s: float, cutoff_ms: int | None = None) -> tuple[str, list[dict]] | None:
        """The next stream to put and its events, or None when none is due.

        A stream is due when its oldest event has waited `min_wait_s` or it has `full_at`
        events, it has no put in flight, and (with a `cutoff_ms`, the ingestion delay) its
        events are at least that old; only events stamped at or before the cutoff are taken.
        The caller must call `done(stream)` when the put is over.
        """
        now = self._now()
        for name, s in self._streams.items():
            if name in self._in_flight:
                continue
            if now - s.waiting_since < min_wait_s and name not in self._full:
                if not self._full:
                    break  # the rest waited less (insertion order), and none is full
                continue
            if cutoff_ms is not None and s.events[0]["timestamp"] > cutoff_ms:
                continue
            due = []
            while s.events and (cutoff_ms is None or s.events[0]["timestamp"] <= cutoff_ms):
                due.append(s.events.popleft())
            self.pending -= len(due)
            del self._streams[name]
            self._full.discard(name)
            if s.events:  # held back by the ingestion delay: it waits again, from now
                self._streams[name] = _Stream(s.events, now)
                if len(s.events) >= self.full_at:
                    self._full.add(name)
            self._in_flight.add(name)
            return name, due
        return None

    def done(self, stream: str) -> None:
        self._in_flight.discard(stream)

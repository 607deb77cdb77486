"""The invocation ledger: each request id counted once across both channels.

Two channels report each invocation (DESIGN.md): the response body, at once, and the log
stream, seconds later. Both carry Lambda's request id. The ledger keeps, per request id, which
channel has reported it, when, and the container that counted it; an invocation is counted once,
when either channel first reports it, and is "confirmed" when the logs report it. Bounded: the
oldest ids go first, and one forgotten before both channels reported it is counted.

Pure: no IO.
"""

from collections import OrderedDict

from tui.core.fleet.container import Container
from tui.core.fleet.counters import Counters, Samples
from tui.core.timeline import Clock, Timeline

# Flags kept per request id while both channels may still report it.
_SEEN_RESPONSE = 1
_SEEN_LOG = 2
_COLD_COUNTED = 4  # the probe (or the response) said cold
_REPORTED = 8
_COUNTED = 16  # counted as an invocation (a START alone does not count)
_ENDED = 32  # REPORT or timeout seen: a late START must not put it back in flight
_ERRORED = 64
_TIMED_OUT = 128
_CRASHED = 256


class Ledger:
    """request id → [flags, response arrival, earliest line, latest line, counting container]."""

    __slots__ = ("ids", "max_ids", "counters", "clock", "activity", "lags")

    def __init__(self, max_ids: int, counters: Counters, clock: Clock, activity: Timeline):
        self.ids: OrderedDict[str, list] = OrderedDict()
        self.max_ids = max_ids
        self.counters = counters
        self.clock = clock
        self.activity = activity
        # Response → log confirmation lag of each invocation both channels reported (bounded).
        self.lags = Samples()

    def entry(self, rid: str, t: float, c: Container) -> list:
        """The request's entry, created uncounted: [flags, response arrival, earliest line,
        latest line, the container that counted it], its START's time (held in the
        container's `in_flight`) taken in. Bounded: the oldest is forgotten first."""
        entry = self.ids.get(rid)
        if entry is None:
            started = c.in_flight.get(rid) if c.in_flight else None
            entry = [0, None, t, t, None] if started is None else [0, None, min(t, started), max(t, started), None]
            self.ids[rid] = entry
            if len(self.ids) > self.max_ids:
                _, old = self.ids.popitem(last=False)
                if old[0] & _COUNTED and old[0] & (_SEEN_RESPONSE | _SEEN_LOG) != (_SEEN_RESPONSE | _SEEN_LOG):
                    self.counters.evicted_ids += 1
        return entry

    def line(self, c: Container, rid: str, t: float) -> list:
        """A line of request `rid` at `t` that does not count it (START, END, timeout, crash)."""
        entry = self.entry(rid, t, c)
        if entry[0] & _COUNTED:
            self.retime(entry, t)
        else:
            if t < entry[2]:
                entry[2] = t
            if t > entry[3]:
                entry[3] = t
        return entry

    def retime(self, entry: list, t: float) -> None:
        """A counted invocation's line at `t`: it happened at its earliest line. The container
        that counted it keeps it (a request id seen in two streams is one invocation)."""
        c = entry[4]
        if t < entry[2]:
            old = entry[2]
            entry[2] = t
            a_old, a_new = self.clock.absolute(old), self.clock.absolute(t)
            if a_old != a_new:
                c.timeline.add_at(a_old, -1)
                c.timeline.add_at(a_new)
                self.activity.add_at(a_old, -1)
                self.activity.add_at(a_new)
            if t < c.first_invoked:
                c.first_invoked = t
        if t > entry[3]:
            entry[3] = t
        if t > c.last_invoked:
            c.last_invoked = t

    def invocation(self, c: Container, rid: str, t: float, now: float, from_log: bool, cold: bool) -> list:
        """Count `rid` once across both channels; note confirmation and the lag between them."""
        entry = self.ids.get(rid)
        if entry is None:
            entry = self.entry(rid, t, c)
        flags = entry[0]
        if not flags & _COUNTED:
            flags |= _COUNTED
            if t < entry[2]:
                entry[2] = t
            if t > entry[3]:
                entry[3] = t
            first, last = entry[2], entry[3]
            entry[4] = c
            c.invocations += 1
            self.counters.invocations += 1
            clock = self.clock
            a = (int(first * 1000.0 + 0.5) // clock.base_ms) >> clock.shift
            c.timeline.add_at(a)
            self.activity.add_at(a)
            if c.first_invoked is None or first < c.first_invoked:
                c.first_invoked = first
            if c.last_invoked is None or last > c.last_invoked:
                c.last_invoked = last
        elif t < entry[2] or t > entry[3]:
            self.retime(entry, t)
        if from_log and not flags & _SEEN_LOG:
            flags |= _SEEN_LOG
            c.confirmed += 1
            if flags & _SEEN_RESPONSE and entry[1] is not None:
                lag = max(0.0, now - entry[1])
                self.counters.log_lag_s = lag
                self.counters.log_lag_max_s = max(self.counters.log_lag_max_s, lag)
                self.lags.add(lag)
        elif not from_log and not flags & _SEEN_RESPONSE:
            flags |= _SEEN_RESPONSE
            entry[1] = now
        if cold and not flags & _COLD_COUNTED:
            flags |= _COLD_COUNTED
            c.probe_colds += 1
        entry[0] = flags
        return entry

    def end(self, c: Container, rid: str, entry: list) -> None:
        entry[0] |= _ENDED
        if c.in_flight:
            c.in_flight.pop(rid, None)

    def fault(self, c: Container, entry: list, flag: int, total: bool = True) -> None:
        """A failed invocation, counted once whichever lines report it (a timeout line and a
        REPORT with Status: timeout are one timeout, and one error). `total=False`: the run's
        error count has it already (from the response channel); only the container's counts."""
        flags = entry[0]
        if flag == _TIMED_OUT and not flags & _TIMED_OUT:
            c.timeouts += 1
        elif flag == _CRASHED and not flags & _CRASHED:
            c.crashes += 1
        if not flags & _ERRORED:
            c.errors += 1
            if total:
                self.counters.errors += 1
        entry[0] = flags | flag | _ERRORED

"""When to send: open-loop arrival times, closed-loop worker tokens, and the run's budget.

Pure (no IO, no clock of its own): every function takes `now`, so the schedule is tested
offline and the runner only does the IO. Times are seconds on any monotonic clock.

Open loop (Schroeder et al., "Open Versus Closed", NSDI 2006): arrivals come at a constant rate
whatever the responses do, so a slow function shows up as growing latency and in-flight count
instead of silently lowering the load. The only brake is the in-flight cap; an arrival the cap
holds back is sent as soon as a slot frees, keeping its scheduled time, so the wait shows as
lateness (sent minus scheduled), and it is counted in `held_back`.
"""

import math
from collections import deque
from typing import Any

# Runs of arrivals frozen by rate changes while the cap was holding them back. Only keypresses
# create them, so the bound is generous; past it the oldest run is dropped and counted.
MAX_FROZEN_RUNS = 1024


class OpenSchedule:
    """Arrival times at a constant rate from `start`: arrival i is at start + i / rate.

    Computed, not accumulated, so a long run does not drift; the arrivals already due but not
    yet taken (the backlog) are implicit in the index, so memory stays flat however large it is.
    """

    def __init__(self, rate: float, start: float) -> None:
        # [next_time, interval, remaining] runs at earlier rates: float, float, int (a list, so
        # take() updates a run in place; the typed reads are `due` and `dropped`).
        self._frozen: deque[list[Any]] = deque()
        self._t0 = start
        self._interval = 1.0 / rate
        self._n = 0  # arrivals of the current run already taken
        self.dropped: int = 0

    @property
    def rate(self) -> float:
        return 1.0 / self._interval

    def peek(self) -> float:
        """Scheduled time of the next arrival."""
        if self._frozen:
            t: float = self._frozen[0][0]
            return t
        return self._t0 + self._n * self._interval

    def take(self) -> float:
        """Consume the next arrival and return its scheduled time."""
        if self._frozen:
            run = self._frozen[0]
            t: float = run[0]
            run[0] += run[1]
            run[2] -= 1
            if run[2] == 0:
                self._frozen.popleft()
            return t
        t = self._t0 + self._n * self._interval
        self._n += 1
        return t

    def due(self, now: float) -> int:
        """How many arrivals are scheduled at or before `now` and not yet taken."""
        frozen: int = sum(run[2] for run in self._frozen)
        return frozen + self._due_in_current(now)

    def _due_in_current(self, now: float) -> int:
        if now < self._t0:
            return 0
        return max(0, math.floor((now - self._t0) / self._interval) + 1 - self._n)

    def set_rate(self, rate: float, now: float) -> None:
        """Arrivals from `now` on come at `rate`; those already due keep their times."""
        backlog = self._due_in_current(now)
        taken_or_due = self._n + backlog
        last = self._t0 + (taken_or_due - 1) * self._interval  # last arrival at or before now
        if backlog:
            if len(self._frozen) == MAX_FROZEN_RUNS:
                self.dropped += self._frozen.popleft()[2]
            self._frozen.append([self._t0 + self._n * self._interval, self._interval, backlog])
        new_interval = 1.0 / rate
        # Not before now: a faster rate must not invent arrivals in the past.
        self._t0 = max(now, last + new_interval)
        self._interval = new_interval
        self._n = 0


class Budget:
    """How many requests a run may still send (a count, a deadline, both or neither).

    Shared by both modes so a mode switch mid-run keeps the totals; `seq` numbers every request.
    """

    def __init__(self, requests: int | None = None, deadline: float | None = None) -> None:
        self.requests = requests
        self.deadline = deadline
        self.issued = 0

    def take(self, at: float) -> int | None:
        """A sequence number for a request scheduled at `at`, or None when the budget is spent."""
        if self.requests is not None and self.issued >= self.requests:
            return None
        if self.deadline is not None and at >= self.deadline:
            return None
        self.issued += 1
        return self.issued - 1

    def remaining(self) -> int | None:
        return None if self.requests is None else self.requests - self.issued

    def spent(self, now: float) -> bool:
        return (self.requests is not None and self.issued >= self.requests) or (
            self.deadline is not None and now >= self.deadline
        )


class OpenLoop:
    """Open-loop dispatch decisions: which arrivals to send now, and which the cap held back."""

    def __init__(self, rate: float, start: float, cap: int, budget: Budget) -> None:
        self.schedule = OpenSchedule(rate, start)
        self.cap = cap
        self.budget = budget
        self.held_back = 0
        self._marked = 0  # due arrivals already counted in held_back (a prefix of the backlog)
        self.paused = False

    def ready(self, now: float, in_flight: int) -> list[tuple[int, float]]:
        """[(seq, scheduled_time)] to send now, given `in_flight` requests outstanding."""
        out: list[tuple[int, float]] = []
        if self.paused:
            return out
        free = self.cap - in_flight
        while free > 0 and self.schedule.peek() <= now:
            seq = self.budget.take(self.schedule.peek())
            if seq is None:
                break
            out.append((seq, self.schedule.take()))
            free -= 1
            if self._marked:
                self._marked -= 1
        if free <= 0:
            due = self._due_within_budget(now)
            if due > self._marked:
                self.held_back += due - self._marked
                self._marked = due
        return out

    def _due_within_budget(self, now: float) -> int:
        if self.budget.deadline is not None:
            # Arrivals at or past the deadline are never sent, so never held back either.
            now = min(now, math.nextafter(self.budget.deadline, -math.inf))
        due = self.schedule.due(now)
        remaining = self.budget.remaining()
        return due if remaining is None else min(due, remaining)

    def backlog(self, now: float) -> int:
        """Arrivals due but not sent (held back by the cap right now)."""
        return 0 if self.paused else self._due_within_budget(now)

    def next_time(self) -> float:
        """When the next arrival is due (the dispatcher sleeps until then)."""
        return self.schedule.peek()

    def finished(self) -> bool:
        """No arrival will ever be sent again (count reached, or next arrival past the deadline)."""
        if self.budget.remaining() == 0:
            return True
        return self.budget.deadline is not None and self.schedule.peek() >= self.budget.deadline

    def set_rate(self, rate: float, now: float) -> None:
        self.schedule.set_rate(rate, now)

    def pause(self) -> None:
        self.paused = True

    def resume(self, now: float) -> None:
        """Start afresh from now: arrivals that fell in the pause never existed."""
        self.schedule = OpenSchedule(self.schedule.rate, now)
        self._marked = 0
        self.paused = False


class ClosedLoop:
    """Closed-loop tokens: worker i may start another request while i < level.

    Growing starts the missing workers; shrinking lets workers above the level exit after
    their current request (never cancelled mid-flight, so no request is lost).
    """

    def __init__(self, level: float = 0) -> None:
        self.level = 0
        self.running: set[int] = set()
        self.resize(level)

    def resize(self, level: float) -> list[int]:
        """Set the level; returns the ids of workers the caller must start."""
        self.level = int(level)
        start = [i for i in range(self.level) if i not in self.running]
        self.running.update(start)
        return start

    def keep(self, worker_id: int) -> bool:
        return worker_id < self.level

    def done(self, worker_id: int) -> None:
        self.running.discard(worker_id)

"""This machine's start queue, as the local Lambda counts it: environment starts that waited
here for an init slot, and how long.

The local Lambda runs a few inits at a time (its cores), where Lambda starts a burst's
environments at once. Its log lines keep Lambda's time (INIT_START is when Lambda would have
started the environment: tests/local/test_start_queue.py), so waves are Lambda's; but a first
request, and the latency of a cold one, include the wait here. At 1,000 environments that wait
reaches tens of seconds, and a timeline by first request then draws this machine's queue as a
slope no Lambda made. So the wait is read from the local Lambda (`GET /_lambdascope/status`:
queued_starts, local_queue_ms_mean, local_queue_ms_max, max_starting) and said beside the
findings, the header and the figures. Pure: a status document in, a `StartQueue` out.
"""

from dataclasses import dataclass

# A wait shorter than this is noise beside a cold start (Init Duration is ~100 ms and up).
SAID_FROM_S = 0.1
_MAX = 1e9  # a count or a time past this did not come from a local Lambda


@dataclass(frozen=True)
class StartQueue:
    queued: int  # environment starts that waited here for an init slot
    mean_s: float  # their mean wait
    max_s: float  # the longest
    slots: int | None  # inits this machine runs at a time
    started: int | None = None  # environment starts in all

    @property
    def worth_saying(self) -> bool:
        return self.queued > 0 and self.max_s >= SAID_FROM_S

    def text(self) -> str:
        """The finding's line."""
        at_a_time = f", {self.slots} inits at a time" if self.slots else ""
        of = f" of {self.started:,}" if self.started and self.started >= self.queued else ""
        return (
            f"this machine, not Lambda, queued {self.queued:,}{of} environment start{'s' if self.queued != 1 else ''}"
            f"{at_a_time}: {self.mean_s:.1f} s on average, {self.max_s:.1f} s at most; INIT_START keeps "
            "Lambda's time, but first requests and cold latencies here include the wait"
        )

    def figures(self) -> dict:
        """Its numbers as a finding or a method's result holds them, with its line."""
        return {
            "queued": self.queued,
            "started": self.started,
            "mean_s": round(self.mean_s, 2),
            "max_s": round(self.max_s, 2),
            "slots": self.slots,
            "text": self.text(),
        }

    def short(self) -> str:
        """For the header, beside the cold starts: a few words (the help says what ⧗ is)."""
        return f"⧗ queued here ≤{self.max_s:.1f} s"


def _number(value) -> float | None:
    kind = type(value)
    if (kind is int or kind is float) and 0 <= value <= _MAX:  # NaN fails the range
        return float(value)
    return None


def start_queue(status) -> StartQueue | None:
    """The queue of a local Lambda's status document; None for anything else."""
    if not isinstance(status, dict):
        return None
    queued, mean_ms, max_ms = (
        _number(status.get(k)) for k in ("queued_starts", "local_queue_ms_mean", "local_queue_ms_max")
    )
    if queued is None or mean_ms is None or max_ms is None:
        return None
    slots, started = _number(status.get("max_starting")), _number(status.get("cold_starts"))
    return StartQueue(
        int(queued), mean_ms / 1000.0, max_ms / 1000.0, int(slots) if slots else None, int(started) if started else None
    )

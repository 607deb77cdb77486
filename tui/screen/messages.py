"""The monitor's messages: one class per fact, each carrying a batch, never one per log line.

Producers (source and load workers) post them; the app is the one writer of the fleet model and
applies them. Nothing here redraws: the screen redraws at its own fixed rate from model diffs.
"""

from dataclasses import dataclass, field

from textual.message import Message

from loadgen.stats import StatsSnapshot
from tui.core.lambdalog import Record


class LogBatch(Message):
    """Records parsed from one batch of log events of one source (the log channel)."""

    def __init__(self, source: str, records: list[Record], events: int, at: float) -> None:
        super().__init__()
        self.source = source
        self.records = records
        self.events = events
        self.at = at  # the app's clock when the batch arrived


class OutcomeBatch(Message):
    """Outcomes the load generator reported (the response channel), with its latest
    `loadgen.stats.StatsSnapshot` (its figures and the plan it runs), or None."""

    def __init__(self, outcomes: list, stats: StatsSnapshot | None, at: float) -> None:
        super().__init__()
        self.outcomes = outcomes
        self.stats = stats
        self.at = at


class LocalStartQueue(Message):
    """This machine's start queue as the local Lambda last reported it (tui/core/start_queue.py)."""

    def __init__(self, queue) -> None:
        super().__init__()
        self.queue = queue


class SourceFailed(Message):
    """A log source stopped with an error; the message is one line, shown as is."""

    def __init__(self, source: str, error: str) -> None:
        super().__init__()
        self.source = source
        self.error = error


class LoadFailed(Message):
    """The load generator failed (its report stream ended with an error)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class LoadEnded(Message):
    """The load generator's stream ended (it stopped, or a replay ran out)."""


@dataclass
class SnapshotResult:
    """Where a snapshot went, or why it could not be written."""

    path: str | None
    files: list[str] = field(default_factory=list)
    error: str | None = None


class SnapshotDone(Message):
    def __init__(self, result: SnapshotResult) -> None:
        super().__init__()
        self.result = result

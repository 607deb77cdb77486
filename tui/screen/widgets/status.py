"""One line above the footer: the last thing the app has to say (a snapshot's folder, an error)."""

import os

from rich.text import Text
from textual.widgets import Static


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; }
    """

    message = ""

    def say(self, message: str, *, error: bool = False) -> None:
        self.message = message
        self.update(Text(message, style="bold red" if error else "bold green", no_wrap=True, overflow="ellipsis"))


def fmt_size(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def exit_summary(snapshots: list[str], recording: str | None = None, recording_bytes: int | None = None) -> str:
    """What the session left behind, printed when the monitor closes ('' when nothing)."""
    lines = []
    if snapshots:
        where = os.path.dirname(os.path.normpath(snapshots[-1])) or "."
        n = len(snapshots)
        lines.append(f"lambdascope: {n} snapshot{'s' if n > 1 else ''} in {where}/ (last: {snapshots[-1]})")
    if recording:
        size = f" ({fmt_size(recording_bytes)})" if recording_bytes is not None else ""
        lines.append(f"lambdascope: recording {recording}{size}; play it with 'lambdascope replay {recording}'")
    return "\n".join(lines)

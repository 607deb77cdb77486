"""One line above the footer: the last thing the app has to say (a snapshot's folder, an error)."""

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

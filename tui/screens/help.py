"""The help screen (`?`): every key, what it does, and how to read the screen."""

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

# The keys, as the help screen explains them (the footer shows the short names).
KEYS = [
    ("+  (or =)", "raise the load one step: one more concurrent request, or about +20% req/s"),
    ("-", "lower the load one step"),
    ("*  /", "a larger step up / down (1, 2, 5, 10, 20 …: about ×2)"),
    ("m", "switch closed loop (N concurrent) ↔ open loop (R req/s, capped in flight)"),
    ("space", "pause / resume the load"),
    ("s", "snapshot: snapshot.json, containers.csv, timeline.csv, screen.svg in a new folder"),
    ("g", "cycle the host key: hostname → boot id → CPU model"),
    ("o", "cycle the sort: first request → invocations → host"),
    ("↑ ↓ PgUp PgDn", "scroll the table and the timeline together"),
    ("?", "this help"),
    ("q", "quit: stop the load (and the local Lambda) and exit"),
]

READING = [
    ("table", "one row per log stream (= execution environment). ◌: the responses reported this "
              "container and its logs have not shown it yet. cold: Init Duration of the cold start "
              "(‘cold’ before the REPORT line arrives, ! when the cold-start signals disagree)."),
    ("timeline", "one lane per row, time left to right, one column per bucket; ▁…█ invocations per "
                 "bucket (log2 scale), coloured by host; ◆ the cold start."),
    ("header", "achieved load from the responses; ◌ N = invocations the logs have not confirmed "
               "yet; log lag = response → log line delay; a red warning when a log source sampled, "
               "dropped, failed or fell behind."),
]


def help_table(keys: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for key, what in keys:
        table.add_row(key, what)
    table.add_row("", "")
    for name, what in READING:
        table.add_row(Text(name, style="bold"), what)
    return table


class HelpScreen(ModalScreen):
    """Lists the keys it is given; any of escape, ?, q closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", show=True)]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90; height: auto; max-height: 90%; border: round $accent;
                            background: $surface; padding: 1 2; }
    """

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("lambdascope — keys", style="bold"))
            yield Static(help_table(self.keys))
            yield Static(Text("escape, ? or q closes this screen", style="dim"))

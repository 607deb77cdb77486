"""The help screen (`?`): every key, what it does, and how to read the screen.

The keys come from the app's BINDINGS (the same entries as the key bar), so there is no second
list to fall out of date. It scrolls: on a small terminal every line stays reachable."""

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

READING = [
    (
        "other keys",
        "↑ ↓ PgUp PgDn Home End scroll the table and the timeline together; the mouse wheel too; "
        "Enter (or a click) on a row: its details and, when retired, why, in the status line; "
        "ctrl+p: the command palette (every key above, by name).",
    ),
    (
        "table",
        "one row per log stream (= execution environment). wave: the group of environments "
        "that started together (findings panel). ◌: the responses reported this container and "
        "its logs have not shown it yet. cold: Init Duration of the cold start (‘cold’ before "
        "the REPORT line arrives). N×: the environment initialised N times in one stream (the "
        "runtime restarted it, e.g. after a timeout); ! when the cold-start signals disagree "
        "(the probe's /tmp marker survived a re-init). state: busy, idle, retired (stopped "
        "serving while the load went on; the findings panel says why), gone (reclaimed after "
        "idling), pre-init (initialised and never invoked: not a cold start, not a host; "
        "listed last, dim).",
    ),
    (
        "timeline",
        "one lane per row, time left to right; the whole run by default (w), or live (l), "
        "zoomed ([ ]) and scrolled (< >); the legend says the time per column. ▁…█ "
        "invocations per column (log2, topped at the busiest visible column: the legend "
        "shows the scale), coloured by host; ◆ the cold start, ✕ a retirement; a column "
        "still filling is dim, the bucket holding now is left out.",
    ),
    (
        "findings",
        "the story the fleet tells, one line each (f): waves, retirements, a host "
        "takeover, the spread of requests, the hardware, cold starts, pre-initialised "
        "environments, lifetimes, and on the local Lambda this machine's start queue. Every "
        "finding is in a snapshot's snapshot.json.",
    ),
    (
        "header",
        "achieved load from the responses over the last seconds (– while paused or when "
        "nothing completes); ◌ N = invocations the logs have not confirmed yet (normal: the "
        "logs' lag); ⧗ on the local Lambda = this machine queued environment starts (up to that "
        "long): first requests and cold latencies wait here, Lambda would not; log lag = the "
        "worst of response → log line and each source's delay against the clock, red from 10 s; "
        "a red warning when a log source sampled, dropped, failed or fell behind.",
    ),
]


def help_table(entries) -> Table:
    """Key entries (`tui.screen.widgets.keybar.KeyEntry`) and the reading notes, as one grid."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for e in entries:
        table.add_row(e.key, e.help)
    table.add_row("", "")
    for name, what in READING:
        table.add_row(Text(name, style="bold"), what)
    return table


class HelpScreen(ModalScreen):
    """Lists the keys it is given; any of escape, ?, q closes it; ↑ ↓ PgUp PgDn scroll it."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", show=True)]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100%; max-width: 100; height: auto; max-height: 100%;
                                  border: round $accent; background: $surface; padding: 0 1; }
    """

    def __init__(self, entries) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text("lambdascope — keys   (escape, ? or q closes; ↑ ↓ PgUp PgDn scroll)", style="bold"))
            yield Static(help_table(self.entries))
            yield Static(Text("escape, ? or q closes this screen", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

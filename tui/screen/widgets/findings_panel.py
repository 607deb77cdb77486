"""The findings panel: the story the fleet tells (`tui.core.findings`), one line per finding.

`panel_text` is pure (tested without a screen): a title line, then each finding's own `text`
behind a mark of its kind, cut to the width; when there are more than fit, the last line says
how many more (every finding is in a snapshot). The panel redraws only when the text changed.
"""

from rich.text import Text
from textual.widgets import Static

KIND_MARK = {
    "wave": ("▲", "bold cyan"),
    "retirement": ("✕", "bold yellow"),
    "host_takeover": ("⇒", "bold magenta"),
    "spread": ("≠", "bold"),
    "hardware": ("▣", "bold"),
    "cold_start": ("◆", "bold magenta"),
    "pre_initialized": ("○", "dim"),
    "lifetime": ("⧗", "bold"),
}
MAX_LINES = 12  # findings shown; the rest are counted


def panel_text(findings: list[dict], width: int, max_lines: int = MAX_LINES) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(" findings ", style="bold reverse")
    if not findings:
        t.append("  none yet: they come as the fleet grows (waves, retirements, spread, hardware…)", style="dim")
        return t
    t.append(f"  {len(findings)}", style="bold")
    t.append("  (f hides this panel; every finding is in a snapshot)", style="dim")
    shown = findings if len(findings) <= max_lines else findings[: max_lines - 1]
    for f in shown:
        mark, style = KIND_MARK.get(f.get("kind"), ("·", ""))
        t.append("\n ")
        t.append(mark, style=style)
        text = str(f.get("text", ""))
        room = max(10, width - 4)
        t.append(
            " " + (text if len(text) <= room else text[: room - 1] + "…"),
            style="dim" if f.get("kind") == "pre_initialized" else "",
        )
    if len(shown) < len(findings):
        t.append(f"\n   +{len(findings) - len(shown)} more", style="dim")
    return t


class FindingsPanel(Static):
    DEFAULT_CSS = """
    FindingsPanel { height: auto; max-height: 14; padding: 0 1; border-top: solid $panel-lighten-2; }
    """

    _last: tuple | None = None
    text = Text()

    def show(self, findings: list[dict]) -> None:
        width = self.size.width or 200
        key = (width, tuple(f.get("text", "") for f in findings))
        if key != self._last:  # a relayout only when a finding changed
            self._last = key
            self.text = panel_text(findings, width - 2)
            self.update(self.text)

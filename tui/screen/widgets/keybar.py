"""The key bar at the bottom: the app's own bindings, fitted to the terminal's width.

Built from the app's BINDINGS (shown ones, enabled in this mode), so the bar, the help screen
and the command palette never disagree about a key. When the full bar does not fit, keys of one
group (the load keys) merge into one entry ("+-*/ load"), then the last entries are dropped; the
keys that get a user out (help and quit) always stay.
"""

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

KEEP = ("help", "quit")  # actions that never leave the bar
GAP = "  "


@dataclass(frozen=True)
class KeyEntry:
    key: str  # as shown: "+", "space", "?"
    label: str  # short: "load+"
    action: str  # the action name without arguments: "level"
    group: str = ""  # entries of one group merge when narrow: their keys joined, the group's name
    help: str = ""  # the long text (help screen, palette)


def entries_from_bindings(bindings, key_display, enabled) -> list[KeyEntry]:
    """KeyEntry per shown binding. `key_display(binding)` gives the key as shown; `enabled(action,
    params)` says whether it works in this mode (App.check_action)."""
    from textual.actions import parse

    out = []
    for b in bindings:
        if not b.show:
            continue
        _, action, params = parse(b.action)
        if not enabled(action, params):
            continue
        group = b.group.description if b.group is not None else ""
        out.append(KeyEntry(key_display(b), b.description, action, group, b.tooltip or b.description))
    return out


def _merge_groups(entries: list[KeyEntry]) -> list[KeyEntry]:
    out: list[KeyEntry] = []
    for e in entries:
        if e.group and out and out[-1].group == e.group:
            last = out[-1]
            out[-1] = KeyEntry(last.key + e.key, e.group, last.action, e.group, last.help)
        elif e.group:
            out.append(KeyEntry(e.key, e.group, e.action, e.group, e.help))
        else:
            out.append(e)
    return out


def _width(entries: list[KeyEntry]) -> int:
    return sum(len(e.key) + 1 + len(e.label) for e in entries) + len(GAP) * max(0, len(entries) - 1) + 1


def fit_entries(entries: list[KeyEntry], width: int) -> list[KeyEntry]:
    """The entries that fit `width` columns, in their order; KEEP ones always."""
    if _width(entries) <= width:
        return entries
    shown = _merge_groups(entries)
    while _width(shown) > width:
        drop = next((i for i in range(len(shown) - 1, -1, -1) if shown[i].action not in KEEP), None)
        if drop is None:
            break
        del shown[drop]
    return shown


def keybar_text(entries: list[KeyEntry], width: int, extra: str = "") -> Text:
    """' + load+  - load-  …  ? help  q quit' fitted to `width`; `extra` right-aligned if room."""
    shown = fit_entries(entries, width)
    t = Text(no_wrap=True, overflow="crop")
    t.append(" ")
    for i, e in enumerate(shown):
        if i:
            t.append(GAP)
        t.append(e.key, style="bold reverse")
        t.append(" " + e.label)
    if extra and len(t) + 2 + len(extra) <= width:
        t.append(" " * (width - len(t) - len(extra)))
        t.append(extra, style="dim")
    return t


class KeyBar(Static):
    """One line of keys; the app calls `show(entries)` when its bindings or mode change."""

    DEFAULT_CSS = """
    KeyBar { height: 1; background: $panel; text-wrap: nowrap; }
    """

    entries: list[KeyEntry] = []
    extra = ""

    def show(self, entries: list[KeyEntry], extra: str = "") -> None:
        self.entries, self.extra = entries, extra
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        self.update(keybar_text(self.entries, self.size.width or 200, self.extra))

    @property
    def plain(self) -> str:
        return keybar_text(self.entries, self.size.width or 200, self.extra).plain

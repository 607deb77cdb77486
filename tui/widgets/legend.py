"""Host colours and the legend under the table: which colour is which host, and how many
containers each holds; plus the timeline's density scale."""

from rich.text import Text
from textual.widgets import Static

from tui.widgets.containers import host_label
from tui.widgets.lanes import DENSITY, density_scale

# Distinct on dark and light terminals; fixed hex so snapshots do not depend on the theme.
PALETTE = [
    "#4e9ddb", "#e8a33d", "#5cb85c", "#d9534f", "#a67fd8", "#3fbfbf",
    "#e377c2", "#bcbd22", "#8c9eff", "#ff7f50", "#7fcf9f", "#c9a26b",
]
HOST_KEY_NAMES = {"hostname": "hostname", "boot_id": "boot id", "cpu_model": "CPU model"}


class HostPalette:
    """A colour per host, assigned in order of first sight and kept for the whole run
    (until the host key changes), so a host keeps its colour as others come and go."""

    def __init__(self, colours: list[str] | None = None) -> None:
        self.colours = colours or PALETTE
        self._of: dict[str, str] = {}

    def colour(self, host: str) -> str:
        c = self._of.get(host)
        if c is None:
            c = self._of[host] = self.colours[len(self._of) % len(self.colours)]
        return c

    def reset(self) -> None:
        self._of.clear()


def legend_text(hosts: dict[str, int], palette: HostPalette, host_key: str, *, max_hosts: int = 24) -> Text:
    """'hosts by hostname (3): ■ ip-10-1 4  ■ ip-10-2 10 …   timeline: ▁1 … █128+/bucket ◆ cold'"""
    out = Text()
    out.append(f"hosts by {HOST_KEY_NAMES.get(host_key, host_key)} ({len(hosts)}): ", style="bold")
    for i, (host, n) in enumerate(hosts.items()):
        if i == max_hosts:
            out.append(f"+{len(hosts) - max_hosts} more  ", style="dim")
            break
        out.append("■ ", style=palette.colour(host))
        label = host_label(host, host_key)
        label = label if len(label) <= 24 else label[:23] + "…"
        out.append(f"{label} {n}  ")
    if not hosts:
        out.append("none yet  ", style="dim")
    out.append("   timeline: ", style="bold")
    out.append(" ".join(f"{DENSITY[level]}{n}" for level, n in density_scale()))
    out.append(" per bucket ")
    out.append("◆", style="bold")
    out.append(" cold")
    return out


class HostLegend(Static):
    DEFAULT_CSS = """
    HostLegend { height: auto; max-height: 3; padding: 0 1; }
    """

    _last: tuple | None = None
    _last_text = Text()

    def show(self, hosts: dict[str, int], palette: HostPalette, host_key: str) -> None:
        key = (host_key, tuple(hosts.items()))
        if key != self._last:  # a relayout only when the legend really changed
            self._last = key
            self._last_text = legend_text(hosts, palette, host_key)
            self.update(self._last_text)

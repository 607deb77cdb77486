"""Host colours and the legend under the table: which colour is which host, and how many
containers each holds; plus the timeline's density scale."""

from rich.text import Text
from textual.widgets import Static

from tui.palette import PALETTE
from tui.widgets.containers import host_label, is_pre_initialized
from tui.widgets.lanes import DENSITY, density_scale

HOST_KEY_NAMES = {"hostname": "hostname", "boot_id": "boot id", "cpu_model": "CPU model"}


class HostPalette:
    """A colour per host, for the whole session: one assignment per host key, each host coloured
    in order of first appearance and never recoloured, so cycling `g` through the keys and back
    gives every host the colour it had (screens and snapshots before and after agree).

    `assign(hosts)` (the legend's order, each redraw) fixes the order of first appearance;
    `colour(host)` reads it, assigning a host not seen yet after the others."""

    def __init__(self, colours: list[str] | None = None, host_key: str = "hostname") -> None:
        self.colours = colours or PALETTE
        self._by_key: dict[str, dict[str, str]] = {}
        self.host_key = host_key

    @property
    def _of(self) -> dict[str, str]:
        return self._by_key.setdefault(self.host_key, {})

    def use(self, host_key: str) -> None:
        """Colour by `host_key` from now on; the colours given under each key are kept."""
        self.host_key = host_key

    def assign(self, hosts) -> None:
        """Give each host not coloured yet the next colour, in the order given."""
        of = self._of
        for host in hosts:
            if host not in of:
                of[host] = self.colours[len(of) % len(self.colours)]

    def colour(self, host: str) -> str:
        c = self._of.get(host)
        if c is None:
            self.assign((host,))
            c = self._of[host]
        return c


def serving_hosts(containers, host_key: str) -> tuple[dict[str, int], int]:
    """({host: containers}, pre-initialised count) from containers in order of first appearance.
    A pre-initialised environment never served, so it has no host to count (the probe that
    reports the host runs only on an invocation)."""
    hosts: dict[str, int] = {}
    pre = 0
    for c in containers:
        if is_pre_initialized(c):
            pre += 1
            continue
        key = c.host_key(host_key)
        hosts[key] = hosts.get(key, 0) + 1
    return hosts, pre


def legend_text(
    hosts: dict[str, int],
    palette: HostPalette,
    host_key: str,
    *,
    max_hosts: int = 24,
    pre_initialized: int = 0,
    scale: str = "",
    view: str = "",
) -> Text:
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
    if pre_initialized:
        out.append(f"○ {pre_initialized} pre-initialised (never invoked)  ", style="dim")
    out.append("   timeline" + (f" {view}" if view else "") + ": ", style="bold")
    out.append(scale or " ".join(f"{DENSITY[level]}{n}" for level, n in density_scale()))
    out.append(" ")
    out.append("◆", style="bold")
    out.append(" cold ")
    out.append("✕", style="bold yellow")
    out.append(" retired")
    return out


class HostLegend(Static):
    DEFAULT_CSS = """
    HostLegend { height: auto; max-height: 3; padding: 0 1; }
    """

    _last: tuple | None = None
    _last_text = Text()

    def show(
        self,
        hosts: dict[str, int],
        palette: HostPalette,
        host_key: str,
        pre_initialized: int = 0,
        scale: str = "",
        view: str = "",
    ) -> None:
        key = (host_key, tuple(hosts.items()), pre_initialized, scale, view)
        if key != self._last:  # a relayout only when the legend really changed
            self._last = key
            self._last_text = legend_text(
                hosts, palette, host_key, pre_initialized=pre_initialized, scale=scale, view=view
            )
            self.update(self._last_text)

"""Host colours and the legend under the table: which colour is which host, and how many
containers each holds; plus the timeline's density scale."""

from rich.text import Text
from textual.widgets import Static

from tui.core.palette import PALETTE
from tui.screen.widgets.containers import host_label, host_zone, is_pre_initialized
from tui.screen.widgets.lanes import DENSITY, LAUNCH_MARK, TERMINATE_MARK, density_scale

# An EC2 host's DNS suffix says nothing its AZ beside it does not (ip-10-0-1-27 us-east-1a).
_EC2_SUFFIXES = (".ec2.internal", ".compute.internal")

HOST_KEY_NAMES = {
    "hostname": "hostname",
    "boot_id": "boot id",
    "cpu_model": "CPU model",
    "instance_id": "EC2 instance",
}


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


def host_zones(fleet, host_key: str) -> dict[str, str]:
    """{host: its AZ} for the hosts the capacity provider's system log put in one (Managed
    Instances); a host of environments in several AZs (keyed by CPU model, say) gets none."""
    if not getattr(fleet, "instances", None):
        return {}
    zones: dict[str, set] = {}
    for c in fleet.containers.values():
        if c.invocations:
            zone = host_zone(fleet, c)
            if zone:
                zones.setdefault(c.host_key(host_key), set()).add(zone)
    return {host: next(iter(z)) for host, z in zones.items() if len(z) == 1}


def legend_text(
    hosts: dict[str, int],
    palette: HostPalette,
    host_key: str,
    *,
    max_hosts: int = 24,
    pre_initialized: int = 0,
    scale: str = "",
    view: str = "",
    zones: dict[str, str] | None = None,
    instances: int = 0,
) -> Text:
    """'hosts by hostname (3): ■ ip-10-1 4  ■ ip-10-2 10 …   timeline: ▁1 … █128+/bucket ◆ cold';
    with Managed Instances each host's AZ ('■ ip-10-0-1-27 us-east-1a 2'), and the instances'
    launch and termination marks in the timeline's key."""
    zones = zones or {}
    out = Text()
    out.append(f"hosts by {HOST_KEY_NAMES.get(host_key, host_key)} ({len(hosts)}): ", style="bold")
    for i, (host, n) in enumerate(hosts.items()):
        if i == max_hosts:
            out.append(f"+{len(hosts) - max_hosts} more  ", style="dim")
            break
        out.append("■ ", style=palette.colour(host))
        label = host_label(host, host_key)
        zone = zones.get(host)
        if zone:
            label = next((label[: -len(x)] for x in _EC2_SUFFIXES if label.endswith(x)), label)
        label = label if len(label) <= 24 else label[:23] + "…"
        if zone:
            out.append(f"{label} ")
            out.append(zone, style="bold")
            out.append(f" {n}  ")
        else:
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
    if instances:
        out.append(" ")
        out.append(LAUNCH_MARK, style="bold green")
        out.append(" launched ")
        out.append(TERMINATE_MARK, style="bold red")
        out.append(" terminated")  # short: at 80 columns the key is the legend's last line
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
        zones: dict[str, str] | None = None,
        instances: int = 0,
    ) -> None:
        key = (host_key, tuple(hosts.items()), pre_initialized, scale, view, tuple((zones or {}).items()), instances)
        if key != self._last:  # a relayout only when the legend really changed
            self._last = key
            self._last_text = legend_text(
                hosts,
                palette,
                host_key,
                pre_initialized=pre_initialized,
                scale=scale,
                view=view,
                zones=zones,
                instances=instances,
            )
            self.update(self._last_text)

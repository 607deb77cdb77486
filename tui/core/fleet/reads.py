"""What a widget, a finding or an export reads from the fleet: the diff since the last look,
states, hosts, orders and totals. Computed when read, from facts the model keeps as mins, maxes
and counts, so the answer does not depend on the order the records came in.

Pure: no IO. A base of `Fleet` (tui/core/fleet/model.py), which owns the state it reads.
"""

from collections import OrderedDict

from tui.core.fleet.container import Container, first_key
from tui.core.fleet.counters import Diff
from tui.core.fleet.instances import Instance
from tui.core.fleet.instances import host_of as instance_host

HOST_KEYS = ("hostname", "boot_id", "cpu_model")
# Managed Instances: the EC2 instance the probe's DMI read names, offered by `g` where one does.
INSTANCE_KEY = "instance_id"


class FleetReads:
    """The read side of `Fleet`; the attributes below are the model's, set in Fleet.__init__."""

    containers: dict[str, Container]
    instances: OrderedDict[str, Instance]
    idle_after_s: float
    gone_after_s: float
    data_ended: bool
    _added: list[str]
    _changed: set[str]
    _removed: list[str]

    def take_diff(self) -> Diff:
        added = [cid for cid in self._added if cid in self.containers]
        added_set = set(added)
        changed = [cid for cid in self._changed if cid in self.containers and cid not in added_set]
        diff = Diff(added, changed, self._removed)
        self._added, self._changed, self._removed = [], set(), []
        return diff

    def state(self, c: Container, now: float) -> str:
        """ "pre-initialised" | "busy" | "idle" | "gone"."""
        return c.state(now, self.idle_after_s, self.gone_after_s, self.data_ended)

    def hosts(self, host_key: str) -> dict[str, int]:
        """Serving containers per host, in order of each host's first container (an environment
        never invoked has no host to show: the probe runs only in an invocation)."""
        counts: dict[str, int] = {}
        for c in self.ordered():
            if c.invocations:
                key = c.host_key(host_key)
                counts[key] = counts.get(key, 0) + 1
        return counts

    def ordered(self, sort: str = "first") -> list[Container]:
        """Containers in `sort` order: "first" (first invocation; pre-initialised and never
        invoked ones after the serving ones, by first line), "invocations", or a host key.
        Refreshes every container's `order` (its position by first invocation)."""
        by_first = sorted(self.containers.values(), key=first_key)
        for i, c in enumerate(by_first):
            c.order = i
        if sort == "invocations":
            return sorted(by_first, key=lambda c: -c.invocations)
        if sort in HOST_KEYS or sort == INSTANCE_KEY or sort == "host":
            key = "hostname" if sort == "host" else sort
            return sorted(by_first, key=lambda c: c.host_key(key))
        return by_first

    def host_keys(self) -> tuple[str, ...]:
        """The host keys worth offering: HOST_KEYS, and the EC2 instance where some environment
        named one (Managed Instances)."""
        if any(c.instance_id for c in self.containers.values()):
            return HOST_KEYS + (INSTANCE_KEY,)
        return HOST_KEYS

    @property
    def serving(self) -> int:
        """Containers that served at least one invocation."""
        return sum(1 for c in self.containers.values() if c.invocations)

    @property
    def cold_starts(self) -> int:
        """Serving containers' cold starts (see Container.cold_starts)."""
        return sum(c.cold_starts for c in self.containers.values())

    @property
    def cold_starts_by_kind(self) -> dict[str, int]:
        out = {"init": 0, "restore": 0}
        for c in self.containers.values():
            n = c.cold_starts
            kind = c.cold_kind
            if n and kind:
                out[kind] += n
        return out

    @property
    def pre_initialized(self) -> int:
        return sum(1 for c in self.containers.values() if c.pre_initialized)

    def host_of(self, c: Container) -> tuple[str | None, Instance | None, str]:
        """(instance id, its Instance if the system log named it, evidence) for `c`'s host
        (`tui.core.fleet.instances.host_of`)."""
        return instance_host(self.instances, c)

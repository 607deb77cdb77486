"""The teller: one pass over the fleet, then every finding, as a `Story`.

Pure: no IO, no clock (the caller passes `now`)."""

from dataclasses import dataclass, field
from typing import Any

from tui.core.findings import cold_starts, hardware, lifetime, retirements, spread, start_queue, takeover, waves
from tui.core.findings.common import is_pre_initialized


@dataclass
class Story:
    findings: list[dict]
    waves: list[dict]
    wave_of: dict[str, int]
    retired: dict[str, str]
    t0: float | None  # epoch s of the run's first event; *_s fields count from here
    _fleet: Any = field(default=None, repr=False)  # the tui.core.fleet.Fleet told (its states)

    def state(self, c, now: float) -> str:
        if is_pre_initialized(c):
            return "pre-initialised"
        if c.container_id in self.retired:
            return "retired"
        return self._fleet.state(c, now)

    def of_kind(self, kind: str) -> list[dict]:
        return [f for f in self.findings if f["kind"] == kind]

    def lines(self) -> list[str]:
        return [f["text"] for f in self.findings]


class Teller:
    """`tell` for a screen that redraws several times a second: the story changes on the scale of
    seconds, so it is told again only when a new environment appeared, the host key changed, or
    `every_s` of the fleet's time passed since the last telling. Pure: `now` is the caller's."""

    def __init__(self, every_s: float = 1.0):
        self.every_s = every_s
        self._key: tuple | None = None
        self._at = float("-inf")
        self._story: Story | None = None

    def story(self, fleet, now: float, host_key: str = "hostname") -> Story:
        key = (id(fleet), host_key, len(fleet.containers))
        if self._story is None or key != self._key or not 0 <= now - self._at < self.every_s:
            self._story, self._key, self._at = tell(fleet, now, host_key=host_key), key, now
        return self._story


class _Memo:
    """Each container's start, first and last invocation, pre-initialised or cold, read once per
    `tell` (one pass over the fleet; the findings then work from these)."""

    __slots__ = ("start", "first", "last", "pre", "paid")

    def __init__(self):
        self.start: dict[str, float] = {}
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.pre: set[str] = set()
        self.paid: set[str] = set()


def tell(fleet, now: float, host_key: str = "hostname") -> Story:
    """Every finding the fleet supports at `now`."""
    M = _Memo()
    keyed = []  # (start, id, container) for every environment that started
    host_of: dict[str, str] = {}
    for c in fleet.containers.values():
        cid = c.container_id
        init = c.init_at
        if c.invocations:
            first = M.first[cid] = c.first_invoked
            M.last[cid] = c.last_invoked
            # When it started: at its init if its first request waited for that init (a cold
            # start), else at its first invocation (it was warm before we looked, or initialised
            # long ahead of its first request). A pre-initialised one: at its init.
            if c.cold_starts > 0:
                M.paid.add(cid)
                start = init if init is not None else first
            else:
                start = first
        elif init is not None:  # initialised, never invoked: pre-initialised
            start = init
            M.pre.add(cid)
        else:
            continue
        M.start[cid] = start
        host_of[cid] = getattr(c, host_key, "") or ""
        keyed.append((start, cid, c))
    if not keyed:
        return Story([], [], {}, {}, None, fleet)
    keyed.sort()  # (start, id, container): ids are unique, so containers are never compared
    rows = [(start, c) for start, _, c in keyed]
    t0 = rows[0][0]

    host_order: list[str] = []  # hosts in order of their first container's start
    seen_hosts = set()
    for _, cid, _ in keyed:
        h = host_of[cid]
        if h and h not in seen_hosts:
            seen_hosts.add(h)
            host_order.append(h)
    serving = [c for _, c in rows if c.invocations > 0]

    findings: list[dict] = []
    told_waves, wave_of = waves.find(M, fleet, rows, t0, host_of, host_order)
    findings += told_waves
    findings += start_queue.find(fleet)  # beside the waves: this machine's wait is not one of them
    retired, told_retirements = retirements.find(M, fleet, serving, now, t0, host_of, host_order)
    findings += told_retirements
    findings += takeover.find(M, fleet, serving, now, t0, host_of, host_order)
    findings += spread.find(serving)
    findings += hardware.find(serving, host_key, host_of, host_order)
    findings += cold_starts.find(M, fleet, serving)
    findings += cold_starts.find_pre_initialized(M, rows, t0)
    findings += lifetime.find(M, serving, now, t0, retired)
    return Story(findings, told_waves, wave_of, retired, t0, fleet)

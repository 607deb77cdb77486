"""The EC2 instances of a capacity provider (Managed Instances), from its system log, and which
instance an environment ran on, with the evidence for it.

Pure: no IO. The system log names instances, never environments: an environment's instance
comes from the probe's DMI read, or, failing that, is a guess said as one.
"""

from collections import OrderedDict

from tui.core import lambdalog as L
from tui.core.fleet.container import Container
from tui.core.fleet.counters import Counters

MAX_INSTANCES = 10_000  # EC2 instances a capacity provider's system log named (bounded, oldest go)
# Where an environment's host came from (the snapshot's `host_evidence`), strongest first.
EVIDENCE_BOTH = "system log + probe (DMI)"  # the probe read the instance id; the system log knows it
EVIDENCE_DMI = "probe (DMI)"  # the probe read the instance id; the system log has not named it
EVIDENCE_GUESS = "guess: the only instance the system log shows up"  # no probe id: placed by time
EVIDENCE_HOSTNAME = "probe (hostname)"  # no instance: the host is what the probe's hostname says


class Instance:
    """One EC2 instance of a capacity provider (Managed Instances), from its system log.

    Every fact is a min, a max or a count, so records in any order give the same instance."""

    __slots__ = (
        "instance_id",
        "instance_type",
        "availability_zone",
        "launching_at",
        "launched_at",
        "terminating_at",
        "terminated_at",
        "first_seen",
        "last_seen",
        "last_event",
        "events",
        "failures",
    )

    def __init__(self, instance_id: str, t: float):
        self.instance_id = instance_id
        self.instance_type: str | None = None
        self.availability_zone: str | None = None
        self.launching_at: float | None = None
        self.launched_at: float | None = None  # ready to serve (the "Launched" event)
        self.terminating_at: float | None = None
        self.terminated_at: float | None = None
        self.first_seen = t
        self.last_seen = t
        self.last_event: str | None = None  # the latest record's event (None: a kind not known)
        self.events = 0
        self.failures: dict[str, int] = {}  # LaunchFailed, TerminateFailed, HealthCheckFailed → count

    @property
    def up_from(self) -> float:
        """The earliest time the system log puts this instance up (or on its way)."""
        return min(t for t in (self.launching_at, self.launched_at, self.first_seen) if t is not None)

    @property
    def state(self) -> str:
        if self.terminated_at is not None:
            return "terminated"
        if self.terminating_at is not None:
            return "terminating"
        if self.launched_at is not None:
            return "running"
        if self.failures.get("LaunchFailed"):
            return "launch-failed"
        return "launching" if self.launching_at is not None else "unknown"

    def up_over(self, start: float, end: float) -> bool:
        """The system log puts it up over the whole of [start, end]."""
        gone = self.terminated_at if self.terminated_at is not None else self.terminating_at
        return self.up_from <= start and (gone is None or gone >= end)


_EVENT_TIME = {
    "Launching": "launching_at",
    "Launched": "launched_at",
    "Terminating": "terminating_at",
    "Terminated": "terminated_at",
}


def note_system(instances: "OrderedDict[str, Instance]", counters: Counters, rec: L.Record) -> None:
    """A capacity-provider system log record: the instance it names, its lifecycle."""
    counters.system_records += 1
    data = rec.data or {}
    event = data.get("event")
    if event is None:
        counters.system_unknown += 1
    iid = data.get("instance_id")
    if not iid:
        return  # about the capacity provider as a whole: counted, no instance to put it on
    t = rec.timestamp / 1000.0
    inst = instances.get(iid)
    if inst is None:
        inst = instances[iid] = Instance(iid, t)
        if len(instances) > MAX_INSTANCES:
            instances.popitem(last=False)
    inst.events += 1
    if t <= inst.first_seen:
        inst.first_seen = t
    if t >= inst.last_seen:
        inst.last_seen = t
        inst.last_event = event
    if data.get("instance_type") and inst.instance_type is None:
        inst.instance_type = data["instance_type"]
    if data.get("availability_zone") and inst.availability_zone is None:
        inst.availability_zone = data["availability_zone"]
    field_name = _EVENT_TIME.get(event or "")
    if field_name is not None:
        old = getattr(inst, field_name)
        if old is None or t < old:
            setattr(inst, field_name, t)
    elif event is not None and event.endswith("Failed"):
        inst.failures[event] = inst.failures.get(event, 0) + 1


def host_of(instances: "OrderedDict[str, Instance]", c: Container) -> tuple[str | None, Instance | None, str]:
    """(instance id, its Instance if the system log named it, evidence) for `c`'s host.

    The probe's DMI read names the instance; the system log adds its AZ and lifecycle. With
    no instance id from the probe, an environment of Managed Instances is placed on the only
    instance the system log shows up over its whole life, and the evidence says it is a
    guess (the log names instances, never environments)."""
    iid = c.instance_id
    if iid:
        inst = instances.get(iid)
        return iid, inst, EVIDENCE_BOTH if inst is not None else EVIDENCE_DMI
    if instances and c.init_type == "lambda-managed-instances" and c.invocations:
        start = c.first_invoked if c.first_invoked is not None else c.first_seen
        end = c.last_invoked if c.last_invoked is not None else c.last_seen
        up = [i for i in instances.values() if i.up_over(start, end)]
        if len(up) == 1:
            return up[0].instance_id, up[0], EVIDENCE_GUESS
    return None, None, EVIDENCE_HOSTNAME

"""The fleet model: containers, hosts, instances and the invocation ledger, from parsed records
(logs) and outcomes (responses).

    model.py      Fleet: the one writer's entry points (apply_records; apply_outcomes is
                  responses.py's), the whole-run clock, what each log line says of its container
    responses.py  FleetResponses: the response channel's answers, counted at once or held until
                  the logs name their stream
    reads.py      FleetReads: the diff, states, hosts, orders and totals a reader takes
    container.py  Container: one execution environment, its cold start, state, peak concurrency
    ledger.py     Ledger: each request id counted once across both channels, confirmed by logs
    instances.py  Instance: a capacity provider's EC2 instances, and which one hosted an environment
    counters.py   Counters, Latency, Diff: the run-wide tallies and what a reader takes
"""

from tui.core.fleet.container import Container
from tui.core.fleet.counters import Counters, Diff, Latency
from tui.core.fleet.instances import (
    EVIDENCE_BOTH,
    EVIDENCE_DMI,
    EVIDENCE_GUESS,
    EVIDENCE_HOSTNAME,
    MAX_INSTANCES,
    Instance,
)
from tui.core.fleet.model import Fleet
from tui.core.fleet.reads import HOST_KEYS, INSTANCE_KEY

__all__ = [
    "EVIDENCE_BOTH",
    "EVIDENCE_DMI",
    "EVIDENCE_GUESS",
    "EVIDENCE_HOSTNAME",
    "HOST_KEYS",
    "INSTANCE_KEY",
    "MAX_INSTANCES",
    "Container",
    "Counters",
    "Diff",
    "Fleet",
    "Instance",
    "Latency",
]

"""What this machine can hold: the local Lambda's own limit, apart from any Lambda limit.

Every environment is a real process here, and each resource is counted for what costs it:
- **memory**, for every environment held, busy or asleep: MemAvailable (less a reserve for the
  rest of the machine) over what one held environment takes (ENV_KB, measured per runtime);
- **file descriptors and ports**, for every environment held: its Runtime API's listening socket
  and the runtime's connection to it (two loopback ports), its output pipe, and the client's
  connection at the front door. The open-file soft limit is raised toward the hard one when
  the memory cap needs more (raise_nofile), and what is left caps the environments;
- **CPU**, for inits and for work in flight only: a sleeping environment costs none. Inits run
  `init_slots` at a time; a new environment that would wait in that queue longer than
  START_QUEUE_MAX_S is refused (the pool estimates the wait from the inits it saw). The
  handler's work in flight shares the CPUs through the kernel: it slows down (status reports
  the CPU pressure), never refused.

A request the machine cannot take waits briefly for room (the profile's [machine] queue_wait_s),
then gets a 429 that says the local machine, not Lambda, was the limit (frontdoor/invoke_api set
LOCAL_LIMIT_HEADER); reason LOCAL_REASON.
"""

import logging
import os
import resource
from dataclasses import dataclass

log = logging.getLogger(__name__)

# MemAvailable one held environment takes (KB), measured with 200 environments held asleep in
# their handler on 2 cores (tests/bench/bench_local.py::test_memory_per_held_environment): the
# fork runtime 4.1 MB (RSS 12.4 MB, PSS 3.0 MB: most of its RSS is the fork server's pages it
# shares), awslambdaric 7.0 MB (RSS 14.7 MB, PSS 6.6 MB); the local Lambda's own objects for one
# environment ~70-80 KB of its RSS. Budgeted with half again as slack for what handlers allocate.
# awslambdaric forked from the fork server is budgeted as a spawned one until measured.
ENV_KB = {"fork": 6_000, "awslambdaric": 11_000, "awslambdaric-fork": 11_000}
RESERVE_MIN_KB = 1_048_576  # left to everything else on the machine: at least 1 GiB ...
RESERVE_SHARE = 0.10  # ... or a tenth of its memory
MIN_CAP = 8
# Per environment: the Runtime API's listening socket, the runtime's connection to it, the output
# pipe, and one client connection at the front door (a closed-loop client keeps one).
FDS_PER_ENV = 4
FD_RESERVE = 512  # the front door, moto's clients, the log shipper, Live Tail sessions, the TUI
PORTS_PER_ENV = 2  # the Runtime API's listening port and the runtime's end of its connection
PORT_RESERVE = 4096  # the load generator's connections, moto, everything else on loopback
NPROC_RESERVE = 512  # processes the user runs besides the environments
# Inits run this many at a time per CPU (spawn + import until the first /next). 64 at once on two
# cores took 3 s each and served nothing meanwhile; a few at a time are each ready sooner. The
# queue behind them is this machine's, never Lambda's: the environment's INIT_START is written
# when Lambda would start it, and the wait is reported apart (Environment.local_queue_ms).
INITS_PER_CPU = 2
MIN_INIT_SLOTS = 12
# How long one init takes here with init_slots running at once (seconds; 200 environments started
# at once on 2 cores): the pool's first estimate, updated from each init it sees.
# awslambdaric forked: 3.6 ms to imported (29.5 ms spawned); the fork runtime's estimate to start.
INIT_S = {"fork": 0.08, "awslambdaric": 0.36, "awslambdaric-fork": 0.08}
# The longest a new environment may queue here for an init slot (estimated from the inits ahead
# of it): the load generator's own request timeout (loadgen Runner, 30 s), since a request kept
# longer times out at the client anyway; a 429 that names this machine says more. 1,000 fork
# starts at once queue ~15-20 s on 2 busy cores; awslambdaric ones ~30 s (~35 ms of CPU each).
START_QUEUE_MAX_S = 30.0
LOCAL_REASON = "LocalMachineCapacityExceeded"  # not a Lambda reason: says whose limit it is
LOCAL_LIMIT_HEADER = "X-Lambdascope-Limit"  # value "local-machine" on such a 429


def meminfo_kb(key: str, meminfo: str = "/proc/meminfo") -> int | None:
    try:
        with open(meminfo, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def available_kb(meminfo: str = "/proc/meminfo") -> int | None:
    return meminfo_kb("MemAvailable", meminfo)


def ephemeral_ports(path: str = "/proc/sys/net/ipv4/ip_local_port_range") -> int | None:
    try:
        with open(path, encoding="ascii") as fh:
            lo, hi = (int(v) for v in fh.read().split()[:2])
        return hi - lo + 1
    except (OSError, ValueError):
        return None


def _soft(limit: int) -> int | None:
    soft, _ = resource.getrlimit(limit)
    return None if soft == resource.RLIM_INFINITY else soft


@dataclass
class Budget:
    """The environment processes this machine holds, and which resource sets that number."""

    cap: int
    by: dict[str, int]  # resource -> processes it alone would allow
    binding: str  # the resource that sets `cap`

    def describe(self) -> str:
        return (
            f"{self.cap:,} environment processes (set by {self.binding}; "
            + ", ".join(f"{name} {n:,}" for name, n in self.by.items())
            + ")"
        )


def budget(
    runtime: str = "awslambdaric",
    *,
    mem_kb: int | None = None,
    total_kb: int | None = None,
    nofile: int | None = None,
    ports: int | None = None,
    nproc: int | None = None,
    probe_machine: bool = True,
) -> Budget:
    """What each resource allows. Unknown figures are read from this machine (`probe_machine`);
    a resource with no known limit does not cap."""
    if probe_machine:
        mem_kb = mem_kb if mem_kb is not None else available_kb()
        total_kb = total_kb if total_kb is not None else meminfo_kb("MemTotal")
        nofile = nofile if nofile is not None else _soft(resource.RLIMIT_NOFILE)
        ports = ports if ports is not None else ephemeral_ports()
        nproc = nproc if nproc is not None else _soft(resource.RLIMIT_NPROC)
    by: dict[str, int] = {}
    if mem_kb:
        reserve = max(RESERVE_MIN_KB, int((total_kb or mem_kb) * RESERVE_SHARE))
        by["memory"] = max(0, mem_kb - reserve) // ENV_KB.get(runtime, ENV_KB["awslambdaric"])
    if nofile:
        by["open files"] = max(0, nofile - FD_RESERVE) // FDS_PER_ENV
    if ports:
        by["ports"] = max(0, ports - PORT_RESERVE) // PORTS_PER_ENV
    if nproc:
        by["processes"] = max(0, nproc - NPROC_RESERVE)
    if not by:
        return Budget(MIN_CAP, {}, "nothing known")
    binding = min(by, key=lambda k: by[k])
    return Budget(max(MIN_CAP, by[binding]), by, binding)


def machine_cap(runtime: str = "awslambdaric", **figures) -> int:
    """Environment processes this machine holds (see `budget`)."""
    return budget(runtime, **figures).cap


def raise_nofile(runtime: str = "awslambdaric") -> tuple[int, int] | None:
    """Raise the open-file soft limit toward the hard one, as far as the memory cap can use
    (1,000 environments need ~4,500 descriptors; many systems' soft limit is 1,024). Returns
    (old, new) when it changed it, else None. Children started later inherit the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    mem = budget(runtime, nofile=0, ports=0, nproc=0).by.get("memory", MIN_CAP)
    wanted = FD_RESERVE + FDS_PER_ENV * mem
    new = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
    if new <= soft:
        return None
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    except (ValueError, OSError) as exc:
        log.warning("could not raise the open-file limit from %d to %d: %s", soft, new, exc)
        return None
    log.info(
        "raised the open-file soft limit from %d to %d (hard %s) for the local Lambda's environments",
        soft,
        new,
        "unlimited" if hard == resource.RLIM_INFINITY else hard,
    )
    return soft, new


def init_slots(cpus: int | None = None) -> int:
    """Inits that run at once on this machine (CPU: an init is the one certain cost)."""
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(MIN_INIT_SLOTS, INITS_PER_CPU * cpus)


def cpu_pressure(path: str = "/proc/pressure/cpu") -> float | None:
    """Share of the last 10 s some runnable task waited for a CPU (Linux PSI), in percent."""
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("some "):
                    for part in line.split()[1:]:
                        key, _, value = part.partition("=")
                        if key == "avg10":
                            return float(value)
    except (OSError, ValueError):
        pass
    return None

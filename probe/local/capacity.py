"""What this machine can hold: the local Lambda's own limit, apart from any Lambda limit.

Every environment is a real process here. Lambda would start 1,000 of them without blinking; two
cores cannot (UX-WALKTHROUGH #4: 1,352 environments, p50 20.7 s, a frozen screen). So the number
of environment processes is capped by the CPUs and the memory available, and a request that
would need one more waits briefly for a busy one to free up, then gets a 429 that says the local
machine, not Lambda, was the limit (frontdoor/invoke_api set the header LOCAL_LIMIT_HEADER).
The wait is the profile's [machine] queue_wait_s.
"""

import os

PER_CPU = 32  # environment processes per CPU: idle ones cost memory, busy ones share the CPU
PROCESS_KB = 40_000  # about what one awslambdaric process holds (RSS), with some slack
MIN_CAP = 8
# Inits (spawn + import until the first /next) run this many at a time per CPU: 64 at once on two
# cores took 3 s each and served nothing meanwhile; a few at a time are ready in a fraction.
INITS_PER_CPU = 2
# ... but never fewer than this: ten clients must get ten environments started together, as on
# Lambda, or the story's waves would show this machine's start queue (4, 4, 2) as Lambda's.
MIN_INIT_SLOTS = 12
LOCAL_REASON = "LocalMachineCapacityExceeded"  # not a Lambda reason: says whose limit it is
LOCAL_LIMIT_HEADER = "X-Lambdascope-Limit"  # value "local-machine" on such a 429


def available_kb(meminfo: str = "/proc/meminfo") -> int | None:
    try:
        with open(meminfo, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine_cap(cpus: int | None = None, mem_kb: int | None = None) -> int:
    """Environment processes this machine holds: PER_CPU per CPU, fewer if memory is short."""
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    cap = PER_CPU * max(1, cpus)
    mem_kb = mem_kb if mem_kb is not None else available_kb()
    if mem_kb:
        cap = min(cap, mem_kb // PROCESS_KB)
    return max(MIN_CAP, cap)


def init_slots(cpus: int | None = None) -> int:
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(MIN_INIT_SLOTS, INITS_PER_CPU * cpus)

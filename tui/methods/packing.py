"""`packing`: how many environments share a host, wave by wave?

The method: ramp the concurrency from 1 to `--max` over a while, so Lambda adds environments in
its own waves, then read each wave's environments by host key (the probe's hostname, boot id or
CPU model). Co-resident environments share a host key; the finding lists each wave's size and
how it was spread over hosts, and the largest number of environments seen on one host.

Limits: a host key is what the environment can see of its host (AWS-FACTS.md §4: the hostname
of an environment is not a physical host name, and the boot id is per micro-VM on Firecracker),
so co-residency here means "reports the same key", a lower bound on sharing and never proof.
"""

from tui.core.fleet import Fleet


def finding(fleet: Fleet, story, host_key: str) -> dict:
    waves = []
    for w in story.waves:
        members = [
            fleet.containers[cid] for cid, i in story.wave_of.items() if i == w.get("index") and cid in fleet.containers
        ]
        per_host: dict[str, int] = {}
        for c in members:
            per_host[c.host_key(host_key)] = per_host.get(c.host_key(host_key), 0) + 1
        waves.append({"wave": w.get("index"), "size": len(members), "at_s": w.get("at_s"), "per_host": per_host})
    totals: dict[str, int] = {}
    for c in fleet.containers.values():
        if c.invocations:
            totals[c.host_key(host_key)] = totals.get(c.host_key(host_key), 0) + 1
    densest = max(totals.values(), default=0)
    parts = [f"{w['size']} on {len(w['per_host'])} host{'s' if len(w['per_host']) != 1 else ''}" for w in waves]
    text = (
        f"{len(waves)} waves ({'; '.join(parts) or 'none'}); at most {densest} environments "
        f"shared one {host_key} ({len(totals)} {host_key}s in all)"
    )
    return {
        "kind": "packing",
        "text": text,
        "host_key": host_key,
        "waves": waves,
        "per_host": totals,
        "most_on_one_host": densest,
    }


async def run(target, *, maximum: int, step_s: float, send, progress, clock, host_key: str = "hostname") -> dict:
    """Climb the scaling ladder (1, 2, 5, 10, …) to `maximum`, then read the waves by host."""
    from tui.core import findings
    from tui.methods.scaling import ladder

    fleet = Fleet()
    for c in ladder(1, maximum):
        outcomes = await send(target, c, duration_s=step_s)
        fleet.apply_outcomes(outcomes, clock())
        progress(f"{c} concurrent for {step_s:g} s: {len(fleet.containers)} environments")
    story = findings.tell(fleet, clock(), host_key=host_key)
    return finding(fleet, story, host_key)

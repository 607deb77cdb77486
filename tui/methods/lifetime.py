"""`lifetime`: how long does an environment live while it keeps serving?

The method: a steady trickle of requests, one at a time (closed loop at 1, paced to `--rate`),
for a long while. With one request at a time Lambda keeps reusing the same warm environment, so
every change of environment while the trickle never stopped is the platform recycling a busy
environment, not reclaiming an idle one. The finding is the longest lifetime seen, every
recycle with the age of the environment it replaced, and whether busy environments were
recycled at all (observations say about every 2 hours today: LANDSCAPE-2026.md).

Limits: a lifetime longer than the run is only a lower bound (it is said so); an environment
that crashed or timed out is replaced too, and counts as a recycle with its error shown.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Life:
    container_id: str
    first_s: float
    last_s: float
    invocations: int

    @property
    def age_s(self) -> float:
        return self.last_s - self.first_s


def lives(outcomes: list, t0: float) -> list[Life]:
    """Each environment's span of service, in order of first answer."""
    spans: dict[str, list] = {}
    for o in outcomes:
        if o.error is not None or not o.container_id:
            continue
        t = o.sent_at - t0
        s = spans.get(o.container_id)
        if s is None:
            spans[o.container_id] = [t, t, 1]
        else:
            s[0], s[1], s[2] = min(s[0], t), max(s[1], t), s[2] + 1
    return sorted((Life(cid, a, b, n) for cid, (a, b, n) in spans.items()), key=lambda life: life.first_s)


def finding(lifes: list[Life], run_s: float) -> dict:
    recycles = [
        {"replaced": a.container_id, "age_s": round(a.age_s, 3), "at_s": round(b.first_s, 3), "by": b.container_id}
        for a, b in zip(lifes, lifes[1:])
    ]
    longest = max((life.age_s for life in lifes), default=0.0)
    open_ended = lifes[-1].age_s if lifes else 0.0
    if not lifes:
        text = "no request was answered by the probe: nothing to measure"
    elif recycles:
        ages = [r["age_s"] for r in recycles]
        text = (
            f"busy environments were recycled {len(recycles)} times, after {min(ages):.1f}–{max(ages):.1f} s "
            f"of service; the longest lifetime seen is {longest:.1f} s"
        )
    else:
        text = (
            f"no environment was recycled in {run_s:.0f} s of steady load: lifetimes are longer than "
            f"{open_ended:.0f} s (a lower bound)"
        )
    return {
        "kind": "lifetime_probe",
        "text": text,
        "run_s": round(run_s, 3),
        "environments": len(lifes),
        "recycles": recycles,
        "longest_lifetime_s": round(longest, 3),
        "lower_bound_s": round(open_ended, 3),
    }


async def run(target, *, rate: float, duration_s: float, send, progress, clock) -> dict:
    t0 = clock()
    progress(f"a trickle of {rate:g} requests/s, one at a time, for {duration_s:g} s")
    outcomes = await send(target, 1, rate=rate, duration_s=duration_s)
    lifes = lives(outcomes, t0)
    return finding(lifes, clock() - t0)

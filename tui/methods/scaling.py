"""`scaling`: how fast does Lambda add environments, and when does it start saying no?

The method: step the concurrency up a 1-2-5 ladder, holding each step for a while, until Lambda
throttles (HTTP 429) or the ladder reaches `--max`. Every answer names its environment, so each
step shows how many environments were new and how many requests were refused. The finding is
the peak rate of new environments per second, the step at which 429s began, and AWS's documented
figure beside it (1,000 new environments per 10 seconds per function, i.e. 100 a second, within
the account's concurrency: LANDSCAPE-2026.md §5).

Limits: new environments appear only when the concurrency asks for them, so the rate found is at
most what the ladder demanded; a step held too briefly under-reads a slow platform. The local
Lambda reproduces its profile's `[scaling]` section, which is how the tests check the method.
"""

from dataclasses import dataclass

from tui.methods.drive import load_span

LADDER = (1, 2, 5)
DOCUMENTED_PER_S = 100.0  # 1,000 per 10 s per function


def ladder(start: int, maximum: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, … from `start` up to `maximum` (inclusive, always ending there)."""
    out, mag = [], 1
    while True:
        for m in LADDER:
            v = m * mag
            if v >= start and v < maximum:
                out.append(v)
            if v >= maximum:
                return out + [maximum]
        mag *= 10


@dataclass(frozen=True, slots=True)
class Step:
    concurrency: int
    seconds: float
    requests: int
    new_environments: int
    environments: int  # seen so far
    throttled: int
    failed: int
    first_throttle_s: float | None  # since the method started


def finding(steps: list[Step]) -> dict:
    rates = [s.new_environments / s.seconds for s in steps if s.seconds > 0]
    peak = max(rates, default=0.0)
    throttled = next((s for s in steps if s.throttled), None)
    if throttled is None:
        text = (
            f"no throttling up to {steps[-1].concurrency} concurrent: {steps[-1].environments} environments, "
            f"at most {peak:.0f} new a second (AWS documents {DOCUMENTED_PER_S:.0f}/s per function)"
        )
    else:
        text = (
            f"429s began at {throttled.concurrency} concurrent, {throttled.first_throttle_s:.1f} s in, "
            f"with {throttled.environments} environments; at most {peak:.0f} new a second "
            f"(AWS documents {DOCUMENTED_PER_S:.0f}/s per function)"
        )
    return {
        "kind": "scaling",
        "text": text,
        "peak_new_per_s": round(peak, 2),
        "documented_new_per_s": DOCUMENTED_PER_S,
        "throttles_began": None
        if throttled is None
        else {
            "concurrency": throttled.concurrency,
            "at_s": throttled.first_throttle_s,
            "environments": throttled.environments,
        },
        "steps": [_as_dict(s) for s in steps],
    }


def _as_dict(s: Step) -> dict:
    return {f: getattr(s, f) for f in Step.__slots__}


async def run(target, *, start: int, maximum: int, step_s: float, send, progress, clock) -> dict:
    seen: set[str] = set()
    steps: list[Step] = []
    t0 = clock()
    for c in ladder(start, maximum):
        began = clock()
        outcomes = await send(target, c, duration_s=step_s)
        # The load's own span: a fan-out's bursts each wait for their shared start (fanout_send.py).
        took = load_span(outcomes) or max(1e-6, clock() - began)
        before = len(seen)
        throttled = failed = 0
        first_throttle = None
        for o in outcomes:
            if o.error == "throttled":
                throttled += 1
                t = o.sent_at - t0
                first_throttle = t if first_throttle is None else min(first_throttle, t)
            elif o.error is not None or not o.container_id:
                failed += 1
            else:
                seen.add(o.container_id)
        step = Step(
            c,
            round(took, 3),
            len(outcomes),
            len(seen) - before,
            len(seen),
            throttled,
            failed,
            None if first_throttle is None else round(first_throttle, 3),
        )
        steps.append(step)
        progress(
            f"{c} concurrent for {took:.1f} s: {step.new_environments} new environments "
            f"({len(seen)} in all), {throttled} throttled, {failed} failed"
        )
        if throttled:
            break
    return finding(steps)

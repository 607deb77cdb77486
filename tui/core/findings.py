"""The story the fleet tells: waves, retirements, a host takeover, the spread, the hardware, cold
starts, pre-initialised environments and lifetimes, as findings a person reads in one line each.

Pure: no IO, no clock (the caller passes `now`), cheap enough to run at every redraw with 1,000
containers (tests/bench/bench_findings.py). One call, `tell(fleet, now)`, gives a `Story`:
    story.findings  list of {"kind", "text", ...numbers..., "evidence": {...}}
    story.waves     the `wave` findings in order
    story.wave_of   container id -> wave index (0-based, in order of start)
    story.retired   container id -> why, one line
    story.state(c, now)  "pre-initialised" | "busy" | "idle" | "retired" | "gone"

Times in findings are `*_s`: seconds since the run's first event (the first environment's start,
which the first request caused), so they read the same in a snapshot, on screen and in a figure.
"""

import heapq
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

# ---- thresholds, and why --------------------------------------------------------------------
# Waves and retirements are groups of times (environment starts, last invocations) split where a
# gap is large *relative to the spacing inside the groups on either side of it*: a gap splits
# when it is more than SPLIT_FACTOR times the median gap of both neighbouring groups. So the
# blog profile's batches 0.5 s apart (starts inside a batch a few ms apart) separate, and so do
# a real function's batches seconds apart (starts inside a batch ~0.1 s apart), with no fixed gap.
# RESOLUTION_S is what "together" can never be finer than: log timestamps are milliseconds and
# process spawns jitter by tens of ms, so a group's spacing is read as at least this. Together
# they set the smallest gap that can ever split: 10 x 25 ms = 0.25 s.
SPLIT_FACTOR = 10.0
RESOLUTION_S = 0.025
# A container has "stopped serving" once it has been quiet for RETIRE_FACTOR times its own usual
# gap between invocations (at least RETIRE_MIN_QUIET_S): a container serving every 30 ms that has
# been quiet for 1 s while others served has stopped; one serving once a minute has not.
RETIRE_FACTOR = 10.0
RETIRE_MIN_QUIET_S = 1.0
# ... and it is "retired" only if the load went on: someone else served after that quiet spell,
# within RESUME_WINDOW_FACTOR quiet spells (a load that paused for minutes and came back is not
# a retirement; those containers idled and may be reclaimed, which is `gone`); and only with
# evidence that it will not serve again: its whole host (two containers or more) went quiet
# together, or a new environment started after it went quiet. (A spare environment that
# most-recently-used routing leaves alone is idle, not retired.)
RESUME_WINDOW_FACTOR = 10.0
# A host "took over" from the moment the other hosts served at most this share of invocations.
TAKEOVER_STRAY_SHARE = 0.02
TAKEOVER_MAX_STEPS = 8  # how many of the other hosts' latest containers to look past
# Lifetimes are a finding only when the run is long enough to have seen some end.
LIFETIME_MIN_RUN_S = 60.0
MAX_WAVES = 64  # a trickle of single starts is summarised, not listed


@dataclass
class Story:
    findings: list[dict]
    waves: list[dict]
    wave_of: dict[str, int]
    retired: dict[str, str]
    t0: float | None  # epoch s of the run's first event; *_s fields count from here
    _fleet: Any = field(default=None, repr=False)  # the tui.core.fleet.Fleet told (its states)

    def state(self, c, now: float) -> str:
        if _pre_initialized(c):
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


# ---- accessors: the fleet model's fields, in one place ----------------------------------------
# (tui/core/fleet.py owns what each means: init_at is the earliest INIT_START/RESTORE_START,
# first/last_invoked the invocations' own lines, pre_initialized "initialised, never invoked".)


def _init_at(c) -> float | None:
    return c.init_at


def _first_invoked(c) -> float | None:
    return c.first_invoked


def _last_invoked(c) -> float | None:
    return c.last_invoked


def _pre_initialized(c) -> bool:
    return c.pre_initialized


def _count_after(fleet, c, t: float, now: float, own_bucket: bool = False) -> int:
    """Invocations of `c` in the buckets after the one holding `t` (and in it, if `own_bucket`)."""
    first = fleet.bucket_of(t) + (0 if own_bucket else 1)
    n = fleet.bucket_count - first
    return sum(c.timeline.counts(first, n)) if n > 0 else 0


def _fleet_count(fleet, which: str, t_from: float | None, t_to: float) -> int | None:
    """Fleet-wide invocations (`activity`) or throttles in [t_from, t_to), or None if the model
    keeps no such timeline."""
    tl = getattr(fleet, which, None)
    if tl is None:
        return None
    first = 0 if t_from is None else max(0, fleet.bucket_of(t_from))
    last = fleet.bucket_of(t_to)
    return sum(tl.counts(first, last - first)) if last > first else 0


def _latency(fleet) -> tuple[list[float], list[float]] | None:
    lat = getattr(fleet, "latency", None)
    if lat is None:
        return None
    return list(getattr(lat, "cold_ms", ()) or ()), list(getattr(lat, "warm_ms", ()) or ())


# ---- small pure helpers ------------------------------------------------------------------------


def split_by_gaps(times: list[float]) -> list[tuple[int, int]]:
    """Groups of sorted `times` as (start, end) index ranges, end exclusive.

    Top-down: take a range's largest gap; split there if it is more than SPLIT_FACTOR times the
    typical spacing (median gap, at least RESOLUTION_S) of *each* side; repeat on both sides.
    Comparing a gap with its own neighbours (not with the whole run) is what lets a 0.5 s gap
    split batches spaced by milliseconds while a steady trickle one per second stays one group.
    """
    n = len(times)
    if n == 0:
        return []
    gaps = [b - a for a, b in zip(times, times[1:])]
    out: list[tuple[int, int]] = []
    todo = [(0, n)]
    while todo:
        lo, hi = todo.pop()
        if hi - lo < 2 or len(out) + len(todo) >= MAX_WAVES:
            out.append((lo, hi))
            continue
        k = max(range(lo, hi - 1), key=gaps.__getitem__)  # split between k and k+1
        g = gaps[k]
        if g > SPLIT_FACTOR * _typical(gaps, lo, k) and g > SPLIT_FACTOR * _typical(gaps, k + 1, hi - 1):
            todo += [(k + 1, hi), (lo, k + 1)]
        else:
            out.append((lo, hi))
    return sorted(out)


def _typical(gaps: list[float], lo: int, hi: int) -> float:
    """Median of gaps[lo:hi], at least RESOLUTION_S (one element or none: RESOLUTION_S)."""
    if hi - lo < 1:
        return RESOLUTION_S
    part = sorted(gaps[lo:hi])
    m = len(part) // 2
    med = part[m] if len(part) % 2 else (part[m - 1] + part[m]) / 2
    return max(RESOLUTION_S, med)


def percentile(values: list[float], q: float, *, is_sorted: bool = False) -> float | None:
    """Nearest-rank percentile (q in 0..100) of `values`; None when empty."""
    if not values:
        return None
    s = values if is_sorted else sorted(values)
    i = min(len(s) - 1, max(0, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[i]


def gini(values: list[int]) -> float:
    """0 = every container served the same, towards 1 = one container served everything."""
    n, total = len(values), sum(values)
    if n < 2 or total == 0:
        return 0.0
    # sum over ranks i (1-based, ascending) of i * x_i = the sum of the suffix sums
    weighted = sum(accumulate(reversed(sorted(values))))
    return (2.0 * weighted) / (n * total) - (n + 1) / n


def short_cpu(model: str) -> str:
    """'Intel(R) Xeon(R) CPU E5-2666 v3 @ 2.90GHz' -> 'Xeon E5-2666 v3 @ 2.90GHz'."""
    s = model.replace("(R)", "").replace("(TM)", "").replace(" CPU ", " ").replace("Intel ", "")
    return " ".join(s.split())


def _s(t: float) -> str:
    return f"+{t:.1f} s"


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f} ms"


def _hosts_text(keys: list[str]) -> str:
    if not keys:
        return "no host known yet"
    if len(keys) <= 3:
        return "on " + ", ".join(keys)
    return f"on {len(keys)} hosts ({', '.join(keys[:2])}, …)"


def _r(v: float | None, nd: int = 3):
    return None if v is None else round(v, nd)


# ---- the story ---------------------------------------------------------------------------------


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
    waves, wave_of = _waves(M, fleet, rows, t0, host_of, host_order)
    findings += waves
    retired, retirements = _retirements(M, fleet, serving, now, t0, host_of, host_order)
    findings += retirements
    findings += _takeover(M, fleet, serving, now, t0, host_of, host_order)
    findings += _spread(serving)
    findings += _hardware(serving, host_key, host_of, host_order)
    findings += _cold_start(M, fleet, serving)
    findings += _pre_init(M, rows, t0)
    findings += _lifetime(M, serving, now, t0, retired)
    return Story(findings, waves, wave_of, retired, t0, fleet)


def _waves(M, fleet, rows, t0, host_of, host_order):
    times = [s for s, _ in rows]
    waves, wave_of = [], {}
    prev_at = None
    for i, (lo, hi) in enumerate(split_by_gaps(times)):
        members = [c for _, c in rows[lo:hi]]
        served = [c for c in members if c.invocations > 0]
        pre = [c for c in members if c.container_id in M.pre]
        hosts = {host_of[c.container_id] for c in served} - {""}
        keys = [h for h in host_order if h in hosts]
        at = times[lo]
        throttled = _fleet_count(fleet, "throttles", prev_at, at)
        prev_at = at
        ids = [c.container_id for c in members]
        wave_of.update(dict.fromkeys(ids, i))
        text = f"wave {i + 1}: {len(members)} environment{'s' if len(members) != 1 else ''} started at {_s(at - t0)}"
        if hi - lo > 1 and times[hi - 1] - at >= 0.05:
            text += f" (over {times[hi - 1] - at:.2f} s)"
        text += f" {_hosts_text(keys)}"
        extra = []
        if pre:
            extra.append(f"{len(served)} served, {len(pre)} never invoked")
        if throttled:
            extra.append(f"after {throttled:,} throttled request{'s' if throttled != 1 else ''}")
        if extra:
            text += "; " + "; ".join(extra)
        waves.append(
            {
                "kind": "wave",
                "text": text,
                "index": i,
                "size": len(members),
                "serving": len(served),
                "pre_initialized": len(pre),
                "at_s": _r(at - t0),
                "span_s": _r(times[hi - 1] - at),
                "host_keys": keys,
                "throttled_before": throttled,
                "throttles_before": None if throttled is None else throttled > 0,
                "evidence": {
                    "container_ids": ids,
                    "first_start_s": _r(at - t0),
                    "last_start_s": _r(times[hi - 1] - t0),
                },
            }
        )
    return waves, wave_of


def _retirements(M, fleet, serving, now, t0, host_of, host_order):
    if len(serving) < 2:
        return {}, []
    last_of, first_of = M.last, M.first
    quiet_ones = [c for c in serving if now - last_of[c.container_id] > RETIRE_MIN_QUIET_S]
    if not quiet_ones:
        return {}, []  # the common case while everything serves: nothing more to look at
    spans = sorted(zip(last_of.values(), first_of.values()))  # (last, first), by last
    lasts = [r[0] for r in spans]
    # suffix_min_first[i]: the earliest first invocation among containers whose last is >= lasts[i]
    suffix_min_first = [0.0] * len(spans)
    m = float("inf")
    for i in range(len(spans) - 1, -1, -1):
        f = spans[i][1]
        if f < m:
            m = f
        suffix_min_first[i] = m
    typical_gap = None  # the fleet's usual gap, for containers with one invocation (lazily)
    floor_gap = RETIRE_MIN_QUIET_S / RETIRE_FACTOR

    def quiet_for(c) -> float:
        """How long `c` must be quiet to have stopped: RETIRE_FACTOR times its own usual gap."""
        nonlocal typical_gap
        cid, inv = c.container_id, c.invocations
        last, first = last_of[cid], first_of[cid]
        if inv > 1 and last > first:
            own = (last - first) / (inv - 1)
        else:
            if typical_gap is None:
                gaps = sorted(
                    (end - start) / (x.invocations - 1)
                    for x in serving
                    if x.invocations > 1 and (end := last_of[x.container_id]) > (start := first_of[x.container_id])
                )
                typical_gap = gaps[len(gaps) // 2] if gaps else floor_gap
            own = typical_gap
        return RETIRE_FACTOR * own if own > floor_gap else RETIRE_MIN_QUIET_S

    stopped = []  # (last, container)
    n_spans = len(spans)
    for c in quiet_ones:
        last = last_of[c.container_id]
        quiet = quiet_for(c)
        if now - last <= quiet:
            continue
        j = bisect_right(lasts, last + quiet)  # containers still serving after the quiet spell ...
        if j < n_spans and suffix_min_first[j] <= last + quiet * RESUME_WINDOW_FACTOR:  # ... begun by then
            stopped.append((last, c))
    if not stopped:
        return {}, []

    serving_per_host: dict[str, int] = {}
    for c in serving:
        h = host_of[c.container_id]
        serving_per_host[h] = serving_per_host.get(h, 0) + 1
    stopped = [(t, c) for t, _, c in sorted((t, c.container_id, c) for t, c in stopped)]
    stopped_on: dict[str, list] = {}
    for _, c in stopped:
        stopped_on.setdefault(host_of[c.container_id], []).append(c)
    # Going quiet is not enough on its own: with most-recently-used routing an idle environment
    # can sit unused while the others serve. Two kinds of evidence make it a retirement:
    # - its whole host went quiet, with at least two containers, together (the blog's story);
    # - or a new environment started after it had gone quiet: the platform made a new one
    #   rather than use it.
    starts = sorted(M.start.values())

    def replaced(c) -> bool:
        last = last_of[c.container_id]
        quiet = quiet_for(c)
        k = bisect_right(starts, last + quiet)
        return k < len(starts) and starts[k] <= last + quiet * RESUME_WINDOW_FACTOR

    whole = {
        h for h, cs in stopped_on.items() if h and len(cs) == serving_per_host[h] and (len(cs) >= 2 or replaced(cs[0]))
    }
    stopped = [(t, c) for t, c in stopped if host_of[c.container_id] in whole or replaced(c)]
    if not stopped:
        return {}, []

    # A host whose every serving container stopped retired, and took them with it: one finding per
    # host (its containers' last invocations can spread over a second or more: the least used
    # ones go quiet first). The rest stopped on hosts that kept serving: grouped by time.
    groups = [(h, stopped_on[h]) for h in host_order if h in whole]
    rest = [(t, c) for t, c in stopped if host_of[c.container_id] not in whole]
    times = [t for t, _ in rest]
    groups += [(None, [c for _, c in rest[lo:hi]]) for lo, hi in split_by_gaps(times)]

    retired, findings = {}, []
    for host, group in groups:
        lasts_g = [M.last[c.container_id] for c in group]
        at, first_stop = max(lasts_g), min(lasts_g)
        hosts = {host_of[c.container_id] for c in group}
        keys = [h for h in host_order if h in hosts]
        n = len(group)
        if host is not None:
            why = (
                f"its host {host} stopped serving at {_s(at - t0)} with all {n} of its containers "
                "while the load went on"
            )
            retired.update(dict.fromkeys((c.container_id for c in group), why))
            text = f"{host} retired at {_s(at - t0)}: all {n} of its containers stopped serving"
            if _s(first_stop - t0) != _s(at - t0):
                text += f" (from {_s(first_stop - t0)})"
            text += " while the load went on"
        else:
            for c in group:
                h = host_of[c.container_id]
                retired[c.container_id] = (
                    f"stopped serving at {_s(M.last[c.container_id] - t0)} while the load went on"
                    + (f" ({h} kept serving)" if h else "")
                )
            text = (
                f"{n} container{'s' if n != 1 else ''} stopped serving {'together ' if n > 1 else ''}at "
                f"{_s(at - t0)} {_hosts_text(keys)} while the load went on and "
                f"{'their hosts' if len(keys) != 1 else 'the host'} kept serving"
            )
        findings.append(
            {
                "kind": "retirement",
                "text": text,
                "size": n,
                "at_s": _r(at - t0),
                "first_stop_s": _r(first_stop - t0),
                "host_keys": keys,
                "host_retired": host is not None,
                "container_ids": [c.container_id for c in group],
                "evidence": {
                    "container_ids": [c.container_id for c in group],
                    "last_invoked_s": [_r(v - t0) for v in lasts_g],
                },
            }
        )
    findings.sort(key=lambda f: f["at_s"])
    return retired, findings


def _takeover(M, fleet, serving, now, t0, host_of, host_order):
    per_host_last: dict[str, float] = {}
    per_host_inv: dict[str, int] = {}
    for c in serving:
        h = host_of[c.container_id]
        if not h:
            continue
        t = M.last[c.container_id]
        if t > per_host_last.get(h, -1.0):
            per_host_last[h] = t
        per_host_inv[h] = per_host_inv.get(h, 0) + c.invocations
    if len(per_host_last) < 2:
        return []
    winner = max(per_host_last, key=lambda h: (per_host_last[h], per_host_inv[h]))
    mine, theirs = [], []
    for c in serving:
        (mine if host_of[c.container_id] == winner else theirs).append(c)
    last = M.last
    others = heapq.nlargest(TAKEOVER_MAX_STEPS + 1, theirs, key=lambda c: last[c.container_id])
    total = sum(c.invocations for c in serving)

    def won_after(t: float) -> int:
        # exact for containers wholly before or after t, from the timeline for those straddling it
        n = 0
        for c in mine:
            cid = c.container_id
            if M.first[cid] > t:
                n += c.invocations
            elif M.last[cid] > t:
                n += _count_after(fleet, c, t, now)
        return n

    at = M.last[others[0].container_id]  # the strict moment: the other hosts' last invocation
    # A cheap estimate first (those straddling `at` pro rata): most redraws stop here.
    first = M.first
    est = 0.0
    for c in mine:
        start, end = first[c.container_id], last[c.container_id]
        if start > at:
            est += c.invocations
        elif end > at:
            est += c.invocations * (end - at) / (end - start)
    if est < 0.1 * total:
        return []  # the others stopped (nearly) at the end: nothing was taken over
    won = won_after(at)
    if won == 0 or won < 0.1 * total:
        return []
    # Step back past the latest few stragglers while the other hosts' share of what came after
    # stays under the stray share (counting their whole bucket: conservative).
    for k in range(1, min(len(others) - 1, TAKEOVER_MAX_STEPS) + 1):
        t = M.last[others[k].container_id]
        s = sum(_count_after(fleet, c, t, now, own_bucket=True) for c in others[: k + 1])
        w = won_after(t)
        if s + w == 0 or s / (s + w) > TAKEOVER_STRAY_SHARE:
            break
        at, won = t, w
    stray = sum(_count_after(fleet, c, at, now) for c in others)
    share = won / (won + stray)
    others_keys = [h for h in host_order if h != winner and h in per_host_last]
    text = (
        f"from {_s(at - t0)} on, {winner} served {share:.0%} of invocations ({won:,} of {won + stray:,}); "
        f"{len(others_keys)} other host{'s' if len(others_keys) != 1 else ''} stopped serving"
    )
    return [
        {
            "kind": "host_takeover",
            "text": text,
            "host_key": winner,
            "at_s": _r(at - t0),
            "share_after": round(share, 4),
            "invocations_after": won + stray,
            "share_of_run": round(per_host_inv[winner] / total, 4) if total else None,
            "evidence": {
                "other_hosts": others_keys,
                "other_hosts_last_s": {h: _r(per_host_last[h] - t0) for h in others_keys},
            },
        }
    ]


def _spread(serving):
    counts = [c.invocations for c in serving]
    total = sum(counts)
    if len(counts) < 2 or total == 0:
        return []
    hi = serving[max(range(len(counts)), key=counts.__getitem__)]  # the first of the busiest, by start
    lo = serving[min(range(len(counts)), key=counts.__getitem__)]
    g = gini(counts)
    even = total / len(counts)
    ratio = hi.invocations / lo.invocations if lo.invocations else None
    word = "uneven" if g >= 0.15 else "even"
    text = (
        f"{word} spread over {len(counts)} containers: the busiest served {hi.invocations / total:.1%} of "
        f"{total:,} invocations (an even split: {1 / len(counts):.1%}, {even:,.0f} each); "
        f"max/min {'–' if ratio is None else f'{ratio:.1f}×'}; Gini {g:.2f}"
    )
    return [
        {
            "kind": "spread",
            "text": text,
            "containers": len(counts),
            "invocations": total,
            "largest_share": round(hi.invocations / total, 4),
            "even_share": round(1 / len(counts), 4),
            "even_invocations": round(even, 1),
            "max": hi.invocations,
            "min": lo.invocations,
            "max_over_min": None if ratio is None else round(ratio, 2),
            "gini": round(g, 4),
            "evidence": {"busiest": hi.container_id, "quietest": lo.container_id},
        }
    ]


def _hardware(serving, host_key, host_of, host_order):
    hosts: dict[str, dict] = {}
    for c in serving:
        h = host_of[c.container_id]
        if not h:
            continue
        e = hosts.get(h)
        if e is None:
            e = hosts[h] = {
                "host_key": h,
                "hostname": c.hostname,
                "cpu_model": c.cpu_model,
                "cpu_mhz": c.cpu_mhz,
                "bogomips": c.bogomips,
                "containers": 0,
            }
        e["containers"] += 1
    if not hosts:
        return []
    ordered = [hosts[h] for h in host_order if h in hosts]
    models: dict[str, list[str]] = {}
    for e in ordered:
        models.setdefault(e["cpu_model"] or "?", []).append(e["host_key"])
    n_h, n_m = len(ordered), len(models)
    if host_key == "cpu_model":
        text = f"{n_m} CPU model{'s' if n_m != 1 else ''}: " + ", ".join(short_cpu(m) for m in models)
    else:
        parts = [
            f"{short_cpu(m)} ({', '.join(hs) if len(hs) <= 3 else f'{len(hs)} hosts'})" for m, hs in models.items()
        ]
        text = f"{n_m} CPU model{'s' if n_m != 1 else ''} on {n_h} host{'s' if n_h != 1 else ''}: " + "; ".join(parts)
    bogo = sorted({e["bogomips"] for e in ordered if e["bogomips"]})
    if len(bogo) > 1:
        text += f"; bogomips {bogo[0]:,.0f}–{bogo[-1]:,.0f}"
    return [
        {
            "kind": "hardware",
            "text": text,
            "cpu_models": list(models),
            "hosts": ordered,
            "evidence": {"hosts_by_model": models},
        }
    ]


def _cold_start(M, fleet, serving):
    inits = [c.init_duration_ms if c.init_duration_ms is not None else c.restore_duration_ms for c in serving]
    inits = sorted(v for v in inits if v is not None)
    cold = [c for c in serving if c.container_id in M.paid]
    lat = _latency(fleet)
    if not cold and not inits and not (lat and (lat[0] or lat[1])):
        return []
    p50, p99 = percentile(inits, 50, is_sorted=True), percentile(inits, 99, is_sorted=True)
    n = len(cold)
    text = (
        f"{n} cold start{'s' if n != 1 else ''}, one per serving container"
        if n == len(serving) and n
        else f"{n} cold start{'s' if n != 1 else ''} in {len(serving)} serving containers"
    )
    restores = sum(1 for c in cold if c.cold_kind == "restore")
    if restores:
        # SnapStart: a restore from the snapshot, not an init (its REPORT says Restore Duration).
        text += " (SnapStart restores, not inits)" if restores == n else f" ({restores} of them SnapStart restores)"
    if inits:
        has_init = any(c.init_duration_ms is not None for c in serving)
        has_restore = any(c.init_duration_ms is None and c.restore_duration_ms is not None for c in serving)
        name = (
            "Init/Restore Duration"
            if has_init and has_restore
            else "Restore Duration"
            if has_restore
            else "Init Duration"
        )
        text += f"; {name} p50 {_ms(p50)}, p99 {_ms(p99)}"
    f = {
        "kind": "cold_start",
        "text": "",
        "count": n,
        "serving": len(serving),
        "init_ms_p50": _r(p50, 2),
        "init_ms_p99": _r(p99, 2),
        "init_samples": len(inits),
        "restores": restores,
        "cold_latency_ms_p50": None,
        "cold_latency_ms_p99": None,
        "warm_latency_ms_p50": None,
        "warm_latency_ms_p99": None,
        "evidence": {"container_ids": [c.container_id for c in cold][:50]},
    }
    if lat:
        cold_ms, warm_ms = lat
        f.update(
            cold_latency_ms_p50=_r(percentile(cold_ms, 50), 2),
            cold_latency_ms_p99=_r(percentile(cold_ms, 99), 2),
            warm_latency_ms_p50=_r(percentile(warm_ms, 50), 2),
            warm_latency_ms_p99=_r(percentile(warm_ms, 99), 2),
        )
        parts = [
            f"{kind} p50 {_ms(f[f'{kind}_latency_ms_p50'])} / p99 {_ms(f[f'{kind}_latency_ms_p99'])}"
            for kind, samples in (("cold", cold_ms), ("warm", warm_ms))
            if samples
        ]
        if parts:
            text += "; response latency " + ", ".join(parts)
    f["text"] = text
    return [f]


def _pre_init(M, rows, t0):
    pre = [(s, c) for s, c in rows if c.container_id in M.pre]
    if not pre:
        return []
    n = len(pre)
    text = (
        f"{n} environment{'s' if n != 1 else ''} initialised and never invoked "
        f"(pre-initialised: not cold starts, no host known), from {_s(pre[0][0] - t0)}"
    )
    return [
        {
            "kind": "pre_initialized",
            "text": text,
            "count": n,
            "container_ids": [c.container_id for _, c in pre],
            "first_at_s": _r(pre[0][0] - t0),
            "evidence": {"container_ids": [c.container_id for _, c in pre], "init_s": [_r(s - t0) for s, _ in pre]},
        }
    ]


def _lifetime(M, serving, now, t0, retired):
    if not serving:
        return []
    run_s = now - t0
    if run_s < LIFETIME_MIN_RUN_S and not retired:
        return []
    ended = [(M.last[c.container_id] - M.start[c.container_id]) for c in serving if c.container_id in retired]
    alive = [(M.last[c.container_id] - M.start[c.container_id]) for c in serving if c.container_id not in retired]
    spans = ended + alive
    p50 = percentile(spans, 50)
    text = f"serving lifetimes p50 {p50:.1f} s, longest {max(spans):.1f} s over a {run_s:.1f} s run"
    if ended:
        text += f"; retired ones served {min(ended):.1f}–{max(ended):.1f} s"
    return [
        {
            "kind": "lifetime",
            "text": text,
            "run_s": _r(run_s),
            "lifetime_s_p50": _r(p50),
            "lifetime_s_max": _r(max(spans)),
            "retired_lifetime_s_min": _r(min(ended)) if ended else None,
            "retired_lifetime_s_max": _r(max(ended)) if ended else None,
            "evidence": {"containers": len(spans), "retired": len(ended)},
        }
    ]

"""What every finding reads the fleet with, and the small pure helpers they share: the accessors,
the gap splitter, the one percentile method, the formats.

Pure: no IO."""

import math
from itertools import accumulate

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
MAX_WAVES = 64  # a trickle of single starts is summarised, not listed


# ---- accessors: the fleet model's fields, in one place ----------------------------------------
# (tui/core/fleet.py owns what each means: init_at is the earliest INIT_START/RESTORE_START,
# first/last_invoked the invocations' own lines, pre_initialized "initialised, never invoked".)


def init_at_of(c) -> float | None:
    return c.init_at


def first_invoked_of(c) -> float | None:
    return c.first_invoked


def last_invoked_of(c) -> float | None:
    return c.last_invoked


def is_pre_initialized(c) -> bool:
    return c.pre_initialized


def count_after(fleet, c, t: float, now: float, own_bucket: bool = False) -> int:
    """Invocations of `c` in the buckets after the one holding `t` (and in it, if `own_bucket`)."""
    first = fleet.bucket_of(t) + (0 if own_bucket else 1)
    n = fleet.bucket_count - first
    return sum(c.timeline.counts(first, n)) if n > 0 else 0


def fleet_count(fleet, which: str, t_from: float | None, t_to: float) -> int | None:
    """Fleet-wide invocations (`activity`) or throttles in [t_from, t_to), or None if the model
    keeps no such timeline."""
    tl = getattr(fleet, which, None)
    if tl is None:
        return None
    first = 0 if t_from is None else max(0, fleet.bucket_of(t_from))
    last = fleet.bucket_of(t_to)
    return sum(tl.counts(first, last - first)) if last > first else 0


def latency_samples(fleet) -> tuple[list[float], list[float]] | None:
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
    """The q-th percentile (q in 0..100) of `values` by nearest rank, the one method every
    finding, figure and snapshot uses: the smallest value with at least q% of the values at or
    below it (rank ceil(q/100 * n), at least 1). None when empty. Of 594 and 1,944 ms, p50 is
    594 ms and p99 1,944 ms."""
    if not values:
        return None
    s = values if is_sorted else sorted(values)
    n = len(s)
    rank = max(1, min(n, math.ceil(q / 100.0 * n - 1e-9)))  # the epsilon: 0.5 * 2 is rank 1, not 2
    return s[rank - 1]


# Below this many samples a p99 is the largest sample: the count is said beside the figures.
SMALL_N = 100


def n_note(n: int) -> str:
    """' (n=7)' beside percentiles of few samples; '' when there are enough to trust a p99."""
    return f" (n={n:,})" if n < SMALL_N else ""


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


def fmt_s(t: float) -> str:
    return f"+{t:.1f} s"


def fmt_ms(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f} ms"


def hosts_text(keys: list[str]) -> str:
    if not keys:
        return "no host known yet"
    if len(keys) <= 3:
        return "on " + ", ".join(keys)
    return f"on {len(keys)} hosts ({', '.join(keys[:2])}, …)"


def rounded(v: float | None, nd: int = 3):
    return None if v is None else round(v, nd)

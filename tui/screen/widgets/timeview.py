"""Which stretch of the run the timeline shows, and at what zoom: pure, tested without a screen.

A `TimeView` is held in *seconds* (seconds per column, the start time of the first column), not
in buckets, so it survives the model coarsening its buckets as the run grows. `frame(view, …)`
turns it into buckets for one redraw: the first bucket, buckets per column, the columns, and
whether the last column is still filling (the bucket holding `now` is left out: a lane must not
end in a dip only because the current second is not over).

Three modes: `fit` (the whole run, the default: the start of a run never scrolls off), `live`
(the right edge follows now at a fixed zoom) and scrolled (a fixed start, after `<` `>`).
"""

import math
from dataclasses import dataclass

# Seconds per column, the zoom ladder: from the model's finest bucket to ten minutes.
ZOOMS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
FIT, LIVE, SCROLLED = "whole run", "live", "scrolled"


def bucket_index(t: float, origin: float, bucket_s: float) -> int:
    """The bucket holding `t`; a hair of slack so 10 // 0.1 is 100, not 99.0 (binary floats)."""
    return math.floor((t - origin) / bucket_s + 1e-9)


@dataclass
class TimeView:
    mode: str = FIT
    col_s: float = 1.0  # seconds per column (live and scrolled)
    start_t: float | None = None  # epoch s of the first column (scrolled)


@dataclass(frozen=True)
class Frame:
    first: int  # first bucket of column 0
    per: int  # buckets per column
    columns: int  # columns drawn (<= width)
    last_complete: int  # the newest bucket that is over; later ones are not drawn
    bucket_s: float
    origin: float  # epoch s of bucket 0
    mode: str

    @property
    def col_s(self) -> float:
        return self.per * self.bucket_s

    def column_of(self, t: float | None) -> int | None:
        """The column holding time `t`, or None when off screen."""
        if t is None:
            return None
        x = (bucket_index(t, self.origin, self.bucket_s) - self.first) // self.per
        return x if 0 <= x < self.columns else None

    def column_start(self, x: int) -> float:
        return self.origin + (self.first + x * self.per) * self.bucket_s

    def partial_last(self) -> bool:
        """The last column holds fewer buckets than the others (the run has not filled it)."""
        return self.columns > 0 and self.first + self.columns * self.per - 1 > self.last_complete


def frame(view: TimeView, width: int, *, origin: float, bucket_s: float, run_start: float | None, now: float) -> Frame:
    """Buckets for one redraw of `width` columns. `origin`: epoch s of bucket 0; `run_start`: the
    run's first event (None before any); `now`: the screen's clock."""
    width = max(1, width)
    now_bucket = bucket_index(now, origin, bucket_s)
    last_complete = now_bucket - 1
    lo = bucket_index(run_start if run_start is not None else now, origin, bucket_s)
    if view.mode == FIT:
        span = max(1, last_complete - lo + 1)
        per = max(1, math.ceil(span / width))
        first = lo
    else:
        per = max(1, round(view.col_s / bucket_s))
        if view.mode == LIVE:
            # Columns aligned to multiples of `per`, so a column's content does not shift as
            # time passes; the right edge is the newest column that has a bucket that is over.
            right = ((last_complete + 1) // per) * per - per  # the newest column that is complete
            first = right - (width - 1) * per
        else:
            start = view.start_t if view.start_t is not None else now
            first = bucket_index(start, origin, bucket_s)
    columns = width
    if first + (width - 1) * per > last_complete:  # not past the present
        columns = max(0, (last_complete - first) // per + 1)
    return Frame(first, per, min(width, columns), last_complete, bucket_s, origin, view.mode)


def zoom(view: TimeView, f: Frame, direction: int, *, bucket_s: float) -> TimeView:
    """One step along ZOOMS: +1 finer (fewer seconds per column), -1 coarser. From the whole run
    it goes live at the nearest step; a scrolled view keeps its first column's time."""
    current = f.col_s
    steps = [z for z in ZOOMS if z >= bucket_s * 0.999] or [bucket_s]
    if direction > 0:
        finer = [z for z in steps if z < current * 0.999]
        col_s = finer[-1] if finer else steps[0]
    else:
        coarser = [z for z in steps if z > current * 1.001]
        col_s = coarser[0] if coarser else steps[-1]
    mode = LIVE if view.mode == FIT else view.mode
    start = f.column_start(0) if mode == SCROLLED else None
    return TimeView(mode, col_s, start)


def scroll(view: TimeView, f: Frame, columns: int, *, now: float) -> TimeView:
    """Move `columns` columns back (negative) or forward in time; forward past now goes live."""
    start = f.column_start(0) + columns * f.col_s
    if columns > 0 and start + f.columns * f.col_s >= now - f.bucket_s:
        return TimeView(LIVE, f.col_s, None)
    return TimeView(SCROLLED, f.col_s, start)


def fmt_span(seconds: float) -> str:
    """'100ms', '1.5s', '30s', '2m', '1h30m': a time per column."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:g}s" if seconds == int(seconds) else f"{seconds:.1f}s"
    if seconds < 3600:
        m, s = divmod(int(round(seconds)), 60)
        return f"{m}m" if s == 0 else f"{m}m{s:02d}"
    h, m = divmod(int(round(seconds)) // 60, 60)
    return f"{h}h{m:02d}m" if m else f"{h}h"


def fmt_since(seconds: float) -> str:
    """Seconds since the run's start: '+0s', '+4.5s', '+1:30', '+1h02'."""
    if seconds < 10 and seconds != int(seconds):
        return f"+{seconds:.1f}s"
    s = int(round(seconds))
    if s < 100:
        return f"+{s}s"
    if s < 3600:
        return f"+{s // 60}:{s % 60:02d}"
    return f"+{s // 3600}h{s % 3600 // 60:02d}"


def fmt_age(seconds: float) -> str:
    if seconds < 10 and seconds != int(seconds):
        return f"-{seconds:.1f}s"
    s = int(round(seconds))
    if s < 60:
        return f"-{s}s"
    if s < 3600:
        return f"-{s // 60}m" if s % 60 == 0 else f"-{s // 60}m{s % 60:02d}"
    return f"-{s // 3600}h{s % 3600 // 60:02d}"


def axis_text(f: Frame, width: int, *, run_start: float | None, now: float, step: int = 10) -> str:
    """The axis: a label every `step` columns, starting on its tick, in seconds since the start
    ('+12s'); in live mode the age ('-30s'), ending on its tick, with 'now' at the right. (The
    time per column and the mode are in the legend: `describe`.)"""
    if width <= 0:
        return ""
    chars = [" "] * width
    free_from = 0
    live = f.mode == LIVE
    if live and f.columns and width >= 3:
        x = f.columns - 1
        if x - 2 >= free_from:
            chars[x - 2 : x + 1] = "now"
    free_until = (f.columns - 4) if live else width
    # Since the start of the run's first bucket, so labels fall on whole multiples of a column.
    base = f.origin + (bucket_index(run_start, f.origin, f.bucket_s) * f.bucket_s if run_start is not None else 0.0)
    x = (f.columns - 1 - step) if live else 0
    xs = []
    while 0 <= x < f.columns:
        xs.append(x)
        x += -step if live else step
    for x in reversed(xs) if live else xs:
        t = f.column_start(x)
        label = fmt_age(now - t) if live else fmt_since(max(0.0, t - base))
        start, end = (x - len(label) + 1, x + 1) if live else (x, x + len(label))
        if start >= free_from and end <= min(width, free_until if live else width):
            chars[start:end] = label
            free_from = end + 1
    return "".join(chars)


def describe(f: Frame) -> str:
    """'1s/col, whole run' for the legend."""
    return f"{fmt_span(f.col_s)}/col, {f.mode}"

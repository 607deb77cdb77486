"""The timeline beside the container table: one lane per container, time running left to right.

Row-aligned with the table by construction: lane `i` is the table's row `i` (its `order`), and
the first visible lane is the table's first visible row (its `scroll_y`). Line 0 is the time
axis, level with the table's header. Only visible lanes are rendered (the Line API), so 1,000
containers cost what 40 do. Which stretch of the run, at what zoom, is a `TimeView`
(tui/screen/widgets/timeview.py): the whole run by default. Each column sums `per` buckets of the
fleet's timeline; the character is the count on a log2 scale topped at the busiest visible
column, coloured by host; ◆ marks the cold start, ✕ a retirement; a column still filling is dim.
On Managed Instances, ↑ and ↓ mark when the environment's EC2 instance launched and terminated,
as the capacity provider's system log tells it, on the lanes of the environments it hosts (off
the lane when it happened outside the view: an instance launched days before the run).
"""

import math

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from tui.screen.widgets.timeview import TimeView, axis_text, frame

DENSITY = " ▁▂▃▄▅▆▇█"
COLD_MARK = "◆"
RETIRED_MARK = "✕"
LAUNCH_MARK = "↑"
TERMINATE_MARK = "↓"


def instance_marks(fleet, c) -> tuple[float | None, float | None] | None:
    """(launched, terminated) times of `c`'s EC2 instance from the system log, or None."""
    host_of = getattr(fleet, "host_of", None)
    if host_of is None or not getattr(fleet, "instances", None):
        return None
    inst = host_of(c)[1]
    if inst is None:
        return None
    launched = inst.launched_at if inst.launched_at is not None else inst.launching_at
    gone = inst.terminated_at if inst.terminated_at is not None else inst.terminating_at
    return launched, gone


def density_level(n: int) -> int:
    """0 for none, then one level per doubling: 1, 2-3, 4-7, … 128+ -> 1 … 8."""
    return 0 if n <= 0 else min(8, n.bit_length())


def density_scale() -> list[tuple[int, str]]:
    """(level, smallest count) for the legend: (1, '1'), (2, '2'), … (8, '128+')."""
    return [(lv, str(1 << (lv - 1)) + ("+" if lv == 8 else "")) for lv in range(1, 9)]


def lane_chars(counts: list[int]) -> str:
    return "".join(DENSITY[0 if n <= 0 else (8 if n >= 128 else n.bit_length())] for n in counts)


def scaled_level(n: int, top: int) -> int:
    """0 for none; else 1..8 on a log2 scale whose top is `top` (the busiest visible column),
    so a lane at 1,000 req/s is not all █ and one at 3 req/s is not all ▁."""
    if n <= 0:
        return 0
    if top <= 128:
        return min(8, n.bit_length())
    return max(1, min(8, math.ceil(8 * math.log2(1 + n) / math.log2(1 + top))))


def cold_column(counts: list[int], x: int | None) -> int | None:
    """Where the ◆ goes: the cold start is the environment's first invocation, so nothing of the
    lane may come before it. The column of its time, or the lane's first bar if that is earlier
    (its column comes from the frame's seconds, the bars from the model's millisecond buckets: two
    roads that must never disagree on screen)."""
    if x is None:
        return None
    first = next((i for i in range(x) if counts[i]), None) if x <= len(counts) else None
    return x if first is None else first


def scaled_chars(counts: list[int], top: int) -> str:
    return "".join(DENSITY[scaled_level(n, top)] for n in counts)


def scale_text(top: int) -> str:
    """The legend's scale: '▁1 ▂2 … █128+' up to 128 a column, else the smallest count at three
    levels and the top: '▁1+ ▄14+ █509+ (top 1,239)'."""
    if top <= 128:
        return " ".join(f"{DENSITY[level]}{n}" for level, n in density_scale())
    marks = []
    for level in (1, 4, 8):
        n = next(k for k in range(1, top + 1) if scaled_level(k, top) >= level)
        marks.append(f"{DENSITY[level]}{n:,}+")
    return " ".join(marks) + f" (top {top:,})"


def lane_counts(timeline, first: int, n: int, per: int) -> list[int]:
    """n columns of `per` buckets from bucket `first`: the model's `counts` when it has one,
    else summed from its ring window (absolute bucket indexes)."""
    counts = getattr(timeline, "counts", None)
    if counts is not None:
        return counts(first, n, per)
    if n <= 0:
        return []
    raw = timeline.window(first + n * per - 1, n * per)
    return raw if per == 1 else [sum(raw[i * per : (i + 1) * per]) for i in range(n)]


def model_time(fleet) -> tuple[float, float, float | None]:
    """(origin, bucket_s, run_start) of the fleet's timeline: bucket 0's epoch s (0 when bucket
    indexes are absolute), the bucket width, and the run's first event (None before any)."""
    origin = getattr(fleet, "origin", None)
    # The earliest thing any container saw (a record may arrive after a later one).
    start = min((c.first_seen for c in fleet.containers.values()), default=None)
    return (origin if origin is not None else 0.0), fleet.bucket_s, start


class TimelineLanes(Widget):
    """Lanes for the rows of a `ContainerTable`; call `follow(table)` once, `set_frame` each tick.

    Each tick: the view (`TimeView`) becomes a `Frame` of buckets; the visible lanes' counts give
    the density scale's top (so the scale fits the data); lanes are cached per container until
    its invocations, colour, marks or the frame change."""

    DEFAULT_CSS = """
    TimelineLanes { width: 1fr; height: 1fr; min-width: 10; }
    TimelineLanes > .lanes--axis { text-style: bold; }
    """
    COMPONENT_CLASSES = {"lanes--axis"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._table = None
        self._fleet = None
        self._colour_of = lambda c: ""
        self._retired: dict[str, float] = {}
        self.view = TimeView()
        self.frame = None
        self.top = 1
        self._now = 0.0
        self._run_start = None
        self._cache: dict[str, tuple] = {}
        self._cache_key: tuple | None = None
        self._counts: dict[str, tuple] = {}  # container id -> (invocations, this frame's columns)
        self.rendered_lanes = 0  # lanes rendered (not served from cache), for the benchmark

    def follow(self, table) -> None:
        """Align with `table`: its row order, its vertical scroll."""
        self._table = table
        self.watch(table, "scroll_y", lambda _old, _new: self.refresh(), init=False)

    def set_frame(self, fleet, now: float, colour_of, retired_at: dict | None = None) -> None:
        """The fleet, the clock, `colour_of(container) -> colour`, and the retired containers'
        time of retirement (a ✕ marks it in their lane)."""
        self._fleet = fleet
        self._now = now
        self._colour_of = colour_of
        self._retired = retired_at or {}
        origin, bucket_s, self._run_start = model_time(fleet)
        self.frame = frame(
            self.view, self.size.width or 1, origin=origin, bucket_s=bucket_s, run_start=self._run_start, now=now
        )
        self.top = self._visible_top()
        self.refresh()

    def set_view(self, view: TimeView) -> None:
        self.view = view

    def _visible_top(self) -> int:
        f, fleet = self.frame, self._fleet
        if f is None or fleet is None or self._table is None or not f.columns:
            return 1
        order, top = self._table.order, 1
        start = self.top_row
        self._counts = {}
        for cid in order[start : start + max(0, self.size.height - 1)]:
            c = fleet.containers.get(cid)
            if c is not None and c.invocations:
                top = max(top, max(self._lane_counts(c), default=0))
        return top

    def _lane_counts(self, c) -> list[int]:
        """This frame's columns for `c`, computed once (for the scale's top, then the lane)."""
        hit = self._counts.get(c.container_id)
        if hit is None or hit[0] != c.invocations:
            f = self.frame
            hit = self._counts[c.container_id] = (c.invocations, lane_counts(c.timeline, f.first, f.columns, f.per))
        return hit[1]

    @property
    def top_row(self) -> int:
        return int(self._table.scroll_y) if self._table is not None else 0

    def lane_index(self, y: int) -> int | None:
        """The table row drawn on line `y` of this widget (None for the axis)."""
        return None if y == 0 else self.top_row + y - 1

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        fleet, f = self._fleet, self.frame
        if y == 0:
            text = "" if f is None else axis_text(f, width, run_start=self._run_start, now=self._now)
            return Strip([Segment(text.ljust(width), base + self.get_component_rich_style("lanes--axis"))], width)
        idx = self.lane_index(y)
        order = self._table.order if self._table is not None else []
        if fleet is None or f is None or idx is None or idx >= len(order):
            return Strip.blank(width, base)
        cid = order[idx]
        c = fleet.containers.get(cid)
        if c is None:
            return Strip.blank(width, base)
        key = (f, width, self.top)
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        colour = self._colour_of(c)
        retired = self._retired.get(cid)
        host_marks = instance_marks(fleet, c)
        stamp = (c.invocations, colour, c.cold_at, retired, host_marks)
        hit = self._cache.get(cid)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        strip = self._lane(c, width, base, colour, retired, host_marks)
        self._cache[cid] = (stamp, strip)
        self.rendered_lanes += 1
        return strip

    def _lane(
        self, c, width: int, base: Style, colour: str, retired: float | None, host_marks: tuple | None = None
    ) -> Strip:
        f = self.frame
        chars = list(scaled_chars(self._lane_counts(c), self.top))
        style = base + Style(color=colour) if colour else base
        marks: dict[int, tuple[str, Style]] = {}
        if host_marks is not None:  # under the environment's own marks: those say more about it
            for t, mark, tint in ((host_marks[0], LAUNCH_MARK, "green"), (host_marks[1], TERMINATE_MARK, "red")):
                x = f.column_of(t) if t is not None else None
                if x is not None:
                    marks[x] = (mark, base + Style(color=tint, bold=True))
        x = cold_column(self._lane_counts(c), f.column_of(c.cold_at))
        if x is not None:
            marks[x] = (COLD_MARK, style + Style(bold=True))
        if retired is not None:
            x = f.column_of(retired)
            if x is not None:
                x = min(x + 1, f.columns - 1) if x + 1 < f.columns else x
                marks[x] = (RETIRED_MARK, base + Style(color="yellow", bold=True))
        segments, run = [], []
        last = f.columns - 1 if f.partial_last() else None
        dim = style + Style(dim=True)
        for i, ch in enumerate(chars):
            if i in marks or i == last:
                if run:
                    segments.append(Segment("".join(run), style))
                    run = []
                segments.append(Segment(*marks[i]) if i in marks else Segment(ch, dim))
            else:
                run.append(ch)
        if run:
            segments.append(Segment("".join(run), style))
        return Strip(segments).extend_cell_length(width, base)

    # Scrolling over the lanes scrolls the table (and so the lanes).
    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self._table is not None:
            self._table.scroll_down()
            event.stop()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self._table is not None:
            self._table.scroll_up()
            event.stop()

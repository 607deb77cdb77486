"""The timeline beside the container table: one lane per container, time running left to right.

Row-aligned with the table by construction: lane `i` is the table's row `i` (its `order`), and
the first visible lane is the table's first visible row (its `scroll_y`). Line 0 is the time
axis, level with the table's header. Only visible lanes are rendered (the Line API), so 1,000
containers cost what 40 do. Each column is one bucket of the fleet's timeline; the character
is the invocation count in that bucket on a log2 scale, coloured by host; ◆ marks the cold start.
"""

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

DENSITY = " ▁▂▃▄▅▆▇█"
COLD_MARK = "◆"


def density_level(n: int) -> int:
    """0 for none, then one level per doubling: 1, 2-3, 4-7, … 128+ -> 1 … 8."""
    return 0 if n <= 0 else min(8, n.bit_length())


def density_scale() -> list[tuple[int, str]]:
    """(level, smallest count) for the legend: (1, '1'), (2, '2'), … (8, '128+')."""
    return [(lv, str(1 << (lv - 1)) + ("+" if lv == 8 else "")) for lv in range(1, 9)]


def lane_chars(counts: list[int]) -> str:
    return "".join(DENSITY[0 if n <= 0 else (8 if n >= 128 else n.bit_length())] for n in counts)


def cold_column(cold_at: float | None, bucket_s: float, last_bucket: int, width: int) -> int | None:
    """The column of the cold start in a window of `width` buckets ending at `last_bucket`."""
    if cold_at is None:
        return None
    x = int(cold_at // bucket_s) - (last_bucket - width + 1)
    return x if 0 <= x < width else None


def fmt_age(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"-{s}s"
    if s < 3600:
        return f"-{s // 60}m" if s % 60 == 0 else f"-{s // 60}m{s % 60:02d}"
    return f"-{s // 3600}h{s % 3600 // 60:02d}"


def axis_text(width: int, bucket_s: float, step: int = 10) -> str:
    """The time axis: 'now' at the right edge, a label every `step` columns ending on its tick."""
    if width <= 0:
        return ""
    chars = [" "] * width
    now = "now"
    if width >= len(now):
        chars[width - len(now):] = now
    free_until = width - len(now) - 1  # labels must end left of this column
    x = width - 1 - step
    while x >= 0:
        label = fmt_age((width - 1 - x) * bucket_s)
        start = x - len(label) + 1
        if start >= 0 and x < free_until:
            chars[start:x + 1] = label
            free_until = start - 1
        x -= step
    return "".join(chars)


class TimelineLanes(Widget):
    """Lanes for the rows of a `ContainerTable`; call `follow(table)` once, `set_frame` each tick."""

    DEFAULT_CSS = """
    TimelineLanes { width: 1fr; height: 1fr; min-width: 10; }
    TimelineLanes > .lanes--axis { text-style: bold; }
    """
    COMPONENT_CLASSES = {"lanes--axis"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._table = None
        self._fleet = None
        self._last_bucket = 0
        self._colour_of = lambda c: ""
        self._cache: dict[str, tuple] = {}
        self._cache_key: tuple | None = None
        self.rendered_lanes = 0  # lanes rendered (not served from cache), for the benchmark

    def follow(self, table) -> None:
        """Align with `table`: its row order, its vertical scroll."""
        self._table = table
        self.watch(table, "scroll_y", lambda _old, _new: self.refresh(), init=False)

    def set_frame(self, fleet, last_bucket: int, colour_of) -> None:
        """The fleet, the newest bucket (the right edge) and `colour_of(container) -> colour`."""
        self._fleet = fleet
        self._last_bucket = last_bucket
        self._colour_of = colour_of
        self.refresh()

    @property
    def top_row(self) -> int:
        return int(self._table.scroll_y) if self._table is not None else 0

    def lane_index(self, y: int) -> int | None:
        """The table row drawn on line `y` of this widget (None for the axis)."""
        return None if y == 0 else self.top_row + y - 1

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        fleet = self._fleet
        if y == 0:
            bucket_s = fleet.bucket_s if fleet is not None else 1.0
            return Strip([Segment(axis_text(width, bucket_s), base + self.get_component_rich_style("lanes--axis"))],
                         width)
        idx = self.lane_index(y)
        order = self._table.order if self._table is not None else []
        if fleet is None or idx is None or idx >= len(order):
            return Strip.blank(width, base)
        cid = order[idx]
        c = fleet.containers.get(cid)
        if c is None:
            return Strip.blank(width, base)
        key = (self._last_bucket, width)
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        colour = self._colour_of(c)
        stamp = (c.invocations, colour, c.cold_at)
        hit = self._cache.get(cid)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        strip = self._lane(c, width, base, colour)
        self._cache[cid] = (stamp, strip)
        self.rendered_lanes += 1
        return strip

    def _lane(self, c, width: int, base: Style, colour: str) -> Strip:
        chars = lane_chars(c.timeline.window(self._last_bucket, width))
        style = base + Style(color=colour) if colour else base
        x = cold_column(c.cold_at, c.timeline.width, self._last_bucket, width)
        if x is None:
            return Strip([Segment(chars, style)], width)
        cold = style + Style(bold=True)
        return Strip([Segment(chars[:x], style), Segment(COLD_MARK, cold), Segment(chars[x + 1:], style)], width)

    # Scrolling over the lanes scrolls the table (and so the lanes).
    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self._table is not None:
            self._table.scroll_down()
            event.stop()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self._table is not None:
            self._table.scroll_up()
            event.stop()

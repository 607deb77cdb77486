"""The container table: one keyed row per log stream, changed cells only.

Rows are keyed by the stream name. Each screen tick the app hands over the fleet's diff; the
table adds new rows, removes retired ones, re-sorts when the order may have changed, and for the
rows on screen recomputes the cell text (state moves with the clock alone) and calls
`update_cell` only where the text differs. Its row order (`order`) is the truth the timeline
beside it follows. Formatting is in pure functions above the widget.

The first column marks (◌) a container the responses reported and the logs have not confirmed
yet: its log stream has shown none of its invocations. (Under load every container has a few
invocations in the log channel's lag; the header counts those.)
"""

import re

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui.core.fleet import Container, Diff, Fleet

# (key, label, width, right-aligned)
COLUMNS = [
    ("log", "", 1, False),
    ("id", "id", 8, False),
    ("wave", "wave", 4, True),
    ("host", "host", 15, False),
    ("az", "az", 10, False),
    ("cpu", "cpu", 15, False),
    ("inv", "inv", 7, True),
    ("err", "err", 5, True),
    ("conc", "now/max", 7, True),
    ("init", "init", 5, False),
    ("cold", "cold", 9, False),
    ("first", "first", 7, True),
    ("last", "last", 7, True),
    ("state", "state", 8, False),
]
COLUMN_KEYS = [c[0] for c in COLUMNS]
_RIGHT = {c[0] for c in COLUMNS if c[3]}
_WIDTH = {c[0]: c[2] for c in COLUMNS}
_HOST_I = COLUMN_KEYS.index("host")
HOST_KEY_LABELS = {
    "hostname": "host",
    "boot_id": "host (boot id)",
    "cpu_model": "host (cpu)",
    "instance_id": "host (instance)",
}
UNCONFIRMED_MARK = "◌"
SORTS = ("first", "invocations", "host")
STATE_STYLE = {
    "busy": "bold green",
    "idle": "",
    "gone": "dim",
    "retired": "bold yellow",
    "pre-init": "dim",
    "init…": "dim",
}
STATE_LABEL = {"pre-initialised": "pre-init"}  # the column is 8 wide
INIT_GRACE_S = 10.0  # Lambda's init limit: an environment initialising this recently may still serve
# Columns a narrower terminal drops, widest-first: (terminal width below which, columns).
NARROW = [(150, ("cpu",)), (100, ("first", "last", "cold", "az"))]
# Columns of today's Lambda (issue 10), shown only when some environment needs them: requests at
# once (now/max) when one ran more than one at a time (Managed Instances); the init type when one
# is not on-demand (SnapStart, provisioned concurrency, Managed Instances); the host's AZ when the
# capacity provider's system log gave one (Managed Instances; below 100 columns the legend has it);
# function errors (REPORT Status error/timeout, a crash) when some environment had one.
OPTIONAL = ("conc", "init", "az", "err")
# Cells kept drawn (ContainerTable._render_cell): a few screens' worth, cleared when full.
MAX_DRAWN_CELLS = 20_000
INIT_LABEL = {"provisioned-concurrency": "prov", "snap-start": "snap", "lambda-managed-instances": "lmi"}


def _peak(c) -> int:
    """Most requests seen at once, counting the ones running now (the model closes a peak at
    REPORT; Managed Instances' requests may all still be running)."""
    return max(getattr(c, "peak_concurrency", 0) or 0, getattr(c, "concurrency", 0) or 0)


def host_zone(fleet, c) -> str:
    """The AZ of `c`'s host where the capacity provider's system log gave one, else ''; a host
    placed by a guess says so with '?'."""
    host_of = getattr(fleet, "host_of", None)
    if host_of is None or not getattr(fleet, "instances", None):
        return ""
    _, inst, evidence = host_of(c)
    zone = getattr(inst, "availability_zone", None) or ""
    return zone + "?" if zone and "guess" in evidence else zone


def optional_columns(fleet) -> frozenset:
    """Which OPTIONAL columns this fleet needs (one pass over its containers)."""
    need = set()
    if any(getattr(i, "availability_zone", None) for i in getattr(fleet, "instances", {}).values()):
        need.add("az")
    for c in fleet.containers.values():
        # An on-demand environment runs one request at a time: an apparent overlap there is two
        # lines' clocks, not concurrency. Only a multi-concurrency environment earns the column.
        multi = (getattr(c, "max_concurrency", None) or 0) > 1 or c.init_type == "lambda-managed-instances"
        if multi and _peak(c) > 1:
            need.add("conc")
        if c.init_type not in (None, "on-demand"):
            need.add("init")
        if getattr(c, "errors", 0):
            need.add("err")
        if len(need) == len(OPTIONAL):
            break
    return frozenset(need)


def columns_for(width: int, host_key: str = "hostname", optional: frozenset = frozenset()) -> list[str]:
    """The column keys shown at a terminal `width`: all at 150+; no cpu below (the host column
    shows it when the host key is the CPU model, so never twice); no first/last/cold below 100
    (the lane's ◆ still marks the cold start), so the wave, the state and the timeline keep
    their room."""
    drop = {"cpu"} if host_key == "cpu_model" else set()
    drop.update(k for k in OPTIONAL if k not in optional)
    for below, cols in NARROW:
        if width < below:
            drop.update(cols)
    return [k for k in COLUMN_KEYS if k not in drop]


def short_id(container_id: str) -> str:
    """'2026/11/27/[$LATEST]0f5b29cc…' -> '0f5b29cc'."""
    tail = container_id.rsplit("]", 1)[-1] if "]" in container_id else container_id.rsplit("/", 1)[-1]
    return (tail or container_id)[:8]


_CPU_NOISE = re.compile(r"\((R|TM|tm|r)\)|\bCPU\b|\bProcessor\b|\bIntel\b|\bAMD\b|\bwith .*$")


def short_cpu(model: str) -> str:
    """'Intel(R) Xeon(R) CPU E5-2666 v3 @ 2.90GHz' -> 'Xeon E5-2666 v3';
    'Intel(R) Xeon(R) Processor @ 2.50GHz' -> 'Xeon 2.50GHz' (the clock is all that tells it)."""
    if not model:
        return ""
    text = _CPU_NOISE.sub(" ", model)
    name, _, clock = text.partition("@")
    words = name.split()
    if len(words) <= 1 and clock.strip():
        words.append(clock.strip())
    return " ".join(words) or model


def fmt_offset(t: float | None, origin: float | None) -> str:
    """Seconds since the run began: '+4.2s', '+12:34', '+1h02m'."""
    if t is None or origin is None:
        return ""
    s = max(0.0, t - origin)
    if s < 100:
        return f"+{s:.1f}s"
    if s < 3600:
        return f"+{int(s // 60)}:{int(s % 60):02d}"
    return f"+{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def fmt_cold(c: Container) -> str:
    """'' (warm), 'cold', '182ms', '2×182ms'; '!' when the cold signals disagree."""
    n = c.cold_starts
    if not n:
        return ""
    init = c.init_duration_ms if c.init_duration_ms is not None else c.restore_duration_ms
    text = "cold" if init is None else f"{init:.0f}ms"
    if n > 1:
        text = f"{n}×{text}"
    return ("!" + text) if c.cold_signals_disagree else text


def host_label(host: str, host_key: str) -> str:
    """How a host key value reads on screen: CPU models shortened, the rest as they are."""
    return short_cpu(host) if host_key == "cpu_model" else host


def is_pre_initialized(c) -> bool:
    """Initialised and never invoked (Lambda warms environments ahead of requests): not a cold
    start, not a host, never ◌. The model's own flag when it has one."""
    flag = getattr(c, "pre_initialized", None)
    return bool(flag) if flag is not None else (c.invocations == 0 and c.init_starts > 0)


def row_cells(
    c: Container,
    state: str,
    host: str,
    origin: float | None,
    host_key: str = "hostname",
    wave: int | None = None,
    zone: str = "",
    note: str = "",
) -> list[str]:
    """The plain text of one row, in COLUMNS order. ◌ only for a container the responses
    reported and the logs have not shown an invocation of yet."""
    pre = is_pre_initialized(c)
    return [
        UNCONFIRMED_MARK if c.confirmed == 0 and c.invocations > 0 else "",
        short_id(c.container_id),
        "" if wave is None else str(wave + 1),
        "–"
        if pre and host == "?"
        else (note if host == "?" and note else host_label(host, host_key))[: _WIDTH["host"]],
        zone[: _WIDTH["az"]],
        (short_cpu(c.cpu_model) or note)[: _WIDTH["cpu"]],  # note: "no extension" (Fleet.host_note)
        f"{c.invocations:,}",
        f"{c.errors:,}" if getattr(c, "errors", 0) else "",
        f"{getattr(c, 'concurrency', 0)}/{_peak(c)}",
        INIT_LABEL.get(getattr(c, "init_type", None) or "", ""),
        "" if pre else fmt_cold(c),  # its init was not a cold start: no request waited for it
        fmt_offset(c.first_seen, origin),
        fmt_offset(c.last_seen, origin),
        STATE_LABEL.get(state, state),
    ]


def sorted_rows(fleet: Fleet, sort: str, host_key: str) -> list[Container]:
    """The table's order. "host" groups the containers by host, hosts in the legend's order
    (first appearance), each group by first request; the others are the fleet's orders."""
    if sort != "host":
        # Pre-initialised environments after the serving ones, whatever the model's order.
        return sorted(fleet.ordered(sort), key=is_pre_initialized)
    by_first = sorted(fleet.ordered("first"), key=is_pre_initialized)
    rank: dict[str, int] = {}
    for c in by_first:
        rank.setdefault(c.host_key(host_key), len(rank))
    return sorted(by_first, key=lambda c: (is_pre_initialized(c), rank[c.host_key(host_key)]))  # stable


def row_detail(c, state: str, why: str | None = None, fleet=None) -> str:
    """One line about a container for the status line (Enter or a click on its row): what the
    table has no room for. Fields the model lacks are left out."""
    parts = [short_id(c.container_id), state + (f" ({why})" if why else "")]
    if c.hostname:
        parts.append(f"host {c.hostname}")
    host_of = getattr(fleet, "host_of", None)
    iid, inst, evidence = host_of(c) if host_of is not None else (getattr(c, "instance_id", None), None, "")
    if iid:  # an EC2 host (Managed Instances): which evidence placed it there, a guess said so
        kind = getattr(c, "instance_type", None) or getattr(inst, "instance_type", None)
        zone = getattr(inst, "availability_zone", None)
        facts = ", ".join(x for x in (kind, zone) if x)
        parts.append(f"instance {iid}" + (f" ({facts})" if facts else "") + (f" from {evidence}" if evidence else ""))
    if getattr(c, "boot_id", ""):
        parts.append(f"boot {c.boot_id[:12]}")
    if c.cpu_model:
        cpu = short_cpu(c.cpu_model)
        mhz, bogo = getattr(c, "cpu_mhz", 0) or 0, getattr(c, "bogomips", 0) or 0
        parts.append(cpu + (f" {mhz:,.0f} MHz" if mhz else "") + (f" {bogo:,.0f} bogomips" if bogo else ""))
    mem = getattr(c, "max_memory_mb", None)
    if mem:
        parts.append(f"max memory {mem:.0f} MB")
    errors = getattr(c, "errors", 0)
    if errors:
        parts.append(f"{errors} errors ({getattr(c, 'timeouts', 0)} timeouts)")
    parts.append(f"stream {c.container_id}")
    return " · ".join(parts)


class _KeyText(Text):
    """The id cell remembers its row key, so a sort by any order is one public `sort` call."""

    def __init__(self, text: str, row_key: str, **kwargs) -> None:
        super().__init__(text, **kwargs)
        self.row_key = row_key


class ContainerTable(DataTable):
    """A DataTable fed by fleet diffs. `order` is its row order, top to bottom.

    Rows are added and removed as the diff says. Cell text is computed for the rows on screen
    only, each tick and when the table scrolls, and `update_cell` is called for the cells whose
    text changed. An off-screen row keeps what it last showed until it scrolls into view, so a
    tick costs what the visible rows changed, not what 1,000 busy containers changed.

    Drawing keeps to that too. DataTable keys its rendered cells on one table-wide update count,
    so a single `update_cell` re-renders every cell on screen through Rich (~800 at 200x60): at
    1,000 environments held 2 s that was a quarter of the monitor's main thread. `_render_cell`
    here keys each cell on its own version, bumped where the text changes, so a redraw renders
    the cells that changed and reuses the rest (`renders` counts the Rich renders).
    """

    DEFAULT_CSS = """
    ContainerTable { width: auto; max-width: 75%; height: 1fr; overflow-x: auto;
                     scrollbar-size-vertical: 1; scrollbar-background: $panel; scrollbar-color: $accent 60%; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", cell_padding=1, **kwargs)
        self.order: list[str] = []
        self._shown: dict[str, tuple[list[str], str]] = {}  # row key -> (cell texts, host colour)
        self._frame = None  # (fleet, now, colour_of) of the last tick, for scrolling between ticks
        self.host_key = "hostname"
        self.sort_by = "first"
        self._resort = False
        self.updates = 0  # update_cell calls made, for tests and the benchmark
        self._optional: frozenset = frozenset()  # OPTIONAL columns this fleet needs
        self._width = 200
        self.shown_columns: list[str] = columns_for(self._width)
        self._col_i: list[int] = [COLUMN_KEYS.index(k) for k in self.shown_columns]  # shown -> row_cells index
        self._versions: dict[tuple[str, str], int] = {}  # (row key, column key) -> bumped on update_cell
        self._drawn: dict[tuple, object] = {}  # a cell's render, keyed by its version (_render_cell)
        self.renders = 0  # cells rendered through Rich, for tests and the benchmark

    def on_mount(self) -> None:
        self._add_columns()
        self.watch(self, "scroll_y", lambda _old, _new: self.sync_visible(), init=False)

    def _add_columns(self) -> None:
        for key, label, width, right in COLUMNS:
            if key in self.shown_columns:
                if key == "host":
                    label = HOST_KEY_LABELS.get(self.host_key, self.host_key)
                self.add_column(Text(label, justify="right" if right else "left"), width=width, key=key)

    def fit_columns(self, terminal_width: int) -> None:
        """Show the columns for this terminal width (`columns_for`); rebuilds only on a change."""
        self._width = terminal_width
        wanted = columns_for(terminal_width, self.host_key, self._optional)
        if wanted == self.shown_columns:
            return
        self.shown_columns = wanted
        self._col_i = [COLUMN_KEYS.index(k) for k in wanted]
        y = self.scroll_y
        self._drawn.clear()
        self.clear(columns=True)
        self._add_columns()
        for cid in self.order:
            cells, style = self._shown[cid]
            self.add_row(*self._cells(cid, cells, style), key=cid)
        self.scroll_y = y

    def reset(self) -> None:
        """No rows (a replay's seek back rebuilds the model from its start)."""
        self.clear()
        self.order = []
        self._shown = {}
        self._frame = None
        self._drawn.clear()

    def _cells(self, cid: str, cells: list[str], style: str) -> list[Text]:
        return [self._cell(cid, COLUMN_KEYS[i], cells[i], style) for i in self._col_i]

    def on_resize(self) -> None:
        self.sync_visible()

    # ---- settings -----------------------------------------------------------------------
    def set_host_key(self, host_key: str) -> None:
        self.host_key = host_key
        self._resort = True  # sorted by host, the order changes with the key
        column = self.columns.get("host")  # type: ignore[call-overload]
        if column is not None:
            column.label = Text(HOST_KEY_LABELS.get(host_key, host_key))
            self.refresh()
        if self.is_mounted:
            self.fit_columns(self.app.size.width)  # keyed by CPU model, the cpu column goes

    # ---- the tick -----------------------------------------------------------------------
    def apply(self, fleet: Fleet, diff: Diff, now: float, colour_of, *, sort: str | None = None, story=None) -> None:
        """Bring the table up to date with `fleet`: rows added and removed as `diff` says, the
        order re-sorted when it may have changed, the visible rows' changed cells updated.
        `colour_of(host)` gives a host's colour. Call inside `App.batch_update()`."""
        resort = (sort is not None and sort != self.sort_by) or self._resort
        self._resort = False
        if sort is not None:
            self.sort_by = sort
        self._frame = (fleet, now, colour_of, story)
        optional = optional_columns(fleet) if diff.added or diff.changed else self._optional
        if optional != self._optional:  # e.g. the first environment serving two requests at once
            self._optional = optional
            self.fit_columns(self._width)
        for cid in diff.removed:
            if cid in self._shown:
                self.remove_row(cid)
                del self._shown[cid]
                self.order.remove(cid)
                for key in COLUMN_KEYS:
                    self._versions.pop((cid, key), None)
        for cid in diff.added:
            c = fleet.containers.get(cid)
            if c is None or cid in self._shown:
                continue
            cells, style = self._row(fleet, c, now, colour_of, story)
            self._shown[cid] = (cells, style)
            self.add_row(*self._cells(cid, cells, style), key=cid)
            self.order.append(cid)
        if resort or diff.added or diff.removed or (self.sort_by != "first" and diff.changed):
            self._reorder(fleet)
        self.sync_visible()

    def _row(self, fleet: Fleet, c: Container, now: float, colour_of, story=None) -> tuple[list[str], str]:
        host = c.host_key(self.host_key)
        if story is None:
            state, wave = fleet.state(c, now), None
        else:
            state, wave = story.state(c, now), story.wave_of.get(c.container_id)
        if state == "pre-initialised" and now - c.first_seen < INIT_GRACE_S:
            state = "init…"  # its first request may be on the way: not "never invoked" yet
        style = "dim" if is_pre_initialized(c) else colour_of(host)
        zone = host_zone(fleet, c) if "az" in self._optional else ""
        note = fleet.host_note(c)
        return row_cells(c, state, host, fleet.started_at, self.host_key, wave, zone, note), style

    def visible_rows(self) -> range:
        top = int(self.scroll_y)
        return range(top, min(len(self.order), top + self.size.height))

    def sync_visible(self) -> None:
        """update_cell, changed cells only, for the rows on screen."""
        if self._frame is None:
            return
        fleet, now, colour_of, story = self._frame
        order, containers = self.order, fleet.containers
        for i in self.visible_rows():
            cid = order[i]
            c = containers.get(cid)
            if c is None:
                continue
            cells, style = self._row(fleet, c, now, colour_of, story)
            shown, shown_style = self._shown[cid]
            if cells == shown and style == shown_style:
                continue
            for j in self._col_i:
                key = COLUMN_KEYS[j]
                if shown[j] != cells[j] or (j == _HOST_I and shown_style != style):
                    self.update_cell(cid, key, self._cell(cid, key, cells[j], style))
                    self._versions[cid, key] = self._versions.get((cid, key), 0) + 1
                    self.updates += 1
            self._shown[cid] = (cells, style)

    def _reorder(self, fleet: Fleet) -> None:
        wanted = [
            c.container_id for c in sorted_rows(fleet, self.sort_by, self.host_key) if c.container_id in self._shown
        ]
        if wanted != self.order:
            rank = {cid: i for i, cid in enumerate(wanted)}
            self.sort("id", key=lambda cell: rank.get(cell.row_key, len(rank)))
            self.order = wanted

    def _cell(self, cid: str, key: str, value: str, host_style: str) -> Text:
        if key == "id":
            return _KeyText(value, cid)
        style = ""
        if key == "host":
            style = host_style
        elif key == "state":
            style = STATE_STYLE.get(value, "")
        elif key == "log":
            style = "yellow"
        elif key == "cold":
            style = "bold magenta" if not value.startswith("!") else "bold red"
        return Text(value, style=style, justify="right" if key in _RIGHT else "left")

    # ---- drawing ------------------------------------------------------------------------
    def _render_cell(self, row_index, column_index, base_style, width, cursor=False, hover=False):
        """DataTable's cell render, cached per cell version (see the class doc). The key holds
        what the drawn cell depends on: the row and column, the row's place (DataTable puts it in
        the cell's style meta), the style, the width, cursor and hover, and the focus state."""
        if row_index < 0 or column_index < 0:  # the header row, the row labels: as DataTable does
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cell = self.coordinate_to_cell_key(Coordinate(row_index, column_index))
        cid, column = cell.row_key.value, cell.column_key.value
        key = (
            cid,
            column,
            self._versions.get((cid, column), 0),
            row_index,
            base_style,
            width,
            cursor,
            hover,
            self.has_focus,
            getattr(self, "_show_hover_cursor", None),
        )
        drawn = self._drawn.get(key)
        if drawn is None:
            if len(self._drawn) >= MAX_DRAWN_CELLS:
                self._drawn.clear()  # a bound, not an LRU: a full screen is ~800 cells
            drawn = self._drawn[key] = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self.renders += 1
        return drawn

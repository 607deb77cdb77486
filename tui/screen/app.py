"""The live monitor: wiring only. Collaborators come in through the constructor.

Producers are workers: one per log source (parse a batch, post `LogBatch`) and one for the load
generator's stream (`OutcomeBatch`). Each waits when the app has not applied its last few
batches (back-pressure). The message handlers apply batches to the fleet model, the one writer.
A timer redraws at a fixed rate from the model's diff (`refresh_view`); nothing redraws per
event. Keys change the load (through the injected controller), the view (host key, sort) or
write a snapshot; `q` stops the load and closes the sources before the app exits. The keys are
listed in keys.py; those that steer the load live in load_keys.py, the snapshot's in snapshot_keys.py.
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence

from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.worker import Worker, WorkerState

from tui.core import findings
from tui.core.errors import one_line
from tui.core.events import LogSource
from tui.core.fleet import HOST_KEYS, Fleet
from tui.core.lambdalog import parse_events
from tui.core.load import LoadController, LoadState
from tui.core.target_info import TargetInfo
from tui.output.recording import replay_position
from tui.screen import keys
from tui.screen.help import HelpScreen
from tui.screen.load_keys import BACKLOG, LoadKeys
from tui.screen.messages import (
    LoadEnded,
    LoadFailed,
    LocalStartQueue,
    LogBatch,
    OutcomeBatch,
    SnapshotResult,
    SourceFailed,
)
from tui.screen.scrollbar import use_whole_cell_scroll_bars
from tui.screen.snapshot_keys import SnapshotKeys
from tui.screen.widgets import timeview
from tui.screen.widgets.containers import SORTS, ContainerTable, row_detail
from tui.screen.widgets.findings_panel import FindingsPanel
from tui.screen.widgets.header import MonitorHeader, header_text
from tui.screen.widgets.keybar import KeyBar, entries_from_bindings
from tui.screen.widgets.lanes import TimelineLanes, scale_text
from tui.screen.widgets.legend import HostLegend, HostPalette, host_zones, serving_hosts
from tui.screen.widgets.status import StatusLine, exit_summary

START_QUEUE_EVERY_S = 2.0  # the local Lambda's start queue changes on the scale of inits
PANEL_MIN_SIZE = (120, 30)  # the findings panel starts shown on a terminal at least this big


def panel_fits(size) -> bool:
    return size.width >= PANEL_MIN_SIZE[0] and size.height >= PANEL_MIN_SIZE[1]


def _stamped(message, generation: int, slots: asyncio.Semaphore):
    """A batch message with the producer's generation and the back-pressure slot it holds."""
    message.gen, message.slots = generation, slots
    return message


class MonitorApp(LoadKeys, SnapshotKeys, App):
    """The lambdascope screen.

    Args:
        target: what is being watched (header, snapshot `source`).
        load: the load generator controller (`tui.core.load.LoadController`), or None (logs only).
        load_state: the starting plan (`LoadState.from_plan`, the plan `load` was started with).
        sources: log sources (`tui.core.events.LogSource`), each read by its own worker.
        clock: epoch seconds; everything the screen shows is computed from it.
        fleet: the model to fill (a new `Fleet()` by default).
        snapshot_dir: where `s` writes its folders.
        refresh_hz: redraws per second.
        recorder: optional; gets every batch (`tui.output.recording.Recorder`).
        replay: the `tui.output.recording.Replay` being played, for its controls (pause, seek).
        when_ready: called once the first frame is on screen: `watch` starts the local Lambda
            and the load process then, and hands them over with `attach`.
    """

    CSS_PATH = "app.tcss"
    TITLE = "lambdascope"
    BINDINGS = keys.BINDINGS  # the one list of keys: key bar, help screen, command palette
    LOAD_ACTIONS, PLAN_ACTIONS, REPLAY_ACTIONS = keys.LOAD_ACTIONS, keys.PLAN_ACTIONS, keys.REPLAY_ACTIONS

    def __init__(
        self,
        *,
        target: TargetInfo,
        load: LoadController | None = None,
        load_state: LoadState | None = None,
        sources: Sequence[LogSource] = (),
        clock: Callable[[], float] = time.time,
        fleet: Fleet | None = None,
        snapshot_dir: str = "lambdascope-snapshots",
        refresh_hz: float = 5.0,
        recorder=None,
        replay=None,
        steering=None,
        when_ready: Callable[[], None] | None = None,
    ):
        super().__init__()
        use_whole_cell_scroll_bars()  # no thumb end that reads as timeline data (scrollbar.py)
        self.target = target
        self.load = load
        self.load_state = load_state or LoadState(controllable=load is not None)
        self.sources = list(sources)
        self.clock = clock
        self.fleet = fleet if fleet is not None else Fleet()
        self.snapshot_dir = snapshot_dir
        self.refresh_hz = refresh_hz
        self.recorder = recorder
        self.palette = HostPalette()
        self.host_key = HOST_KEYS[0]
        self.sort_by = SORTS[0]
        self.failures: dict[str, str] = {}  # source name -> why it stopped
        self.ticks = 0  # redraws so far
        self.events_applied = 0  # log events whose records reached the model
        self.last_snapshot: SnapshotResult | None = None
        self.snapshots: list[str] = []  # folders written, for the exit summary
        self._slots = {"log": asyncio.Semaphore(BACKLOG), "load": asyncio.Semaphore(BACKLOG)}
        self._panel_chosen = False  # the user pressed f: the size no longer decides
        self._generation = 0  # a replay's seek back starts a new one; older batches are dropped
        self.replay = replay
        self.steering = steering  # loadgen.steering.Steering with --plan: it drives the load
        self._when_ready = when_ready
        self._starting = when_ready is not None  # until attach(): the header says so
        self._stopped = False
        self._redrawing = True
        # The story changes on the scale of seconds: told again on a new environment, a new host
        # key or once a second of fleet time, never per redraw (at 1,000 environments a telling
        # is ~20 ms of a 200 ms redraw budget).
        self._teller = findings.Teller(every_s=1.0)

    # ---- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield MonitorHeader(id="header")
        with Horizontal(id="main"):
            yield ContainerTable(id="containers")
            yield TimelineLanes(id="timeline")
        yield FindingsPanel(id="findings")
        yield HostLegend(id="legend")
        yield StatusLine(id="status")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        # Held, not queried: the help screen may be on top when the timer fires.
        self.table = self.query_one(ContainerTable)
        self.timeline = self.query_one(TimelineLanes)
        self.status = self.query_one(StatusLine)
        self.header = self.query_one(MonitorHeader)
        self.legend = self.query_one(HostLegend)
        self.keybar = self.query_one(KeyBar)
        self.panel = self.query_one(FindingsPanel)
        self.panel.display = panel_fits(self.size)
        self.keybar.show(self.key_entries(), "^p commands")
        self.timeline.follow(self.table)
        self.table.fit_columns(self.size.width)
        self._start_producers()
        self.refresh_view()
        # Textual's timer: a fixed rate, and a tick that comes late (a busy loop, a busy machine)
        # is skipped rather than bursting. A failing redraw is a bug and ends the app with it.
        self._redraw_timer = self.set_interval(1 / self.refresh_hz, self._timed_redraw, name="redraw")

    def on_ready(self) -> None:
        if self._when_ready is not None:
            self._when_ready()

    def attach(
        self,
        *,
        target: TargetInfo,
        load: LoadController | None,
        sources: Sequence[LogSource],
        recorder=None,
        steering=None,
        start_queue: Callable[[], Awaitable] | None = None,
    ) -> bool:
        """What was started after the screen came up: the target, the load, the log sources (and
        the recorder, the ramp plan's steering, and on the local Lambda the read of this machine's
        start queue). False if the app has already stopped (the caller stops them itself)."""
        if self._stopped:
            return False
        self.target, self.load, self.sources, self.recorder = target, load, list(sources), recorder
        self._starting = False
        if steering is not None:
            self.steering = steering
        self._start_producers()
        if start_queue is not None:
            self.run_worker(self._pump_start_queue(start_queue), name="start queue", exit_on_error=False)
        self.refresh_view()
        return True

    def _start_producers(self) -> None:
        for src in self.sources:
            self.run_worker(
                self._pump_source(src), name=f"source {src.status.name}", group="sources", exit_on_error=False
            )
        if self.load is not None:
            self.run_worker(self._pump_load(), name="load", group="load", exit_on_error=False)

    def on_resize(self, event) -> None:
        if hasattr(self, "table"):  # a resize may come before the mount
            self.table.fit_columns(event.size.width)
            if not self._panel_chosen:  # until f says otherwise, the panel follows the size
                self.panel.display = panel_fits(event.size)

    # ---- producers (workers) ------------------------------------------------------------
    async def _pump_start_queue(self, read: Callable[[], Awaitable]) -> None:
        """The local Lambda's start queue, read every START_QUEUE_EVERY_S (a read that failed
        says nothing: the last one stands)."""
        while True:
            queue = await read()
            if queue is not None:
                self.post_message(LocalStartQueue(queue))
            await asyncio.sleep(START_QUEUE_EVERY_S)

    async def _pump_source(self, src: LogSource) -> None:
        name = src.status.name
        slots, gen = self._slots["log"], self._generation
        try:
            async for batch in src.batches():
                at = self.clock()
                if self.recorder is not None:
                    self.recorder.log_events(batch, at, name)
                records = parse_events(batch)
                await slots.acquire()
                self.post_message(_stamped(LogBatch(name, records, len(batch), at), gen, slots))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown in the header; the app goes on with the other channel
            self.post_message(SourceFailed(name, one_line(exc)))

    async def _pump_load(self) -> None:
        slots, gen = self._slots["load"], self._generation
        try:
            async for item in self.load.batches():
                at = self.clock()
                if self.recorder is not None:
                    self.recorder.outcomes(item.outcomes, item.stats, at)
                await slots.acquire()
                self.post_message(_stamped(OutcomeBatch(item.outcomes, item.stats, at), gen, slots))
            self.post_message(LoadEnded())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.post_message(LoadFailed(one_line(exc)))

    # ---- the one writer of the model ----------------------------------------------------
    def on_log_batch(self, message: LogBatch) -> None:
        try:
            if message.gen == self._generation:  # not from before a replay's seek back
                self.fleet.apply_records(message.records, message.at)
                self.events_applied += message.events
        finally:
            message.slots.release()

    def on_outcome_batch(self, message: OutcomeBatch) -> None:
        try:
            if message.gen == self._generation:
                self.fleet.apply_outcomes(message.outcomes, message.at)
                self.load_state.take(message.stats, message.at)  # the generator's figures and plan
        finally:
            message.slots.release()

    def on_local_start_queue(self, message: LocalStartQueue) -> None:
        self.fleet.start_queue = message.queue

    def on_source_failed(self, message: SourceFailed) -> None:
        self.failures[message.source] = message.error
        self.status.say(f"log source {message.source} stopped: {message.error}", error=True)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.status.say(f"load generator: {message.error}", error=True)

    def on_load_ended(self, message: LoadEnded) -> None:
        if self._stopped:
            return
        if self.replaying:
            self.status.say(
                "■ end of recording: ← goes back 10 s, q quits"
                if self.replay is not None and self.replay.clock.speed is not None
                else "■ end of recording (replay finished)"
            )
        else:
            self.status.say("the load generator stopped")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.status.say(f"{event.worker.name}: {one_line(event.worker.error)}", error=True)

    # ---- the fixed-rate redraw ----------------------------------------------------------
    def _timed_redraw(self) -> None:
        if self._redrawing and not self._stopped:
            self.refresh_view()

    def stop_redraw(self) -> None:
        """No more timed redraws (`refresh_view` still works): for tests that drive it."""
        self._redrawing = False

    def refresh_view(self) -> None:
        """Apply the model's diff to the widgets: changed cells only, one repaint. The story
        (findings, waves, retirements) comes from the teller, never per batch (states are live)."""
        now = self.clock()
        fleet = self.fleet
        diff = fleet.take_diff()
        colour = self.palette.colour
        host_key = self.host_key
        self.story = story = self._teller.story(fleet, now, host_key)
        hosts, pre = serving_hosts(fleet.ordered(), host_key)
        self.palette.assign(hosts)  # colours in the legend's order, before any row asks
        retired_at = {cid: fleet.containers[cid].last_seen for cid in story.retired if cid in fleet.containers}
        with self.batch_update():
            self.table.apply(fleet, diff, now, colour, sort=self.sort_by, story=story)
            self.timeline.set_frame(fleet, now, lambda c: colour(c.host_key(host_key)), retired_at)
            self.legend.show(
                hosts,
                self.palette,
                host_key,
                pre,
                scale_text(self.timeline.top),
                timeview.describe(self.timeline.frame),
                zones=host_zones(fleet, host_key),
                instances=len(getattr(fleet, "instances", ())),
            )
            if self.panel.display:
                self.panel.show(story.findings)
            stats = self.load_state.figures(now) if self.load is not None else None
            elapsed = None if fleet.started_at is None else max(0.0, now - fleet.started_at)
            load = self.load_state.describe()
            if self.steering is not None:
                self._steer(now)
                load = f"{load} · {self.steering.status(now)}"
            if self.replay is not None:
                load = f"{load}  {replay_position(self.replay.clock)}"
            note = getattr(self.load, "header_note", None)  # a fan-out's loaders, offsets, last change
            if note is not None:
                load = f"{load} · {note()}"
            self.header.show(
                header_text(
                    self.target,
                    load,
                    stats,
                    fleet,
                    [s.status for s in self.sources],
                    self.failures,
                    elapsed,
                    starting=self._starting,
                )
            )
        self.ticks += 1

    # ---- keys ---------------------------------------------------------------------------
    @property
    def replaying(self) -> bool:
        return self.target.kind == "replay"

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Which keys work here: no load keys in a replay, seeking only in one (elsewhere ← →
        go on to the table)."""
        if action in self.LOAD_ACTIONS and self.replaying:
            return False
        if action in self.PLAN_ACTIONS and self.steering is None:
            return False
        if action in self.REPLAY_ACTIONS and (self.replay is None or self.replay.clock.speed is None):
            return False  # played all at once, there is no time to move in
        return True

    def key_entries(self):
        """The keys that work in this mode, in BINDINGS order (bar, help, palette)."""
        return entries_from_bindings(self.BINDINGS, self.get_key_display, self.check_action)

    def get_system_commands(self, screen):
        """The command palette: lambdascope's own keys first, then Textual's (theme, quit…),
        without its screenshot (the snapshot key writes one, with the data)."""
        from textual.actions import parse

        for b in self.BINDINGS:
            _, action, params = parse(b.action)
            if b.show and self.check_action(action, params):
                yield SystemCommand(
                    f"{b.description} ({self.get_key_display(b)})",
                    b.tooltip or b.description,
                    lambda a=b.action: self.run_action(a),
                )
        for cmd in super().get_system_commands(screen):
            if cmd.title.lower() not in ("screenshot", "keys"):
                yield cmd

    # ---- view keys ----------------------------------------------------------------------
    def action_findings(self) -> None:
        self._panel_chosen = True
        self.panel.display = not self.panel.display
        self.status.say("findings panel shown" if self.panel.display else "findings panel hidden (f shows it)")
        self.refresh_view()

    def action_time(self, how: str) -> None:
        """The timeline's view: the whole run, zoom in/out, scroll back/forward, live."""
        lanes = self.timeline
        f, now = lanes.frame, self.clock()
        if f is None:
            return
        view = lanes.view
        if how == "fit":
            view = timeview.TimeView()
        elif how in ("in", "out"):
            view = timeview.zoom(view, f, 1 if how == "in" else -1, bucket_s=self.fleet.bucket_s)
        elif how in ("back", "forward"):
            half = max(1, lanes.size.width // 2)
            view = timeview.scroll(view, f, -half if how == "back" else half, now=now)
        elif how == "live":
            view = timeview.TimeView(timeview.LIVE, f.col_s)
        lanes.set_view(view)
        self.refresh_view()
        g = lanes.frame
        self.status.say(f"timeline: {g.mode}, {timeview.fmt_span(g.col_s)} per column")

    def on_data_table_row_selected(self, event) -> None:
        """Enter or a click on a row: its details (and why, when retired) in the status line."""
        cid = event.row_key.value if event.row_key is not None else None
        c = self.fleet.containers.get(cid)
        story = getattr(self, "story", None)
        if c is None or story is None:
            return
        self.status.say(row_detail(c, story.state(c, self.clock()), story.retired.get(cid), self.fleet))

    def action_host_key(self) -> None:
        keys = self.fleet.host_keys() if hasattr(self.fleet, "host_keys") else HOST_KEYS
        at = keys.index(self.host_key) if self.host_key in keys else -1
        self.host_key = keys[(at + 1) % len(keys)]
        self.palette.use(self.host_key)
        self.table.set_host_key(self.host_key)
        self.status.say(f"hosts keyed by {self.host_key}")
        self.refresh_view()

    def action_sort(self) -> None:
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]
        self.status.say(f"sorted by {self.sort_by}" if self.sort_by != "first" else "sorted by first request")
        self.refresh_view()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_entries()))

    def exit_summary(self) -> str:
        """Where this session's snapshots and recording went ('' when nowhere)."""
        path = getattr(self.recorder, "path", None)
        size = None
        if path:
            try:
                size = os.path.getsize(path)
            except OSError:
                pass
        return exit_summary(self.snapshots, path, size)

    async def action_quit(self) -> None:
        await self.finish_snapshots()
        self.status.say("stopping the load…")
        await self.shutdown()
        self.exit()

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the load, close the sources and the recorder. Safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        if self.load is not None:
            try:
                await asyncio.wait_for(self.load.stop(), timeout)
            except Exception as exc:  # the caller's own cleanup kills what did not stop
                self.log.error(f"stopping the load: {exc!r}")
        for src in self.sources:
            try:
                await asyncio.wait_for(src.close(), timeout)
            except Exception as exc:
                self.log.error(f"closing {src.status.name}: {exc!r}")
        self.workers.cancel_group(self, "sources")
        self.workers.cancel_group(self, "load")
        if getattr(self, "_redraw_timer", None) is not None:
            self._redraw_timer.stop()
        if self.recorder is not None:
            if self.steering is not None:
                self.recorder.plan(self.steering.to_dict(self.clock()), self.clock())
            self.recorder.close()

"""Pilot tests: each key, its effect on the model, the view and the (fake) load controller."""

import csv
import io
import json

from loadgen.plan import Plan
from tests.tui.fakes import SIZE, T0, Clock, FakeLoad, FakeSource, Traffic, make_app, until
from tui.core.load import LoadState
from tui.screen.help import HelpScreen
from tui.screen.widgets.containers import short_id
from tui.screen.widgets.header import MonitorHeader


def header(app) -> str:
    return app.query_one(MonitorHeader).text.plain


async def fill(pilot, load, source, traffic, n_containers=6, per=3):
    """Feed both channels: `per` invocations on each of `n_containers` containers."""
    outcomes, events = [], []
    for k in range(per):
        for i in range(n_containers):
            o, ev = traffic.invoke(i, T0 + k + i * 0.01)
            outcomes.append(o)
            events += ev
    load.feed(outcomes)
    source.feed(events)
    app = pilot.app
    await until(
        pilot,
        lambda: (
            app.fleet.counters.invocations == n_containers * per
            and all(c.unconfirmed == 0 for c in app.fleet.containers.values())
        ),
    )
    app.refresh_view()
    await pilot.pause()


async def test_plus_minus_and_large_steps_drive_the_load(tmp_path):
    load = FakeLoad()
    app = make_app(load=load, tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus")
        await until(pilot, lambda: load.calls)
        assert load.calls[-1] == Plan("closed", 11)  # the one command: a whole plan
        # The header shows what the generator reports running (its echo), not what was asked.
        await until(pilot, lambda: "closed loop: 11 concurrent" in header(app))
        await pilot.press("equals_sign", "minus", "minus")
        await until(pilot, lambda: len(load.calls) == 4)
        assert [p.level for p in load.calls] == [11, 12, 11, 10]
        await pilot.press("asterisk")
        await until(pilot, lambda: len(load.calls) == 5)
        assert load.calls[-1].level == 20
        await pilot.press("slash", "slash")
        await until(pilot, lambda: len(load.calls) == 7)
        assert load.calls[-1].level == 5
        assert "load: closed loop: 5 concurrent" in app.status.message
        await until(pilot, lambda: app.load_state.level == 5)


async def test_parentheses_step_the_hold_and_the_header_shows_it(tmp_path):
    load = FakeLoad()
    app = make_app(load=load, tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("right_parenthesis")
        await until(pilot, lambda: load.calls)
        assert load.calls[-1].hold_ms == 50 and load.calls[-1].level == 10  # the hold moved, not the level
        await until(pilot, lambda: "hold 50ms" in header(app))
        await pilot.press("right_parenthesis", "right_parenthesis", "left_parenthesis")
        await until(pilot, lambda: len(load.calls) == 4)
        assert [p.hold_ms for p in load.calls] == [50, 100, 250, 100]
        assert "hold" in app.status.message


async def test_the_header_shows_the_plan_the_generator_reports_not_the_one_asked_for(tmp_path):
    load = FakeLoad()
    app = make_app(load=load, tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        load.feed([], stats={"achieved_rps": 50.0, "plan": Plan("closed", 7).to_dict()})
        await until(pilot, lambda: app.load_state.running == Plan("closed", 7))
        app.refresh_view()
        assert "closed loop: 7 concurrent" in header(app)


async def test_minus_never_goes_below_one(tmp_path):
    load = FakeLoad()
    app = make_app(load=load, tmp_path=tmp_path, load_state=LoadState.from_plan(Plan("closed", 1)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("minus")
        assert load.calls[-1] == Plan("closed", 1)


async def test_m_switches_closed_and_open_loop_at_about_the_same_load(tmp_path):
    load, source, clock = FakeLoad(), FakeSource(), Clock(T0 + 3)
    app = make_app(load=load, sources=[source], clock=clock, tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        # No responses yet: the open loop starts at its default rate.
        assert load.calls[-1] == Plan("open", 100.0)
        await until(pilot, lambda: "open loop: 100 req/s" in header(app))
        await pilot.press("m")
        assert load.calls[-1] == Plan("closed", 10)
        # With responses, open loop starts a little under the achieved rate (it may be a ceiling).
        load.feed([], stats={"achieved_rps": 412.0, "p50_ms": 20.0, "in_flight": 10})
        await until(pilot, lambda: app.load_state.snapshot and app.load_state.snapshot.achieved_rps == 412.0)
        await pilot.press("m")
        assert load.calls[-1] == Plan("open", 330.0)
        await pilot.press("plus")
        assert load.calls[-1] == Plan("open", 400.0)


async def test_space_pauses_and_resumes(tmp_path):
    load = FakeLoad()
    app = make_app(load=load, tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        load.feed([], stats={"achieved_rps": 202.0, "p50_ms": 34.3, "p99_ms": 290.0, "in_flight": 10})
        await until(pilot, lambda: app.load_state.snapshot is not None)
        app.refresh_view()
        assert "202 req/s · in flight 10 · p50 34.3 ms" in header(app)
        await pilot.press("space")
        assert load.calls == [Plan("closed", 10, paused=True)]
        await until(pilot, lambda: app.load_state.paused)
        app.refresh_view()
        assert "PAUSED" in header(app)
        # No frozen figures while paused.
        assert " – req/s · in flight 10 · p50 – · p99 –" in header(app)
        await pilot.press("space")
        assert load.calls == [Plan("closed", 10, paused=True), Plan("closed", 10)]
        await until(pilot, lambda: not app.load_state.paused)
        app.refresh_view()
        assert "PAUSED" not in header(app) and "202 req/s" in header(app)


async def test_keys_without_a_load_generator_say_so_and_change_nothing(tmp_path):
    app = make_app(load=None, tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus", "m", "space")
        assert app.status.message == "no load generator to control here"
        assert app.load_state.level == 10 and not app.load_state.paused
        assert "watching the logs only" in header(app)


async def test_response_channel_fills_the_table_and_logs_confirm_it(tmp_path):
    load, source, clock = FakeLoad(), FakeSource(), Clock(T0 + 2)
    app = make_app(load=load, sources=[source], clock=clock, tmp_path=tmp_path)
    traffic = Traffic()
    async with app.run_test(size=SIZE) as pilot:
        o, events = traffic.invoke(0, T0 + 1)
        load.feed([o])
        await until(pilot, lambda: app.fleet.counters.invocations == 1)
        app.refresh_view()
        key = o.container_id
        assert app.table.get_cell(key, "log").plain == "◌"  # not in the logs yet
        assert app.table.get_cell(key, "inv").plain == "1"
        assert "◌ 1 not yet in logs" in header(app)
        clock.t = T0 + 3.5
        source.feed(events)
        await until(pilot, lambda: app.fleet.containers[key].confirmed == 1)
        app.refresh_view()
        assert app.table.get_cell(key, "log").plain == ""
        assert app.table.get_cell(key, "cold").plain == "118ms"
        assert "lag 1.5 s" in header(app)  # response arrived at T0+2, its log line at T0+3.5


async def test_s_writes_a_snapshot_folder_and_says_where(tmp_path):
    load, source = FakeLoad(), FakeSource()
    app = make_app(load=load, sources=[source], clock=Clock(T0 + 5), tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, load, source, Traffic())
        await pilot.press("s")
        await until(pilot, lambda: app.last_snapshot is not None, timeout=120)
        folder = tmp_path / "snaps" / "20261127T142005Z"
        assert app.last_snapshot.path == str(folder)
        assert sorted(p.name for p in folder.iterdir()) == [
            "containers.csv",
            "invocations.png",
            "invocations.svg",
            "latency.png",
            "latency.svg",
            "screen.svg",
            "snapshot.json",
            "timeline.csv",
            "timeline.png",
            "timeline.svg",
        ]
        doc = json.loads((folder / "snapshot.json").read_text())
        assert doc["load"]["mode"] == "closed" and doc["load"]["level"] == 10
        assert doc["totals"]["containers"] == 6 and doc["totals"]["invocations"] == 18
        assert doc["source"]["kind"] == "local" and doc["source"]["log_sources"] == ["fake"]
        assert len((folder / "containers.csv").read_text().splitlines()) == 7
        assert (folder / "screen.svg").read_text().startswith("<svg")
        timeline = list(csv.DictReader(io.StringIO((folder / "timeline.csv").read_text())))
        # fill() ran 3 invocations per container at T0, T0+1, T0+2: one tidy row per bucket.
        first = [r for r in timeline if r["container_id"] == timeline[0]["container_id"]]
        assert [(r["host_key"], r["invocations"]) for r in first] == [("host-a", "1")] * 3
        assert [float(b["t_s"]) - float(a["t_s"]) for a, b in zip(first, first[1:])] == [1.0, 1.0]
        assert sum(int(r["invocations"]) for r in timeline) == doc["totals"]["invocations"]
        assert str(folder) in app.status.message
        await pilot.press("s")  # same second: a new folder all the same
        await until(pilot, lambda: app.last_snapshot.path != str(folder), timeout=120)
        assert app.last_snapshot.path.endswith("20261127T142005Z-2")
    assert app.exit_summary() == (f"lambdascope: 2 snapshots in {tmp_path / 'snaps'}/ (last: {folder}-2)")


async def test_a_snapshot_that_cannot_be_written_is_shown_and_the_app_goes_on(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    load = FakeLoad()
    app = make_app(load=load, tmp_path=tmp_path)
    app.snapshot_dir = str(blocker / "snaps")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await until(pilot, lambda: app.last_snapshot is not None, timeout=120)
        assert app.last_snapshot.error
        assert app.status.message.startswith("snapshot NOT written")
        await pilot.press("plus")
        assert load.calls[-1] == Plan("closed", 11)


async def test_g_cycles_the_host_key_through_table_and_legend(tmp_path):
    load, source = FakeLoad(), FakeSource()
    app = make_app(load=load, sources=[source], clock=Clock(T0 + 5), tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, load, source, Traffic())
        first = app.table.order[0]
        assert app.table.get_cell(first, "host").plain == "host-a"
        legend = app.query_one("#legend")
        assert "hosts by hostname (3)" in legend._last_text.plain
        colours = {h: app.palette.colour(h) for h in ("host-a", "host-b", "host-c")}
        await pilot.press("g")
        assert app.host_key == "boot_id"
        assert app.table.get_cell(first, "host").plain == "boot-host-a"
        assert "hosts by boot id (3)" in legend._last_text.plain
        await pilot.press("g")
        assert app.host_key == "cpu_model"
        assert app.table.get_cell(first, "host").plain == "Xeon E5-2666 v3"
        await pilot.press("g")
        assert app.host_key == "hostname"
        # The same host, the same colour, before and after the cycle (in the table too).
        assert {h: app.palette.colour(h) for h in colours} == colours
        assert app.table.get_cell(first, "host").style == colours["host-a"]


async def test_o_cycles_the_sort_and_the_timeline_follows(tmp_path):
    load, source = FakeLoad(), FakeSource()
    app = make_app(load=load, sources=[source], clock=Clock(T0 + 5), tmp_path=tmp_path)
    traffic = Traffic()
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, load, source, traffic, n_containers=6, per=1)
        busy = [traffic.invoke(4, T0 + 2 + k / 10)[0] for k in range(5)]
        load.feed(busy)
        await until(pilot, lambda: app.fleet.counters.invocations == 11)
        app.refresh_view()
        by_first = [short_id(k) for k in app.table.order]
        assert by_first == [short_id(k) for k in sorted(app.fleet.containers)]  # stream(i) sorts like i
        await pilot.press("o")
        assert app.sort_by == "invocations"
        assert app.table.order[0] == busy[0].container_id
        # The table's rows and the timeline's lanes are in the same order.
        rows = [app.table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(app.table.row_count)]
        assert rows == app.table.order
        assert app.timeline.lane_index(1) == 0
        await pilot.press("o")
        assert app.sort_by == "host"
        hosts = [app.fleet.containers[k].hostname for k in app.table.order]
        legend = list(app.fleet.hosts("hostname"))
        assert hosts == sorted(hosts, key=legend.index)
        await pilot.press("o")
        assert app.sort_by == "first"
        assert [short_id(k) for k in app.table.order] == by_first


async def test_question_mark_opens_help_and_escape_closes_it(tmp_path):
    app = make_app(load=FakeLoad(), tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark", "q")  # q closes help, it does not quit
        assert not isinstance(app.screen, HelpScreen) and app.is_running


async def test_q_stops_the_load_closes_the_sources_and_exits(tmp_path):
    load, source = FakeLoad(), FakeSource()
    app = make_app(load=load, sources=[source], tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert load.calls[-1] == "stop"
    assert source.closed
    assert app.return_code == 0


async def test_a_failing_source_is_shown_and_the_other_channel_goes_on(tmp_path):
    load, source = FakeLoad(), FakeSource("poll")
    app = make_app(load=load, sources=[source], clock=Clock(T0 + 2), tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        source.fail(RuntimeError("log group not found\nsecond line"))
        await until(pilot, lambda: app.failures)
        app.refresh_view()
        # One line (tui.core.errors.one_line): the type, the text joined, within the header's 4 lines.
        assert "⚠ poll stopped: RuntimeError: log group not found second line" in header(app)
        assert len(header(app).splitlines()) == 4
        o, _ = Traffic().invoke(0, T0 + 1)
        load.feed([o])
        await until(pilot, lambda: app.fleet.counters.invocations == 1)


async def test_source_warnings_reach_the_header(tmp_path):
    source = FakeSource("livetail")
    app = make_app(load=FakeLoad(), sources=[source], tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        source.status.sampled = True
        source.status.dropped = 12
        app.refresh_view()
        await pilot.pause()
        assert "livetail SAMPLED" in header(app) and "dropped 12 events" in header(app)


async def test_redraw_is_timed_not_per_event(tmp_path):
    load, source = FakeLoad(), FakeSource()
    clock = Clock(T0 + 5)
    app = make_app(load=load, sources=[source], clock=clock, tmp_path=tmp_path, refresh_hz=1)
    traffic = Traffic()
    async with app.run_test(size=SIZE) as pilot:
        ticks = app.ticks
        for k in range(50):  # 50 batches on each channel, 250 log events
            o, ev = traffic.invoke(k % 5, T0 + k / 50)
            load.feed([o])
            source.feed(ev)
        await until(pilot, lambda: app.fleet.counters.invocations == 50)
        # Redrawing per batch would mean 100 redraws here; the timer's few (one a second, however
        # busy the machine) are far fewer. No clock is read: the bound is a count.
        assert app.ticks - ticks < 25
        await until(pilot, lambda: app.table.row_count == 5, timeout=10)  # the next tick draws them


class StoppedProcess:
    """A LoadProcess whose child has finished: it takes no plan."""

    stats = None

    def apply(self, plan):
        return False

    async def stop(self):
        self.closed = True

    async def batches(self):
        yield [], None
        raise RuntimeError("load process exited unexpectedly (exit code 1)")


async def test_a_load_process_that_died_is_shown_and_keys_say_so(tmp_path):
    from tui.core.load import ProcessLoad

    process = StoppedProcess()
    app = make_app(load=ProcessLoad(process), tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "load generator:" in app.status.message)
        assert app.status.message == "load generator: RuntimeError: load process exited unexpectedly (exit code 1)"
        await pilot.press("plus")
        assert app.status.message == "load generator refused to change the level: the load process has stopped"
        assert app.load_state.level == 10  # what runs is what the header says
        await pilot.press("ctrl+c")
        await until(pilot, lambda: not app.is_running)
    assert process.closed


async def test_q_right_after_s_still_leaves_a_whole_snapshot(tmp_path):
    load, source = FakeLoad(), FakeSource()
    app = make_app(load=load, sources=[source], clock=Clock(T0 + 5), tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, load, source, Traffic())
        await pilot.press("s", "q")
        await until(pilot, lambda: not app.is_running, timeout=90)
    folders = [p for p in (tmp_path / "snaps").iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1 and (folders[0] / "snapshot.json").exists()
    assert not [p for p in (tmp_path / "snaps").iterdir() if p.name.startswith(".")]  # no half-written folder
    assert app.exit_summary().startswith("lambdascope: 1 snapshot in ")

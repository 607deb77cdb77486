"""The findings panel, the wave column, retirements on the timeline, pre-initialised rows shown
apart, and the timeline's zoom and scroll keys: pure text first, then the app under Pilot."""

from tests.tui.fakes import (
    SIZE,
    T0,
    Clock,
    FakeLoad,
    FakeSource,
    Traffic,
    fixture_app,
    make_app,
    screen_text,
    settle_fixture,
    stream,
    until,
)
from tui.core.events import LogEvent
from tui.screen.widgets.findings_panel import FindingsPanel, panel_text
from tui.screen.widgets.keybar import KeyBar


def test_panel_text_one_line_per_finding_cut_to_the_width_and_counted_beyond():
    fs = [
        {"kind": "wave", "text": "wave 1: 4 environments started at +0.0 s on ip-1"},
        {"kind": "retirement", "text": "x" * 200},
        {"kind": "pre_initialized", "text": "14 environments initialised and never invoked"},
    ]
    lines = panel_text(fs, 60).plain.splitlines()
    assert lines[0].startswith(" findings   3")
    assert lines[1] == " ▲ wave 1: 4 environments started at +0.0 s on ip-1"
    assert lines[2].startswith(" ✕ xxx") and lines[2].endswith("…") and len(lines[2]) <= 60
    assert lines[3].startswith(" ○ 14 environments")
    many = panel_text([{"kind": "wave", "text": f"wave {i}"} for i in range(30)], 60, max_lines=5).plain.splitlines()
    assert len(many) == 6 and many[-1].strip() == "+26 more"
    assert "none yet" in panel_text([], 60).plain


async def test_the_fixture_screen_tells_its_story(tmp_path):
    """Paired with the snapshot test of the same screen (test_snapshots.py)."""
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle_fixture(pilot)
        text = screen_text(app)
        assert app.panel.display  # 150x40 is wide enough: on by default
        story = app.story
    lines = text.splitlines()
    assert lines[4].split()[:3] == ["id", "wave", "host"]
    rows = {ln.split()[0]: ln for ln in lines[5:30] if "Xeon" in ln}
    assert rows["6513270e"].split()[1] == "1" and rows["8ede0d7a"].split()[1] == "4"
    # Retired containers: the state says so and the lane marks when.
    assert " retired " in rows["6513270e"] and "✕" in rows["6513270e"]
    panel = text[text.index(" findings ") :]
    for f in story.findings[:8]:
        assert f["text"][:60] in panel, f["kind"]
    assert "wave 3: 10 environments started at +7.7 s" in panel and "2 CPU models on 3 hosts" in panel


async def test_f_toggles_the_panel_and_a_small_terminal_starts_without_it(tmp_path):
    app = make_app(load=FakeLoad(), tmp_path=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        assert not app.panel.display
        await pilot.press("f")
        assert app.panel.display and "findings" in app.query_one(FindingsPanel).text.plain
        await pilot.press("f")
        assert not app.panel.display and "f shows it" in app.status.message
        assert "f findings" in app.query_one(KeyBar).plain


async def test_pre_initialised_environments_are_shown_apart(tmp_path):
    load, source = FakeLoad(), FakeSource("poll")
    clock = Clock(T0 + 12)
    app = make_app(load=load, sources=[source], clock=clock, tmp_path=tmp_path)
    traffic = Traffic()
    async with app.run_test(size=SIZE) as pilot:
        outcomes, events = [], []
        for i in range(3):
            o, ev = traffic.invoke(i, T0 + i)
            outcomes.append(o)
            events += ev
        events.append(LogEvent(stream(9), int((T0 + 1.5) * 1000), "INIT_START Runtime Version: python:3.11.v88"))
        load.feed(outcomes)
        source.feed(events)
        await until(
            pilot,
            lambda: (
                len(app.fleet.containers) == 4
                and app.fleet.counters.invocations == 3
                and all(c.unconfirmed == 0 for c in app.fleet.containers.values())
            ),
        )
        app.refresh_view()
        await pilot.pause()
        pre = stream(9)
        assert app.table.order[-1] == pre  # after the serving ones, though it came before one of them
        assert app.table.get_cell(pre, "log").plain == ""  # never ◌: the logs did show it
        assert app.table.get_cell(pre, "state").plain == "pre-init"
        assert app.table.get_cell(pre, "host").plain == "–" and app.table.get_cell(pre, "cold").plain == ""
        header = app.header.text.plain
        assert "3 containers · 3 cold starts · 3 invocations · 1 pre-initialised" in header
        legend = app.legend._last_text.plain
        assert "hosts by hostname (3)" in legend and "○ 1 pre-initialised (never invoked)" in legend
        assert "?" not in legend.split("timeline")[0]
        clock.t = T0 + 3  # seconds after its INIT_START its first request may still come
        app.refresh_view()
        assert app.table.get_cell(pre, "state").plain == "init…"


async def test_zoom_and_scroll_keys_move_the_timeline_and_w_fits_the_run_again(tmp_path):
    load = FakeLoad()
    clock = Clock(T0 + 300.5)
    app = make_app(load=load, clock=clock, tmp_path=tmp_path)
    traffic = Traffic()
    async with app.run_test(size=SIZE) as pilot:
        # 300 s of one invocation every 10 s on container 0, a burst at +5 s on container 1.
        app.fleet.apply_outcomes(
            [traffic.invoke(0, T0 + k * 10)[0] for k in range(30)] + [traffic.invoke(1, T0 + 5)[0]], clock()
        )
        app.refresh_view()
        await pilot.pause()
        lanes = app.timeline
        width = lanes.size.width
        f = lanes.frame
        assert f.mode == "whole run" and f.columns * f.per >= 300 - 1 and f.column_of(T0) == 0
        assert "timeline" in app.legend._last_text.plain and "whole run" in app.legend._last_text.plain
        await pilot.press("right_square_bracket")  # zoom in: live, a finer step
        g = lanes.frame
        assert g.mode == "live" and g.col_s < f.col_s and g.column_of(T0) is None  # the start scrolled off
        assert "per column" in app.status.message
        await pilot.press("left_square_bracket", "left_square_bracket")  # zoom out twice
        assert lanes.frame.col_s > g.col_s
        while lanes.frame.col_s > 1:
            await pilot.press("right_square_bracket")
        assert lanes.frame.col_s == 1 and lanes.frame.column_of(T0) is None
        for _ in range(40):  # scroll back to the start of the run
            if lanes.frame.column_of(T0 + 5) is not None:
                break
            await pilot.press("less_than_sign")
        h = lanes.frame
        assert h.mode == "scrolled" and h.column_of(T0 + 5) is not None
        x = h.column_of(T0 + 5)
        lane1 = "".join(seg.text for seg in lanes.render_line(2))
        assert lane1[x] == "◆"  # container 1's cold start, back on screen
        assert lanes.frame.columns == width
        await pilot.press("l")  # live again
        assert lanes.frame.mode == "live" and lanes.frame.column_of(T0 + 299) == width - 1
        await pilot.press("comma", "full_stop", "full_stop")  # back, then forward past now: live
        assert lanes.frame.mode == "live"
        await pilot.press("w")
        assert lanes.frame.mode == "whole run" and lanes.frame.column_of(T0) == 0


async def test_the_panel_follows_the_terminal_size_until_f_decides(tmp_path):
    app = make_app(load=FakeLoad(), tmp_path=tmp_path)
    async with app.run_test(size=(150, 40)) as pilot:
        assert app.panel.display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not app.panel.display
        await pilot.press("f")
        await pilot.resize_terminal(150, 40)
        await pilot.pause()
        await pilot.resize_terminal(90, 24)
        await pilot.pause()
        assert app.panel.display  # shown by f: kept


async def test_enter_on_a_retired_row_says_why_and_what_the_table_has_no_room_for(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle_fixture(pilot)
        app.table.focus()
        app.table.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        message = app.status.message
    assert message.startswith("6513270e · retired (stopped serving at +21.1 s while the load went on")
    assert "host ip-10-12-41-7" in message and "Xeon E5-2666 v3" in message
    assert "stream 2026/11/27/[$LATEST]6513270e" in message

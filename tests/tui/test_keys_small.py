"""The key bar, the help screen and the command palette, all built from the app's BINDINGS, and
the narrow layout: what a user on an 80-column terminal still sees."""

import pytest
from textual.binding import Binding

from tests.tui.fakes import FakeLoad, fixture_app, make_app, screen_text, settle_fixture
from tui.screen.app import MonitorApp
from tui.screen.help import HelpScreen
from tui.screen.widgets.containers import COLUMN_KEYS, OPTIONAL, columns_for
from tui.screen.widgets.keybar import KeyBar, KeyEntry, entries_from_bindings, fit_entries, keybar_text

LOAD = Binding.Group("load")
BINDINGS = [
    Binding("plus", "level(1)", "load+", key_display="+", group=LOAD, tooltip="raise"),
    Binding("minus", "level(-1)", "load-", key_display="-", group=LOAD),
    Binding("space", "pause", "pause"),
    Binding("s", "snapshot", "snapshot"),
    Binding("o", "sort", "sort"),
    Binding("question_mark", "help", "help", key_display="?"),
    Binding("q", "quit", "quit"),
    Binding("ctrl+c", "quit", "quit", show=False),
]


def entries(enabled=lambda action, params: True):
    return entries_from_bindings(BINDINGS, lambda b: b.key_display or b.key, enabled)


def test_entries_come_from_the_shown_enabled_bindings():
    es = entries(lambda action, params: action != "level")
    assert [e.key for e in es] == ["space", "s", "o", "?", "q"]
    full = entries()
    assert full[0] == KeyEntry("+", "load+", "level", "load", "raise")
    assert full[1].help == "load-"  # no tooltip: the description


@pytest.mark.parametrize(
    "width, keys",
    [
        (200, ["+", "-", "space", "s", "o", "?", "q"]),
        (60, ["+-", "space", "s", "o", "?", "q"]),  # the load keys merge first
        (48, ["+-", "space", "?", "q"]),  # then the last ones go, help and quit stay
        (10, ["?", "q"]),
    ],
)
def test_the_bar_fits_the_width_and_keeps_help_and_quit(width, keys):
    shown = fit_entries(entries(), width)
    assert [e.key for e in shown] == keys
    text = keybar_text(entries(), width).plain
    assert len(text) <= max(width, 15) and "? help" in text and "q quit" in text


def test_columns_narrow_with_the_terminal_and_never_show_the_cpu_twice():
    assert columns_for(200) == [k for k in COLUMN_KEYS if k not in OPTIONAL]
    assert columns_for(200, optional=frozenset(OPTIONAL)) == COLUMN_KEYS
    assert "az" not in columns_for(99, optional=frozenset({"az"}))  # the legend has the AZ there
    assert "cpu" not in columns_for(120) and "first" in columns_for(120)
    assert columns_for(80) == ["log", "id", "wave", "host", "inv", "state"]
    assert "cpu" not in columns_for(200, "cpu_model")


async def test_at_80_columns_the_bar_keeps_help_and_quit_and_the_state_column_shows(tmp_path):
    app = make_app(load=FakeLoad(), tmp_path=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bar = app.query_one(KeyBar).plain
        assert "? help" in bar and "q quit" in bar and "+-*/ load" in bar
        assert app.table.shown_columns == ["log", "id", "wave", "host", "inv", "state"]
        await pilot.resize_terminal(200, 50)
        await pilot.pause()
        assert app.table.shown_columns == [k for k in COLUMN_KEYS if k not in OPTIONAL]
        wide = app.query_one(KeyBar).plain
        assert "() hold" in wide and "o sort" in wide and "q quit" in wide  # every key, where 80 columns drop some


async def test_a_narrow_fixture_screen_shows_state_and_the_timeline(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle_fixture(pilot)
        lines = screen_text(app).splitlines()
    assert lines[0].startswith(" lambdascope   run 0:29  │  closed loop: 20 concurrent")
    assert lines[4].split() == ["id", "wave", "host", "inv", "state", "+0s", "+20s"]
    assert lines[5].split()[:5] == ["6513270e", "1", "ip-10-12-41-7", "45", "retired"]
    assert "◆" in lines[5] and "✕" in lines[5]  # the whole run fits: its cold start and its retirement
    assert "? help  q quit" in lines[-1]


async def test_help_lists_the_bindings_and_scrolls_on_a_small_terminal(tmp_path):
    app = make_app(load=FakeLoad(), tmp_path=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        body = app.screen.query_one("#help-body")
        text = screen_text(app)
        for _ in range(8):  # page through it: every line is reachable
            await pilot.press("pagedown")
            await pilot.pause()
            text += screen_text(app)
        shown = app.key_entries()
        every = {b.action.split("(")[0] for b in MonitorApp.BINDINGS if b.show}
        assert {e.action for e in shown} == every - {"seek", "plan_hold", "plan_next"}  # replay / --plan only
        for e in shown:
            assert e.help[:20] in text, e.action
        await pilot.press("home")
        assert body.max_scroll_y > 0  # more than fits: it scrolls
        await pilot.press("pagedown", "end")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y
        assert "header" in screen_text(app)  # the last paragraph is reachable
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_palette_offers_lambdascope_actions(tmp_path):
    load = FakeLoad()
    app = make_app(load=load, tmp_path=tmp_path)
    async with app.run_test(size=(150, 40)) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for title in ("snapshot (s)", "pause (space)", "sort (o)", "host key (g)", "open/closed (m)", "load+ (+)"):
            assert title in commands, sorted(commands)
        assert not [t for t in commands if t.lower().startswith("screenshot")]
        assert not [t for t in commands if "10s" in t]  # seeking is for replays only
        await commands["pause (space)"].callback()
        await pilot.pause()
        assert len(load.calls) == 1 and load.calls[0].paused


async def test_todays_lambda_columns_appear_when_an_environment_needs_them(tmp_path):
    from tests.tui.fakes import T0, stream
    from tui.core import lambdalog as L

    app = make_app(load=FakeLoad(), tmp_path=tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        assert "conc" not in app.table.shown_columns and "init" not in app.table.shown_columns
        s, ms = stream(1), int(T0 * 1000)
        lines = ['{"time":"t","type":"platform.initStart","record":{"initializationType":"lambda-managed-instances"}}']
        lines += [f'{{"time":"t","type":"platform.start","record":{{"requestId":"r{i}"}}}}' for i in range(3)]
        app.fleet.apply_records([r for line in lines for r in L.parse_event(s, ms, line)], T0)
        app.refresh_view()
        await pilot.pause()
        assert "conc" in app.table.shown_columns and "init" in app.table.shown_columns
        row = app.table.get_row(s)
        assert "3/3" in [str(cell) for cell in row] and "lmi" in [str(cell) for cell in row]

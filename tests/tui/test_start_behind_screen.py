"""`watch` draws the screen first and hands over the target, the load and the sources once they
have started (MonitorApp.attach, called after `when_ready`)."""

from loadgen.plan import Plan
from tests.tui.fakes import (
    SIZE,
    T0,
    Clock,
    FakeLoad,
    FakeSource,
    Traffic,
    make_app,
    until,
)
from tui.core.load import LoadState
from tui.core.target_info import TargetInfo
from tui.screen.widgets.header import MonitorHeader


def header(app) -> str:
    return app.query_one(MonitorHeader).text.plain


async def test_the_screen_comes_first_and_the_session_is_attached_after(tmp_path):
    ready = []
    app = make_app(
        tmp_path=tmp_path,
        clock=Clock(T0 + 2),
        load_state=LoadState.from_plan(Plan("closed", 10)),
        when_ready=lambda: ready.append(True),
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ready)
        assert "starting the local Lambda…" in header(app)  # drawn before anything is started
        # Said as starting, not as a monitor without load (which it will not be).
        assert "load generator: starting…" in header(app) and "logs: starting…" in header(app)
        assert "no load generator" not in header(app)
        await pilot.press("plus")
        assert app.status.message == "the load generator is still starting: try again in a moment"
        load, source = FakeLoad(), FakeSource("poll")
        assert app.attach(
            target=TargetInfo("local", "lambdascope-probe", simulated_hosts=True), load=load, sources=[source]
        )
        o, events = Traffic().invoke(0, T0 + 1)
        load.feed([o])
        source.feed(events)
        await until(pilot, lambda: app.fleet.counters.invocations == 1)
        assert "starting…" not in header(app)
        await pilot.press("plus")
        assert load.calls[-1] == Plan("closed", 11)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert load.stopped and source.closed
    # Started after the app stopped: not taken (the caller stops it itself).
    assert not app.attach(target=TargetInfo("local", "x"), load=FakeLoad(), sources=[])

"""`watch --plan` under Pilot: the plan drives the load at the redraw, the header shows the stage,
`h` holds and `n` skips, a load key holds the plan, and the snapshot keeps what ran."""

import json

from loadgen.plan import Plan
from loadgen.ramp import parse
from loadgen.steering import Steering
from tests.tui.fakes import SIZE, T0, Clock, FakeLoad, make_app, until
from tui.core.load import LoadState


def plan_app(tmp_path, text="2c@10s, 5c@10s, 20r@10s"):
    clock, load = Clock(), FakeLoad()
    base = Plan(mode="closed", level=2, max_in_flight=100)
    steering = Steering(parse(text), base, T0)
    app = make_app(load=load, clock=clock, tmp_path=tmp_path, load_state=LoadState.from_plan(base), steering=steering)
    return app, clock, load


async def test_the_plan_drives_the_load_and_the_header_shows_the_stage(tmp_path):
    app, clock, load = plan_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.stop_redraw()
        app.refresh_view()
        assert "stage 1/3 2c@10s" in app.header.text.plain and "next 5c@10s" in app.header.text.plain
        clock.t = T0 + 10.5
        app.refresh_view()
        assert load.plans[-1].level == 5 and load.plans[-1].mode == "closed"
        assert "stage 2/3 5c@10s" in app.header.text.plain
        await pilot.press("n")  # skip to the open loop
        await until(pilot, lambda: load.plans[-1].mode == "open")
        assert load.plans[-1].level == 20.0


async def test_h_holds_and_a_load_key_holds_too(tmp_path):
    app, clock, load = plan_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.stop_redraw()
        app.refresh_view()
        await pilot.press("h")
        clock.t = T0 + 15
        app.refresh_view()
        assert load.plans[-1].level == 2  # held in stage 1
        assert "held at stage 1/3" in app.header.text.plain
        await pilot.press("h")  # go on
        await pilot.press("plus")  # a key takes the load by hand: the plan holds again
        await until(pilot, lambda: load.plans[-1].level == 3)
        clock.t = T0 + 40
        app.refresh_view()
        assert load.plans[-1].level == 3
        assert [e["what"] for e in app.steering.events] == ["hold", "resume", "key"]


async def test_the_snapshot_keeps_the_plan_that_ran(tmp_path):
    app, clock, load = plan_app(tmp_path, "2c@10s, 5c@10s")
    async with app.run_test(size=SIZE) as pilot:
        app.stop_redraw()
        app.refresh_view()
        clock.t = T0 + 4
        await pilot.press("plus")
        clock.t = T0 + 6
        await pilot.press("s")
        # The snapshot draws its figures in a child process: give it time on a busy machine.
        await until(pilot, lambda: app.last_snapshot is not None, timeout=120)
    assert app.last_snapshot.error is None, app.last_snapshot.error
    with open(f"{app.last_snapshot.path}/snapshot.json") as fh:
        doc = json.load(fh)
    saved = doc["load"]["plan"]
    assert saved["text"] == "2c@10s, 5c@10s"
    assert saved["effective"]["text"] == "2c@4s, 3c@2s"
    assert [e["what"] for e in saved["events"]] == ["key"]


async def test_the_recording_keeps_the_plan_and_repeats_it(tmp_path):
    from tui.commands.plan_flag import load_ramp
    from tui.output.recording import Recorder, Recording

    path = str(tmp_path / "session.rec")
    app, clock, load = plan_app(tmp_path, "2c@10s, 5c@10s")
    app.recorder = Recorder(path, {"kind": "local"}, T0)
    async with app.run_test(size=SIZE):
        app.stop_redraw()
        app.refresh_view()
        clock.t = T0 + 12
        app.refresh_view()
        await app.shutdown()
    assert Recording.load(path).plan["effective"]["text"] == "2c@10s, 5c@2s"
    assert load_ramp(path).text() == "2c@10s, 5c@2s"

"""Recording both channels (`watch --record`) and playing them back (`replay`)."""

import json

import pytest

from tui.errors import UserError
from tui.recording import Recorder, Recording, ReplayClock, open_replay

from tests.tui.fakes import (FIXTURE, SIZE, Clock, FakeLoad, FakeSource, T0, Traffic, fixture_app, make_app,
                             settle_fixture, until)


async def test_a_recorded_session_replays_to_the_same_fleet(tmp_path):
    path = tmp_path / "rec.jsonl"
    clock = Clock(T0)
    load, source = FakeLoad(), FakeSource("poll")
    recorder = Recorder(str(path), {"kind": "local", "label": "LOCAL (simulated hosts)", "name": "probe",
                                    "simulated_hosts": True}, clock())
    app = make_app(load=load, sources=[source], clock=clock, tmp_path=tmp_path, recorder=recorder)
    traffic = Traffic()
    async with app.run_test(size=SIZE) as pilot:
        for step in range(5):
            clock.t = T0 + step
            batch = [traffic.invoke(i, clock.t) for i in range(step + 1)]
            load.feed([o for o, _ in batch], stats={"achieved_rps": 5.0, "in_flight": 2})
            await until(pilot, lambda: app.fleet.counters.requests == sum(range(1, step + 2)))
            clock.t += 0.5
            source.feed([e for _, events in batch for e in events])
            await until(pilot, lambda: all(c.unconfirmed == 0 for c in app.fleet.containers.values()))
        await pilot.press("plus")
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    live = {cid: (c.invocations, c.confirmed, c.cold_starts, c.hostname) for cid, c in app.fleet.containers.items()}
    lag = app.fleet.counters.log_lag_s

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["lambdascope_recording"] == 1 and lines[0]["target"]["name"] == "probe"
    assert any(e.get("load", {}).get("level") == 11 for e in lines)
    assert "testing" not in path.read_text()  # nothing like a credential came near it

    replay = fixture_app_from(path, tmp_path)
    async with replay.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: replay.events_applied == sum(len(e["log"]) for e in lines if "log" in e))
        await pilot.pause()
        replayed = {cid: (c.invocations, c.confirmed, c.cold_starts, c.hostname)
                    for cid, c in replay.fleet.containers.items()}
        assert replay.load_state.level == 11  # the last recorded load change was applied
        assert replay.fleet.counters.log_lag_s == pytest.approx(lag)
    assert replayed == live


def fixture_app_from(path, tmp_path):
    from tui.app import MonitorApp

    r = open_replay(str(path), speed=None)
    return MonitorApp(target=r.target, load=r.load, load_state=r.load_state, sources=r.sources, clock=r.clock,
                      snapshot_dir=str(tmp_path / "snaps"))


async def test_a_replay_cannot_be_steered_but_can_be_snapshotted(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle_fixture(pilot)
        await pilot.press("plus", "m", "space")
        assert app.status.message == "no load generator to control here"
        assert app.load.calls == []
        await pilot.press("s")
        await until(pilot, lambda: app.last_snapshot is not None)
        doc = json.loads((tmp_path / app.last_snapshot.path.split("/")[-1] / "snapshot.json").read_text())
        assert doc["source"]["kind"] == "replay" and doc["load"] == {
            "mode": "closed", "level": 20, "paused": False, "unit": "concurrent requests",
            "achieved": doc["load"]["achieved"]}
        assert doc["totals"]["containers"] == 21
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)


def test_replay_clock_runs_at_speed_and_holds_at_the_end():
    now = [100.0]
    clock = ReplayClock(T0, T0 + 10, 2.0, monotonic=lambda: now[0])
    assert clock() == T0
    now[0] = 102.0
    assert clock() == T0 + 4
    assert clock.wait_for(T0 + 6) == pytest.approx(1.0)
    now[0] = 200.0
    assert clock() == T0 + 10 and clock.wait_for(T0 + 6) == 0.0
    instant = ReplayClock(T0, T0 + 10, None)
    assert instant() == T0 and instant.wait_for(T0 + 10) == 0.0


async def test_timed_replay_delivers_batches_at_their_recorded_times():
    now = [0.0]
    r = open_replay(str(FIXTURE), speed=1.0, monotonic=lambda: now[0])
    got = []

    async def read():
        async for batch in r.sources[0].batches():
            got.append(len(batch))

    import asyncio

    task = asyncio.create_task(read())
    await asyncio.sleep(0.05)
    assert got == []  # the first log batch is recorded 2 s in
    now[0] = 100.0  # all due
    await asyncio.wait_for(task, 5)
    assert sum(got) == 1056


@pytest.mark.parametrize("text, phrase", [
    ("", "no recording header"),
    ("not json\n", "not JSON"),
    ('{"x": 1}\n', "not a recording line"),
    ('{"t": 1, "log": []}\n', "no recording header"),
])
def test_bad_recordings_are_one_line_errors(tmp_path, text, phrase):
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(UserError, match=phrase):
        Recording.load(str(path))
    with pytest.raises(UserError, match="no such file"):
        Recording.load(str(tmp_path / "missing.jsonl"))


def test_recorder_refuses_an_unwritable_path(tmp_path):
    with pytest.raises(UserError, match="cannot write the recording"):
        Recorder(str(tmp_path / "no" / "such" / "dir" / "rec.jsonl"), {}, T0)

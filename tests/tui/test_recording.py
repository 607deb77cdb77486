"""Recording both channels (`watch --record`) and playing them back (`replay`)."""

import json

import pytest

from tests.tui.fakes import (
    FIXTURE,
    SIZE,
    T0,
    Clock,
    FakeLoad,
    FakeSource,
    Traffic,
    fixture_app,
    make_app,
    settle_fixture,
    until,
)
from tui.core.errors import UserError
from tui.output.recording import Recorder, Recording, ReplayClock, open_replay, recording_text


async def test_a_recorded_session_replays_to_the_same_fleet(tmp_path):
    path = tmp_path / "rec.jsonl"
    clock = Clock(T0)
    load, source = FakeLoad(), FakeSource("poll")
    recorder = Recorder(
        str(path),
        {"kind": "local", "label": "LOCAL (simulated hosts)", "name": "probe", "simulated_hosts": True},
        clock(),
    )
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
    live = model(app.fleet)
    lag = app.fleet.counters.log_lag_s

    assert path.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    text = recording_text(str(path))
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["lambdascope_recording"] == 2 and lines[0]["target"]["name"] == "probe"
    # The plan rides in the generator's snapshot: the echo of `+` was recorded.
    assert any(((e.get("stats") or {}).get("plan") or {}).get("level") == 11 for e in lines)
    assert "testing" not in text  # nothing like a credential came near it
    # Stream names (the container ids) are declared once and referred to by index.
    names = [n for e in lines for n in e.get("names", ())]
    assert sorted(names) == sorted(k for k in live if k != "counters")

    replay = fixture_app_from(path, tmp_path)
    async with replay.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: replay.events_applied == sum(len(e["log"]) for e in lines if "log" in e))
        await pilot.pause()
        replayed = model(replay.fleet)
        assert replay.load_state.level == 11  # the last recorded plan was applied
        assert replay.fleet.counters.log_lag_s == pytest.approx(lag)
    assert replayed == live


def model(fleet) -> dict:
    """What the monitor shows of each container, and the fleet's counters."""

    def facts(c):
        values = {k: getattr(c, k) for k in (getattr(c, "__slots__", None) or vars(c)) if k != "timeline"}
        return values, c.timeline.total(), c.cold_starts, c.unconfirmed

    rows = {cid: facts(c) for cid, c in fleet.containers.items()}
    counters = {
        k: getattr(fleet.counters, k) for k in (getattr(fleet.counters, "__slots__", None) or vars(fleet.counters))
    }
    return {**rows, "counters": counters}


def fixture_app_from(path, tmp_path):
    from tui.screen.app import MonitorApp

    r = open_replay(str(path), speed=None)
    return MonitorApp(
        target=r.target,
        load=r.load,
        load_state=r.load_state,
        sources=r.sources,
        clock=r.clock,
        snapshot_dir=str(tmp_path / "snaps"),
    )


async def test_a_replay_cannot_be_steered_but_can_be_snapshotted(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle_fixture(pilot)
        await pilot.press("plus", "m")  # no load keys in a replay: not in the bar, not run
        assert app.load_state.level == 20
        await pilot.press("space")
        assert app.status.message.startswith("played all at once: nothing to pause")
        await pilot.press("s")
        await until(pilot, lambda: app.last_snapshot is not None, timeout=120)
        doc = json.loads((tmp_path / app.last_snapshot.path.split("/")[-1] / "snapshot.json").read_text())
        assert doc["source"]["kind"] == "replay" and doc["load"] == {
            "mode": "closed",
            "level": 20,
            "paused": False,
            "unit": "concurrent requests",
            "hold_ms": 0,
            "achieved": doc["load"]["achieved"],
        }
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


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("", "no recording header"),
        ("not json\n", "not JSON"),
        ('{"x": 1}\n', "not a recording line"),
        ('{"t": 1, "log": []}\n', "no recording header"),
    ],
)
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


def test_a_session_cut_short_replays_up_to_its_last_flush(tmp_path):
    path = tmp_path / "killed.rec"
    ticks = iter(range(100))
    recorder = Recorder(str(path), {"name": "probe"}, T0, monotonic=lambda: next(ticks))  # flush every line
    traffic = Traffic()
    for i in range(3):
        o, events = traffic.invoke(i, T0 + i)
        recorder.outcomes([o], None, T0 + i)
        recorder.log_events(events, T0 + i + 0.5, "poll")
    # Killed: never closed, so the gzip stream has no end (only the sync flushes).
    rec = Recording.load(str(path))
    assert len(rec.entries) == 6 and rec.entries[-1]["log"][0].stream == traffic.invoke(2, T0)[0].container_id


def test_an_old_format_1_recording_still_replays():
    rec = Recording.load(str(FIXTURE))  # written before the compressed format
    assert rec.header["lambdascope_recording"] == 1
    plans = [e["stats"].plan for e in rec.entries if "outcomes" in e and e["stats"] is not None]
    assert plans[0].level == 4 and plans[-1].level == 20  # its load lines became plans


def test_a_newer_format_is_a_one_line_error_naming_the_fix(tmp_path):
    path = tmp_path / "new.jsonl"
    path.write_text('{"lambdascope_recording": 99, "t": 1}\n')
    with pytest.raises(UserError, match="newer lambdascope.*upgrade lambdascope"):
        Recording.load(str(path))


def test_replay_clock_pauses_and_seeks_within_the_recording():
    now = [100.0]
    clock = ReplayClock(T0, T0 + 30, 2.0, monotonic=lambda: now[0])
    now[0] = 101.0
    clock.pause()
    now[0] = 150.0
    assert clock() == T0 + 2 and clock.paused and clock.wait_for(T0 + 3) > 0
    clock.resume()
    now[0] = 151.0
    assert clock() == T0 + 4
    assert clock.seek(T0 + 14) == T0 + 14 and clock() == T0 + 14
    assert clock.seek(T0 - 5) == T0 and clock.seek(T0 + 99) == T0 + 30 and clock.at_end


def timed_fixture_app(tmp_path, now):
    from tui.screen.app import MonitorApp

    r = open_replay(str(FIXTURE), speed=1.0, monotonic=lambda: now[0])
    return MonitorApp(
        target=r.target,
        load=r.load,
        load_state=r.load_state,
        sources=r.sources,
        clock=r.clock,
        snapshot_dir=str(tmp_path / "snaps"),
        replay=r,
    )


async def test_replay_space_pauses_arrows_seek_and_the_end_is_announced(tmp_path):
    from tui.screen.widgets.keybar import KeyBar

    now = [0.0]
    app = timed_fixture_app(tmp_path, now)
    async with app.run_test(size=SIZE) as pilot:
        clock = app.replay.clock
        bar = app.query_one(KeyBar).plain
        assert "space pause" in bar and "← -10s" in bar and "→ +10s" in bar and "load" not in bar
        now[0] = 5.0
        await pilot.press("space")
        assert clock.paused and "⏸ 0:05 / 0:30" in app.header.text.plain
        now[0] = 50.0  # real time passes; the paused replay does not move
        await pilot.pause(0.3)
        assert clock() == clock.start + 5
        await pilot.press("space")
        assert not clock.paused
        await pilot.press("right")  # +10 s: what was recorded up to 0:15 arrives at once
        assert clock() == pytest.approx(clock.start + 15)
        await until(
            pilot,
            lambda: (
                app.fleet.containers and max(c.first_seen for c in app.fleet.containers.values()) > clock.start + 10
            ),
        )
        at_15 = len(app.fleet.containers)
        await pilot.press("left", "left")  # back to 0:00: the model is rebuilt from the start
        assert clock() == clock.start
        await pilot.pause(0.3)
        app.refresh_view()
        assert len(app.fleet.containers) < at_15 and app.table.row_count == len(app.fleet.containers)
        now[0] = 500.0  # past the end
        await until(pilot, lambda: "end of recording" in app.status.message)
        await settle_fixture(pilot)
        assert "■ end of recording 0:30" in app.header.text.plain
        assert len(app.fleet.containers) == 21  # every batch once: nothing from before the seek doubled
        assert app.fleet.counters.invocations == 277

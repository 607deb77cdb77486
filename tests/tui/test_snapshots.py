"""SVG snapshots of the screen at a fixed size, fed the recorded fixture with the clock frozen at
its end; each paired with a run_test test reading the same screen (a snapshot would accept a
crashed screen as its baseline). Update the baselines with `pytest --snapshot-update` after
looking at them (`snapshot_report.html`)."""

from tests.tui.fakes import SIZE, fixture_app, screen_text, settle_fixture


def test_snapshot_fixture_screen(snap_compare, tmp_path):
    assert snap_compare(fixture_app(snapshot_dir=str(tmp_path)), terminal_size=SIZE, run_before=settle_fixture)


async def test_fixture_screen_content(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle_fixture(pilot)
        text = screen_text(app)
    lines = text.splitlines()
    assert "REPLAY session.jsonl · LOCAL (simulated hosts) · all at once" in lines[0]
    assert "closed loop: 20 concurrent" in lines[0] and "run 0:29" in lines[0]
    assert "errors: throttled 9" in lines[1] and "in flight 20" in lines[1]
    assert "21 containers · 21 cold starts · 277 invocations · ◌ 18 not yet in logs · 9 throttled" in lines[2]
    assert "logs (replay:poll): lag 1.7 s (max 2.0 s)" in lines[3] and "1,056 events" in lines[3]
    assert lines[4].split()[:3] == ["id", "host", "cpu"] and lines[4].rstrip().endswith("now")
    rows = [ln for ln in lines[5:30] if "Xeon" in ln]
    assert len(rows) == 21
    assert rows[0].split()[:2] == ["6513270e", "ip-10-12-41-7"] and "◆" in rows[0]
    assert all("◆" in r for r in rows)
    # Only the late container is unconfirmed by the logs; its cold start is known from the
    # response alone (no REPORT yet, so no Init Duration).
    assert [r.split()[:2] for r in rows if "◌" in r] == [["◌", "57124242"]] and " cold " in rows[-1]
    assert sum(" busy " in r for r in rows) == 13 and sum(" idle " in r for r in rows) == 8
    assert "hosts by hostname (3): ■ ip-10-12-41-7 4  ■ ip-10-12-87-201 10  ■ ip-10-12-3-99 7" in text
    assert "■ end of recording 0:30" in lines[0] and "■ end of recording (replay finished)" in text
    assert lines[-1].startswith(" space pause  s snapshot") and "q quit" in lines[-1] and "load" not in lines[-1]


def test_snapshot_sorted_by_invocations_keyed_by_cpu(snap_compare, tmp_path):
    assert snap_compare(fixture_app(snapshot_dir=str(tmp_path)), press=["o", "g", "g"], terminal_size=SIZE,
                        run_before=settle_fixture)


async def test_sorted_by_invocations_keyed_by_cpu_content(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle_fixture(pilot)
        await pilot.press("o", "g", "g")
        await pilot.pause()
        text = screen_text(app)
    counts = []
    for line in text.splitlines()[5:26]:
        tokens = line.split()
        first = next(i for i, t in enumerate(tokens) if t.startswith("+"))  # first seen
        counts.append(int(tokens[first - 2]))  # inv, cold, first seen
        assert line.split()[1:4] in (["Xeon", "E5-2666", "v3"], ["Xeon", "E5-2680", "v2"]) \
            or line.split()[2:5] in (["Xeon", "E5-2666", "v3"], ["Xeon", "E5-2680", "v2"])
    assert counts == sorted(counts, reverse=True) and counts[0] == 45 and len(counts) == 21
    assert "hosts by CPU model (2): ■ Xeon E5-2666 v3 11  ■ Xeon E5-2680 v2 10" in text
    assert "hosts keyed by cpu_model" in text


def test_snapshot_help_screen(snap_compare, tmp_path):
    assert snap_compare(fixture_app(snapshot_dir=str(tmp_path)), press=["question_mark"], terminal_size=SIZE,
                        run_before=settle_fixture)


async def test_help_screen_content(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle_fixture(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
    for phrase in ("lambdascope — keys", "pause / resume",
                   "snapshot: snapshot.json, containers.csv, timeline.csv, screen.svg", "cycle the host key",
                   "cycle the sort", "quit: stop the load", "escape, ? or q closes this screen"):
        assert phrase in text, phrase
    # A replay has no load to steer: its help (like its key bar) leaves the load keys out.
    assert "raise the load one step" not in text and "switch closed loop" not in text
    assert "replay: back 10 s" not in text  # played all at once: no time to seek in

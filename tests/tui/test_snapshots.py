"""SVG snapshots of the screen at a fixed size, fed the recorded fixture with the clock frozen at
its end; each paired with a run_test test reading the same screen (a snapshot would accept a
crashed screen as its baseline). Update the baselines with `pytest --snapshot-update` after
looking at them (`snapshot_report.html`)."""

from tests.tui.fakes import SIZE, fixture_app, screen_text, settle_fixture


async def hide_panel(pilot):
    """The fixture settled, then the findings panel hidden (f): the table and timeline alone."""
    await settle_fixture(pilot)
    await pilot.press("f")
    await pilot.pause()


def test_snapshot_fixture_screen(snap_compare, tmp_path):
    assert snap_compare(fixture_app(snapshot_dir=str(tmp_path)), terminal_size=SIZE, run_before=hide_panel)


async def test_fixture_screen_content(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await hide_panel(pilot)
        text = screen_text(app)
    lines = text.splitlines()
    assert "REPLAY session.jsonl · LOCAL (simulated hosts) · all at once" in lines[0]
    assert "closed loop: 20 concurrent" in lines[0] and "run 0:29" in lines[0]
    assert "errors: throttled 9" in lines[1] and "in flight 20" in lines[1]
    assert "21 containers · 21 cold starts · 277 invocations · ◌ 18 not yet in logs · 9 throttled" in lines[2]
    assert "logs (replay:poll): lag 1.7 s (max 2.0 s)" in lines[3] and "1,056 events" in lines[3]
    assert lines[4].split()[:4] == ["id", "wave", "host", "cpu"] and lines[4].split()[-3:] == ["+0s", "+10s", "+20s"]
    rows = [ln for ln in lines[5:30] if "Xeon" in ln]
    assert len(rows) == 21
    assert rows[0].split()[:3] == ["6513270e", "1", "ip-10-12-41-7"] and "◆" in rows[0] and "✕" in rows[0]
    assert all("◆" in r for r in rows)
    # Only the late container is unconfirmed by the logs; its cold start is known from the
    # response alone (no REPORT yet, so no Init Duration).
    assert [r.split()[:2] for r in rows if "◌" in r] == [["◌", "57124242"]] and " cold " in rows[-1]
    assert sum(" busy " in r for r in rows) == 13 and sum(" idle " in r for r in rows) == 6
    assert sum(" retired " in r for r in rows) == 2
    assert "hosts by hostname (3): ■ ip-10-12-41-7 4  ■ ip-10-12-87-201 10  ■ ip-10-12-3-99 7" in text
    assert "■ end of recording 0:30" in lines[0] and "findings panel hidden (f shows it)" in text
    assert lines[-1].startswith(" space pause  s snapshot") and "q quit" in lines[-1] and "load" not in lines[-1]


def test_snapshot_sorted_by_invocations_keyed_by_cpu(snap_compare, tmp_path):
    assert snap_compare(
        fixture_app(snapshot_dir=str(tmp_path)), press=["o", "g", "g"], terminal_size=SIZE, run_before=hide_panel
    )


async def test_sorted_by_invocations_keyed_by_cpu_content(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await hide_panel(pilot)
        await pilot.press("o", "g", "g")
        await pilot.pause()
        text = screen_text(app)
    counts = []
    for line in text.splitlines()[5:26]:
        tokens = line.split()
        first = next(i for i, t in enumerate(tokens) if t.startswith("+"))  # first seen
        counts.append(int(tokens[first - 2]))  # inv, cold, first seen
        assert "  Xeon E5-2666 v3  " in line or "  Xeon E5-2680 v2  " in line  # the host column, no cpu twice
    assert counts == sorted(counts, reverse=True) and counts[0] == 45 and len(counts) == 21
    assert "hosts by CPU model (2): ■ Xeon E5-2666 v3 11  ■ Xeon E5-2680 v2 10" in text
    assert "hosts keyed by cpu_model" in text


def test_snapshot_help_screen(snap_compare, tmp_path):
    assert snap_compare(
        fixture_app(snapshot_dir=str(tmp_path)), press=["question_mark"], terminal_size=SIZE, run_before=settle_fixture
    )


async def test_help_screen_content(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle_fixture(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
    for phrase in (
        "lambdascope — keys",
        "pause / resume",
        "snapshot: snapshot.json, containers.csv, timeline.csv, screen.svg",
        "cycle the host key",
        "cycle the sort",
        "quit: stop the load",
        "escape, ? or q closes",
    ):
        assert phrase in text, phrase
    # A replay has no load to steer: its help (like its key bar) leaves the load keys out.
    assert "raise the load one step" not in text and "switch closed loop" not in text
    assert "replay: back 10 s" not in text  # played all at once: no time to seek in


PANEL_SIZE = (130, 36)


def test_snapshot_findings_panel(snap_compare, tmp_path):
    assert snap_compare(fixture_app(snapshot_dir=str(tmp_path)), terminal_size=PANEL_SIZE, run_before=settle_fixture)


async def test_findings_panel_content(tmp_path):
    app = fixture_app(snapshot_dir=str(tmp_path))
    async with app.run_test(size=PANEL_SIZE) as pilot:
        await settle_fixture(pilot)
        text = screen_text(app)
    lines = text.splitlines()
    top = next(i for i, ln in enumerate(lines) if ln.startswith("  findings "))
    assert lines[top].split()[:2] == ["findings", "11"]
    assert lines[top + 1].startswith("  ▲ wave 1: 2 environments started at +0.0 s on ip-10-12-41-7")
    assert lines[top + 3].startswith("  ▲ wave 3: 10 environments started at +7.7 s (over 3.98 s) on ip-10-12-87-201")
    assert lines[top + 6].startswith("  ✕ 1 container stopped serving at +17.6 s on ip-10-12-41-7")
    assert any(ln.startswith("  ▣ 2 CPU models on 3 hosts") for ln in lines[top:])
    assert all(len(ln) <= PANEL_SIZE[0] for ln in lines)
    # The table above it still shows its rows with their waves.
    assert lines[5].split()[:3] == ["6513270e", "1", "ip-10-12-41-7"]

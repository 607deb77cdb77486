"""The export: the snapshot document with the story, the tidy timeline, one folder for every way
in (written atomically), and the figures (valid PNG and SVG, one lane per serving container)."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_analyze import experiment_events
from tests.unit.test_findings import T0, blog_like
from tui.cli import main
from tui.core import snapshot as export
from tui.output import folder as export_folder

ROOT = Path(__file__).resolve().parents[2]
SOURCE = {"kind": "local", "profile": "blog", "simulated_hosts": True}


def blog_bundle(now=9.5):
    b = blog_like()
    return export.build(b.fleet(now), now=T0 + now, source=SOURCE)


def test_the_document_carries_the_story():
    doc = blog_bundle().doc
    t = doc["totals"]
    assert (t["containers"], t["serving"], t["cold_starts"], t["pre_initialized"], t["retired"]) == (38, 24, 24, 14, 14)
    assert [h["host_key"] for h in doc["hosts"]] == ["host-1", "host-2", "host-3"]  # no "?" host
    assert doc["started_at"] == export.iso(T0) and doc["bucket_s"] == 0.1
    assert doc["source"]["profile"] == "blog" and "cohorts" not in doc
    kinds = [f["kind"] for f in doc["findings"]]
    assert kinds.count("wave") == 3 and "host_takeover" in kinds
    rows = {r["container_id"]: r for r in doc["containers"]}
    retired = [r for r in rows.values() if r["state"] == "retired"]
    assert len(retired) == 14 and all(r["why"].startswith("its host host-") for r in retired)
    pre = [r for r in rows.values() if r["pre_initialized"]]
    assert len(pre) == 14 and {(r["state"], r["cold_starts"], r["host_key"], r["wave"]) for r in pre} == {
        ("pre-initialised", 0, None, 2)
    }
    assert sorted({r["wave"] for r in rows.values()}) == [0, 1, 2]
    json.dumps(doc)  # all of it is JSON


def test_the_tidy_timeline_adds_up_and_loads_with_the_csv_module():
    bundle = blog_bundle()
    rows = list(csv.DictReader(io.StringIO(export.timeline_csv(bundle.timeline))))
    assert list(rows[0]) == ["container_id", "host_key", "wave", "bucket_start", "t_s", "bucket_s", "invocations"]
    assert sum(int(r["invocations"]) for r in rows) == bundle.doc["totals"]["invocations"]
    first = [r for r in rows if r["host_key"] == "host-1"]
    assert (
        first[0]["bucket_start"].endswith("Z") and float(first[0]["t_s"]) == 0.1
    )  # 0.1 s buckets: the first call at +0.1 s
    assert {r["wave"] for r in first} == {"0"} and {r["bucket_s"] for r in rows} == {"0.1"}


def test_a_very_large_run_merges_timeline_buckets_and_still_adds_up(monkeypatch):
    full = blog_bundle()
    monkeypatch.setattr(export, "MAX_TIMELINE_ROWS", len(full.timeline) // 3)
    small = blog_bundle()
    assert len(small.timeline) <= len(full.timeline) // 3
    assert sum(r["invocations"] for r in small.timeline) == small.doc["totals"]["invocations"]
    width = small.timeline[0]["bucket_s"]
    assert width >= 4 * full.doc["bucket_s"] and {r["bucket_s"] for r in small.timeline} == {width}


def test_the_table_prints_the_findings_under_it_and_leaves_the_never_invoked_out():
    text = export.to_table(blog_bundle().doc)
    table, _, story = text.partition("\nfindings:\n")
    assert "24 containers, " in table and "14 pre-initialised environments (never invoked)" in table
    assert len([line for line in table.splitlines() if "host-" in line]) == 24
    assert story.splitlines()[0].startswith("  wave 1: 4 environments started at +0.0 s")
    assert any("host-1 retired at" in line for line in story.splitlines())


def test_the_table_has_an_errors_column_only_when_some_environment_had_function_errors():
    doc = blog_bundle().doc
    assert " errors " not in export.to_table(doc).splitlines()[0]
    doc["containers"][0]["errors"] = 3
    header, first = export.to_table(doc).splitlines()[:2]
    assert header.split()[:3] == ["container-id", "invocations", "errors"]
    served = [c for c in doc["containers"] if not c.get("pre_initialized")]
    assert first.split()[2] == str(served[0].get("errors") or 0)


def test_a_long_run_of_waves_is_cut_in_the_table_not_in_the_document():
    from tests.unit.test_findings import Build

    b = Build()
    for k in range(12):
        b.burst(f"h{k % 2}", 2, k * 5.0, k * 5.0 + 0.2, k * 5.0 + 0.5)
    doc = export.build(b.fleet(70.0), now=T0 + 70.0, source={}).doc
    assert sum(f["kind"] == "wave" for f in doc["findings"]) == 12
    lines = export.to_table(doc).split("findings:\n")[1].splitlines()
    assert sum(line.startswith("  wave ") for line in lines) == 6
    assert "… and 6 more waves of 2, 2, 2, 2, 2, 2 environments (all in --format json)" in lines[6]


def test_idle_gaps_come_with_the_export_from_the_whole_run_lanes():
    from tests.unit.test_findings import Build

    b = Build()
    b.env("h", 0.0, [0.5, 1.5, 2.5, 40.5, 41.5, 70.5])  # quiet for 38 s, then 29 s, in between
    b.env("h", 0.001, [0.6 + k for k in range(70)])
    [life] = [
        f for f in export.build(b.fleet(71.0), now=T0 + 71.0, source={}).doc["findings"] if f["kind"] == "lifetime"
    ]
    width = export.build(b.fleet(71.0), now=T0 + 71.0, source={}).doc["bucket_s"]
    assert life["idle_gap_s_max"] == pytest.approx(38.0 - width, abs=1.0) and life["evidence"]["longest_idle"].endswith(
        "1"
    )
    assert f"the longest idle gap before serving again {life['idle_gap_s_max']:.1f} s" in life["text"]


def test_write_export_is_atomic_into_a_new_or_an_existing_folder(tmp_path):
    bundle = blog_bundle()
    folder = tmp_path / "out"
    names = export_folder.write_export(str(folder), bundle, extra_files={"screen.svg": "<svg/>"}, figures=None)
    assert (
        sorted(names)
        == sorted(p.name for p in folder.iterdir())
        == ["containers.csv", "screen.svg", "snapshot.json", "timeline.csv"]
    )
    assert all(os.stat(p).st_mode & 0o077 == 0 for p in folder.iterdir())  # private, as snapshots were
    (folder / "mine.txt").write_text("keep")
    export_folder.write_export(str(folder), bundle, figures=None)  # again, into the existing folder
    assert (folder / "mine.txt").read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left behind


def test_the_monitor_draws_its_figures_in_a_child_process(tmp_path):
    folder, names = export_folder.write_snapshot(str(tmp_path), T0, blog_bundle(), {"screen.svg": "<svg/>"})
    assert sorted(names) == sorted(p.name for p in Path(folder).iterdir())
    assert {"timeline.png", "timeline.svg", "screen.svg", "snapshot.json"} <= set(names)
    assert (Path(folder) / "timeline.svg").read_text().count('id="lane-') == 24


def test_replay_export_writes_the_folder_with_no_screen(tmp_path, capsys):
    from tests.tui.fakes import FIXTURE

    folder = tmp_path / "replayed"
    assert main(["replay", str(FIXTURE), "--export", str(folder)]) == 0
    assert f"export written to {folder}/" in capsys.readouterr().err
    doc = json.loads((folder / "snapshot.json").read_text())
    assert doc["source"]["kind"] == "replay" and doc["source"]["recorded_kind"] == "local"
    assert doc["totals"]["containers"] == 21 and doc["totals"]["invocations"] > 0
    assert doc["load"].get("mode") in ("closed", "open")
    with open(folder / "timeline.csv", newline="") as fh:
        assert sum(int(r["invocations"]) for r in csv.DictReader(fh)) == doc["totals"]["invocations"]
    assert (folder / "timeline.svg").read_text().count('id="lane-') == doc["totals"]["serving"]
    assert "screen.svg" not in os.listdir(folder)


def test_a_folder_that_cannot_be_written_is_one_line_and_exit_2(tmp_path, capsys):
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"events": experiment_events()}))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["analyze", str(events), "--export", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert "cannot write the export folder" in err and "Traceback" not in err


def test_export_through_a_symlink_writes_where_it_points_or_says_why_not(tmp_path, capsys):
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"events": experiment_events()}))
    for existing in ([], ["mine.txt"]):  # an empty folder behind the link (rmdir said 'Not a directory'), a full one
        real = tmp_path / f"real{len(existing)}"
        real.mkdir()
        for name in existing:
            (real / name).write_text("keep")
        link = tmp_path / f"link{len(existing)}"
        link.symlink_to(real)
        code = main(["analyze", str(events), "--format", "csv", "--export", str(link)])
        assert code == 0, capsys.readouterr().err
        assert f"export written to {link}/" in capsys.readouterr().err
        assert link.is_symlink() and "snapshot.json" in os.listdir(real)
        assert all((real / name).read_text() == "keep" for name in existing)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert main(["analyze", str(events), "--export", str(tmp_path / "dangling")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a symlink" in err and "give the real path" in err
    assert not (tmp_path / "nowhere").exists()


def test_analyze_export_writes_the_folder_with_figures(tmp_path, capsys):
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"events": experiment_events()}))
    folder = tmp_path / "exp"
    assert main(["analyze", str(events), "--export", str(folder), "--format", "json"]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert f"export written to {folder}/" in out.err
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "containers.csv",
        "invocations.png",
        "invocations.svg",
        "latency.png",
        "latency.svg",
        "snapshot.json",
        "timeline.csv",
        "timeline.png",
        "timeline.svg",
    ]
    assert json.loads((folder / "snapshot.json").read_text())["totals"] == doc["totals"]
    for name in ("timeline", "invocations", "latency"):
        assert (folder / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in (folder / f"{name}.svg").read_bytes()[:500]
    svg = (folder / "timeline.svg").read_text()
    assert svg.count('id="lane-') == doc["totals"]["serving"] == 2


def test_figures_draw_the_blog_with_one_lane_per_serving_container():
    from tui.output import figures

    bundle = blog_bundle()
    out = figures.draw_all(bundle.doc, bundle.timeline, {"cold_ms": [300.0, 320.0], "warm_ms": [5.0, 6.0, 7.0]})
    svg = out["timeline.svg"].decode()
    assert svg.count('id="lane-') == 24
    assert "host (simulated)" in svg and "wave 3: 24 (10 served)" in svg and "host-1 retired" in svg
    assert "cold vs warm" in out["latency.svg"].decode()


@pytest.mark.parametrize("module", ["tui.screen.app", "tui.cli", "tui.core.snapshot", "tui.core.findings"])
def test_the_monitor_start_up_does_not_import_matplotlib(module):
    code = f"import sys, {module}; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

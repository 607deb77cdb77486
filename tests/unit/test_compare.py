"""Comparing runs: one row per fact, differences marked, unknown never counted as different."""

import json
import subprocess
import sys

import pytest

from tui.core import compare


def doc(*, waves=(4, 10, 24), containers=24, profile="blog", throttled=0, findings=True, cpu=("A", "B")):
    out = {
        "source": {"kind": "local", "profile": profile},
        "started_at": "2026-12-01T10:00:00.000Z",
        "totals": {
            "requests": 2000,
            "invocations": 2000,
            "containers": containers,
            "cold_starts": containers,
            "pre_initialized": 0,
            "throttled": throttled,
            "errors": 0,
        },
        "hosts": [{"host_key": f"h{i}"} for i in range(len(cpu))],
        "containers": [
            {
                "container_id": f"c{i}",
                "invocations": 10,
                "host_key": f"h{i % len(cpu)}",
                "cpu_model": cpu[i % len(cpu)],
                "first_seen": f"2026-12-01T10:00:{i % 60:02d}.000Z",
                "last_seen": f"2026-12-01T10:00:{min(59, i % 60 + 5):02d}.000Z",
            }
            for i in range(containers)
        ],
    }
    if findings:
        out["findings"] = [{"kind": "wave", "size": n, "at_s": 0.5 * k} for k, n in enumerate(waves)] + [
            {"kind": "hardware", "cpu_models": list(cpu)},
            {"kind": "spread", "max_over_min": 13.0, "gini": 0.31},
            {"kind": "cold_start", "init_ms_p50": 250.0, "init_ms_p99": 410.0},
        ]
    return out


def by_label(rows):
    return {r.label: r for r in rows}


def test_runs_of_different_profiles_differ_in_their_waves():
    rows = by_label(compare.compare([doc(), doc(waves=(10,), containers=10, profile="today", cpu=("A",))]))
    assert rows["waves"].differs
    assert rows["waves"].values == ("3: 4, 10, 24", "1: 10")
    assert rows["containers (serving)"].differs and rows["CPU models"].differs and rows["target / profile"].differs
    assert not rows["requests"].differs and not rows["spread"].differs


def test_identical_runs_differ_nowhere():
    rows = compare.compare([doc(), doc()])
    assert not any(r.differs for r in rows)
    assert "0 of" in compare.to_table(["a", "b"], rows)


def test_unknown_is_not_a_difference():
    rows = by_label(compare.compare([doc(), doc(findings=False)]))
    assert rows["waves"].values[1] == compare.UNKNOWN
    assert not rows["waves"].differs
    assert rows["CPU models"].values[1] == "A; B"  # read from the container rows instead


def test_a_damaged_document_reads_as_unknown():
    bad = {"totals": {"requests": "many"}, "findings": [{"kind": "wave", "size": "x"}, 3], "hosts": 7}
    rows = by_label(compare.compare([doc(), bad]))
    assert rows["requests"].values[1] == compare.UNKNOWN
    assert rows["hosts"].values[1] == compare.UNKNOWN
    text = compare.to_table(["a", "b"], list(rows.values()))
    assert "≠" in text


@pytest.mark.integration  # a real process
@pytest.mark.parametrize(
    "content, says",
    [
        ("{", "not a snapshot (not JSON)"),
        ('{"a": 1}', "not a snapshot document"),
    ],
)
def test_bad_runs_are_one_line_errors(tmp_path, content, says):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc()))
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "compare", str(good), str(bad)], capture_output=True, text=True
    )
    assert out.returncode == 2
    assert says in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.integration  # a real process and matplotlib
def test_compare_command_prints_the_table_and_exports_the_figure(tmp_path):
    a, b = tmp_path / "blog", tmp_path / "today.json"
    a.mkdir()
    (a / "snapshot.json").write_text(json.dumps(doc()))
    b.write_text(json.dumps(doc(waves=(10,), containers=10, profile="today", cpu=("A",))))
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "compare", str(a), str(b), "--export", str(tmp_path / "cmp")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["blog", "today.json"]
    assert any(line.startswith("≠  waves") and "3: 4, 10, 24" in line and "1: 10" in line for line in lines)
    assert (tmp_path / "cmp" / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "cmp" / "compare.svg").read_bytes()[:2000]
    saved = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert saved["runs"] == ["blog", "today.json"]


@pytest.mark.integration  # a real process, the recorded fixture played into the model
def test_a_recording_compares_like_a_snapshot(tmp_path):
    from pathlib import Path

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "session.jsonl"
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps(doc()))
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "compare", str(fixture), str(snap), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    rows = {r["label"]: r["values"] for r in json.loads(out.stdout)["rows"]}
    assert rows["requests"][0] == "286" and rows["containers (serving)"][0] == "21"

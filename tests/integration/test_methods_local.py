"""The classic probes against the local Lambda: each finds what its profile sets.

Each runs `lambdascope experiment NAME` as a user does, on a profile whose knob the method
measures, and checks the finding brackets the knob. Bounded: a few seconds of load each.
"""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def experiment(tmp_path, name, profile: str, *args):
    path = tmp_path / "profile.toml"
    path.write_text(profile)
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "experiment", name, "--profile-file", str(path), "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_idle_reclaim_finds_the_profiles_reclaim_time_within_one_step(tmp_path):
    f = experiment(
        tmp_path, "idle-reclaim", "[lifetime]\nidle_reclaim_s = 2\n", "--environments", "2", "--gaps", "1s,3s,5s"
    )
    assert f["reclaimed_after_s"] == [1.0, 3.0], f
    assert [p["new"] for p in f["probes"]] == [0, 2]


def test_scaling_finds_when_throttling_began(tmp_path):
    profile = "[function]\nconcurrency_limit = 4\n"
    f = experiment(tmp_path, "scaling", profile, "--max", "10", "--step", "1")
    began = f["throttles_began"]
    assert began is not None and began["concurrency"] == 5, f
    assert began["environments"] <= 4


def test_scaling_says_this_machines_start_queue_apart(tmp_path):
    # One init at a time here, a 0.4 s init, and each request held 0.5 s: the 5 concurrent
    # step's new environments start together on Lambda and one by one here; the method's result
    # says that wait beside its steps, which keep Lambda's time.
    (tmp_path / "slow_init.py").write_text(
        "import time\ntime.sleep(0.4)\n\n\ndef handler(event, context):\n    time.sleep(0.5)\n    return 1\n"
    )
    profile = "[machine]\ninit_slots = 1\n"
    f = experiment(tmp_path, "scaling", profile, "--max", "5", "--step", "1", "--handler", "slow_init.py:handler")
    q = f["local_start_queue"]
    assert q["slots"] == 1 and q["queued"] >= 2 and q["max_s"] >= 0.7, q
    assert q["text"].startswith("this machine, not Lambda, queued ")


def test_lifetime_finds_busy_environments_recycled(tmp_path):
    f = experiment(tmp_path, "lifetime", "[lifetime]\nenv_max_lifetime_s = 2\n", "--duration", "5", "--rate", "10")
    assert len(f["recycles"]) >= 1, f
    # An age runs from the first answer to the last (a cold start after the environment began),
    # so it reads a little under the profile's 2 s, and never much over it (the reaper ticks).
    assert all(1.0 <= r["age_s"] <= 2.6 for r in f["recycles"]), f["recycles"]


def test_compare_shows_two_profiles_different_wave_sizes(tmp_path):
    for profile in ("blog", "today"):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "tui.cli",
                "run",
                "--profile-file",
                profile,
                "--requests",
                "400",
                "--concurrency",
                "10",
                "--export",
                str(tmp_path / profile),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=tmp_path,
        )
        assert out.returncode == 0, out.stderr[-2000:]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "compare",
            str(tmp_path / "blog"),
            str(tmp_path / "today"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    rows = {r["label"]: r for r in json.loads(out.stdout)["rows"]}
    blog, today = rows["waves"]["values"]
    assert blog.startswith(("2: 4, 10", "3: 4, 10")), blog  # the blog's batches of 4, then 10
    assert today == "1: 10"  # ten clients, ten environments at once
    assert rows["waves"]["differs"] and rows["hosts"]["differs"]

"""`run --plan` on the local Lambda: each stage's figures match what the stage asked for, and a
snapshot's plan repeats the run."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def run(tmp_path, *args):
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "run", "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout), out.stderr


def test_each_stage_runs_what_it_says(tmp_path):
    doc, err = run(tmp_path, "--plan", "2c@2s, 5c@2s, 0@1s, 20r@2s")
    stages = doc["load"]["stages"]
    assert [s["text"] for s in stages] == ["2c@2s", "5c@2s", "0@1s", "20r@2s"]
    # The default profile gives one environment per concurrent request: 2, then 3 more.
    assert [s["new_environments"] for s in stages] == [2, 3, 0, 0]
    # Little's law over each window: a closed loop at N keeps about N in flight. Not exactly:
    # a request's whole latency counts in the window it was sent in (a slow one sent at a
    # stage's end spills over), and a stage's first requests wait for their cold start.
    assert 0.6 * 2 <= stages[0]["concurrency"] <= 1.3 * 2
    assert 0.6 * 5 <= stages[1]["concurrency"] <= 1.3 * 5
    # Quiet: what was in flight when it began, and what a 20 ms tick let out (a few percent of a
    # fast stage's rate, on a quiet machine hundreds a second).
    assert stages[2]["requests"] <= max(10, 0.1 * stages[1]["requests"]), stages
    assert 14 <= stages[3]["rate"] <= 22  # open loop: the rate, whatever the latency
    assert all(s["throttled"] == 0 and s["errors"] == 0 for s in stages)
    assert doc["load"]["plan"]["text"] == "2c@2s, 5c@2s, 0@1s, 20r@2s"
    assert "stage 2 5c@2s:" in err


def test_a_snapshot_repeats_its_plan(tmp_path):
    first, _ = run(tmp_path, "--plan", "1c@1s, 3c@1s")
    (tmp_path / "first.json").write_text(json.dumps(first))
    again, _ = run(tmp_path, "--plan", str(tmp_path / "first.json"))
    assert again["load"]["plan"]["text"] == first["load"]["plan"]["effective"]["text"] == "1c@1s, 3c@1s"
    assert [s["new_environments"] for s in again["load"]["stages"]] == [1, 2]


@pytest.mark.parametrize(
    "args, says",
    [
        (["--plan", "10c@30s, 5x@1m"], "--plan: stage 2 ('5x@1m'): the level must be"),
        (["--plan", "10c@1s", "--requests", "5"], "--plan sets how long the load runs"),
        (["--plan", "10c@1s", "--concurrency", "5"], "not allowed with argument"),
        (["--plan", "nope.toml"], "nope.toml: no such file; check --plan"),
    ],
)
def test_bad_plans_are_one_line(tmp_path, args, says):
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "run", *args], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert out.returncode == 2, out.stderr
    assert says in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_the_local_machine_limit_is_not_lambdas_throttling(tmp_path):
    # Two environment processes for six clients, and every request holds its environment for a
    # 300 ms round trip, six times the 50 ms a request waits for room: in each round trip two
    # clients are served and the other four are refused by this machine, however fast the
    # machine is. (Without the hold, only the first wave waited, for the two inits; whether they
    # took more than 50 ms decided the test, and on a quick moment none did.)
    (tmp_path / "tiny.toml").write_text(
        "[function]\nnetwork_latency_ms = 300\n\n[machine]\nmax_processes = 2\nqueue_wait_s = 0.05\n"
    )
    doc, _ = run(tmp_path, "--profile-file", str(tmp_path / "tiny.toml"), "--concurrency", "6", "--requests", "30")
    by_class = doc["run"]["errors_by_class"]
    assert set(by_class) == {"local_limit"} and by_class["local_limit"] > 0, by_class  # this machine said no
    assert doc["totals"]["throttled"] == 0  # and none of them read as Lambda throttling
    assert doc["totals"]["invocations"] + by_class["local_limit"] == 30  # each request ran or was refused
    assert doc["totals"]["serving"] <= 2

"""`experiment NAME --fan-out N` from the command line on the local Lambda: each method's bursts
run on loader functions and read back as the method's own outcomes (tui/methods/fanout_send.py),
and what a fan-out cannot do is refused before the target starts."""

import json
import subprocess
import sys

from tests.integration.test_user_function import _no_aws_env


def _experiment(tmp_path, *argv, timeout=240):
    out = tmp_path / "out.json"
    cmd = [sys.executable, "-m", "tui.cli", "experiment", *argv, "--format", "json", "--out", str(out)]
    done = subprocess.run(cmd, cwd=tmp_path, env=_no_aws_env(tmp_path), capture_output=True, text=True, timeout=timeout)
    return done, (json.loads(out.read_text()) if out.exists() else None)


def test_blog_on_4_loaders_confirms_its_1000_requests_from_the_logs(tmp_path):
    done, doc = _experiment(tmp_path, "blog", "--fan-out", "4")
    assert done.returncode == 0, done.stderr
    assert doc["fan_out"]["bursts"] == 1 and doc["fan_out"]["invocations"] == 4
    assert doc["fan_out"]["reported"] == 1000 and doc["fan_out"]["loaders_short"] == 0
    totals = doc["snapshot"]["totals"]
    assert totals["invocations"] == 1000 and totals["containers"] == 10 and totals["unconfirmed"] == 0
    assert (
        "4 loaders + up to 10 environments of the target" in done.stderr
        and "(each burst on up to 4)" in done.stderr
        and "loaders' cost" in done.stderr
    )


def test_scaling_steps_run_on_as_many_loaders_as_they_have_workers(tmp_path):
    done, doc = _experiment(tmp_path, "scaling", "--fan-out", "3", "--max", "5", "--step", "1s")
    assert done.returncode == 0, done.stderr
    steps = doc["steps"]
    assert [s["concurrency"] for s in steps] == [1, 2, 5]
    # A step of 1 and of 2 workers cannot use 3 loaders: 1 + 2 + 3 invocations in all.
    assert doc["fan_out"]["bursts"] == 3 and doc["fan_out"]["invocations"] == 6
    assert doc["fan_out"]["reported"] == sum(s["requests"] for s in steps)
    assert steps[-1]["environments"] == 5 and all(s["failed"] == 0 for s in steps)


def test_what_a_fan_out_cannot_run_is_refused_before_the_target_starts(tmp_path):
    for argv, says in (
        (["blog", "--fan-out", "11"], "blog runs 10 concurrent"),
        (["lifetime", "--fan-out", "2", "--duration", "20m"], "use --duration 900s or less"),
        (["scaling", "--fan-out", "2", "--step", "16m"], "use --step 900s or less"),
        (["packing", "--fan-out", "0"], "--fan-out"),
    ):
        done, doc = _experiment(tmp_path, *argv, timeout=60)
        assert done.returncode == 2 and doc is None, (argv, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0] and "Traceback" not in done.stderr, (argv, done.stderr)

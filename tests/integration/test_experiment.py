"""The blog's experiment end to end through the real path: load generator → function URL →
awslambdaric environments → moto → FilterLogEvents polling → fleet model → printed document."""

import json
import os
import subprocess
import sys

from tests.leftovers import wait_until_gone

LAMBDASCOPE = [sys.executable, "-m", "tui.cli"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cli(args, cwd, timeout=240):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(TMPDIR=str(cwd), PYTHONPATH=ROOT)
    return subprocess.run(LAMBDASCOPE + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_1000_requests_at_concurrency_10_give_10_containers(tmp_path):
    out = run_cli(["run", "--requests", "1000", "--concurrency", "10", "--format", "json"], tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    totals = doc["totals"]
    assert totals["invocations"] == 1000
    assert totals["requests"] == 1000 and totals["errors"] == 0
    assert totals["containers"] == 10
    assert totals["cold_starts"] == 10
    for c in doc["containers"]:
        assert c["cold_starts"] == 1, c
        assert c["confirmed"] == c["invocations"]  # every invocation seen in the logs too
        assert c["hostname"] and c["cpu_model"], c
        assert c["init_duration_ms"] and c["init_duration_ms"] > 0
        assert c["container_id"].split("]")[0].endswith("[$LATEST")
        assert c["first_seen"] <= c["last_seen"]
    assert sum(c["invocations"] for c in doc["containers"]) == 1000
    assert doc["source"]["simulated_hosts"] is True
    assert doc["load"]["mode"] == "closed" and doc["load"]["level"] == 10
    assert doc["run"]["missing_from_logs"] == 0
    assert "logs confirmed all 1000 invocations" in out.stderr
    assert wait_until_gone(tmp_path) == []


def test_table_output_and_nothing_left_behind(tmp_path):
    out = run_cli(["run", "--requests", "30", "--concurrency", "3"], tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:3] == ["container-id", "invocations", "cold"]
    assert "3 containers, 30 invocations, 3 cold starts" in out.stdout
    assert wait_until_gone(tmp_path) == []

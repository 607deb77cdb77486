"""The issue's first must-show, from the command line as a user runs it, on the local Lambda:
`run --fan-out 4 --requests 2000 --concurrency 20` sends exactly 2,000 requests across 4
loaders, the logs confirm every one, p50/p99 come from the merged histograms, and the findings
are the single-machine run's (their kinds and how many waves; not their timings, nor what this
machine's start queue did)."""

import json
import subprocess
import sys
from collections import Counter

from tests.integration.test_user_function import _no_aws_env

LOAD = ["--requests", "2000", "--concurrency", "20", "--format", "json"]


def _run(tmp_path, name, *extra):
    out = tmp_path / f"{name}.json"
    argv = [sys.executable, "-m", "tui.cli", "run", *extra, *LOAD, "--out", str(out)]
    done = subprocess.run(argv, cwd=tmp_path, env=_no_aws_env(tmp_path), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), done.stderr


# This machine's own finding, not the function's: whether its start queue waited long enough to
# say depends on how the two runs' requests reached it (tui/core/start_queue.py).
_THIS_MACHINE = {"local_start_queue"}


def _story(doc) -> tuple:
    kinds = Counter(f["kind"] for f in doc["findings"] if f["kind"] not in _THIS_MACHINE)
    return sorted(kinds), kinds["wave"]


def test_run_fan_out_4_sends_exactly_2000_all_confirmed_with_the_single_machines_findings(tmp_path):
    fan, said = _run(tmp_path, "fan", "--fan-out", "4")
    one, _ = _run(tmp_path, "one")
    totals = fan["totals"]
    assert totals["requests"] == totals["invocations"] == 2000
    assert totals["unconfirmed"] == 0 and totals["unknown"] == 0 and totals["errors"] == 0
    lines = fan["load"]["fan_out"]
    assert len(lines) == 4 and all("share 500 requests at 5 workers; reported 500;" in line for line in lines)
    latency = fan["load"]["fan_out_latency_ms"]
    assert latency["samples"] == 2000 and 0 < latency["p50"] <= latency["p99"]
    assert "(merged histograms)" in said and "4 loaders reported 2000 outcomes (2000 ok" in said
    assert sum(c["invocations"] for c in fan["containers"]) == 2000
    assert _story(fan) == _story(one), (fan["findings"], one["findings"])
    assert one["totals"]["requests"] == 2000 and "fan_out" not in one["load"]

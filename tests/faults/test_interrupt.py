"""Ctrl-C during `run`: the table measured so far is printed, then exit 130, nothing left behind."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.leftovers import processes_under, wait_until_gone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# 2 clients: the local Lambda in the run's own process; 100: in a process of its own
# (tui/aws/local_process.py), which the run stops once, in its own session.
@pytest.mark.parametrize("concurrency, processes", [(2, 4), (100, 20)])
def test_ctrl_c_during_run_prints_the_table_so_far_then_exits_130(tmp_path, concurrency, processes):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(TMPDIR=str(tmp_path), PYTHONPATH=ROOT)
    argv = ["run", "--duration", "120", "--concurrency", str(concurrency), "--format", "json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", *argv],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Environments start on the first invocation: once two exist, load is flowing.
        deadline = time.monotonic() + 60
        while len(processes_under(tmp_path)) < processes and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["run"]["interrupted"] is True
    # What was measured so far (possibly nothing yet, if the first answers were still on the way;
    # nothing outside the process says when they are): a whole document, consistent with itself.
    assert doc["totals"]["invocations"] == sum(c["invocations"] for c in doc["containers"])
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "lambdascope: interrupted"
    assert "so far" in err
    assert wait_until_gone(tmp_path) == []

"""Ctrl-C during `run`: the table measured so far is printed, then exit 130, nothing left behind."""

import json
import os
import signal
import subprocess
import sys
import time

from tests.leftovers import processes_under, wait_until_gone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_ctrl_c_during_run_prints_the_table_so_far_then_exits_130(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(TMPDIR=str(tmp_path), PYTHONPATH=ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "run", "--duration", "120", "--concurrency", "2", "--format", "json"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Environments start on the first invocation: once two exist, load is flowing.
        deadline = time.monotonic() + 60
        while len(processes_under(tmp_path)) < 4 and proc.poll() is None and time.monotonic() < deadline:
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

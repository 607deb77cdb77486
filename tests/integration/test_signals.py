"""Clean exit: `lambdascope local` stopped by SIGTERM or SIGINT after serving traffic leaves no
process behind and prints one line, nothing else (no warnings, no traceback)."""

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.leftovers import wait_until_gone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_local_stops_cleanly_on_signal(tmp_path, sig):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(TMPDIR=str(tmp_path), PYTHONPATH=ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "local"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        endpoints = json.loads(proc.stdout.readline())
        for _ in range(5):
            with urllib.request.urlopen(endpoints["function_url"], timeout=30) as r:
                assert json.loads(r.read())["lambdascope"] == 1
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err == "lambdascope: interrupted\n"
    assert wait_until_gone(tmp_path) == []

"""The local Lambda in a process of its own (tui/aws/local_process.py): what `run` uses from 100
environments at once and `watch` always. Reached through its endpoints line as any SDK would be,
its counts exact, its failures one line, nothing left behind."""

import json
import subprocess
import sys

import pytest

from loadgen.plan import Plan
from loadgen.ramp import parse
from tests.integration.test_aws_target import fake_aws_env
from tests.leftovers import wait_until_gone
from tui.aws.local_process import APART_FROM, apart_for, local_process
from tui.core.errors import UserError


def test_a_run_at_100_environments_runs_the_local_lambda_apart_and_confirms_every_request(tmp_path):
    out = tmp_path / "out.json"
    argv = [sys.executable, "-m", "tui.cli", "run", "--concurrency", "100", "--requests", "600"]
    argv += ["--format", "json", "--out", str(out)]
    done = subprocess.run(argv, cwd=tmp_path, env=fake_aws_env(tmp_path), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text())
    assert doc["totals"]["requests"] == 600 == doc["totals"]["invocations"]
    assert doc["totals"]["unconfirmed"] == 0
    assert "logs confirmed all 600 invocations" in done.stderr
    assert wait_until_gone(tmp_path) == []  # the local Lambda's process and all it started


def test_which_loads_get_the_local_lambda_a_process_of_its_own():
    assert not apart_for(Plan("closed", APART_FROM - 1, requests=10))
    assert apart_for(Plan("closed", APART_FROM, requests=10))
    assert not apart_for(Plan("open", 5000, duration=1))  # a rate alone: its environments are few
    ramp = parse("10c@1s, 500c@1s")
    assert apart_for(Plan("closed", 10, duration=2), ramp)


async def test_a_local_lambda_that_fails_to_start_says_why_in_one_line(tmp_path):
    fails = [
        sys.executable,
        "-c",
        "import sys; print('lambdascope: error: no room: try --port', file=sys.stderr); sys.exit(2)",
    ]
    with pytest.raises(UserError, match=r"^no room: try --port$"):
        async with local_process(fails):
            pass
    silent = [sys.executable, "-c", "import sys; sys.exit(3)"]
    with pytest.raises(UserError, match=r"exited \(3\) before it started: nothing on its stderr"):
        async with local_process(silent):
            pass


async def test_the_local_lambdas_process_stops_with_the_block(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # what it starts works in here: a /proc scan finds any survivor
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    async with local_process([sys.executable, "-m", "tui.cli", "local", "--port", "0"]) as (info, pid):
        assert info["function_name"] == "lambdascope-probe"
        assert info["moto_endpoint"].startswith("http://127.0.0.1:")  # a fan-out's control object
        assert pid in wait_until_gone(tmp_path, timeout=0)
    assert wait_until_gone(tmp_path) == []


PARENT = """
import asyncio, sys
from tui.aws.local_process import command, local_process

async def main():
    async with local_process(command(None, None, False, None, None)) as (info, pid):
        print(pid, flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


def test_a_parent_killed_outright_takes_the_local_lambda_and_all_it_started_with_it(tmp_path):
    """SIGKILL runs none of the parent's clean-up: the kernel's SIGINT (local --stop-with) does it."""
    env = fake_aws_env(tmp_path)
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert child in wait_until_gone(tmp_path, timeout=0)
        parent.kill()
        parent.wait(timeout=30)
        assert wait_until_gone(tmp_path, timeout=60) == []  # the local Lambda, moto, the environments
    finally:
        parent.kill()
        parent.stdout.close()

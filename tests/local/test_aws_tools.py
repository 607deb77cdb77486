"""Standard tools against `lambdascope local`, run as a user runs it (its own process, until
Ctrl-C): ApacheBench on the function URL, and the AWS CLI (from PyPI, in its own venv) on the one
`endpoint_url` for both Lambda and CloudWatch Logs. Afterwards nothing it started is left.

The tools come from the project's own files, never from the tests: `.ci/run` installs
apache2-utils, and `make test` makes `.venv-awscli` (the AWS CLI's botocore pin clashes with
aioboto3's; `LAMBDASCOPE_AWSCLI_VENV` picks another folder). Without them these tests skip and say how.
"""

import asyncio
import base64
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys

import aioboto3
import pytest

from tests.leftovers import wait_until_gone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAMBDASCOPE = [sys.executable, "-m", "tui.cli"]
AWSCLI_VENV = os.environ.get("LAMBDASCOPE_AWSCLI_VENV") or os.path.join(ROOT, ".venv-awscli")
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
START_TIMEOUT_S = 60


# --- set-up: the tools -------------------------------------------------------------------------


def _run_quietly(cmd, timeout, what):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-15:])
        pytest.fail(f"{what} failed (exit {out.returncode}): {' '.join(cmd)}\n{tail}")


@pytest.fixture(scope="session")
def ab():
    """ApacheBench; `.ci/run` installs it (apache2-utils). Tests install nothing themselves."""
    path = shutil.which("ab")
    if not path:
        pytest.skip("ApacheBench (`ab`) is missing: `apt-get install apache2-utils` (CI's .ci/run does)")
    return path


@pytest.fixture(scope="session")
def aws_cli():
    """The `aws` executable of AWS CLI v1 (PyPI `awscli`) in its own venv, made by `make test`."""
    exe = os.path.join(AWSCLI_VENV, "bin", "aws")
    if not os.access(exe, os.X_OK):
        pytest.skip(
            f"the AWS CLI is missing at {exe}: `make .venv-awscli/.installed-stamp` "
            "(make test does it) or set LAMBDASCOPE_AWSCLI_VENV"
        )
    return exe


# --- `lambdascope local`, as its own process ----------------------------------------------------


class LocalProcess:
    """`lambdascope local` with cwd and TMPDIR in a test folder; `.info` is its JSON line."""

    def __init__(self, folder, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(TMPDIR=str(folder), PYTHONPATH=ROOT)
        self.proc = subprocess.Popen(
            [*LAMBDASCOPE, "local", *args],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Ctrl-C must reach it even when this test run itself ignores SIGINT (a job started
            # in the background by a shell): Python only handles SIGINT it did not inherit ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.info = json.loads(self._first_line())

    def _first_line(self) -> str:
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(START_TIMEOUT_S):
                self.stop()
                pytest.fail(f"lambdascope local printed nothing in {START_TIMEOUT_S} s")
        line = self.proc.stdout.readline()
        if not line:
            _, err = self.stop()
            pytest.fail(
                f"lambdascope local exited ({self.proc.returncode}) before its JSON "
                f"line: {err.decode(errors='replace')[-2000:]}"
            )
        return line.decode()

    def interrupt(self, timeout=30) -> tuple[int, str]:
        """Ctrl-C, as a user stops it; its exit code and stderr."""
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err.decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.communicate()


@pytest.fixture
def local(tmp_path):
    made = []

    def start(*args):
        made.append(LocalProcess(tmp_path, *args))
        return made[-1]

    yield start
    for lp in made:
        lp.stop()


async def log_events(info, want, timeout=60.0) -> list[dict]:
    """The function's log group through the logs endpoint, polled until `want(events)`."""
    session = aioboto3.Session()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with session.client(
        "logs",
        endpoint_url=info["logs_endpoint"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as logs:
        while True:
            events, kwargs = [], {"logGroupName": info["log_group"]}
            while True:
                page = await logs.filter_log_events(**kwargs)
                events += page["events"]
                if not page.get("nextToken"):
                    break
                kwargs["nextToken"] = page["nextToken"]
            if want(events) or loop.time() > deadline:
                return events
            await asyncio.sleep(0.5)


def _reports(events) -> list[dict]:
    return [e for e in events if e["message"].startswith("REPORT RequestId: ")]


# --- ApacheBench -----------------------------------------------------------------------------


async def test_ab_1000_requests_at_concurrency_10(ab, local, tmp_path):
    lp = local()  # the default profile
    info = lp.info
    assert info["function_url"].startswith("http://127.0.0.1:")
    assert info["endpoint_url"] == info["invoke_endpoint"]
    # -l: the body's length varies (request ids, counters), which ab would count as failures.
    out = await asyncio.to_thread(
        subprocess.run,
        [ab, "-q", "-l", "-n", "1000", "-c", "10", info["function_url"]],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    assert re.search(r"^Complete requests:\s+1000$", out.stdout, re.M), out.stdout
    assert re.search(r"^Failed requests:\s+0$", out.stdout, re.M), out.stdout
    assert "Non-2xx responses" not in out.stdout, out.stdout
    rps = float(re.search(r"^Requests per second:\s+([\d.]+)", out.stdout, re.M).group(1))
    print(f"\nab -n 1000 -c 10 against the function URL: {rps:.0f} requests/s")

    events = await log_events(info, lambda ev: len(_reports(ev)) >= 1000)
    reports = _reports(events)
    assert len(reports) == 1000
    assert len({e["logStreamName"] for e in events}) == 10
    assert len({e["logStreamName"] for e in reports}) == 10
    assert sum("Init Duration: " in e["message"] for e in reports) == 10
    assert sum(e["message"].startswith("INIT_START ") for e in events) == 10
    assert len({e["message"].split()[2] for e in reports}) == 1000  # one REPORT per request

    code, err = lp.interrupt()
    assert code == 130, err
    assert wait_until_gone(tmp_path) == []


# --- the AWS CLI -----------------------------------------------------------------------------


def _aws(aws_cli, folder, *args, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        FAKE_KEYS,
        HOME=str(folder),
        AWS_PAGER="",
        AWS_CONFIG_FILE=os.path.join(folder, "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(folder, "no-aws-credentials"),
    )
    out = subprocess.run([aws_cli, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"aws {' '.join(args)}: {out.stderr}"
    return out.stdout


def _lambdascope(folder, *args, env_extra=None, timeout=120):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(TMPDIR=str(folder), PYTHONPATH=ROOT, **(env_extra or {}))
    out = subprocess.run([*LAMBDASCOPE, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return out.stdout


async def test_aws_cli_invokes_and_reads_the_logs_through_one_endpoint(aws_cli, local, tmp_path):
    lp = local()
    info = lp.info
    ep = ["--endpoint-url", info["endpoint_url"], "--region", "us-east-1"]
    name = info["function_name"]

    def aws(*args):
        return _aws(aws_cli, tmp_path, *args)

    cfg = json.loads(await asyncio.to_thread(aws, "lambda", "get-function-configuration", "--function-name", name, *ep))
    assert cfg["FunctionName"] == name and cfg["State"] == "Active"
    assert cfg["FunctionArn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    assert cfg["MemorySize"] == 128 and cfg["Runtime"] == "python3.11"
    assert cfg["LoggingConfig"]["LogGroup"] == info["log_group"]
    url = json.loads(await asyncio.to_thread(aws, "lambda", "get-function-url-config", "--function-name", name, *ep))
    assert url["FunctionUrl"] == info["function_url"]

    out_file = tmp_path / "out.json"
    result = json.loads(
        await asyncio.to_thread(
            aws, "lambda", "invoke", "--function-name", name, *ep, "--log-type", "Tail", str(out_file)
        )
    )
    assert result["StatusCode"] == 200 and result["ExecutedVersion"] == "$LATEST"
    record = json.loads(out_file.read_text())
    assert record["cold"] is True and record["function_name"] == name
    tail = base64.b64decode(result["LogResult"]).decode()
    assert f"REPORT RequestId: {record['request_id']}\tDuration: " in tail
    assert "Init Duration: " in tail

    events_file = tmp_path / "events.json"
    want = f"REPORT RequestId: {record['request_id']}"
    async with asyncio.timeout(30):
        while True:  # the shipper batches; read until the REPORT line is there
            text = await asyncio.to_thread(aws, "logs", "filter-log-events", "--log-group-name", info["log_group"], *ep)
            if any(e["message"].startswith(want) for e in json.loads(text)["events"]):
                break
            await asyncio.sleep(0.5)
    events_file.write_text(text)
    events = json.loads(text)["events"]
    assert {e["logStreamName"] for e in events} == {record["container_id"]}

    doc = json.loads(await asyncio.to_thread(_lambdascope, tmp_path, "analyze", str(events_file), "--format", "json"))
    assert doc["totals"]["invocations"] == 1 and doc["totals"]["cold_starts"] == 1
    [container] = doc["containers"]
    assert container["container_id"] == record["container_id"]
    assert container["hostname"] == record["hostname"]
    assert container["init_duration_ms"] > 0

    # lambdascope itself reads the live group through the same one endpoint.
    live = json.loads(
        await asyncio.to_thread(
            _lambdascope,
            tmp_path,
            "analyze",
            "--log-group",
            info["log_group"],
            *ep,
            "--format",
            "json",
            env_extra=FAKE_KEYS,
        )
    )
    assert [c["container_id"] for c in live["containers"]] == [record["container_id"]]

    code, err = lp.interrupt()
    assert code == 130, err
    assert wait_until_gone(tmp_path) == []

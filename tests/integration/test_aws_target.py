"""The AWS code path, with no account: `lambdascope local` stands in for AWS at one endpoint, and
`run --function NAME --endpoint-url URL` finds the function, its URL and its log group through
the Lambda API, loads it (function URL, or Invoke API signed with SigV4) and reads CloudWatch
Logs, exactly as against a real account. Fake AWS keys sit in the environment: none may appear
in any output, snapshot or error."""

import asyncio
import json
import os
import signal
import subprocess
import sys

import pytest

from tests.leftovers import wait_until_gone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY_ID = "AKIAFAKEKEYID7LEAKCHK"
SECRET = "fAkEsEcReT/shouldNeverAppear+0123456789ab"
TOKEN = "FakeSessionTokenThatMustNotLeak0123456789"


def fake_aws_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    empty = tmp_path / "empty"
    empty.write_text("")
    env.update(
        TMPDIR=str(tmp_path),
        PYTHONPATH=ROOT,
        AWS_ACCESS_KEY_ID=KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_SESSION_TOKEN=TOKEN,
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@pytest.fixture
def local_aws(tmp_path):
    """`lambdascope local` as a subprocess; yields its endpoints; stops it and checks for leftovers."""
    yield from _local(tmp_path)


@pytest.fixture
def local_aws_lmi():
    """The same, on the Managed Instances profile: a function on a capacity provider. In a short
    folder: its environments bind a unix socket there, and pytest's tmp_path can be longer than a
    socket path may be (108 bytes)."""
    import pathlib
    import shutil
    import tempfile

    short = pathlib.Path(tempfile.mkdtemp(prefix="lscp-", dir="/tmp"))
    try:
        yield from _local(short, "--profile-file", "lmi")
    finally:
        shutil.rmtree(short, ignore_errors=True)


def _local(tmp_path, *args):
    env = fake_aws_env(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "local", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield json.loads(proc.stdout.readline()), env
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert KEY_ID not in err and SECRET not in err
    assert wait_until_gone(tmp_path) == []


def no_secret_in(*texts):
    for text in texts:
        assert KEY_ID not in text and SECRET not in text and TOKEN not in text


def run_against(endpoints, env, cwd, function, *flags, timeout=180):
    """`lambdascope run --function FUNCTION` through the endpoint `lambdascope local` serves, as on
    AWS with --endpoint-url."""
    argv = [sys.executable, "-m", "tui.cli", "run", "--function", function, "--region", "us-east-1"]
    argv += ["--endpoint-url", endpoints["endpoint_url"], *flags]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("extra", [[], ["--invoke"]], ids=["function-url", "invoke-api"])
def test_run_against_a_function_by_name(local_aws, tmp_path, extra):
    endpoints, env = local_aws
    out_file = tmp_path / "out.json"
    out = run_against(
        endpoints,
        env,
        tmp_path,
        endpoints["function_name"],
        *("--requests", "60", "--concurrency", "3", "--format", "json", "--out", str(out_file)),
        *extra,
    )
    assert out.returncode == 0, out.stderr
    doc_text = out_file.read_text()
    no_secret_in(out.stdout, out.stderr, doc_text)
    doc = json.loads(doc_text)
    assert doc["source"]["kind"] == "aws"
    assert doc["source"]["label"] == "lambdascope-probe (us-east-1)"
    assert doc["totals"]["invocations"] == 60
    assert doc["totals"]["containers"] == 3
    assert all(c["cold_starts"] == 1 and c["confirmed"] == c["invocations"] for c in doc["containers"])


def test_unknown_function_is_one_line(local_aws, tmp_path):
    endpoints, env = local_aws
    out = run_against(endpoints, env, tmp_path, "no-such-fn", "--requests", "1", timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith("lambdascope: error: function 'no-such-fn' not found in us-east-1")
    assert out.stderr.count("\n") == 1
    no_secret_in(out.stdout, out.stderr)


def test_a_managed_instances_function_names_its_capacity_provider(local_aws_lmi, tmp_path):
    # On AWS nothing says "read the system log" but the function's CapacityProviderConfig, which
    # this botocore's model drops: it must be read from the raw answer.
    endpoints, env = local_aws_lmi
    _until_published(endpoints["status_url"])
    out = run_against(
        endpoints,
        env,
        tmp_path,
        endpoints["function_name"],
        "--requests",
        "100",
        "--concurrency",
        "8",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    no_secret_in(out.stdout, out.stderr)
    doc = json.loads(out.stdout)
    assert doc["source"]["capacity_provider_log_group"] == endpoints["capacity_provider_log_group"]
    assert doc["hosts"] and all(h["availability_zone"] for h in doc["hosts"])
    assert all(h["host_evidence"] == "system log + probe (DMI)" for h in doc["hosts"])


def _until_published(status_url: str, timeout: float = 60.0) -> None:
    """Managed Instances throttle a request no environment has a slot for (no cold start on the
    request path): wait until publishing's environments have started, as a user of an LMI
    function waits for its version to be published."""
    import urllib.request

    def status() -> dict:
        with urllib.request.urlopen(status_url, timeout=5) as r:
            return json.load(r)

    async def published() -> None:
        async with asyncio.timeout(timeout):
            while True:
                now = await asyncio.to_thread(status)
                if now["environments"] >= 3 and now["starting"] == 0:
                    return
                await asyncio.sleep(0.1)

    asyncio.run(published())

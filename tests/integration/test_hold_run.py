"""`--hold` end to end on the local Lambda: concurrency without the request rate, a hold the
function's timeout refuses said before anything starts, and the account's concurrency said before
Lambda throttles it (GetAccountSettings as the local Lambda answers it, through the AWS code path)."""

import json
import subprocess
import sys

import pytest

from tests.integration.test_aws_target import _local, fake_aws_env, no_secret_in, run_against


def lambdascope(tmp_path, *argv, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *argv],
        cwd=tmp_path,
        env=fake_aws_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def local_aws_limit_5(tmp_path):
    """`lambdascope local --concurrency-limit 5`: an account whose quota is 5."""
    yield from _local(tmp_path, "--concurrency-limit", "5")


@pytest.mark.parametrize(
    "argv, names",
    [
        (["run", "--hold", "5s"], "--hold 5s"),
        (["run", "--hold", "3s", "--requests", "5"], "--hold 3s"),  # the timeout itself: no room to answer
        (["run", "--plan", "10c@10s, 20c@10s hold 4s"], "a --plan stage's hold 4s"),
        (["watch", "--hold", "10s"], "--hold 10s"),
        (["experiment", "idle-reclaim", "--hold", "5s"], "--hold 5s"),
    ],
)
def test_a_hold_past_the_timeout_is_refused_before_anything_starts(tmp_path, argv, names):
    out = lambdascope(tmp_path, *argv, timeout=60)
    assert out.returncode == 2, out.stderr
    # One line, from the profile alone: nothing started, so nothing else was said.
    assert out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith(f"lambdascope: error: {names} is longer than the local Lambda (profile today)")
    assert "at most 2.9s" in out.stderr and "timeout_s" in out.stderr


def test_hold_1s_at_concurrency_50_holds_50_environments_at_about_50_requests_a_second(tmp_path):
    out_file = tmp_path / "out.json"
    out = lambdascope(
        tmp_path,
        *("run", "--hold", "1s", "--concurrency", "50", "--requests", "150", "--format", "json"),
        *("--out", str(out_file)),
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out_file.read_text())
    totals = doc["totals"]
    assert doc["load"]["hold_ms"] == 1000
    assert totals["invocations"] == 150 and totals["errors"] == 0 and totals["throttled"] == 0
    # 50 requests held at once need 50 environments; a 1 s hold gives each one back only after
    # its response, so none more start (a probe answering in milliseconds would reuse a few).
    assert totals["containers"] == 50 and totals["cold_starts"] == 50
    assert all(c["invocations"] >= 1 for c in doc["containers"])
    # Each of the 50 workers sent 3 requests, each held 1 s: at least 3 s, at most 50/s. These
    # are bounds the hold sets, not the machine's speed.
    run = doc["run"]
    assert run["load_s"] >= 3.0
    assert totals["requests"] / run["load_s"] <= 50.0


def test_the_account_limit_is_said_before_lambda_throttles_it(local_aws_limit_5, tmp_path):
    endpoints, env = local_aws_limit_5
    out = run_against(
        endpoints,
        env,
        tmp_path,
        endpoints["function_name"],
        *("--requests", "16", "--concurrency", "8", "--hold", "250ms", "--format", "json"),
        timeout=180,
    )
    no_secret_in(out.stdout, out.stderr)
    assert out.returncode in (0, 1), out.stderr
    warning = [line for line in out.stderr.splitlines() if line.startswith("lambdascope: warning:")]
    assert warning == [
        "lambdascope: warning: this run asks for 8 concurrent requests, but Lambda will run at most 5 of "
        "lambdascope-probe at once (the account's concurrency quota is 5; 5 unreserved, shared with every "
        "function without a reservation): it throttles the excess (3 at a time, 429 TooManyRequestsException, "
        "counted as throttled); lower the load, or ask AWS for a higher quota (Service Quotas: Lambda "
        "concurrent executions)"
    ]
    doc = json.loads(out.stdout)
    # And Lambda (here, the local one) did what the warning said.
    assert doc["totals"]["throttled"] > 0


def test_on_aws_the_hold_is_bounded_by_the_functions_own_timeout(local_aws_limit_5, tmp_path):
    endpoints, env = local_aws_limit_5
    out = run_against(
        endpoints, env, tmp_path, endpoints["function_name"], "--requests", "2", "--hold", "5s", timeout=60
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1
    assert out.stderr.startswith(
        "lambdascope: error: --hold 5s is longer than lambdascope-probe can hold a request: its timeout is 3s"
    )
    assert "update-function-configuration --function-name lambdascope-probe --timeout" in out.stderr
    assert out.stdout == ""  # refused before any load: no table
    no_secret_in(out.stdout, out.stderr)


async def test_a_reserved_function_on_moto_is_bounded_by_its_reservation(moto_endpoint, fake_aws_env):
    """moto serves GetFunctionConcurrency (not GetAccountSettings): the reservation alone is
    enough to say what Lambda will run, and the timeout bounds the hold."""
    import boto3

    from tests.integration.aws_fixtures import REGION, create_function
    from tui.aws.aws_target import aws_target
    from tui.core.errors import UserError

    create_function(moto_endpoint, "held")
    lam = boto3.client("lambda", endpoint_url=moto_endpoint, region_name=REGION)
    lam.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=3)
    lam.update_function_configuration(FunctionName="held", Timeout=2)
    async with aws_target("held", region=REGION, endpoint_url=moto_endpoint, use_invoke=True) as target:
        assert target.timeout_s == 2.0 and target.max_hold_ms == 1900
        assert target.limits.reserved == 3 and target.limits.function_cap == 3
        text = target.concurrency_warning(10)
        assert "Lambda will run at most 3 of held at once (held reserves 3)" in text
        assert "it throttles the excess (7 at a time" in text
        assert target.concurrency_warning(3) is None
        from loadgen.plan import Plan

        assert target.bound(Plan(hold_ms=1000)).max_hold_ms == 1900
        with pytest.raises(UserError, match=r"--hold 2s is longer than held can hold a request"):
            target.bound(Plan(hold_ms=2000))


def test_this_machines_start_queue_is_said_and_never_read_as_a_wave(tmp_path):
    # One init at a time here, four requests at once, and a handler whose init takes 0.4 s: the
    # later three starts wait here 0.4-1.2 s, whatever the machine. Lambda would have started all
    # four at once, and the logs say so (one wave); the wait is said beside it, with its figures.
    (tmp_path / "slow_init.py").write_text(
        "import time\ntime.sleep(0.4)\n\n\ndef handler(event, context):\n    time.sleep(0.3)\n    return {'ok': True}\n"
    )
    (tmp_path / "one_init.toml").write_text("[machine]\ninit_slots = 1\n")
    out_file = tmp_path / "out.json"
    out = lambdascope(
        tmp_path,
        *("run", "--profile-file", str(tmp_path / "one_init.toml"), "--handler", "slow_init.py:handler"),
        *("--concurrency", "4", "--requests", "8", "--format", "json", "--out", str(out_file)),
        *("--export", str(tmp_path / "export")),
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out_file.read_text())
    assert doc["totals"]["cold_starts"] == 4
    by_kind: dict = {}
    for f in doc["findings"]:
        by_kind.setdefault(f["kind"], []).append(f)
    assert [w["size"] for w in by_kind["wave"]] == [4]  # Lambda's time: one wave
    [queue] = by_kind["local_start_queue"]
    assert queue["slots"] == 1 and queue["queued"] >= 3 and queue["max_s"] >= 0.7, queue
    assert queue["text"].startswith("this machine, not Lambda, queued ")
    snapshot = json.loads((tmp_path / "export" / "snapshot.json").read_text())
    assert "local_start_queue" in [f["kind"] for f in snapshot["findings"]]

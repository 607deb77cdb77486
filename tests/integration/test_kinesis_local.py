"""The Kinesis channel end to end on the local Lambda, with records moto writes itself
(PutLogEvents → the subscription filter → moto's Kinesis): `run --logs kinesis` on the embedded
local Lambda sets the channel up by itself and confirms every invocation from the stream alone;
`lambdascope local --kinesis` makes it at start, and `run --function --endpoint-url` (as on AWS)
finds lambdascope's subscription with `--logs auto` and reads the stream through the one
endpoint. Fake AWS keys sit in the environment: none may appear in any output."""

import json
import subprocess
import sys

from tests.integration.test_aws_target import _local, fake_aws_env, no_secret_in, run_against


def _kinesis_facts(doc):
    run = doc["run"]
    assert run["log_source"] == "kinesis"
    return run, run["log_source_counts"]


def test_run_logs_kinesis_on_the_local_lambda_confirms_every_invocation(tmp_path):
    env = fake_aws_env(tmp_path)
    out_file = tmp_path / "out.json"
    argv = [sys.executable, "-m", "tui.cli", "run", "--logs", "kinesis", "--requests", "200", "--concurrency", "10"]
    proc = subprocess.run(
        [*argv, "--format", "json", "--out", str(out_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    no_secret_in(proc.stdout, proc.stderr)
    doc = json.loads(out_file.read_text())
    totals = doc["totals"]
    assert totals["requests"] == 200 and totals["invocations"] == 200 and totals["unconfirmed"] == 0
    run, counts = _kinesis_facts(doc)
    assert run["missing_from_logs"] == 0 and run["unaccounted"] == 0
    # Every invocation came through the stream: the sweeps behind it found nothing it had not given.
    assert run["late_events_swept"] == 0 and counts["swept"] == 0
    assert counts["records"] > 0 and counts["garbage_records"] == 0 and counts["duplicates"] == 0
    assert "logs confirmed all 200 invocations" in proc.stderr


def test_local_kinesis_then_run_by_name_picks_the_stream_through_the_one_endpoint(tmp_path):
    for endpoints, env in _local(tmp_path, "--kinesis"):
        assert endpoints["kinesis_stream"] == "lambdascope-probe-logs"
        assert endpoints["kinesis_stream_arn"].endswith(":stream/lambdascope-probe-logs")
        out_file = tmp_path / "out.json"
        flags = ("--logs", "auto", "--requests", "60", "--concurrency", "3", "--format", "json", "--out", str(out_file))
        proc = run_against(endpoints, env, tmp_path, endpoints["function_name"], *flags)
        assert proc.returncode == 0, proc.stderr
        no_secret_in(proc.stdout, proc.stderr)
        doc = json.loads(out_file.read_text())
        assert doc["totals"]["invocations"] == 60 and doc["totals"]["unconfirmed"] == 0
        run, counts = _kinesis_facts(doc)
        assert counts["stream"] == "lambdascope-probe-logs" and counts["records"] > 0 and counts["swept"] == 0


def _first_json(text: str) -> dict:
    return json.JSONDecoder().raw_decode(text)[0]


def _cli(env, cwd, *argv, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_deploy_kinesis_with_endpoint_url_at_the_local_lambda_makes_the_channel_and_destroy_removes_it(tmp_path):
    for endpoints, env in _local(tmp_path):
        at = ("--endpoint-url", endpoints["endpoint_url"], "--region", "us-east-1")
        made = _cli(env, tmp_path, "deploy", "--kinesis", *at)
        assert made.returncode == 0, made.stderr
        summary = _first_json(made.stdout)  # then a line saying how to watch it
        # The same code as on AWS made the channel; the function is the local Lambda's own.
        assert summary["local"] is True and summary["changes"]["function"] == "kept (the local Lambda's own)"
        assert summary["changes"]["kinesis_stream"] == "created" and summary["changes"]["kinesis_role"] == "created"
        assert summary["subscribed_log_groups"] == [endpoints["log_group"]]
        again = _first_json(_cli(env, tmp_path, "deploy", "--kinesis", *at).stdout)
        assert {k: v for k, v in again["changes"].items() if k != "function"} == {
            k: "unchanged" for k in summary["changes"] if k != "function"
        }
        out_file = tmp_path / "out.json"
        flags = (
            "--logs",
            "kinesis",
            "--requests",
            "60",
            "--concurrency",
            "3",
            "--format",
            "json",
            "--out",
            str(out_file),
        )
        proc = run_against(endpoints, env, tmp_path, endpoints["function_name"], *flags)
        assert proc.returncode == 0, proc.stderr
        run, counts = _kinesis_facts(json.loads(out_file.read_text()))
        assert counts["records"] > 0 and run["missing_from_logs"] == 0
        gone = _cli(env, tmp_path, "destroy", *at)
        assert gone.returncode == 0, gone.stderr
        result = _first_json(gone.stdout)
        assert sorted(result["removed"]) == sorted(
            [
                "IAM role lambdascope-probe-cwl-us-east-1",
                "Kinesis stream lambdascope-probe-logs",
                "subscription filter lambdascope-kinesis on /aws/lambda/lambdascope-probe",
            ]
        )
        assert result["kept"] and "not tagged" not in gone.stderr
        assert _cli(env, tmp_path, "destroy", *at).returncode == 0  # idempotent
        refused = _cli(env, tmp_path, "deploy", "--snapstart", *at)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "drop the flag" in refused.stderr
        no_secret_in(made.stdout, made.stderr, gone.stdout, gone.stderr, proc.stderr)

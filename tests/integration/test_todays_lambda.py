"""Today's Lambda end to end (issue 10): `run` on the local Lambda's `lmi` and `snapstart`
profiles, observed through the same APIs as AWS, counted as Lambda counts them."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def run(tmp_path, *args):
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "run", "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_managed_instances_many_requests_per_environment_on_named_instances(tmp_path):
    doc = run(tmp_path, "--profile-file", "lmi", "--requests", "600", "--concurrency", "24")
    t = doc["totals"]
    assert t["invocations"] == 600 and t["requests"] == 600  # every invocation counted once
    assert t["unconfirmed"] == 0 and t["unplaced_responses"] == 0
    envs = doc["containers"]
    assert 1 <= len(envs) <= 6  # few environments: each serves many requests at once
    assert all(c["init_type"] == "lambda-managed-instances" for c in envs)
    assert all(c["peak_concurrency"] > 1 for c in envs)
    assert t["cold_starts"] == 0  # scaling is asynchronous: no request waited for an init
    assert all(h["instance_id"] and h["instance_id"].startswith("i-") for h in doc["hosts"])
    # The capacity provider's system log is read beside the function's, by itself: each host is
    # an instance both the probe's DMI read and the system log name, with its AZ.
    assert doc["source"]["capacity_provider_log_group"] == "/aws/lambda/capacity-provider/lambdascope-local"
    assert all(h["host_evidence"] == "system log + probe (DMI)" for h in doc["hosts"])
    assert all(h["availability_zone"] and h["availability_zone"].startswith("us-east-1") for h in doc["hosts"])
    assert all(h["launched_at"] for h in doc["hosts"])
    assert len({h["availability_zone"] for h in doc["hosts"]}) == len(doc["hosts"])  # one host per AZ here
    launched = {i["instance_id"] for i in doc["instances"] if i["launched_at"]}
    assert {h["instance_id"] for h in doc["hosts"]} <= launched
    assert t["system_log_records"] >= 2 * len(launched) and t["system_log_malformed"] == 0


def test_snapstart_restores_one_container_per_environment(tmp_path):
    doc = run(tmp_path, "--profile-file", "snapstart", "--requests", "200", "--concurrency", "4")
    t = doc["totals"]
    assert t["invocations"] == 200 and t["unplaced_responses"] == 0
    envs = doc["containers"]
    # The probe cannot see its stream name under SnapStart: its /tmp id is tied to the stream,
    # so one environment is one container, not two.
    assert len(envs) == t["serving"] == 4
    assert all(c["init_type"] == "snap-start" for c in envs)
    assert all(c["restore_duration_ms"] and c["cold_starts"] == 1 for c in envs)  # each paid one restore

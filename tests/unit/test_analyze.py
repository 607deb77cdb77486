"""`lambdascope analyze` over files in the shapes the AWS CLI writes, and its bad-input errors."""

import csv
import io
import json

import pytest

from tui.cli import main

STREAM_A = "2026/11/27/[$LATEST]" + "a" * 32
STREAM_B = "2026/11/27/[$LATEST]" + "b" * 32
T = 1_795_789_200_000


def ev(stream, i, message, eid=None):
    return {
        "logStreamName": stream,
        "timestamp": T + i,
        "message": message,
        "ingestionTime": T + i + 900,
        "eventId": eid or f"{stream[-4:]}{i:08d}",
    }


def probe_line(stream, rid, cold, host):
    return json.dumps(
        {
            "lambdascope": 1,
            "container_id": stream,
            "request_id": rid,
            "cold": cold,
            "hostname": host,
            "boot_id": "b-" + host,
            "cpu_model": "Intel(R) Xeon(R) CPU E5-2666 v3 @ 2.90GHz",
        }
    )


def experiment_events():
    """Two containers with the probe: A serves 3 requests, B 1."""
    out = []
    i = 0
    for stream, rids, host in ((STREAM_A, ["r1", "r2", "r3"], "ip-10-0-0-1"), (STREAM_B, ["r4"], "ip-10-0-0-2")):
        out.append(ev(stream, i, "INIT_START Runtime Version: python:3.12.v89\tRuntime Version ARN: arn:x\n"))
        for n, rid in enumerate(rids):
            i += 1
            out.append(ev(stream, i, f"START RequestId: {rid} Version: $LATEST\n"))
            out.append(ev(stream, i, probe_line(stream, rid, n == 0, host) + "\n", eid=f"p{i}"))
            out.append(ev(stream, i, f"END RequestId: {rid}\n", eid=f"e{i}"))
            init = "\tInit Duration: 150.25 ms" if n == 0 else ""
            out.append(
                ev(
                    stream,
                    i,
                    f"REPORT RequestId: {rid}\tDuration: 1.50 ms\tBilled Duration: 2 ms\t"
                    f"Memory Size: 128 MB\tMax Memory Used: 40 MB{init}\t\n",
                    eid=f"r{i}",
                )
            )
    return out


def test_filter_log_events_output_as_json(tmp_path, capsys):
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"events": experiment_events(), "searchedLogStreams": []}, indent=4))
    assert main(["analyze", str(path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["invocations"] == 4
    assert doc["totals"]["containers"] == 2
    assert doc["totals"]["cold_starts"] == 2
    by_id = {c["container_id"]: c for c in doc["containers"]}
    assert by_id[STREAM_A]["invocations"] == 3 and by_id[STREAM_A]["cold_starts"] == 1
    assert by_id[STREAM_A]["hostname"] == "ip-10-0-0-1"
    assert by_id[STREAM_A]["init_duration_ms"] == 150.25
    assert by_id[STREAM_B]["cpu_model"].startswith("Intel(R) Xeon(R)")


def test_jsonl_with_duplicates_and_table_output(tmp_path, capsys):
    events = experiment_events()
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events + events[:5]) + "\n")
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "a" * 32 in out and "b" * 32 in out
    assert "2 containers, 4 invocations, 2 cold starts" in out


def test_csv_has_the_snapshot_columns(tmp_path, capsys):
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"events": experiment_events()}))
    assert main(["analyze", str(path), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["invocations"] for r in rows] == ["3", "1"]
    assert {"container_id", "cold_starts", "hostname", "cpu_model", "first_seen", "init_duration_ms"} <= set(rows[0])


def test_function_without_the_probe_counts_reports(tmp_path, capsys):
    events = [e for e in experiment_events() if "lambdascope" not in e["message"]]
    events.append(
        ev(
            STREAM_B,
            99,
            json.dumps(
                {
                    "time": "t",
                    "type": "platform.report",
                    "record": {
                        "requestId": "j9",
                        "status": "success",
                        "metrics": {"durationMs": 1.0, "initDurationMs": 99.0},
                    },
                }
            ),
        )
    )
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"events": events}))
    assert main(["analyze", str(path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_id = {c["container_id"]: c for c in doc["containers"]}
    assert by_id[STREAM_A]["invocations"] == 3 and by_id[STREAM_A]["cold_starts"] == 1
    assert by_id[STREAM_B]["invocations"] == 2 and by_id[STREAM_B]["cold_starts"] == 2


@pytest.mark.parametrize(
    "content,needle",
    [
        (None, "no such file"),
        ('{"events": [', "not JSON"),
        ("[1, 2]", "an event lacks logStreamName"),
        ('{"events": [{"message": "x"}]}', "lacks logStreamName, timestamp"),
        ("", "no log events found"),
    ],
)
def test_bad_files_give_one_line_and_exit_2(tmp_path, capsys, content, needle):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("lambdascope: error: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["run", "--requests", "0"], "--requests must be at least 1 (got 0)"),
        (["run", "--concurrency", "-1"], "--concurrency must be at least 1 (got -1)"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["run", "--requests", "ten"], "invalid int value: 'ten'"),
        (["analyze"], "give a FILE or --log-group"),
        (["analyze", "x.json", "--format", "xml"], "invalid choice: 'xml'"),
        (["nosuchcommand"], "invalid choice"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_capacity_providers_export_beside_the_functions_gives_hosts_their_zone(tmp_path, capsys):
    # Managed Instances: `aws logs filter-log-events` of each group, one file each.
    fn = []
    for i, rid in enumerate(("r1", "r2")):
        rec = json.loads(probe_line(STREAM_A, rid, False, "ip-10-0-1-27.ec2.internal"))
        rec.update(instance_id="i-0abc123def456789", instance_type="c7g.xlarge", init_type="lambda-managed-instances")
        fn.append(ev(STREAM_A, 10 + i, json.dumps(rec)))
    launched = {
        "timestamp": "2026-11-27T00:00:00.000Z",
        "level": "INFO",
        "message": "Successfully launched c7g.xlarge instance i-0abc123def456789 in us-east-1a",
        "metadata": {
            "instanceId": "i-0abc123def456789",
            "availabilityZones": ["us-east-1a"],
            "instanceTypes": ["c7g.xlarge"],
            "capacityProviderArn": "arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp",
        },
    }
    cp = [ev("cp/managed-instances", 0, json.dumps(launched), eid="cp0"), ev("cp/managed-instances", 1, "{oops")]
    (tmp_path / "fn.json").write_text(json.dumps({"events": fn}))
    (tmp_path / "cp.json").write_text(json.dumps({"events": cp}))
    assert main(["analyze", str(tmp_path / "fn.json"), str(tmp_path / "cp.json"), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [host] = doc["hosts"]
    assert host["availability_zone"] == "us-east-1a" and host["host_evidence"] == "system log + probe (DMI)"
    assert doc["instances"][0]["launched_at"] == "2026-11-27T00:00:00.000Z"
    assert doc["totals"]["system_log_malformed"] == 1 and doc["totals"]["invocations"] == 2
    assert doc["source"]["paths"] == [str(tmp_path / "fn.json"), str(tmp_path / "cp.json")]


def test_capacity_provider_flag_is_for_a_log_group(tmp_path, capsys):
    (tmp_path / "fn.json").write_text(json.dumps({"events": experiment_events()}))
    assert main(["analyze", str(tmp_path / "fn.json"), "--capacity-provider", "cp"]) == 2
    assert "another FILE" in capsys.readouterr().err


def test_a_finished_log_leaves_nothing_busy_at_its_end(tmp_path, capsys):
    # Both containers served in the data's last second, and B's last request never reported: a
    # live screen would call them busy; a finished log has stopped, so they are idle at its end.
    events = experiment_events()
    events.append(ev(STREAM_B, 10, "START RequestId: r9 Version: $LATEST\n", eid="s-late"))
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"events": events}))
    assert main(["analyze", str(path), "--format", "json"]) == 0
    states = {c["container_id"]: c["state"] for c in json.loads(capsys.readouterr().out)["containers"]}
    assert states == {STREAM_A: "idle", STREAM_B: "idle"}

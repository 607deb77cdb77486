"""The capacity provider's system log (Managed Instances): parser and fleet model.

Fixtures in the shape AWS documents (docs lambda-managed-instances-monitoring-log-format.md: the
one example, verbatim, pretty-printed as the page shows it) and the shape the local `lmi` profile
writes (probe/local/capacity_provider.py), which must parse the same way.
"""

import json

import pytest

from probe.local.capacity_provider import CapacityProviderLog
from tui.core import lambdalog as L
from tui.core import snapshot as export
from tui.core.fleet import EVIDENCE_BOTH, EVIDENCE_DMI, EVIDENCE_GUESS, EVIDENCE_HOSTNAME, Fleet

CP_STREAM = "my-capacity-provider/managed-instances"
FN_STREAM = "2026/12/01/[1]0f5b29cc53814cf480fb7d70a028c76d"

# AWS's example, as the docs page prints it.
DOCS_EXAMPLE = """{
  "timestamp": "2025-07-01T14:31:15.456Z",
  "level": "INFO",
  "message": "Successfully launched c7g.xlarge instance i-0abc123def456789 in us-east-1a",
  "metadata": {
    "instanceId": "i-0abc123def456789",
    "availabilityZones": ["us-east-1a"],
    "instanceTypes": ["c7g.xlarge"],
    "capacityProviderArn": "arn:aws:lambda:us-east-1:123456789012:capacity-provider:my-capacity-provider"
  }
}"""
DOCS_MS = 1751380275456  # 2025-07-01T14:31:15.456Z


def system(message: str, iid="i-0abc123def456789", ts="2025-07-01T14:31:15.456Z", **meta) -> str:
    metadata = {"instanceId": iid, "availabilityZones": ["us-east-1a"], "instanceTypes": ["c7g.xlarge"], **meta}
    return json.dumps({"timestamp": ts, "level": "INFO", "message": message, "metadata": metadata})


def test_the_docs_example_is_a_launched_instance_with_its_type_and_zone():
    [rec] = L.parse_event(CP_STREAM, 1, DOCS_EXAMPLE)
    assert rec.kind == L.SYSTEM
    assert rec.timestamp == DOCS_MS  # the record's own time, not the shipping time
    d = rec.data
    assert d["event"] == "Launched"
    assert d["instance_id"] == "i-0abc123def456789"
    assert d["instance_type"] == "c7g.xlarge" and d["availability_zone"] == "us-east-1a"
    assert d["capacity_provider_arn"].endswith(":capacity-provider:my-capacity-provider")
    assert d["level"] == "INFO"


@pytest.mark.parametrize(
    "message, event",
    [
        ("Launching c7g.xlarge instance i-0abc123def456789 in us-east-1a", "Launching"),
        ("Successfully launched c7g.xlarge instance i-0abc123def456789 in us-east-1a", "Launched"),
        ("Failed to launch c7g.xlarge instance in us-east-1a: InsufficientInstanceCapacity", "LaunchFailed"),
        ("Terminating c7g.xlarge instance i-0abc123def456789 in us-east-1a", "Terminating"),
        ("Successfully terminated c7g.xlarge instance i-0abc123def456789 in us-east-1a", "Terminated"),
        ("Failed to terminate instance i-0abc123def456789", "TerminateFailed"),
        ("Instance i-0abc123def456789 failed its health check and was marked unhealthy", "HealthCheckFailed"),
        ("Rebalancing capacity across Availability Zones", None),  # a kind not known yet: kept
    ],
)
def test_each_event_is_read_from_its_message(message, event):
    [rec] = L.parse_event(CP_STREAM, 1, system(message))
    assert rec.kind == L.SYSTEM and rec.data["event"] == event
    assert rec.data["message"] == message


def test_a_known_operation_field_names_the_event_whatever_the_message():
    line = json.dumps({"operation": "Terminated", "message": "instance gone", "metadata": {"instanceId": "i-1"}})
    [rec] = L.parse_event(CP_STREAM, 7, line)
    assert rec.data["event"] == "Terminated" and rec.data["operation"] == "Terminated"


def test_every_field_is_optional():
    [rec] = L.parse_event(CP_STREAM, 42, "{}")
    assert rec.kind == L.SYSTEM and rec.timestamp == 42  # no time of its own: the event's
    assert rec.data["event"] is None and rec.data["instance_id"] is None
    assert rec.data["availability_zone"] is None and rec.data["instance_type"] is None


def test_several_zones_or_types_are_kept_but_name_no_single_one():
    line = system("Launching capacity", iid=None, availabilityZones=["us-east-1a", "us-east-1b"])
    [rec] = L.parse_event(CP_STREAM, 1, line)
    assert rec.data["availability_zones"] == ["us-east-1a", "us-east-1b"]
    assert rec.data["availability_zone"] is None


@pytest.mark.parametrize(
    "message",
    [
        "not json at all",
        "[1, 2]",
        '{"metadata": "i-1"}',
        '{"metadata": {"instanceId": 12}}',
        '{"metadata": {"availabilityZones": "us-east-1a"}}',
        '{"message": ["Launched"]}',
        '{"metadata": {"instanceId": "' + "i" * 500 + '"}}',
        "[" * 100_000,
    ],
)
def test_a_bad_record_is_one_malformed_record_never_an_exception(message):
    [rec] = L.parse_event(CP_STREAM, 1, message)
    assert rec.kind == L.MALFORMED and rec.data["system"] is True


def test_a_bad_timestamp_falls_back_to_the_events():
    for ts in ("yesterday", "2025-07-01T14:31:15", 12345, "9" * 80):
        [rec] = L.parse_event(CP_STREAM, 99, system("Launched", ts=ts))
        assert rec.kind == L.SYSTEM and rec.timestamp == 99


def test_the_same_shape_in_a_function_stream_is_an_app_line():
    # Only the capacity provider's stream carries system records: a function that logs this
    # JSON cannot make itself an instance.
    [rec] = L.parse_event(FN_STREAM, 1, system("Successfully launched x instance i-1 in us-east-1a"))
    assert rec.kind == L.APP


class _Shipper:
    def __init__(self):
        self.lines: list[tuple[str, str]] = []

    def add(self, stream: str, line: str) -> None:
        self.lines.append((stream, line))


class _Spec:
    instance_type, availability_zone = "m7i.xlarge", "us-east-1b"


class _Host:
    instance_id, spec = "i-0123456789abcdef0", _Spec()


def test_what_the_local_lmi_profile_writes_parses_like_the_docs_shape():
    shipper = _Shipper()
    log = CapacityProviderLog(shipper, "lambdascope-local", "us-east-1", "123456789012")
    log.host_event(_Host(), "launch")
    log.host_event(_Host(), "terminate")
    events = []
    for stream, line in shipper.lines:
        [rec] = L.parse_event(stream, 1, line)
        assert rec.kind == L.SYSTEM
        assert rec.data["instance_id"] == "i-0123456789abcdef0"
        assert rec.data["instance_type"] == "m7i.xlarge" and rec.data["availability_zone"] == "us-east-1b"
        assert rec.data["capacity_provider_arn"].endswith(":capacity-provider:lambdascope-local")
        events.append(rec.data["event"])
    assert events == ["Launching", "Launched", "Terminating", "Terminated"]
    # Its top-level keys are the documented ones, no more.
    doc = json.loads(shipper.lines[0][1])
    assert set(doc) == set(json.loads(DOCS_EXAMPLE))
    assert set(doc["metadata"]) == set(json.loads(DOCS_EXAMPLE)["metadata"])


# ---- the fleet model --------------------------------------------------------------------------


def _records(*events):
    out = []
    for stream, ms, message in events:
        out.extend(L.parse_event(stream, ms, message))
    return out


def _iso(ms: int) -> str:
    return export.iso(ms / 1000.0)


def _probe(rid: str, ms: int, instance_id: str | None = "i-0abc123def456789", stream=FN_STREAM) -> tuple:
    rec = {
        "lambdascope": 1,
        "request_id": rid,
        "container_id": stream,
        "cold": False,
        "hostname": "ip-10-0-1-27.ec2.internal",
        "init_type": "lambda-managed-instances",
    }
    if instance_id:
        rec.update(instance_id=instance_id, instance_type="c7g.xlarge")
    return (stream, ms, json.dumps(rec))


def _lmi_fleet(instance_id="i-0abc123def456789", launch_ms=1_000_000, terminate_ms=None, order=1):
    lines = [
        (CP_STREAM, launch_ms - 500, system("Launching c7g.xlarge instance", ts=_iso(launch_ms - 500))),
        (CP_STREAM, launch_ms, system("Successfully launched c7g.xlarge instance", ts=_iso(launch_ms))),
        _probe("r1", launch_ms + 2_000, instance_id),
        _probe("r2", launch_ms + 3_000, instance_id),
    ]
    if terminate_ms:
        lines.append((CP_STREAM, terminate_ms, system("Successfully terminated instance", ts=_iso(terminate_ms))))
    fleet = Fleet()
    fleet.apply_records(_records(*lines[::order]), now=launch_ms / 1000.0 + 10)
    return fleet


@pytest.mark.parametrize("order", [1, -1])  # any arrival order gives the same instance
def test_an_instance_takes_its_lifecycle_from_the_system_log(order):
    fleet = _lmi_fleet(terminate_ms=1_060_000, order=order)
    inst = fleet.instances["i-0abc123def456789"]
    assert inst.launching_at == 999.5 and inst.launched_at == 1000.0 and inst.terminated_at == 1060.0
    assert inst.availability_zone == "us-east-1a" and inst.instance_type == "c7g.xlarge"
    assert inst.state == "terminated" and inst.events == 3
    assert len(fleet.containers) == 1  # the system stream is not an environment
    assert fleet.counters.system_records == 3 and fleet.counters.invocations == 2


def test_the_host_is_the_instance_both_evidences_name():
    fleet = _lmi_fleet()
    c = fleet.containers[FN_STREAM]
    iid, inst, evidence = fleet.host_of(c)
    assert iid == "i-0abc123def456789" and inst is not None and evidence == EVIDENCE_BOTH


def test_the_probe_alone_names_the_instance_but_not_its_zone():
    fleet = _lmi_fleet(instance_id="i-0fffffffffffffff0")
    iid, inst, evidence = fleet.host_of(fleet.containers[FN_STREAM])
    assert iid == "i-0fffffffffffffff0" and inst is None and evidence == EVIDENCE_DMI
    doc = export.snapshot(fleet, now=1010.0, source={})
    assert doc["hosts"][0]["availability_zone"] is None  # unknown, never guessed
    assert doc["hosts"][0]["host_evidence"] == EVIDENCE_DMI


def test_without_the_probes_id_the_only_instance_up_is_a_guess_and_says_so():
    fleet = _lmi_fleet(instance_id=None)
    iid, inst, evidence = fleet.host_of(fleet.containers[FN_STREAM])
    assert iid == "i-0abc123def456789" and evidence == EVIDENCE_GUESS
    assert "guess" in evidence
    row = export.snapshot(fleet, now=1010.0, source={})["containers"][0]
    assert row["instance_id"] == "i-0abc123def456789" and row["host_evidence"] == EVIDENCE_GUESS


def test_two_instances_up_make_no_guess():
    fleet = _lmi_fleet(instance_id=None)
    fleet.apply_records(
        _records((CP_STREAM, 999_000, system("Launched", iid="i-0222222222222222f", ts=_iso(999_000)))), now=1010.0
    )
    iid, inst, evidence = fleet.host_of(fleet.containers[FN_STREAM])
    assert iid is None and evidence == EVIDENCE_HOSTNAME


def test_an_instance_terminated_before_the_environment_ran_is_not_its_host():
    fleet = _lmi_fleet(instance_id=None, terminate_ms=1_001_000)
    assert fleet.host_of(fleet.containers[FN_STREAM])[0] is None


def test_unknown_kinds_and_bad_records_are_counted_never_fatal():
    fleet = Fleet()
    fleet.apply_records(
        _records(
            (CP_STREAM, 1, system("Rebalancing capacity")),
            (CP_STREAM, 2, "{not json"),
            (CP_STREAM, 3, json.dumps({"message": "capacity provider updated"})),  # no instance
        ),
        now=1.0,
    )
    c = fleet.counters
    assert c.system_records == 2 and c.system_unknown == 2 and c.system_malformed == 1 and c.malformed == 1
    assert list(fleet.instances) == ["i-0abc123def456789"]
    assert fleet.instances["i-0abc123def456789"].state == "unknown"


def test_failures_are_counted_per_instance():
    fleet = Fleet()
    fleet.apply_records(
        _records(
            (CP_STREAM, 1, system("Instance i-0abc123def456789 failed its health check")),
            (CP_STREAM, 2, system("Failed to terminate instance i-0abc123def456789")),
        ),
        now=1.0,
    )
    assert fleet.instances["i-0abc123def456789"].failures == {"HealthCheckFailed": 1, "TerminateFailed": 1}


def test_the_snapshot_carries_zones_and_the_instances_lifecycle():
    fleet = _lmi_fleet(terminate_ms=1_060_000)
    doc = export.snapshot(fleet, now=1070.0, source={})
    [host] = doc["hosts"]
    assert host["instance_id"] == "i-0abc123def456789" and host["availability_zone"] == "us-east-1a"
    assert host["host_evidence"] == EVIDENCE_BOTH
    assert host["launched_at"] == "1970-01-01T00:16:40.000Z" and host["terminated_at"] == "1970-01-01T00:17:40.000Z"
    [inst] = doc["instances"]
    assert inst["state"] == "terminated" and inst["evidence"] == "system log"
    assert inst["launching_at"] == "1970-01-01T00:16:39.500Z"
    t = doc["totals"]
    assert t["instances"] == 1 and t["system_log_records"] == 3 and t["system_log_malformed"] == 0
    row = doc["containers"][0]
    assert row["availability_zone"] == "us-east-1a" and row["host_evidence"] == EVIDENCE_BOTH
    assert "availability_zone" in export.to_csv(doc).splitlines()[0]


def test_instances_are_bounded():
    from tui.core import fleet as F

    fleet = Fleet()
    recs = _records(*[(CP_STREAM, i, system("Launched", iid=f"i-{i:017x}")) for i in range(F.MAX_INSTANCES + 5)])
    fleet.apply_records(recs, now=1.0)
    assert len(fleet.instances) == F.MAX_INSTANCES

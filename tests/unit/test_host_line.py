"""The extension's host-facts line, read: a HOST record per stream, the fleet's host columns filled
from it, "no extension" for a stream of a function without the probe that has none, and the
hardware finding saying how many environments it rests on."""

import json
from pathlib import Path

import pytest

from tui.core import lambdalog as L
from tui.core import snapshot as export
from tui.core.findings import tell
from tui.core.fleet import Fleet
from tui.core.fleet.model import NO_EXTENSION

GOLDEN = (Path(__file__).parent.parent / "golden" / "host_line.json").read_text().strip()
S1 = "2026/11/27/[$LATEST]" + "a" * 32
S2 = "2026/11/27/[$LATEST]" + "b" * 32
T = 1_795_789_200_000


def test_the_golden_host_line_is_a_host_record_with_the_probes_fields():
    rec = L.parse_line(S1, T, GOLDEN)
    assert rec.kind == L.HOST and rec.request_id is None
    assert rec.data["hostname"] == "169.254.96.1" and rec.data["cpu_model"] == "AWS Graviton2 (Neoverse-N1)"
    assert (rec.data["cpu_implementer"], rec.data["cpu_part"], rec.data["format"]) == ("0x41", "0xd0c", 1)
    assert rec.data["bogomips"] == 243.75


def test_the_golden_host_line_has_the_keys_the_extension_writes():
    from tests.local.test_extensions import HOST_LINE_KEYS

    assert set(json.loads(GOLDEN)) == HOST_LINE_KEYS


@pytest.mark.parametrize(
    "change",
    [
        {"lambdascope_host": "1"},
        {"lambdascope_host": 0},
        {"lambdascope_host": True},
        {"hostname": 7},
        {"cpu_model": ["x"]},
        {"bogomips": float("inf")},
        {"cpu_part": {"a": 1}},
        {"request_id": "r-1"},  # a host line belongs to no request
    ],
)
def test_a_host_line_with_a_field_of_the_wrong_kind_is_malformed(change):
    obj = json.loads(GOLDEN) | change
    line = json.dumps(obj).replace("Infinity", "1e999")
    assert L.parse_line(S1, T, line).kind == L.MALFORMED


def _events(with_host: bool, stream: str, t: int, rid: str) -> list:
    lines = ["INIT_START Runtime Version: python:3.13.v1\tRuntime Version ARN: arn"]
    if with_host:
        lines.append(GOLDEN.replace("169.254.96.1", f"host-{stream[-1]}"))
    lines += [
        f"START RequestId: {rid} Version: $LATEST",
        f"END RequestId: {rid}",
        f"REPORT RequestId: {rid}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 100.00 ms",
    ]
    return [r for i, line in enumerate(lines) for r in L.parse_event(stream, t + i, line)]


def test_the_fleet_fills_host_columns_from_the_line_and_says_no_extension_without_one():
    fleet = Fleet()
    fleet.apply_records(_events(True, S1, T, "r-1") + _events(False, S2, T + 10, "r-2"), now=T / 1000 + 1)
    a, b = fleet.containers[S1], fleet.containers[S2]
    assert (a.hostname, a.cpu_model, a.host_from) == ("host-a", "AWS Graviton2 (Neoverse-N1)", "extension")
    assert fleet.host_note(a) == "" and fleet.host_note(b) == NO_EXTENSION and b.hostname == ""
    assert NO_EXTENSION not in fleet.hosts("hostname")  # a note, never a host
    doc = export.snapshot(fleet, now=T / 1000 + 1, source={})
    rows = {r["container_id"]: r for r in doc["containers"]}
    assert rows[S1]["host_from"] == "extension" and rows[S2]["host_from"] == NO_EXTENSION
    assert rows[S2]["hostname"] == ""  # the data stays empty; the table says why
    table = export.to_table(doc)
    assert "no extension" in next(line for line in table.splitlines() if line.startswith("b" * 32))
    hardware = next(f for f in tell(fleet, T / 1000 + 1).findings if f["kind"] == "hardware")
    assert hardware["text"].endswith("; from 1 environment of 2 (1 reported no host facts)")
    assert (hardware["environments"], hardware["environments_without_host"]) == (1, 1)


def test_a_probe_function_never_says_no_extension():
    probe = json.dumps({"lambdascope": 1, "request_id": "r-9", "container_id": S2, "cold": True})
    fleet = Fleet()
    fleet.apply_records(_events(False, S2, T, "r-2") + L.parse_event(S1, T + 50, probe), now=T / 1000 + 1)
    assert fleet.probe_seen and fleet.host_note(fleet.containers[S2]) == ""

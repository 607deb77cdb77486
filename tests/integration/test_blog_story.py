"""The blog's whole story from one command on the `blog` local profile, through the real path
(load generator → local Lambda with awslambdaric environments → moto → polling → fleet model →
findings → export folder): waves of 4, then 10, then a third; the first two hosts retiring with
their containers while the load goes on; the third host taking over; one cold start per serving
container; the never-invoked environments as pre-initialised, not as a host; figures with one
lane per serving container; a tidy timeline.csv that adds up."""

import csv
import json
import xml.etree.ElementTree as ET

from tests.integration.test_experiment import run_cli
from tests.leftovers import wait_until_gone

PNG = b"\x89PNG\r\n\x1a\n"


def test_blog_profile_tells_the_blogs_story(tmp_path):
    folder = tmp_path / "export"
    out = run_cli(
        [
            "run",
            "--profile-file",
            "blog",
            "--requests",
            "2000",
            "--concurrency",
            "10",
            "--export",
            str(folder),
            "--format",
            "json",
        ],
        tmp_path,
        timeout=420,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    t = doc["totals"]
    findings = doc["findings"]
    by_kind = {}
    for f in findings:
        by_kind.setdefault(f["kind"], []).append(f)
    story = "\n".join(f["text"] for f in findings)

    # Waves of 4, then 10, then a third, each on its own host (hosts in order of appearance).
    hosts = [h["host_key"] for h in doc["hosts"]]
    assert len(hosts) == 3, story
    waves = by_kind["wave"]
    assert [w["serving"] for w in waves[:2]] == [4, 10], story
    assert len(waves) == 3 and waves[2]["serving"] >= 1, story
    assert [w["host_keys"] for w in waves] == [[h] for h in hosts], story
    assert waves[0]["at_s"] < waves[1]["at_s"] < waves[2]["at_s"]

    # The first two hosts retire with all their containers while the load goes on ...
    retirements = by_kind["retirement"]
    assert [(r["host_keys"], r["host_retired"], r["size"]) for r in retirements] == [
        ([hosts[0]], True, 4),
        ([hosts[1]], True, 10),
    ], story
    rows = {c["container_id"]: c for c in doc["containers"]}
    for r in retirements:
        assert {rows[c]["state"] for c in r["container_ids"]} == {"retired"}
        assert all(rows[c]["why"].startswith(f"its host {r['host_keys'][0]}") for c in r["container_ids"])
    # ... and the third takes over.
    [takeover] = by_kind["host_takeover"]
    assert takeover["host_key"] == hosts[2] and takeover["share_after"] >= 0.98, story

    # 24 serving containers, one cold start each; the never-invoked ones are pre-initialised.
    assert t["serving"] == 24 and t["cold_starts"] == 24, story
    pre = [c for c in rows.values() if c["pre_initialized"]]
    assert t["pre_initialized"] == len(pre) == t["containers"] - 24
    assert all(c["state"] == "pre-initialised" and c["cold_starts"] == 0 and c["host_key"] is None for c in pre)
    assert None not in hosts and "?" not in hosts
    if pre:
        assert by_kind["pre_initialized"][0]["count"] == len(pre)
    assert {"spread", "hardware", "cold_start"} <= set(by_kind)
    assert by_kind["hardware"][0]["cpu_models"] and len(by_kind["hardware"][0]["cpu_models"]) == 2

    # The export folder: the same document, a tidy timeline that adds up, valid figures.
    assert json.loads((folder / "snapshot.json").read_text())["totals"]["invocations"] == t["invocations"]
    assert doc["source"]["profile"] == "blog" and doc["bucket_s"] > 0 and doc["started_at"]
    with open(folder / "timeline.csv", newline="") as fh:
        timeline = list(csv.DictReader(fh))
    assert sum(int(r["invocations"]) for r in timeline) == t["invocations"]
    assert {r["container_id"] for r in timeline} == {c for c, r in rows.items() if r["invocations"]}
    for name in ("timeline", "invocations", "latency"):
        assert (folder / f"{name}.png").read_bytes()[:8] == PNG
        ET.parse(folder / f"{name}.svg")  # well-formed XML
    lanes = [el for el in ET.parse(folder / "timeline.svg").iter() if el.get("id", "").startswith("lane-")]
    assert len(lanes) == 24

    assert "export written to" in out.stderr
    assert wait_until_gone(tmp_path) == []

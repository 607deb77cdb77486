"""Today's Lambda modes in the local Lambda (issue 10), observed through the same APIs a user has:
Managed Instances (`lmi`: several requests at once per environment through awslambdaric's
multi-concurrent mode, REPORT-only JSON, the capacity provider's system log) and SnapStart
(`snapstart`: RESTORE_START and Restore Duration, no stream name in the environment)."""

import asyncio
import json
import re
import tempfile
from collections import Counter, defaultdict

import aioboto3
import pytest

from probe.local import LocalLambda
from probe.local.profile import load_profile
from tests.local.conftest import assert_nothing_left, fetch_events


async def _get_all(http, url, n, payload=None):
    async def one():
        async with http.post(url, json=payload or {}) as resp:
            return resp.status, await resp.read()

    return await asyncio.gather(*(one() for _ in range(n)))


def _records(events):
    """(stream, parsed JSON line) for every JSON line, in store order."""
    out = []
    for ev in events:
        try:
            out.append((ev["logStreamName"], json.loads(ev["message"])))
        except ValueError:
            pass
    return out


def peak_concurrency(records) -> dict[str, int]:
    """Per stream, the most requests between their platform.start and platform.report at once,
    by request id, from the logs alone (no END needed)."""
    by_stream = defaultdict(list)
    for stream, rec in records:
        kind = rec.get("type")
        if kind in ("platform.start", "platform.report"):
            by_stream[stream].append((rec["time"], kind == "platform.report", rec["record"]["requestId"]))
    peaks = {}
    for stream, marks in by_stream.items():
        open_now, peak = set(), 0
        for _, is_report, rid in sorted(marks):
            if is_report:
                open_now.discard(rid)
            else:
                open_now.add(rid)
                peak = max(peak, len(open_now))
        peaks[stream] = peak
    return peaks


async def _system_log(ll):
    session = aioboto3.Session()
    key, secret = ll.credentials
    async with session.client(
        "logs",
        endpoint_url=ll.logs_endpoint,
        region_name=ll.region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    ) as logs:
        for _ in range(50):
            page = await logs.filter_log_events(logGroupName=ll.capacity_provider_log_group)
            if page["events"]:
                return page["events"]
            await asyncio.sleep(0.2)
    return []


async def test_lmi_environments_serve_several_requests_at_once(http):
    async with LocalLambda("lmi", handler="tests.local.handlers.behave") as ll:
        assert len(ll.environments) == 3  # started at publish, before any request
        results = await _get_all(http, ll.function_url, 24, {"sleep": 0.5})
        assert Counter(s for s, _ in results) == {200: 24}
        events = await fetch_events(ll, lambda evs: sum('"platform.report"' in e["message"] for e in evs) >= 24)
        records = _records(events)
        peaks = peak_concurrency(records)
        assert len(peaks) <= 4 and max(peaks.values()) > 1  # few environments, many at once
        kinds = Counter(rec.get("type") for _, rec in records if "type" in rec)
        assert kinds["platform.start"] == kinds["platform.report"] == 24
        assert not any(e["message"].startswith("END") for e in events)  # no END on LMI
        for _, rec in records:
            if rec.get("type") == "platform.report":
                assert rec["record"]["metrics"] == {"durationMs": rec["record"]["metrics"]["durationMs"]}
            if rec.get("type") in ("platform.initStart", "platform.initReport"):
                assert rec["record"]["initializationType"] == "lambda-managed-instances"
        # 8 worker processes per environment answered
        pids = {json.loads(body)["pid"] for _, body in results}
        assert len(pids) > len(peaks)
        system = await _system_log(ll)
        assert {e["logStreamName"] for e in system} == {"lambdascope-local/managed-instances"}
        launched = [json.loads(e["message"]) for e in system if "Successfully launched" in e["message"]]
        assert len(launched) == 3  # one per instance the minimum fleet spread over
        for rec in launched:
            meta = rec["metadata"]
            assert re.fullmatch(r"i-[0-9a-f]{17}", meta["instanceId"])
            assert meta["instanceTypes"][0] in rec["message"] and rec["level"] == "INFO"
            assert meta["availabilityZones"][0].startswith("us-east-1")
            assert meta["capacityProviderArn"].endswith(":capacity-provider:lambdascope-local")
            assert set(rec) == {"timestamp", "level", "message", "metadata"}
    assert_nothing_left(ll)


async def test_lmi_probe_is_cold_once_per_environment_and_names_its_instance(http):
    prof = load_profile("lmi")
    prof.hosts[0].lifetime_requests = 10  # the first instance is terminated mid-run
    async with LocalLambda(prof) as ll:
        bodies = [json.loads(b) for s, b in await _get_all(http, ll.function_url, 40) if s == 200]
        bodies += [json.loads(b) for s, b in await _get_all(http, ll.function_url, 40) if s == 200]
        by_env = defaultdict(list)
        for rec in bodies:
            by_env[rec["container_id"]].append(rec)
        for recs in by_env.values():
            assert sum(r["cold"] for r in recs) <= 1  # never two colds in one environment
            assert {r["init_type"] for r in recs} == {"lambda-managed-instances"}
            assert {r["max_concurrency"] for r in recs} == {8}
            assert len({r["instance_id"] for r in recs}) == 1
            assert recs[0]["instance_id"].startswith("i-") and recs[0]["instance_type"]
        # exactly one cold record per environment that served, though 8 processes share /tmp
        assert sum(r["cold"] for r in bodies) == len(by_env)
        assert any(len({r["pid"] for r in recs}) > 1 for recs in by_env.values())
        for _ in range(50):
            messages = [json.loads(e["message"])["message"] for e in await _system_log(ll)]
            if any(m.startswith("Successfully terminated") for m in messages):
                break
            await asyncio.sleep(0.2)
        assert any(m.startswith("Terminating") for m in messages)
        assert any(m.startswith("Successfully terminated") for m in messages)
    assert_nothing_left(ll)


async def test_snapstart_streams_begin_with_a_restore(http):
    async with LocalLambda("snapstart") as ll:
        results = await _get_all(http, ll.function_url, 3)
        assert Counter(s for s, _ in results) == {200: 3}
        bodies = [json.loads(b) for _, b in results]
        events = await fetch_events(ll, lambda evs: sum(e["message"].startswith("REPORT") for e in evs) >= 3)
        streams = defaultdict(list)
        for ev in sorted(events, key=lambda e: e["timestamp"]):
            streams[ev["logStreamName"]].append(ev["message"])
        assert len(streams) == 3
        for stream, lines in streams.items():
            assert "[1]" in stream
            assert lines[0].startswith("RESTORE_START Runtime Version: ")
            assert any(re.match(r"RESTORE_REPORT Restore Duration: [\d.]+ ms", m) for m in lines)
            assert not any(m.startswith("INIT_START") for m in lines)
            report = next(m for m in lines if m.startswith("REPORT"))
            assert re.search(r"\tRestore Duration: [\d.]+ ms\tBilled Restore Duration: \d+ ms\t", report)
            assert "Init Duration" not in report
        # The probe saw a restored environment: no stream name to read, its own id, cold once.
        assert len({b["container_id"] for b in bodies}) == 3
        assert all(b["cold"] and b["restored"] and b["init_type"] == "snap-start" for b in bodies)
        assert not any(b["container_id"] in streams for b in bodies)
        assert {b["container_id_from"] for b in bodies} == {"tmp"}
    async with LocalLambda("snapstart", handler="tests.local.handlers.environ") as ll:
        async with http.get(ll.function_url) as resp:
            names = (await resp.json())["names"]
        assert "AWS_LAMBDA_LOG_STREAM_NAME" not in names
        assert "AWS_LAMBDA_LOG_GROUP_NAME" not in names
        assert "AWS_LAMBDA_INITIALIZATION_TYPE" in names
    assert_nothing_left(ll)


async def test_lmi_starts_under_a_long_temp_folder(http, tmp_path, monkeypatch):
    # The workers' log socket lives in the environment's scratch folder; under a deep TMPDIR
    # its path passes AF_UNIX's 107 bytes, and environments never started (every request 429).
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    async with LocalLambda("lmi", handler="tests.local.handlers.behave") as ll:
        results = await _get_all(http, ll.function_url, 6, {})
        assert Counter(s for s, _ in results) == {200: 6}
        assert all(e["state"] != "starting" for e in ll.environments)


async def test_an_lmi_version_whose_environments_cannot_start_fails_once_at_start(tmp_path, monkeypatch):
    from probe.local import worker_logs

    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(worker_logs, "MAX_SOCKET_PATH", 10_000)  # as before the fix: the bind fails
    ll = LocalLambda("lmi", handler="tests.local.handlers.behave")
    with pytest.raises(RuntimeError, match="environments could not start: init failed: AF_UNIX path too long"):
        async with asyncio.timeout(60):
            await ll.__aenter__()
    assert_nothing_left(ll)

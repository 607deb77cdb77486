"""Ten closed-loop clients get ten environments, one cold start each, and every environment's
stream in the logs endpoint holds the platform lines and the probe's records."""

import json
from collections import Counter

import pytest

from probe.local import LocalLambda
from tests.local.conftest import assert_nothing_left, fetch_events, hammer

TOTAL, CONCURRENCY = 1000, 10


@pytest.mark.parametrize("runtime", ["awslambdaric", "fork"])
async def test_ten_clients_ten_environments_and_their_logs(http, runtime):
    async with LocalLambda(runtime=runtime) as ll:
        results = await hammer(ll.function_url, TOTAL, CONCURRENCY, http)
        assert Counter(status for status, _ in results) == {200: TOTAL}
        records = [json.loads(body) for _, body in results]

        envs = ll.environments
        assert len(envs) == CONCURRENCY
        assert sum(e["invocations"] for e in envs) == TOTAL
        streams = {e["stream"] for e in envs}
        by_container = Counter(r["container_id"] for r in records)
        assert set(by_container) == streams
        cold = Counter(r["container_id"] for r in records if r["cold"])
        assert cold == {s: 1 for s in streams}

        def complete(events):
            return sum(e["message"].startswith("REPORT ") for e in events) == TOTAL

        events = await fetch_events(ll, complete)
        lines_by_stream = {}
        for ev in events:
            lines_by_stream.setdefault(ev["logStreamName"], []).append(ev["message"])
        assert set(lines_by_stream) == streams
        for stream, lines in lines_by_stream.items():
            n = by_container[stream]
            kinds = Counter(line.split(" ", 1)[0] for line in lines if line[:1] != "{")
            assert kinds == {"INIT_START": 1, "START": n, "END": n, "REPORT": n}, stream
            assert lines[0].startswith("INIT_START Runtime Version: python:3.11.v")
            probe_lines = [json.loads(line) for line in lines if line.startswith("{")]
            assert len(probe_lines) == n
            assert [p["seq"] for p in probe_lines] == list(range(1, n + 1))
            reports = [line for line in lines if line.startswith("REPORT ")]
            assert "Init Duration: " in reports[0]
            assert all("Init Duration" not in r for r in reports[1:])
            assert all(r.endswith("\t") and "Max Memory Used: " in r for r in reports)
        # Stream names are Lambda's: YYYY/MM/DD/[$LATEST]<32 lowercase hex>.
        for stream in streams:
            date, _, guid = stream.partition("/[$LATEST]")
            assert len(date) == 10 and len(guid) == 32 and guid == guid.lower()
            int(guid, 16)
    assert_nothing_left(ll)

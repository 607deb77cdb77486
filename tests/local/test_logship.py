"""Log shipping: AWS's batch limits are enforced (moto would accept more), the ingestion delay
holds events back, and on_shipped subscribers see exactly what reached the store."""

import asyncio

from probe.local import LocalLambda
from probe.local.logship import EVENT_OVERHEAD, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, batches
from probe.local.profile import parse_profile
from tests.local.conftest import assert_nothing_left, fetch_events


def _events(n, size=10):
    return [{"timestamp": i, "message": "x" * size} for i in range(n)]


def test_batches_respect_the_event_count_limit():
    out = batches(_events(25_000))
    assert [len(b) for b in out] == [MAX_BATCH_EVENTS, MAX_BATCH_EVENTS, 5_000]


def test_batches_respect_the_byte_limit():
    out = batches(_events(100, size=100_000))
    assert len(out) > 1
    for batch in out:
        assert sum(len(e["message"]) + EVENT_OVERHEAD for e in batch) <= MAX_BATCH_BYTES
    assert [e["timestamp"] for b in out for e in b] == list(range(100))  # order kept


async def test_ingestion_delay_and_on_shipped(http):
    prof = parse_profile({"logs": {"ingestion_delay_s": 1.5}})
    async with LocalLambda(prof) as ll:
        seen = []
        ll.on_shipped.append(lambda group, stream, events: seen.append((group, stream, events)))
        async with http.get(ll.function_url) as resp:
            record = await resp.json()
        await asyncio.sleep(0.5)
        assert await fetch_events(ll) == [] and seen == []  # held back, not lost
        events = await fetch_events(ll, lambda evs: any(e["message"].startswith("REPORT") for e in evs))
        assert {e["logStreamName"] for e in events} == {record["container_id"]}
        shipped = [ev["message"] for group, stream, evs in seen for ev in evs]
        assert [group for group, _, _ in seen] == [ll.log_group] * len(seen)
        assert shipped == [e["message"] for e in events]
    assert_nothing_left(ll)

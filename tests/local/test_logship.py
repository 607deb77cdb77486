"""Log shipping: AWS's batch limits are enforced (moto would accept more), the ingestion delay
holds events back, on_shipped subscribers see exactly what reached the store, and the calls
(moto's budget) go to the stream that waited longest, each stream's lines in one call."""

import asyncio
import time

from probe.local import LocalLambda
from probe.local.logship import EVENT_OVERHEAD, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, LogShipper, batches
from probe.local.moto_server import MotoServer
from probe.local.profile import parse_profile
from probe.local.shipqueue import ShipQueue
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


# --- the call budget: which stream goes next ------------------------------------------------


class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_the_stream_waiting_longest_is_put_first_with_everything_it_has():
    clock = _Clock()
    q = ShipQueue(max_events=100_000, full_at=1_000, now=clock)
    for round_ in range(3):  # three invocations' lines per stream, streams in order s0..s999
        for i in range(1_000):
            q.add(f"s{i}", {"timestamp": round_, "message": f"{i}:{round_}"})
            clock.t += 0.001
    clock.t += 1.0
    order = []
    while (item := q.take(min_wait_s=0.2)) is not None:
        stream, events = item
        order.append(stream)
        assert [e["message"] for e in events] == [f"{stream[1:]}:{r}" for r in range(3)]
    # one call per stream, oldest first, nothing left behind
    assert order == [f"s{i}" for i in range(1_000)]
    assert q.pending == 0 and q.in_flight == 1_000


def test_a_stream_is_not_put_again_while_its_put_is_in_flight_and_then_waits_its_turn():
    clock = _Clock()
    q = ShipQueue(max_events=100, full_at=1_000, now=clock)
    q.add("a", {"timestamp": 0, "message": "a1"})
    q.add("b", {"timestamp": 0, "message": "b1"})
    clock.t = 1.0
    assert q.take(0.2)[0] == "a"
    q.add("a", {"timestamp": 1, "message": "a2"})  # arrives while a's put is in flight
    q.add("c", {"timestamp": 1, "message": "c1"})
    clock.t = 2.0
    assert q.take(0.2)[0] == "b"
    assert q.take(0.2)[0] == "c"  # a waits: its first put is not done
    assert q.take(0.2) is None
    q.done("a")
    assert q.take(0.2) == ("a", [{"timestamp": 1, "message": "a2"}])


def test_a_stream_that_waited_less_than_its_interval_waits_unless_it_is_full():
    clock = _Clock()
    q = ShipQueue(max_events=10_000, full_at=5, now=clock)
    q.add("old", {"timestamp": 0, "message": "x"})
    clock.t = 1.0
    for n in range(5):
        q.add("busy", {"timestamp": 1, "message": str(n)})
    q.add("new", {"timestamp": 1, "message": "y"})
    assert q.take(0.5)[0] == "old"
    assert q.take(0.5)[0] == "busy"  # full: due at once
    assert q.take(0.5) is None  # "new" waited 0 s
    clock.t = 1.5
    assert q.take(0.5)[0] == "new"


def test_the_queue_is_bounded_and_counts_what_it_drops():
    q = ShipQueue(max_events=3, full_at=1_000, now=_Clock())
    for n in range(5):
        q.add("s", {"timestamp": n, "message": str(n)})
    assert (q.pending, q.added, q.dropped) == (3, 3, 2)


async def test_the_shipper_puts_each_stream_once_oldest_first_and_ships_every_event():
    """Real moto: 40 streams with lines pending, one call at a time: one PutLogEvents per
    stream, in the order the streams began waiting, every event stored."""
    async with MotoServer() as moto:
        shipper = LogShipper(moto.endpoint, "us-east-1", ("testing", "testing"), "/aws/lambda/budget", parallel=1)
        order = []
        shipper.on_shipped.append(lambda group, stream, events: order.append((stream, len(events))))
        # Queued before the loop starts, so every stream has all its lines by its first put.
        for line in range(4):
            for i in range(40):
                shipper.add(f"s{i:02d}", f"line {line}")
        await shipper.start()
        await shipper.stop()
        status = shipper.status()
        assert order == [(f"s{i:02d}", 4) for i in range(40)]
        assert (status["puts"], status["shipped"], status["pending_events"], status["dropped"]) == (40, 160, 0, 0)


async def test_the_wire_put_is_what_cloudwatch_logs_takes_and_its_refusals_are_typed():
    """probe/local/logs_put.py against moto: a signed JSON 1.1 PutLogEvents stores the events;
    a refused one raises CloudWatch Logs' own error type, not a bare HTTP status."""
    import aiobotocore.session

    from probe.local.logs_put import LogsCallError, PutLogEvents

    async with MotoServer() as moto:
        session = aiobotocore.session.get_session()
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        async with session.create_client("logs", region_name="us-east-1", endpoint_url=moto.endpoint, **keys) as logs:
            await logs.create_log_group(logGroupName="g")
            await logs.create_log_stream(logGroupName="g", logStreamName="s")
            put = PutLogEvents(moto.endpoint, "us-east-1", ("testing", "testing"))
            try:
                now_ms = int(time.time() * 1000)  # moto drops events older than its retention
                await put.put("g", "s", [{"timestamp": now_ms + i, "message": f"line {i}"} for i in range(3)])
                try:
                    await put.put("g", "no-such-stream", [{"timestamp": now_ms, "message": "x"}])
                except LogsCallError as exc:
                    assert exc.error_type == "ResourceNotFoundException" and exc.status == 400
                else:
                    raise AssertionError("a put to a missing stream was taken")
            finally:
                await put.close()
            got = await logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)
            assert [e["message"] for e in got["events"]] == ["line 0", "line 1", "line 2"]

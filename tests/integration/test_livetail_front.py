"""LiveTailSource against LogsFront + moto (the local Lambda's real logs endpoint): no event lost
or repeated across session ends and sampling, a group created after the source started, and a
capacity provider's group read beside the function's.
"""

import asyncio
import logging
import uuid

from probe.local.logs_front import LogsFront
from tests.integration.conftest import FAKE_REGION
from tests.integration.livetail_helpers import (
    ACCOUNT,
    STREAM,
    Collector,
    events,
    factory,
    group_names,
    make_group,
    now_ms,
    until,
)
from tui.aws.sources.livetail import LiveTailSource


async def test_front_session_limit_reconnects_without_loss_or_repeat(moto_endpoint, fake_aws_env, caplog):
    caplog.set_level(logging.DEBUG)
    name, arn = group_names()
    async with LogsFront(moto_endpoint, update_interval=0.1, session_limit=0.5) as front:
        async with factory(front.url)() as logs:
            await make_group(logs, name)
            source = LiveTailSource(
                factory(front.url), arn, backfill_interval_s=0.3, backfill_margin_ms=3000, backoff_initial_s=0.05
            )
            col = Collector(source)
            await until(lambda: source.status.extra["sessions"] >= 1)
            sent = []
            for i in range(0, 120, 3):  # the shipper's order: store, then publish
                # Stamped when written: backfill trusts ingestion lag to stay under its margin.
                batch = events(now_ms() - i, i, i + 3)
                sent += batch
                await logs.put_log_events(logGroupName=name, logStreamName=STREAM, logEvents=batch)
                front.publish(name, STREAM, batch)
                await asyncio.sleep(0.05)
            await col.wait_for(len(sent))
            await col.stop()
    col.assert_exactly(sent)
    extra = source.status.extra
    assert extra["sessions"] >= 4 and extra["reconnects"] >= 3  # ~2 s of 0.5 s sessions
    assert source.status.error is None  # a session's normal end is not an error
    assert source.status.lag_ms is not None and source.status.events == len(sent)
    assert "fAkEsEcReT" not in caplog.text


async def test_front_sampling_is_reported_and_backfilled(moto_endpoint, fake_aws_env):
    name, arn = group_names()
    # 20 events per update instead of 500 keeps the test small; the logic is the same.
    async with LogsFront(moto_endpoint, update_interval=0.2, events_per_update=20) as front:
        async with factory(front.url)() as logs:
            await make_group(logs, name)
            source = LiveTailSource(factory(front.url), arn, backfill_interval_s=0.3, backfill_margin_ms=3000)
            col = Collector(source)
            # Settled: live, and the start-up backfill pass done (else it may fetch the burst first).
            await until(lambda: source.status.extra["sessions"] >= 1 and not source.status.behind)
            sent = events(now_ms(), 0, 100)
            await logs.put_log_events(logGroupName=name, logStreamName=STREAM, logEvents=sent)
            front.publish(name, STREAM, sent)
            await col.wait_for(len(sent))
            await col.stop()
    col.assert_exactly(sent)
    assert source.status.extra["sampled_updates"] >= 1
    assert col.sampled_seen and source.status.sampled
    assert source.status.extra["backfilled"] >= 80  # what the sample left out
    assert source.status.extra["sessions"] == 1  # filled while staying connected


async def test_front_group_created_after_the_source_started(moto_endpoint, fake_aws_env):
    name, arn = group_names()
    async with LogsFront(moto_endpoint, update_interval=0.1) as front:
        source = LiveTailSource(
            factory(front.url), arn, backfill_interval_s=0.2, backoff_initial_s=0.05, backoff_max_s=0.3
        )
        col = Collector(source)
        await until(lambda: source.status.error and "ResourceNotFoundException" in source.status.error)
        async with factory(front.url)() as logs:
            await make_group(logs, name)
            # Stored before any session exists, so never pushed (Live Tail streams what is ingested
            # after its session starts): only the backfill can bring them. Published to the front,
            # they would race the source's retry on a busy machine (a session that had just started
            # would stream them, and the backfill would find nothing new).
            early = events(now_ms(), 0, 10)
            await logs.put_log_events(logGroupName=name, logStreamName=STREAM, logEvents=early)
            await until(lambda: source.status.extra["sessions"] >= 1)
            late = events(now_ms(), 10, 20)
            await logs.put_log_events(logGroupName=name, logStreamName=STREAM, logEvents=late)
            front.publish(name, STREAM, late)
            await col.wait_for(20)
        await col.stop()
    col.assert_exactly(early + late)
    assert source.status.extra["backfilled"] >= 10


async def test_front_two_groups_in_one_session_with_the_second_ones_history(moto_endpoint, fake_aws_env):
    # A Managed Instances function: its group, and its capacity provider's system log beside it,
    # whose instance launched a day before the run (read once from `history`), then live.
    name, arn = group_names()
    cp_name = f"/aws/lambda/capacity-provider/{uuid.uuid4().hex[:8]}"
    cp_arn = f"arn:aws:logs:{FAKE_REGION}:{ACCOUNT}:log-group:{cp_name}"
    since = now_ms()
    async with LogsFront(moto_endpoint, update_interval=0.1) as front:
        async with factory(front.url)() as logs:
            await make_group(logs, name)
            await make_group(logs, cp_name)
            old = [{"timestamp": since - 86_400_000, "message": "launched yesterday"}]
            await logs.put_log_events(logGroupName=cp_name, logStreamName=STREAM, logEvents=old)
            source = LiveTailSource(
                factory(front.url),
                [arn, cp_arn],
                since_ms=since,
                history={cp_name: since - 2 * 86_400_000},
                backfill_interval_s=0.2,
                backfill_margin_ms=3000,
            )
            col = Collector(source)
            await until(lambda: source.status.extra["sessions"] >= 1)
            fn = events(now_ms(), 0, 5)
            cp = [{"timestamp": now_ms(), "message": "launched now"}]
            await logs.put_log_events(logGroupName=name, logStreamName=STREAM, logEvents=fn)
            front.publish(name, STREAM, fn)
            await logs.put_log_events(logGroupName=cp_name, logStreamName=STREAM, logEvents=cp)
            front.publish(cp_name, STREAM, cp)
            await col.wait_for(len(fn) + 2)
            await col.stop()
    col.assert_exactly(fn + cp + old)
    assert source.status.extra["groups"][cp_name]["error"] is None


async def test_front_a_failing_extra_group_never_holds_the_functions_gap_open(moto_endpoint, fake_aws_env):
    name, arn = group_names()
    missing = "/aws/lambda/capacity-provider/never-logged"
    async with LogsFront(moto_endpoint, update_interval=0.1) as front:
        async with factory(front.url)() as logs:
            await make_group(logs, name)
            # Only the function's group is in the session; the other is read by history and
            # backfill alone, and both fail: noted, not raised.
            source = LiveTailSource(factory(front.url), arn, backfill_interval_s=0.2, backfill_margin_ms=3000)
            source.log_group_names.append(missing)
            source.status.extra["groups"] = {missing: {"events": 0, "error": None}}
            source._history[missing] = now_ms() - 86_400_000
            col = Collector(source)
            await until(lambda: source.status.extra["sessions"] >= 1 and not source.status.behind)
            sent = events(now_ms(), 0, 5)
            await logs.put_log_events(logGroupName=name, logStreamName=STREAM, logEvents=sent)
            front.publish(name, STREAM, sent)
            await col.wait_for(len(sent))
            await col.stop()
    col.assert_exactly(sent)
    assert "not found" in source.status.extra["groups"][missing]["error"]
    assert source.status.error is None

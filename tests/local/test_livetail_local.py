"""Live Tail on the local Lambda itself: aioboto3's own start_live_tail, through the one endpoint,
sees the invocations of load that runs while the session is open."""

import asyncio
import json

import aioboto3
import aiohttp
from aiobotocore.config import AioConfig

from probe.local import LocalLambda
from tests.local.conftest import assert_nothing_left


async def test_start_live_tail_streams_invocations_as_they_happen(tmp_path):
    async with LocalLambda() as ll:
        key, secret = ll.credentials
        session = aioboto3.Session()
        async with session.client(
            "logs",
            endpoint_url=ll.endpoints()["endpoint_url"],
            region_name=ll.region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=AioConfig(inject_host_prefix=False),
        ) as logs:
            groups = await logs.describe_log_groups(logGroupNamePrefix=ll.log_group)
            arn = groups["logGroups"][0]["logGroupArn"]
            resp = await logs.start_live_tail(logGroupIdentifiers=[arn])
            seen_ids: set[str] = set()
            updates_with_events = 0

            async def load():
                async with aiohttp.ClientSession() as http:
                    for _ in range(4):
                        for _ in range(5):
                            async with http.get(ll.function_url) as r:
                                assert r.status == 200
                        await asyncio.sleep(1.2)  # spread over several updates

            loader = asyncio.create_task(load())

            async def read():
                nonlocal updates_with_events
                async for event in resp["responseStream"]:
                    if "sessionUpdate" in event:
                        results = event["sessionUpdate"]["sessionResults"]
                        if results:
                            updates_with_events += 1
                        for r in results:
                            if r["message"].startswith('{"lambdascope"'):
                                seen_ids.add(json.loads(r["message"])["request_id"])
                        if len(seen_ids) >= 20:
                            return

            await asyncio.wait_for(read(), 60)
            await loader
    assert len(seen_ids) == 20
    assert updates_with_events >= 2  # successive updates, not one snapshot
    assert_nothing_left(ll)

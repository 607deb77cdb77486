"""Both log sources, opened by the factory against the local Lambda, see the same invocations."""

import asyncio

import aiohttp
import pytest

from tui.aws.sources.factory import choose, open_source
from tui.aws.target import LocalTarget, Target
from tui.core.analysis import feed
from tui.core.fleet import Fleet


def test_defaults_livetail_on_aws_poll_locally():
    aws = Target(label="f (eu-west-1)", kind="aws", function_name="f", region="eu-west-1", log_group="/aws/lambda/f")
    local = Target(label="LOCAL", kind="local", function_name="f", region="us-east-1", log_group="/aws/lambda/f")
    assert choose("auto", aws) == "livetail"
    assert choose("auto", local) == "poll"
    assert choose("poll", aws) == "poll"


@pytest.mark.parametrize("kind", ["poll", "livetail"])
async def test_source_sees_every_invocation(kind):
    async with LocalTarget() as target:
        async with open_source(target, kind) as source:
            fleet = Fleet()

            async def read():
                async for batch in source.batches():
                    feed(fleet, batch, 0)
                    if fleet.counters.invocations >= 12 and all(c.reports for c in fleet.containers.values()):
                        return

            reader = asyncio.create_task(read())
            async with aiohttp.ClientSession() as http:

                async def call():
                    async with http.get(target.function_url) as r:
                        assert r.status == 200

                for _ in range(4):
                    await asyncio.gather(*(call() for _ in range(3)))
            await asyncio.wait_for(reader, 60)
    assert fleet.counters.invocations == 12
    assert len(fleet.containers) == 3
    assert fleet.cold_starts == 3

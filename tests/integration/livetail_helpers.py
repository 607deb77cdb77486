"""What the Live Tail source's tests share: a logs client made as the app makes one, a log group
in moto, numbered events, and a Collector that consumes a source the way the app does.
"""

import asyncio
import time
import uuid

import aiobotocore.session
from aiobotocore.config import AioConfig

from tests.integration.conftest import FAKE_REGION
from tui.aws.sources.livetail import LiveTailSource

ACCOUNT = "123456789012"  # moto's default account
STREAM = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"


def factory(url: str):
    """What the app passes in: a fresh aiobotocore client context per call."""
    session = aiobotocore.session.get_session()
    config = AioConfig(
        inject_host_prefix=False,  # else botocore dials streaming-127.0.0.1 (AWS-FACTS §1.1)
        retries={"mode": "standard", "max_attempts": 1},
        connect_timeout=2,
        read_timeout=10,
    )
    return lambda: session.create_client("logs", region_name=FAKE_REGION, endpoint_url=url, config=config)


def now_ms() -> int:
    return int(time.time() * 1000)


def group_names() -> tuple[str, str]:
    name = f"/aws/lambda/lt-{uuid.uuid4().hex[:8]}"
    return name, f"arn:aws:logs:{FAKE_REGION}:{ACCOUNT}:log-group:{name}"


async def make_group(logs, name: str) -> None:
    await logs.create_log_group(logGroupName=name)
    await logs.create_log_stream(logGroupName=name, logStreamName=STREAM)


def events(t0: int, lo: int, hi: int) -> list[dict]:
    return [{"timestamp": t0 + i, "message": f"e{i:04d}"} for i in range(lo, hi)]


async def until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


class Collector:
    """Consumes a source in the background, the way the app does."""

    def __init__(self, source: LiveTailSource) -> None:
        self.source = source
        self.events = []
        self.sampled_seen = False
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for batch in self.source.batches():
            self.events.extend(batch)
            self.sampled_seen |= self.source.status.sampled

    async def wait_for(self, count: int, timeout: float = 15.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.events) < count:
            if self.task.done():
                self.task.result()  # surface the source's error
                raise AssertionError(f"source ended after {len(self.events)} events")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(self.events)} of {count} events after {timeout} s; {self.source.status}")
            self.sampled_seen |= self.source.status.sampled  # as a screen reads it, each refresh
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)  # long enough for a repeat to show up

    async def stop(self) -> None:
        await self.source.close()
        await asyncio.wait_for(self.task, 5)

    def assert_exactly(self, expected: list[dict]) -> None:
        got = sorted(e.message for e in self.events)
        assert got == sorted(e["message"] for e in expected), (len(got), len(expected))
        assert len(set(got)) == len(got)

"""A poll source that falls behind says so: its lag is measured against the clock while events
are missing (not only when they arrive), and it is `behind` from BEHIND_S on, with the reason.

A real aiobotocore client and a real FaultProxy in front of moto's CloudWatch Logs; the source's
clock and sleep are injected, so the lag seconds are simulated (no test waits 10 s for them).
"""

import asyncio

import pytest

from tests.faults.proxy import FaultProxy, Faults
from tui.aws import clients as aws
from tui.aws.sources.poll import BEHIND_S, PollSource


class Clock:
    """Simulated time: sleeping advances it (and yields, so the loop runs)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        await asyncio.sleep(0)


@pytest.mark.parametrize("fault", ["throttle", "reset"])
async def test_lag_grows_while_polls_fail_and_the_source_says_behind(fault, moto_endpoint, fake_aws_env):
    clock = Clock(1_800_000_000.0)
    faults = Faults(throttle=1.0) if fault == "throttle" else Faults(reset_mid_response=1.0)
    session = aws.make_session(None, "us-east-1")
    async with (
        FaultProxy(moto_endpoint) as proxy,
        aws.client(session, "logs", endpoint_url=proxy.url, region="us-east-1", max_attempts=1) as logs,
    ):
        await logs.create_log_group(logGroupName="/aws/lambda/fn")  # through the proxy, before faults
        source = PollSource(logs, "/aws/lambda/fn", int(clock() * 1000), interval=0.5, now=clock, sleep=clock.sleep)
        proxy.faults = faults
        lags = []

        async def watch():
            async for _ in source.batches():
                pass

        task = asyncio.create_task(watch())
        try:
            async with asyncio.timeout(60):
                while not source.status.behind or (source.status.lag_ms or 0) < BEHIND_S * 1000:
                    await asyncio.sleep(0.01)
                    if source.status.lag_ms is not None:
                        lags.append(source.status.lag_ms)
            behind_error = source.status.error
            # The endpoint heals: the next successful poll catches up and the flag clears.
            proxy.faults = Faults()
            async with asyncio.timeout(60):
                while source.status.behind:
                    await asyncio.sleep(0.01)
        finally:
            await source.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert lags == sorted(lags) and lags[-1] >= BEHIND_S * 1000  # grew with the clock, never reset
    assert ("throttled" if fault == "throttle" else "logs endpoint") in behind_error
    assert source.status.lag_ms < BEHIND_S * 1000 and source.status.error is None

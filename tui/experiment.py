"""The blog's experiment without a screen: load the function, read its logs, count containers.

Both channels feed one fleet model: outcomes from the load generator as they come, log events
from a source. When the load ends, it waits until the logs account for every invocation the
responses reported (or the timeout passes, and says how many are missing).
"""

import asyncio
import time
from dataclasses import dataclass

from tui import aws
from tui.analysis import feed
from tui.fleet import Fleet
from tui.sources.poll import PollSource
from tui.target import Target


@dataclass
class Result:
    fleet: Fleet
    wall_s: float  # first request → logs caught up (or timed out)
    load_s: float  # first request → last response
    log_lag_s: float | None  # last response → logs account for every invocation
    missing: int  # invocations the responses reported that the logs never did
    source_requests: int
    finished_at: float  # epoch seconds: the document's "now"


async def run_experiment(target: Target, plan, *, settle_timeout_s: float = 60.0,
                         poll_interval_s: float = 0.5, now=time.time) -> Result:
    from loadgen.runner import Runner
    from loadgen.targets import target_from_spec

    fleet = Fleet()
    started = now()
    session = aws.make_session(target.profile, target.region)
    async with aws.client(session, "logs", endpoint_url=target.logs_endpoint,
                          credentials=target.local_credentials, region=target.region) as logs:
        # A second of slack: the first events can carry timestamps from just before we start.
        source = PollSource(logs, target.log_group, int((started - 1) * 1000), interval=poll_interval_s,
                            budget_per_s=4.0 if target.kind == "local" else 2.0, now=now)
        reader = asyncio.create_task(_read(source, fleet, now))
        try:
            runner = Runner(target_from_spec(target.load_spec()), plan, client=target.http_client)
            async for batch in runner.run():
                fleet.apply_outcomes(batch, now())
            load_done = now()
            log_lag = await _settle(fleet, reader, settle_timeout_s, load_done, now)
        finally:
            await source.close()
            reader.cancel()
            try:
                await reader
            except asyncio.CancelledError:
                pass
    missing = sum(c.unconfirmed for c in fleet.containers.values())
    finished = now()
    return Result(fleet, finished - started, load_done - started, log_lag, missing, source.status.requests, finished)


async def _read(source, fleet: Fleet, now) -> None:
    async for batch in source.batches():
        feed(fleet, batch, now())


async def _settle(fleet: Fleet, reader: asyncio.Task, timeout_s: float, load_done: float, now) -> float | None:
    """Wait for the logs to confirm every invocation; the lag, or None on timeout."""
    deadline = load_done + timeout_s
    while now() < deadline:
        if reader.done():
            reader.result()  # a fatal source error (credentials, permissions) surfaces here
            return None
        if all(c.unconfirmed == 0 and not c.in_flight for c in fleet.containers.values()):
            return now() - load_done
        await asyncio.sleep(0.05)
    return None

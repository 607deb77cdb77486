"""Shared helpers for the local Lambda's integration tests (real processes, real moto)."""

import asyncio
import os

import aioboto3
import aiohttp
import pytest

from probe.local import procs


def descendants(root: int) -> list[int]:
    """Live processes under `root`, but multiprocessing's resource tracker (see below)."""
    return sorted(pid for pid in procs.descendants(root) if not _resource_tracker(pid))


def _resource_tracker(pid: int) -> bool:
    """multiprocessing's resource tracker: started by the first spawned process (the load
    generator's tests start some) and kept, by design, as long as the test interpreter lives."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"multiprocessing.resource_tracker" in fh.read()
    except OSError:
        return False


def assert_nothing_left(ll) -> None:
    assert ll.survivors() == [], "a process started by the local Lambda outlived it"
    assert descendants(os.getpid()) == [], "a child process of the test outlived the local Lambda"


async def fetch_events(ll, want=None, timeout=10.0) -> list[dict]:
    """All events of the function's log group, through the same API a user would call.

    With `want(events)`, polls until it is true (shipping is asynchronous, ~200 ms batches).
    """
    session = aioboto3.Session()
    key, secret = ll.credentials
    deadline = asyncio.get_running_loop().time() + timeout
    async with session.client(
        "logs",
        endpoint_url=ll.logs_endpoint,
        region_name=ll.region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    ) as logs:
        while True:
            events, token = [], None
            while True:
                kwargs = {"logGroupName": ll.log_group}
                if token:
                    kwargs["nextToken"] = token
                page = await logs.filter_log_events(**kwargs)
                events += page["events"]
                token = page.get("nextToken")
                if not token:
                    break
            if want is None or want(events) or asyncio.get_running_loop().time() > deadline:
                return events
            await asyncio.sleep(0.2)


async def hammer(
    url: str, total: int, concurrency: int, session: aiohttp.ClientSession, **kwargs
) -> list[tuple[int, bytes]]:
    """A closed loop of `concurrency` clients sending `total` requests: (status, body) each."""
    results = []
    remaining = [total]

    async def client():
        while remaining[0] > 0:
            remaining[0] -= 1
            async with session.post(url, **kwargs) as resp:
                results.append((resp.status, await resp.read()))

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return results


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session

"""The local Lambda's own counters, read over HTTP (`GET /_lambdascope/status`, not an AWS API):
for now, this machine's start queue (tui/core/start_queue.py).

The same read whether the local Lambda runs in this process or apart (`watch` runs it apart):
its endpoints line names the URL (LocalLambda.endpoints: status_url). A read that fails says
nothing (None): the counters are a note beside the run, never a reason to stop it. Bounded:
a body over MAX_BYTES or a read over TIMEOUT_S is a failed read.
"""

from tui.core.start_queue import StartQueue, start_queue

TIMEOUT_S = 5.0
MAX_BYTES = 1 << 20  # the status document is a few kilobytes
EVERY_S = 2.0  # the monitor's reading: the queue changes on the scale of inits


def status_url(target) -> str | None:
    return (getattr(target, "extra", None) or {}).get("status_url") if target.kind == "local" else None


async def read_start_queue(url: str | None, http=None) -> StartQueue | None:
    """The start queue the local Lambda at `url` reports, or None (no URL, or the read failed)."""
    if not url:
        return None
    import aiohttp

    try:
        if http is None:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as own:
                return await _read(own, url)
        return await _read(http, url)
    except (TimeoutError, aiohttp.ClientError, ValueError, OSError):
        return None


async def _read(http, url: str) -> StartQueue | None:
    import json

    async with http.get(url) as resp:
        if resp.status != 200:
            return None
        body = await resp.content.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        return None
    return start_queue(json.loads(body))

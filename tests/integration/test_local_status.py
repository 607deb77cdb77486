"""Reading the local Lambda's start queue (tui/aws/local_status.py) from a server on 127.0.0.1
that answers well, badly, hugely or not at all: a good document gives the queue, anything else
None, within the read's bounds, and never an exception."""

import asyncio
import json

from aiohttp import web

from tui.aws.local_status import MAX_BYTES, read_start_queue
from tui.core.start_queue import StartQueue

GOOD = {"queued_starts": 3, "local_queue_ms_mean": 400.0, "local_queue_ms_max": 900.0, "max_starting": 1}


async def _serve(handler):
    app = web.Application()
    app.router.add_get("/_lambdascope/status", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/_lambdascope/status"


async def _read_from(handler):
    runner, url = await _serve(handler)
    try:
        async with asyncio.timeout(30):
            return await read_start_queue(url)
    finally:
        await runner.cleanup()


async def ok(request):
    return web.json_response(GOOD)


async def test_a_good_status_gives_the_queue():
    assert await _read_from(ok) == StartQueue(3, 0.4, 0.9, 1)


async def test_an_error_junk_or_a_huge_body_gives_none():
    async def error(request):
        return web.Response(status=500, text="boom")

    async def junk(request):
        return web.Response(text="{not json")

    async def wrong_shape(request):
        return web.json_response({**GOOD, "queued_starts": "3"})

    async def huge(request):
        return web.Response(body=json.dumps({**GOOD, "pad": "x" * (MAX_BYTES + 10)}).encode())

    for handler in (error, junk, wrong_shape, huge):
        assert await _read_from(handler) is None, handler.__name__


async def test_nobody_listening_or_no_url_gives_none():
    runner, url = await _serve(ok)
    await runner.cleanup()  # the port is closed now
    async with asyncio.timeout(30):
        assert await read_start_queue(url) is None
    assert await read_start_queue(None) is None

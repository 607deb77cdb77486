"""The local Lambda holds environments that sleep (issue 17): the cap counts memory, not CPUs, so a
2-core machine holds far more than the 64 processes it used to (32 per CPU). 300 here keep the
test to ~10 s on 2 busy cores; 1,000 held under load for a minute is a bench
(tests/bench/bench_local.py::test_thousand_held_environments_under_load)."""

import asyncio

import aiohttp

from probe.local import LocalLambda, load_profile
from tests.local.conftest import assert_nothing_left

HELD = 300  # more than four times the old cap on 2 cores


async def test_the_scale_profile_holds_hundreds_of_sleeping_environments(tmp_path):
    prof = load_profile("scale")
    release = tmp_path / "release"
    async with LocalLambda(prof, handler="tests.local.handlers.hold_until") as ll:
        assert ll.fleet.max_processes >= HELD, ll.fleet.budget.describe()
        connector = aiohttp.TCPConnector(limit=HELD + 10)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:

            async def one():
                async with http.post(ll.function_url, json={"until": str(release)}) as resp:
                    return resp.status, await resp.json()

            requests = [asyncio.ensure_future(one()) for _ in range(HELD)]
            try:
                async with asyncio.timeout(90):  # a bound, not a measurement: ~5-10 s here
                    while sum(1 for e in ll.fleet.live.values() if e.ready and e.state == "busy") < HELD:
                        await asyncio.sleep(0.1)
                async with http.get(ll.status_url) as resp:
                    status = await resp.json()
            finally:
                release.touch()
            results = await asyncio.gather(*requests)
    assert_nothing_left(ll)
    assert status["environments"] == HELD and status["local_limited"] == 0 and status["throttles"] == {}
    assert [s for s, _ in results] == [200] * HELD
    assert all(body["released"] for _, body in results)
    assert len({e["stream"] for e in ll.environments}) == HELD

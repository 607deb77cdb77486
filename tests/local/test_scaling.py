"""The placement and scaling model: throttling at the concurrency limit and while scale-up has not
caught up, idle reclaim, and host retirement taking its environments with it."""

import asyncio
import json
from collections import Counter

from probe.local import LocalLambda
from probe.local.profile import parse_profile
from tests.local.conftest import assert_nothing_left

SLEEPY = {"sleep": 0.6}


async def _until(check, timeout=20.0):
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def profile(**sections):
    return parse_profile(sections, "test.toml")


async def _burst(http, url, n, payload=SLEEPY):
    async def one():
        async with http.post(url, json=payload) as resp:
            return resp.status, resp.headers.get("x-amzn-ErrorType"), await resp.read()

    return await asyncio.gather(*(one() for _ in range(n)))


async def test_concurrency_limit_throttles_with_429(http):
    async with LocalLambda(handler="tests.local.handlers.behave", concurrency_limit=2) as ll:
        results = await _burst(http, ll.function_url, 5)
        assert Counter(status for status, _, _ in results) == {200: 2, 429: 3}
        for status, error_type, body in results:
            if status == 429:
                assert error_type == "TooManyRequestsException"
                assert json.loads(body) == {"Message": "Rate Exceeded."}
        assert len(ll.environments) == 2
    assert_nothing_left(ll)


async def test_scale_up_allowance_throttles_until_the_next_step(http):
    prof = profile(scaling={"burst": 2, "steps": [1], "interval_s": 0.5, "max_tokens": 2})
    async with LocalLambda(prof, handler="tests.local.handlers.behave") as ll:
        first = await _burst(http, ll.function_url, 4)
        assert Counter(s for s, _, _ in first) == {200: 2, 429: 2}
        assert ll.fleet.throttles == {"FunctionInvocationRateLimitExceeded": 2}
        # One step (0.5 s) later one more environment may start: wait for the allowance, not a
        # fixed time a busy machine's ticker may not have reached.
        await _until(lambda: ll.fleet._tokens >= 1)
        second = await _burst(http, ll.function_url, 3)
        assert Counter(s for s, _, _ in second) == {200: 3}
        assert len(ll.environments) == 3
    assert_nothing_left(ll)


async def test_idle_environments_are_reclaimed(http):
    prof = profile(lifetime={"idle_reclaim_s": 0.3})
    async with LocalLambda(prof) as ll:
        async with http.get(ll.function_url) as resp:
            first = await resp.json()
        async with asyncio.timeout(20):
            while ll.environments[0]["state"] != "stopped":
                await asyncio.sleep(0.02)
        old = ll.environments[0]
        assert old["retire_reason"] == "idle reclaim"
        async with http.get(ll.function_url) as resp:
            second = await resp.json()
        assert second["cold"] is True and second["container_id"] != first["container_id"]
        assert old["pid"] not in ll.survivors()
    assert_nothing_left(ll)


async def test_retiring_host_takes_its_environments_with_it(http):
    prof = profile(
        hosts=[
            {
                "name": "short-lived",
                "slots": 2,
                "lifetime_s": 0.8,
                "cpu_model": "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz",
            },
            {"name": "stayer", "slots": 10, "cpu_model": "Intel(R) Xeon(R) CPU E5-2666 v3 @ 2.90GHz"},
        ]
    )
    async with LocalLambda(prof, handler="tests.local.handlers.behave") as ll:
        await _burst(http, ll.function_url, 2, {"sleep": 0.1})
        assert Counter(e["host"] for e in ll.environments) == {"short-lived": 2}
        # The host lives 0.8 s; its environments stop when it retires (a process exit each).
        await _until(lambda: all(e["state"] == "stopped" for e in ll.environments))
        gone = ll.environments
        assert [e["retire_reason"] for e in gone] == ["host retired", "host retired"]
        assert all(e["state"] == "stopped" for e in gone)
    async with LocalLambda(prof) as ll:  # the probe reports the host it was placed on
        async with http.get(ll.function_url) as resp:
            rec = await resp.json()
        assert rec["hostname"] == "short-lived" and "E5-2680 v2" in rec["cpu_model"]
        await _until(lambda: ll.fleet.hosts[0].retired)
        async with http.get(ll.function_url) as resp:
            rec = await resp.json()
        assert rec["hostname"] == "stayer" and rec["cold"] is True
        assert "E5-2666 v3" in rec["cpu_model"]
    assert_nothing_left(ll)


async def test_most_recently_used_environment_is_reused_first(http):
    async with LocalLambda(handler="tests.local.handlers.behave") as ll:
        await _burst(http, ll.function_url, 3, {"sleep": 0.3})  # three environments
        for _ in range(5):  # one client at a time: always the same, most recent one
            async with http.post(ll.function_url, json={}) as resp:
                assert resp.status == 200
        counts = sorted(e["invocations"] for e in ll.environments)
        assert counts == [1, 1, 6]
    assert_nothing_left(ll)


async def test_blog_profile_grows_in_batches_on_hosts_that_retire(http):
    async with LocalLambda("blog") as ll:
        models, statuses = set(), Counter()
        # Hosts live 120 and 400 invocations: 1,000 requests see every phase, however fast the
        # machine runs (a clock in requests, not seconds).
        remaining = [1000]

        async def client():
            while remaining[0] > 0:
                remaining[0] -= 1
                async with http.get(ll.function_url) as resp:
                    statuses[resp.status] += 1
                    if resp.status == 200:
                        models.add((await resp.json())["cpu_model"])

        await asyncio.gather(*(client() for _ in range(10)))
        assert statuses[200] > 0 and statuses[429] > 0  # scale-up lagged, as in the blog
        envs = sorted(ll.environments, key=lambda e: e["created_at"])
        by_host = {}
        for env in envs:
            by_host.setdefault(env["host"], []).append(env)
        first, second, third = (by_host[h] for h in ("ip-10-12-41-7", "ip-10-12-87-201", "ip-10-12-133-58"))
        # a burst of 4, then a batch of 10, then a bigger one of 20
        assert (len(first), len(second), len(third)) == (4, 10, 20)
        # 10 clients keep 10 environments: every one of the first two hosts' served, and 10 of
        # the third batch; the other 10 were initialised and never invoked
        assert [sum(e["invocations"] > 0 for e in g) for g in (first, second, third)] == [4, 10, 10]
        for group in (first, second):
            # Started together, retired together, with their host.
            assert max(e["created_at"] for e in group) - min(e["created_at"] for e in group) < 0.3
            assert {e["retire_reason"] for e in group} == {"host retired"}
        assert models == {"Intel(R) Xeon(R) CPU E5-2666 v3 @ 2.90GHz", "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz"}
    assert_nothing_left(ll)

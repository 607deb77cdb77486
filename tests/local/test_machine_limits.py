"""The local machine's own limits (issue 8): stale scratch folders of killed local Lambdas are
removed at start (never a live one's), and environment processes are capped to what this machine
holds, with the 429s that cap causes labelled as the local machine's, not Lambda's."""

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from probe.local import LocalLambda
from probe.local.capacity import LOCAL_LIMIT_HEADER, LOCAL_REASON, machine_cap
from probe.local.profile import parse_profile
from probe.local.scratch import OWNER_FILE, PREFIX, clean_stale, make_scratch, start_time
from tests.local.conftest import assert_nothing_left


def test_machine_cap_scales_with_cpus_and_memory():
    assert machine_cap(cpus=2, mem_kb=None) < machine_cap(cpus=8, mem_kb=None)
    assert machine_cap(cpus=64, mem_kb=400_000) < machine_cap(cpus=64, mem_kb=40_000_000)
    assert machine_cap(cpus=1, mem_kb=1) >= 1


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_scratch_of_a_dead_owner_is_removed_and_a_live_one_kept(tmp_path):
    dead = tmp_path / f"{PREFIX}1-dead"
    dead.mkdir()
    (dead / OWNER_FILE).write_text(f"{_dead_pid()} 123\n")
    (dead / "env-x").mkdir()
    live = tmp_path / f"{PREFIX}2-live"
    live.mkdir()
    (live / OWNER_FILE).write_text(f"{os.getpid()} {start_time(os.getpid())}\n")
    recycled = tmp_path / f"{PREFIX}3-recycled"  # our pid, but another process's start time
    recycled.mkdir()
    (recycled / OWNER_FILE).write_text(f"{os.getpid()} 1\n")
    legacy_fresh = tmp_path / f"{PREFIX}legacy"  # no owner file, touched just now: kept
    legacy_fresh.mkdir()
    other = tmp_path / "not-ours"
    other.mkdir()
    removed = clean_stale(str(tmp_path))
    assert sorted(removed) == sorted([str(dead), str(recycled)])
    assert live.exists() and legacy_fresh.exists() and other.exists()
    assert clean_stale(str(tmp_path), now=os.stat(legacy_fresh).st_mtime + 7200) == [str(legacy_fresh)]


def test_a_local_lambda_killed_by_sigkill_leaves_a_folder_the_next_one_removes(tmp_path):
    code = (
        "import asyncio\nfrom probe.local import LocalLambda\n"
        "async def main():\n"
        "    async with LocalLambda() as ll:\n"
        "        print(ll._tmp, flush=True)\n"
        "        await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    )
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True)
    try:
        scratch = proc.stdout.readline().strip()
        assert scratch.startswith(str(tmp_path)) and os.path.isdir(scratch)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert os.path.isdir(scratch)  # SIGKILL runs no clean-up
    live = make_scratch(str(tmp_path))  # this process's own (live) folder must survive
    try:
        assert clean_stale(str(tmp_path)) == [scratch]
        assert not os.path.exists(scratch) and os.path.isdir(live)
    finally:
        import shutil

        shutil.rmtree(live)


async def _burst(http, ll, n):
    async def one():
        async with http.post(ll.function_url, json={"sleep": 0.3}) as resp:
            return resp.status, resp.headers.get(LOCAL_LIMIT_HEADER)

    return Counter(await asyncio.gather(*(one() for _ in range(n))))


async def _status(http, ll):
    async with http.get(ll.status_url) as resp:
        return await resp.json()


@pytest.mark.parametrize("wait_s", [30.0, 0.0])
async def test_requests_beyond_the_machine_cap_queue_or_get_a_local_429(http, wait_s):
    prof = parse_profile({"machine": {"max_processes": 2, "queue_wait_s": wait_s}}, "cap.toml")
    async with LocalLambda(prof, handler="tests.local.handlers.behave") as ll:
        results = await _burst(http, ll, 5)
        status = await _status(http, ll)
        assert len(ll.environments) == 2  # never more processes than the cap
        assert status["max_environment_processes"] == 2 and status["environments"] == 2
        if wait_s:  # 3 requests waited for a busy environment, then ran warm
            assert results == {(200, None): 5}
            assert status["local_waited"] == 3 and status["local_limited"] == 0
        else:  # no wait: a 429 that names the local machine, apart from Lambda's throttles
            assert results == {(200, None): 2, (429, "local-machine"): 3}
            assert status["local_limited"] == 3 and status["throttles"] == {LOCAL_REASON: 3}
            assert status["at_local_limit"] is True
    assert_nothing_left(ll)


async def test_the_default_cap_follows_the_machine():
    async with LocalLambda() as ll:
        assert ll.fleet.max_processes == machine_cap()
        assert ll.endpoints()["max_environment_processes"] == machine_cap()
    assert_nothing_left(ll)


async def test_the_invoke_api_names_the_local_machine_too(http):
    prof = parse_profile({"machine": {"max_processes": 1, "queue_wait_s": 0}}, "cap.toml")
    async with LocalLambda(prof, handler="tests.local.handlers.behave") as ll:
        url = f"{ll.invoke_endpoint}/2015-03-31/functions/{ll.function_name}/invocations"

        async def one():
            async with http.post(url, json={"sleep": 0.3}) as resp:
                return (
                    resp.status,
                    resp.headers.get("x-amzn-ErrorType"),
                    resp.headers.get(LOCAL_LIMIT_HEADER),
                    await resp.json(),
                )

        results = await asyncio.gather(one(), one())
        throttled = [r for r in results if r[0] == 429]
        assert len(throttled) == 1 and len([r for r in results if r[0] == 200]) == 1
        _, error_type, header, body = throttled[0]
        assert error_type == "TooManyRequestsException" and header == "local-machine"
        assert body["Reason"] == LOCAL_REASON
    assert_nothing_left(ll)

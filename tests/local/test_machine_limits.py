"""The local machine's own limits (issue 8): stale scratch folders of killed local Lambdas are
removed at start (never a live one's), and environment processes are capped to what this machine
holds, with the 429s that cap causes labelled as the local machine's, not Lambda's."""

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
from collections import Counter

import pytest

from probe.local import LocalLambda
from probe.local.capacity import (
    FD_RESERVE,
    FDS_PER_ENV,
    LOCAL_LIMIT_HEADER,
    LOCAL_REASON,
    PORT_RESERVE,
    budget,
)
from probe.local.profile import parse_profile
from probe.local.scratch import OWNER_FILE, PREFIX, clean_stale, make_scratch, start_time
from tests.local.conftest import assert_nothing_left


def _cap(runtime="fork", **figures):
    return budget(runtime, probe_machine=False, **figures)


def test_the_cap_counts_memory_not_cpus_so_2_cores_and_20_gb_hold_1000_environments():
    # This machine's shape: 2 cores (the CPUs are no term of the cap), ~20 GB free of 24, the
    # open-file limit raised. Both runtimes hold 1,000 environments asleep.
    shape = {"mem_kb": 20_000_000, "total_kb": 24_000_000, "nofile": 20_000, "ports": 28_232, "nproc": 96_000}
    for runtime in ("fork", "awslambdaric"):
        cap = _cap(runtime, **shape)
        assert cap.cap >= 1000 and cap.binding == "memory", cap.describe()
    assert _cap("fork", **shape).cap > _cap("awslambdaric", **shape).cap  # a forked one is lighter
    # Memory short: the cap follows it down, and says so.
    small = _cap("awslambdaric", mem_kb=2_000_000, total_kb=4_000_000)
    assert small.binding == "memory" and small.cap < 100
    assert _cap(mem_kb=1).cap >= 1


def test_open_files_and_ports_cap_the_environments_each_one_holds():
    few_files = _cap(mem_kb=20_000_000, nofile=1024)
    assert few_files.binding == "open files" and few_files.cap == (1024 - FD_RESERVE) // FDS_PER_ENV
    few_ports = _cap(mem_kb=20_000_000, ports=PORT_RESERVE + 200)
    assert few_ports.binding == "ports" and few_ports.cap == 100
    assert "open files" in few_files.describe()


def test_the_open_file_soft_limit_is_raised_for_the_environments_memory_allows():
    # In a child: the limit is process-wide, and this test lowers it first (as on systems whose
    # soft limit is 1,024 or less).
    code = (
        "import json, resource\nfrom probe.local.capacity import budget, raise_nofile\n"
        "hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "raised = raise_nofile('fork')\n"
        "print(json.dumps([raised, resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard,"
        " budget('fork', nofile=0).by['memory']]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    raised, soft, hard, memory = json.loads(out.stdout)
    assert raised == [256, soft] and soft > 256
    assert soft == min(hard, FD_RESERVE + FDS_PER_ENV * memory) or hard == resource.RLIM_INFINITY


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
        budget_ = ll.fleet.budget  # read from this machine at start (MemAvailable moves)
        assert ll.fleet.max_processes == budget_.cap == min(budget_.by.values())
        assert ll.endpoints()["max_environment_processes"] == ll.fleet.max_processes
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

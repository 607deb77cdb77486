"""LoadProcess: a spawned child streams outcome batches, obeys commands, and never lingers."""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from loadgen.plan import Plan
from loadgen.process import LoadError, LoadProcess, WarmStart


def gone(pid):
    """True when no process (or only a zombie) has this pid."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            return any(line.startswith("State:") and "Z" in line.split()[1] for line in fh)
    except FileNotFoundError:
        return True


async def wait_for(condition, proc, timeout=15.0):
    """Read the child's reports until `condition()` holds."""
    async with asyncio.timeout(timeout):
        async for _ in proc.batches():
            if condition():
                return
    assert condition(), "the load process ended first"


async def test_streams_every_outcome_then_exits(server, capfd):
    spec = {"kind": "url", "url": f"{server.url}/mixed"}
    async with LoadProcess(spec, Plan("closed", 4, requests=200), records="new") as proc:
        outcomes = [o async for batch, _ in proc.batches() for o in batch]
        pid = proc.pid
    assert len(outcomes) == 200 and sorted(o.seq for o in outcomes) == list(range(200))
    assert proc.stats.completed == 200 and proc.stats.errors == {"throttled": 50, "http_5xx": 50}
    assert proc.error is None and not proc.alive and gone(pid)
    # records="new": only the first record per container crosses; ids still do.
    with_record = [o for o in outcomes if o.record is not None]
    assert len(with_record) == len({o.container_id for o in outcomes if o.container_id})
    assert all(o.container_id for o in outcomes if o.error is None)
    # The child never writes to the terminal the parent's UI owns.
    assert capfd.readouterr() == ("", "")


async def test_a_warm_start_spawned_before_the_target_is_taken_over(server):
    warm = WarmStart()  # no target yet: the monitor spawns it before its screen is up
    pid = warm.pid
    spec = {"kind": "url", "url": f"{server.url}/ok"}
    async with LoadProcess(spec, Plan("closed", 2, requests=20), warm=warm) as proc:
        assert proc.pid == pid
        outcomes = [o async for batch, _ in proc.batches() for o in batch]
    assert len(outcomes) == 20 and all(o.error is None for o in outcomes)
    assert gone(pid)
    warm.close()  # taken over: nothing left to close
    with pytest.raises(RuntimeError):
        warm.take()


async def test_a_warm_start_never_taken_over_ends_when_closed_or_collected():
    import gc

    closed, dropped = WarmStart(), WarmStart()
    pids = closed.pid, dropped.pid
    closed.close()
    del dropped
    gc.collect()
    async with asyncio.timeout(10):
        while not all(gone(pid) for pid in pids):
            await asyncio.sleep(0.05)


async def test_the_plan_is_the_command_and_comes_back_in_the_stats(server):
    spec = {"kind": "url", "url": f"{server.url}/ok"}
    start = Plan("open", 50)
    async with LoadProcess(spec, start) as proc:
        await wait_for(lambda: proc.stats is not None and proc.stats.completed > 5, proc)
        assert proc.stats.plan == start
        assert proc.apply(start.with_level(150))
        await wait_for(lambda: proc.stats.plan.level == 150, proc)
        assert proc.plan == Plan("open", 150)  # what the child reports, not what was asked
        assert proc.apply(proc.plan.with_paused(True))
        await wait_for(lambda: proc.stats.plan.paused and proc.stats.in_flight == 0, proc)
        sent = proc.stats.sent
        await wait_for(lambda: _later(proc, 0.3), proc)  # 0.3 s of reports while paused
        assert proc.stats.sent == sent
        proc.apply(proc.plan.with_paused(False))
        await wait_for(lambda: proc.stats.sent > sent + 5, proc)
        proc.apply(Plan("closed", 3))
        await wait_for(lambda: proc.stats.plan == Plan("closed", 3), proc)
        pid = proc.pid
    assert not proc.alive and gone(pid)
    assert proc.apply(Plan("closed", 10)) is False  # nothing left to control


_marks = {}


def _later(proc, seconds):
    """True once the child's reports span `seconds` since the first call (its own clock)."""
    first = _marks.setdefault(id(proc), proc.stats.at)
    return proc.stats.at - first >= seconds


async def test_env_reaches_the_child_for_signing(server, monkeypatch):
    # No credentials in this process; the child gets made-up ones (as for the local Lambda).
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    spec = {"kind": "invoke", "function_name": "probe", "region": "us-east-1", "endpoint_url": server.url}
    env = {"AWS_ACCESS_KEY_ID": "AKIDLOCAL", "AWS_SECRET_ACCESS_KEY": "local-secret"}
    async with LoadProcess(spec, Plan("closed", 2, requests=20), env=env) as proc:
        outcomes = [o async for batch, _ in proc.batches() for o in batch]
    assert len(outcomes) == 20 and all(o.ok and o.container_id for o in outcomes)
    assert proc.error is None


async def test_child_failure_is_one_line_and_the_child_is_gone():
    # Fails while building the target in the child, before any request (no AWS is reached).
    spec = {"kind": "invoke", "function_name": "", "endpoint_url": "http://127.0.0.1:9"}
    proc = LoadProcess(spec, Plan("closed", 1), records="all")
    proc.start()
    with pytest.raises(LoadError, match=r"^--function must name a Lambda function"):
        async for _ in proc.batches():
            pass
    await proc.stop()
    assert not proc.alive and proc._process.exitcode == 1


async def test_an_error_in_the_parent_still_ends_the_child(refused_url):
    with pytest.raises(RuntimeError, match="boom"):
        async with LoadProcess({"kind": "url", "url": refused_url}, Plan("open", 20)) as proc:
            await wait_for(lambda: proc.stats is not None and proc.stats.completed, proc)
            assert proc.stats.errors.get("refused")  # refused is an error, not a success
            pid = proc.pid
            raise RuntimeError("boom")
    assert gone(pid)


def test_child_stops_by_itself_when_the_parent_dies(refused_url, tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        from loadgen.plan import Plan
        from loadgen.process import LoadProcess
        proc = LoadProcess({{"kind": "url", "url": "{refused_url}"}}, Plan("open", 20)).start()
        print(proc.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=os.getcwd(), text=True)
    try:
        child_pid = int(parent.stdout.readline())
        assert not gone(child_pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 15
        while not gone(child_pid):
            assert time.monotonic() < deadline, "the load process outlived its parent"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.wait()
        if not gone(child_pid):
            os.kill(child_pid, signal.SIGKILL)

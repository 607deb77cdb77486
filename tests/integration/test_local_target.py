"""The local target is made before its block: it reads the profile and spawns moto at once (so
moto boots while the monitor's screen starts). Nothing it spawned may outlive it, entered or not."""

import asyncio
import gc

import pytest

from probe.local.procs import alive
from tui.errors import UserError
from tui.target import LocalTarget


async def until(check, timeout=10.0):
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def test_a_bad_profile_is_one_line_before_anything_starts(tmp_path):
    with pytest.raises(UserError) as err:
        LocalTarget(str(tmp_path / "missing.toml"))
    assert "\n" not in str(err.value) and "missing.toml" in str(err.value)


async def test_a_target_never_entered_leaves_no_moto_behind():
    target = LocalTarget()
    pid = target._moto.pid
    assert pid is not None and alive(pid)
    del target
    gc.collect()
    await until(lambda: not alive(pid))


async def test_an_entered_target_adopts_the_spawned_moto_and_stops_it():
    target = LocalTarget()
    pid = target._moto.pid
    async with target as t:
        local = t.extra["local"]
        assert pid in local.pids
        assert t.logs_endpoint and t.function_url
    await until(lambda: not alive(pid))
    assert local.survivors() == []

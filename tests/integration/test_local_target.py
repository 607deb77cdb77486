"""The local target is made before its block and reads its profile there; entering it spawns moto
first (it boots while the local Lambda is imported) and adopts it. Nothing it spawned outlives it."""

import asyncio

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


async def test_an_entered_target_adopts_the_moto_it_spawned_and_stops_everything():
    async with LocalTarget() as t:
        local = t.extra["local"]
        pid = local.moto.pid
        assert pid in local.pids and alive(pid)
        assert t.logs_endpoint and t.function_url
    await until(lambda: not alive(pid))
    assert local.survivors() == []


async def test_cancelled_while_starting_leaves_no_moto_behind(monkeypatch):
    from probe.local import moto_server

    spawned = []
    real_spawn = moto_server.MotoServer.spawn

    def spawn(self):
        spawned.append(self)
        return real_spawn(self)

    monkeypatch.setattr(moto_server.MotoServer, "spawn", spawn)
    task = asyncio.ensure_future(LocalTarget().__aenter__())
    await until(lambda: spawned and spawned[0].pid)
    pid = spawned[0].pid
    task.cancel()  # Ctrl-C or q while the local Lambda is still starting
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: not alive(pid))

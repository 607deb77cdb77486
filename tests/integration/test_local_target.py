"""The local target is made before its block and reads its profile there; moto is spawned first
(by `spawn()`, as the monitor does once its first frame is drawn, or on entering), boots while
the local Lambda is imported, and is adopted. Nothing it spawned outlives it."""

import asyncio

import pytest

from probe.local.procs import alive
from tui.aws.target import LocalTarget
from tui.core.errors import UserError


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


async def test_a_moto_spawned_ahead_is_the_one_the_local_lambda_adopts():
    target = LocalTarget().spawn()
    pid = target._moto.pid
    async with target as t:
        assert t.extra["local"].moto.pid == pid  # no second moto
        target.close()  # adopted: not the target's to stop any more
        assert alive(pid)
    await until(lambda: not alive(pid))


def test_a_moto_spawned_ahead_is_stopped_if_nothing_entered():
    target = LocalTarget().spawn()  # q before the start ran: the monitor's finally closes it
    pid = target._moto.pid
    assert alive(pid)
    target.close()
    assert not alive(pid)
    target.close()  # twice is fine

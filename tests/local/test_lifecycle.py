"""Starting and stopping: `serve` prints one JSON line of endpoints and stops everything when
cancelled; an error inside `async with` still stops everything; bad profiles are one-line
ValueErrors; no secret from our environment reaches a function."""

import asyncio
import io
import json
import os

import pytest

from probe.local import LocalLambda, serve
from tests.local.conftest import assert_nothing_left, descendants

KEYS = ("function_url", "invoke_endpoint", "logs_endpoint", "region", "function_name", "log_group")


class _Lines(io.StringIO):
    def __init__(self):
        super().__init__()
        self.first_line = asyncio.get_running_loop().create_future()

    def write(self, text):
        if not self.first_line.done():
            self.first_line.set_result(text)
        return super().write(text)


@pytest.mark.parametrize("runtime_profile", [None, "fork"])
async def test_serve_prints_endpoints_then_stops_on_cancel(http, tmp_path, runtime_profile):
    profile = None
    if runtime_profile:
        profile = tmp_path / "fork.toml"
        profile.write_text('[function]\nruntime = "fork"\n')
    out = _Lines()
    task = asyncio.ensure_future(serve(str(profile) if profile else None, 5, out=out))
    info = json.loads(await asyncio.wait_for(out.first_line, 30))
    assert set(KEYS) <= set(info)
    assert info["function_url"].startswith("http://127.0.0.1:")
    async with http.get(info["function_url"]) as resp:
        assert (await resp.json())["cold"] is True
    assert descendants(os.getpid())  # moto, an environment (and fork server)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert out.getvalue().count("\n") == 1  # exactly one line
    assert descendants(os.getpid()) == []


async def test_bad_profile_is_a_value_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[scaling]\nburst = -1\n")
    with pytest.raises(ValueError, match="bad.toml.*burst"):
        await serve(str(bad))
    assert descendants(os.getpid()) == []


async def test_error_inside_the_block_still_stops_everything(http):
    with pytest.raises(RuntimeError, match="boom"):
        async with LocalLambda(runtime="fork") as ll:
            async with http.get(ll.function_url) as resp:
                assert resp.status == 200
            raise RuntimeError("boom")
    assert_nothing_left(ll)


@pytest.mark.parametrize("runtime", ["awslambdaric", "fork"])
async def test_no_secret_reaches_the_function(http, monkeypatch, runtime):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPARENTKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "parent-token")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_parent")
    async with LocalLambda(handler="tests.local.handlers.environ", runtime=runtime) as ll:
        async with http.get(ll.function_url) as resp:
            seen = await resp.json()
        names = set(seen["names"])
        assert not names & {
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "GITHUB_TOKEN",
            "AWS_PROFILE",
        }
        assert {
            "AWS_LAMBDA_RUNTIME_API",
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "AWS_REGION",
            "LAMBDASCOPE_PROC_ROOT",
            "TMPDIR",
        } <= names
        # A private /tmp per environment, which is also its working directory.
        assert seen["tmp"] == seen["cwd"] and seen["tmp"] != "/tmp"
    assert_nothing_left(ll)


@pytest.mark.parametrize("runtime", ["awslambdaric", "fork"])
async def test_ctrl_c_on_the_command_stops_everything(http, tmp_path, runtime):
    import signal
    import sys

    from probe.local.procs import alive

    profile = tmp_path / "p.toml"
    profile.write_text(f'[function]\nruntime = "{runtime}"\n')
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tui.cli",
        "local",
        "--profile-file",
        str(profile),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        info = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
        async with http.get(info["function_url"]) as resp:
            assert resp.status == 200
        started = descendants(proc.pid)
        assert len(started) >= 2  # moto and the environment at least
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 130
        assert b"Traceback" not in await proc.stderr.read()
        assert [pid for pid in started if alive(pid)] == []
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


KILLED_SCRIPT = """
import asyncio, os, sys, aiohttp
from probe.local import LocalLambda
async def main():
    ll = LocalLambda(runtime=sys.argv[1])
    await ll.__aenter__()
    async with aiohttp.ClientSession() as s:
        async with s.get(ll.function_url) as r:
            await r.read()
    print(" ".join(map(str, sorted(ll.pids))), flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"""


@pytest.mark.parametrize("runtime", ["awslambdaric", "fork"])
async def test_sigkill_of_the_owner_leaves_nothing_running(runtime):
    """Even with no cleanup at all (SIGKILL), moto and the environments die with their owner."""
    import signal
    import sys

    from probe.local.procs import alive

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_SCRIPT, runtime, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        pids = [int(p) for p in (await asyncio.wait_for(proc.stdout.readline(), 30)).split()]
        assert len(pids) >= 2
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    for _ in range(100):  # the kernel delivers the death signals asynchronously
        if not [pid for pid in pids if alive(pid)]:
            break
        await asyncio.sleep(0.05)
    assert [pid for pid in pids if alive(pid)] == []

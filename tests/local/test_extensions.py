"""The local Lambda runs a layer's extensions as Lambda does: started before the runtime, INIT
waiting for their first `next`, SHUTDOWN at retirement, a crash failing the init. lambdascope's
own extension layer (probe/extension) runs here, unpacked from the very zip `attach` publishes,
beside a handler that is not the probe."""

import asyncio
import json
import os
import shutil

from probe.extension.layer import layer_zip
from probe.local import LocalLambda
from tests.local.conftest import assert_nothing_left, fetch_events

# The extension line's keys: a written contract (README, probe/extension/extension.py).
HOST_LINE_KEYS = {
    "lambdascope_host", "extension", "function_name", "function_version", "pid", "ts", "hostname", "boot_id",
    "booted_at", "cpu_model", "cpu_mhz", "bogomips", "vcpus", "cpu_implementer", "cpu_part", "mem_total_kb",
    "kernel", "arch", "instance_id", "instance_type",
}  # fmt: skip


def _layer(tmp_path):
    path = tmp_path / "lambdascope-host.zip"
    path.write_bytes(layer_zip())
    return str(path)


def _messages(events, stream):
    return [
        e["message"].rstrip("\n") for e in sorted(events, key=lambda e: e["timestamp"]) if e["logStreamName"] == stream
    ]


async def test_the_extension_prints_one_host_line_per_environment_during_init(http, tmp_path):
    async with asyncio.timeout(60):
        async with LocalLambda("arm64", handler="tests.local.handlers.echo", layers=(_layer(tmp_path),)) as ll:
            for _ in range(3):
                async with http.get(ll.function_url) as resp:
                    assert resp.status == 200
            env = ll.environments[0]
            events = await fetch_events(ll, lambda evs: sum("REPORT" in e["message"] for e in evs) >= 3)
            lines = _messages(events, env["stream"])
            host = [json.loads(m) for m in lines if m.startswith('{"lambdascope_host"')]
            assert len(host) == 1, lines  # one per environment, not per invocation
            line = host[0]
            assert set(line) == HOST_LINE_KEYS  # nothing else: never an environment variable
            assert line["lambdascope_host"] == 1 and line["extension"] == "lambdascope-host"
            assert line["hostname"] == env["host"] and line["cpu_model"] == "AWS Graviton2 (Neoverse-N1)"
            assert line["function_name"] == "lambdascope-probe"
            # Lambda's INIT order: INIT_START, the extension's line, its EXTENSION line, then START.
            order = [
                next(i for i, m in enumerate(lines) if m.startswith(p)) for p in ("INIT_START", '{"lambdascope_host"')
            ]
            ready = next(i for i, m in enumerate(lines) if m.startswith("EXTENSION"))
            start = next(i for i, m in enumerate(lines) if m.startswith("START"))
            assert order[0] < order[1] < ready < start
            assert lines[ready] == "EXTENSION\tName: lambdascope-host\tState: Ready\tEvents: [SHUTDOWN]"
    assert_nothing_left(ll)  # SHUTDOWN delivered, the extension exited (or was killed at its deadline)


async def test_an_extension_that_crashes_in_init_fails_the_init_as_lambda_reports_it(http, tmp_path):
    layer = tmp_path / "crashing"
    (layer / "extensions").mkdir(parents=True)
    crash = layer / "extensions" / "crash"
    crash.write_text("#!/bin/sh\necho 'crashing on purpose' >&2\nexit 3\n")
    os.chmod(crash, 0o755)
    async with asyncio.timeout(60):  # nothing hangs
        async with LocalLambda(handler="tests.local.handlers.echo", layers=(str(layer),)) as ll:
            async with http.get(ll.function_url) as resp:
                assert resp.status == 502
            events = await fetch_events(ll, lambda evs: any("Extension.Crash" in e["message"] for e in evs))
            text = "\n".join(e["message"] for e in events)
            assert "INIT_REPORT" in text and "Status: error\tError Type: Extension.Crash" in text
            assert "crashing on purpose" in text  # its output reached the stream, as on Lambda
    assert_nothing_left(ll)


def _opt_layer(tmp_path):
    """A layer as AWS's samples build one: extensions/wrapped is a wrapper that execs
    /opt/wrapped/extension.py by its absolute path (it works only where the layer is at /opt), and
    python/opt_lib.py is a package for the runtime's path."""
    layer = tmp_path / "opt-layer"
    (layer / "extensions").mkdir(parents=True)
    (layer / "wrapped").mkdir()
    (layer / "python").mkdir()
    (layer / "python" / "opt_lib.py").write_text("WHERE = __file__\n")
    wrapper = layer / "extensions" / "wrapped"
    wrapper.write_text('#!/bin/sh\nexec python3 /opt/wrapped/extension.py "$@"\n')
    os.chmod(wrapper, 0o755)
    # Registers for nothing but SHUTDOWN, says it ran (the layer is read-only: into its /tmp),
    # and waits, as an extension does.
    (layer / "wrapped" / "extension.py").write_text(
        "import json, os, urllib.request\n"
        "api = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2020-01-01/extension'\n"
        "req = urllib.request.Request(api + '/register', data=json.dumps({'events': ['SHUTDOWN']}).encode(),\n"
        "    headers={'Lambda-Extension-Name': 'wrapped'}, method='POST')\n"
        "ext_id = urllib.request.urlopen(req).headers['Lambda-Extension-Identifier']\n"
        "print('wrapped extension running from', __file__, flush=True)\n"
        "urllib.request.urlopen(urllib.request.Request(api + '/event/next',\n"
        "    headers={'Lambda-Extension-Identifier': ext_id}))\n"
    )
    return layer


async def test_layers_are_at_opt_so_code_that_names_opt_outright_runs(http, tmp_path):
    from probe.local import opt_mount

    if opt_mount.check(str(tmp_path)) is not None:
        import pytest

        pytest.skip(f"this machine gives no mount namespace: {opt_mount.check(str(tmp_path))}")
    async with asyncio.timeout(60):
        async with LocalLambda(handler="tests.local.handlers.opt_view", layers=(str(_opt_layer(tmp_path)),)) as ll:
            assert ll.layers_note.startswith("1 layer at /opt")
            async with http.post(ll.function_url, data=b"{}") as resp:
                assert resp.status == 200
                seen = await resp.json()
            assert seen["opt"] == ["extensions", "python", "wrapped"]  # the layer, not the machine's /opt
            assert seen["lib"] == "/opt/python/opt_lib.py"
            events = await fetch_events(ll, lambda evs: any("REPORT" in e["message"] for e in evs))
            text = "\n".join(e["message"] for e in events)
            assert "wrapped extension running from /opt/wrapped/extension.py" in text
            assert "EXTENSION\tName: wrapped\tState: Ready\tEvents: [SHUTDOWN]" in text
    assert "wrapped" not in os.listdir("/opt")  # the machine's own /opt never saw the layer
    assert_nothing_left(ll)


async def test_where_the_machine_gives_no_mount_namespace_the_layers_fall_back_and_say_so(http, tmp_path, monkeypatch):
    from probe.local import opt_mount

    # The kernel's refusal, as check() words one (EPERM in a container without CAP_SYS_ADMIN).
    monkeypatch.setattr(opt_mount, "check", lambda source: "[Errno 1] unshare(CLONE_NEWNS): Operation not permitted")
    async with asyncio.timeout(60):
        async with LocalLambda(handler="tests.local.handlers.opt_view", layers=(str(_opt_layer(tmp_path)),)) as ll:
            assert "NOT at /opt" in ll.layers_note and "Operation not permitted" in ll.layers_note
            assert ll.endpoints()["layers"] == ll.layers_note  # `local` prints it; a run's summary too
            async with http.post(ll.function_url, data=b"{}") as resp:
                assert resp.status == 502  # the wrapper names /opt/wrapped/extension.py: not there
            events = await fetch_events(ll, lambda evs: any("Extension.Crash" in e["message"] for e in evs))
            assert any("Status: error\tError Type: Extension.Crash" in e["message"] for e in events)
    assert_nothing_left(ll)
    layer = _opt_layer(tmp_path / "lib-only")
    shutil.rmtree(layer / "extensions")
    async with asyncio.timeout(60):
        async with LocalLambda(handler="tests.local.handlers.opt_view", layers=(str(layer),)) as ll:
            async with http.post(ll.function_url, data=b"{}") as resp:
                seen = await resp.json()
            # python/ is still on the runtime's path, from the layer's real folder.
            assert seen["lib"].endswith("/python/opt_lib.py") and not seen["lib"].startswith("/opt")
            assert "wrapped" not in seen["opt"]
    assert_nothing_left(ll)


def _post_processing_layer(tmp_path, gate):
    """An extension registered for INVOKE that post-processes each one until `gate` exists: it
    says which request it was handed, then waits for the test to open the gate before polling
    again. Deterministic: nothing depends on how fast this machine is."""
    layer = tmp_path / "post-layer"
    (layer / "extensions").mkdir(parents=True)
    ext = layer / "extensions" / "post"
    ext.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, time, urllib.request\n"
        "api = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2020-01-01/extension'\n"
        "body = json.dumps({'events': ['INVOKE', 'SHUTDOWN']}).encode()\n"
        "req = urllib.request.Request(api + '/register', data=body,\n"
        "    headers={'Lambda-Extension-Name': 'post'}, method='POST')\n"
        "ext_id = urllib.request.urlopen(req).headers['Lambda-Extension-Identifier']\n"
        "while True:\n"
        "    with urllib.request.urlopen(urllib.request.Request(api + '/event/next',\n"
        "            headers={'Lambda-Extension-Identifier': ext_id})) as resp:\n"
        "        event = json.load(resp)\n"
        "    if event['eventType'] == 'SHUTDOWN':\n"
        "        break\n"
        "    print('post-processing', event['requestId'], event['invokedFunctionArn'], flush=True)\n"
        f"    while not os.path.exists({str(gate)!r}):\n"
        "        time.sleep(0.01)\n"
        "    print('post-processed', event['requestId'], flush=True)\n"
    )
    os.chmod(ext, 0o755)
    return layer


async def _until(check, timeout=20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_an_invoke_ends_when_the_extensions_registered_for_it_poll_again(http, tmp_path):
    gate = tmp_path / "gate"
    layer = _post_processing_layer(tmp_path, gate)
    async with asyncio.timeout(60):
        async with LocalLambda(handler="tests.local.handlers.echo", layers=(str(layer),)) as ll:
            # The caller has its answer while the extension still works on the invocation...
            async with http.get(ll.function_url) as resp:
                assert resp.status == 200
                first = resp.headers["x-amzn-RequestId"]
            await fetch_events(ll, lambda evs: any("post-processing" in e["message"] for e in evs))
            assert [e["state"] for e in ll.environments] == ["busy"]
            # ...so the environment is busy: the next request gets an environment of its own.
            async with http.get(ll.function_url) as resp:
                assert resp.status == 200
            assert len(ll.environments) == 2
            events = await fetch_events(ll, lambda evs: sum("post-processing" in e["message"] for e in evs) >= 2)
            assert not any("REPORT" in e["message"] for e in events)  # no invoke phase has ended
            gate.write_text("open")
            events = await fetch_events(ll, lambda evs: sum("REPORT" in e["message"] for e in evs) >= 2)
            lines = _messages(events, ll.environments[0]["stream"])
            marks = ("START", "post-processed", "END", "REPORT")
            order = [next(i for i, m in enumerate(lines) if m.startswith(p)) for p in marks]
            assert order == sorted(order), lines  # END and REPORT after the extension was done
            assert f"post-processing {first} arn:aws:lambda:" in "\n".join(lines)
            assert "EXTENSION\tName: post\tState: Ready\tEvents: [INVOKE, SHUTDOWN]" in lines
            # Both environments free again: a third request reuses one.
            await _until(lambda: all(e["state"] == "idle" for e in ll.environments))
            async with http.get(ll.function_url) as resp:
                assert resp.status == 200
            assert len(ll.environments) == 2
    assert_nothing_left(ll)


async def test_on_managed_instances_an_extension_cannot_subscribe_to_invoke():
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from probe.local.extensions_api import PREFIX, ExtensionsApi

    app = web.Application()
    api = ExtensionsApi("f", "$LATEST", "app.handler", invoke_events=False)
    api.add_routes(app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        body = json.dumps({"events": ["INVOKE", "SHUTDOWN"]})
        resp = await client.post(f"{PREFIX}/register", data=body, headers={"Lambda-Extension-Name": "x"})
        assert resp.status == 400
        assert "Managed Instances" in (await resp.json())["errorMessage"]
        resp = await client.post(
            f"{PREFIX}/register", data='{"events": ["SHUTDOWN"]}', headers={"Lambda-Extension-Name": "x"}
        )
        assert resp.status == 200 and api.names() == {"x"}
        await api.close()

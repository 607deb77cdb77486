"""The local Lambda runs a layer's extensions as Lambda does: started before the runtime, INIT
waiting for their first `next`, SHUTDOWN at retirement, a crash failing the init. lambdascope's
own extension layer (probe/extension) runs here, unpacked from the very zip `attach` publishes,
beside a handler that is not the probe."""

import asyncio
import json
import os

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

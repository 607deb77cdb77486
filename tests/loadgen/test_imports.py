"""loadgen stands alone: no UI, no probe; its schedule and plan import no IO library."""

import json
import subprocess
import sys

MODULES = ["loadgen.outcome", "loadgen.plan", "loadgen.schedule", "loadgen.stats",
           "loadgen.batcher", "loadgen.errors", "loadgen.signing", "loadgen.targets",
           "loadgen.fastclient", "loadgen.clients", "loadgen.runner", "loadgen.child",
           "loadgen.process"]


def imported_after(modules):
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return set(json.loads(out))


def roots(names):
    return {name.split(".")[0] for name in names}


def test_loadgen_never_imports_the_ui_or_the_probe():
    found = roots(imported_after(MODULES))
    assert not found & {"tui", "textual", "rich", "probe"}


def test_plan_and_schedule_are_pure():
    found = roots(imported_after(["loadgen.plan", "loadgen.schedule"]))
    assert not found & {"aiohttp", "botocore", "aiobotocore", "aioboto3", "asyncio", "socket",
                        "hdrh", "multiprocessing"}

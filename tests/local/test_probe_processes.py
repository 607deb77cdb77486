"""The probe where one environment runs several processes (Managed Instances: one Python process
per concurrent request, one shared /tmp) and where a snapshot is restored (SnapStart)."""

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class _Ctx:
    aws_request_id = "r"
    function_name = "f"
    function_version = "1"
    memory_limit_in_mb = "2048"


def _first_request(tmp, barrier, out):
    os.environ["TMPDIR"] = tmp
    os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = "2026/12/01/[1]" + "a" * 32
    from probe import handler  # imported after fork: a fresh module per worker, as in LMI

    barrier.wait()  # every worker's first request at the same moment
    out.put(handler.record({}, _Ctx()))


def test_racing_processes_share_tmp_and_exactly_one_is_cold(tmp_path):
    ctx = multiprocessing.get_context("fork")
    n = 12
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_first_request, args=(str(tmp_path), barrier, out)) for _ in range(n)]
    for p in procs:
        p.start()
    records = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(30)
    assert sum(r["cold"] for r in records) == 1
    assert all(r["process_cold"] for r in records)
    assert len({r["pid"] for r in records}) == n
    assert {r["container_id_from"] for r in records} == {"stream"}


def _run(code, env):
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**env, "PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


CALLS = (
    "from probe import handler\n"
    "class C: aws_request_id='r'\n"
    "import json, time\n"
    "{before}\n"
    "for _ in range(2): print(json.dumps(handler.record({{}}, C())))\n"
)


def test_snapstart_restore_gives_a_fresh_identity_with_the_runtime_hook(tmp_path):
    # The runtime's hook module runs the registered after-restore callables, as awslambdaric does.
    before = (
        "init_ms = handler._INIT_MS\ntime.sleep(0.05)\nimport snapshot_restore_py\n"
        "[f(*a, **k) for f, a, k in snapshot_restore_py.get_after_restore()]\n"
        "assert handler._INIT_MS > init_ms, 'started_at must be the restore'"
    )
    env = {"TMPDIR": str(tmp_path), "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    first, second = _run(CALLS.format(before=before), env)
    assert first["restored"] and first["cold"] and not second["cold"]
    assert first["init_type"] == "snap-start" and first["container_id_from"] == "tmp"
    assert first["container_id"] == second["container_id"]
    assert first["seq"] == 1


def test_snapstart_without_a_hook_still_resets_at_the_first_invocation(tmp_path):
    env = {"TMPDIR": str(tmp_path), "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    # no hook library in this runtime
    code = "import sys; sys.modules['snapshot_restore_py'] = None\n" + CALLS.format(before="")
    first, second = _run(code, env)
    assert first["restored"] and first["cold"] and not second["cold"]


def test_on_demand_is_not_restored(tmp_path):
    first, _ = _run(CALLS.format(before=""), {"TMPDIR": str(tmp_path), "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"})
    assert first["restored"] is False and first["cold"] and first["init_type"] == "on-demand"

"""A function lambdascope did not write (tests/fixtures/user_function: a price-quote handler that
imports its table from a layer at /opt/python and fails every 25th call in an environment), run
from the command line as a user would, on a machine with no AWS credentials at all:

- with lambdascope's host extension layer: every serving container's host and CPU filled from
  the extension's line, every invocation confirmed, each environment's function errors counted;
- without it: "no extension" in those columns, the counts still exact;
- with an extension that crashes in init: each environment's init fails as Lambda reports it
  (Extension.Crash), the run says so, and nothing hangs."""

import json
import os
import subprocess
import sys

from tests.integration.test_aws_target import fake_aws_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP = os.path.join(ROOT, "tests", "fixtures", "user_function")
FAILS_EVERY = 25  # app.py's own rule


def _no_aws_env(tmp_path) -> dict:
    """No credentials anywhere: the local Lambda must not need a user's AWS account."""
    env = fake_aws_env(tmp_path)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        del env[key]
    return env


def _run(tmp_path, *layers, requests=1000, concurrency=10):
    out_file = tmp_path / "out.json"
    argv = [sys.executable, "-m", "tui.cli", "run", "--handler", os.path.join(APP, "app.py") + ":handler"]
    for layer in (os.path.join(APP, "lib_layer"), *layers):
        argv += ["--layer", str(layer)]
    argv += ["--payload", os.path.join(APP, "event.json"), "--concurrency", str(concurrency)]
    argv += ["--requests", str(requests), "--format", "json", "--out", str(out_file)]
    done = subprocess.run(argv, cwd=tmp_path, env=_no_aws_env(tmp_path), capture_output=True, text=True, timeout=240)
    doc = json.loads(out_file.read_text()) if out_file.exists() else None
    return done, doc


def _serving(doc):
    return [c for c in doc["containers"] if c["invocations"]]


def test_a_users_handler_with_the_host_layer_fills_the_host_columns_and_counts_its_errors(tmp_path):
    done, doc = _run(tmp_path, "lambdascope-host")  # by its name, as the README shows
    assert done.returncode == 0, done.stderr
    totals = doc["totals"]
    assert totals["requests"] == 1000 and totals["invocations"] == 1000
    assert totals["unconfirmed"] == 0 and totals["unknown"] == 0
    serving = _serving(doc)
    assert serving and sum(c["invocations"] for c in serving) == 1000
    for c in serving:
        assert c["host_from"] == "extension", c
        assert c["hostname"] and c["cpu_model"], c
        assert c["confirmed"] == c["invocations"], c
        # Each environment fails its 25th, 50th, ... invocation: its errors are its own.
        assert c["errors"] == c["invocations"] // FAILS_EVERY, c
    errors = sum(c["invocations"] // FAILS_EVERY for c in serving)
    assert totals["errors"] == errors  # once each, though both channels report every one
    assert f"{errors} function errors" in done.stderr
    assert doc["run"]["errors_by_class"] == {"function_error": errors}  # not lost answers (5xx)
    assert "logs confirmed all 1000 invocations" in done.stderr
    assert "2 layers at /opt" in done.stderr  # app.py imported its table from /opt/python
    assert doc["source"]["local_code"].startswith("your handler app.handler")


def test_without_the_extension_the_host_columns_say_so_and_the_counts_stay_exact(tmp_path):
    done, doc = _run(tmp_path, requests=300, concurrency=5)
    assert done.returncode == 0, done.stderr
    serving = _serving(doc)
    assert sum(c["invocations"] for c in serving) == 300 == doc["totals"]["invocations"]
    assert all(c["host_from"] == "no extension" and not c["hostname"] for c in serving)
    assert all(c["errors"] == c["invocations"] // FAILS_EVERY for c in serving)


def test_an_extension_that_crashes_in_init_fails_each_init_as_lambda_reports_it(tmp_path):
    crash = tmp_path / "crash" / "extensions"
    crash.mkdir(parents=True)
    (crash / "crasher").write_text('#!/bin/sh\necho "crasher: giving up" >&2\nexit 3\n')
    (crash / "crasher").chmod(0o755)
    done, doc = _run(tmp_path, tmp_path / "crash", requests=12, concurrency=2)
    assert done.returncode == 0, done.stderr  # every invocation is accounted for: they failed
    serving = _serving(doc)
    assert len(serving) == 12  # each request's environment failed its init and was retired
    assert all(c["init_failures"] == 1 and c["errors"] == 1 for c in serving)
    assert doc["totals"]["errors"] == 12
    assert "12 environments failed the init (Extension.Crash)" in done.stderr
    assert "12 function errors" in done.stderr

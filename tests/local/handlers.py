"""Handlers for the local Lambda's tests (imported inside environments via PYTHONPATH)."""

import json
import os
import sys
import time


def echo(event, context):
    """Return the event as received, so tests can check its shape."""
    return {"event": event, "request_id": context.aws_request_id}


def http(event, context):
    """A function-URL style response with status, headers, cookies and a base64 body."""
    return {
        "statusCode": 201,
        "headers": {"x-test": "yes", "content-type": "text/plain"},
        "cookies": ["a=1", "b=2"],
        "body": "aGVsbG8=",
        "isBase64Encoded": True,
    }


def behave(event, context):
    """Do what the event says: sleep, raise, exit, or print lines.

    Through a function URL the instructions are the JSON body of the request."""
    if isinstance(event, dict) and "requestContext" in event:
        event = json.loads(event.get("body") or "{}")
    for i in range(int(event.get("lines", 0))):
        print(f"line {i} of {context.aws_request_id}", flush=True)
    if event.get("sleep"):
        time.sleep(float(event["sleep"]))
    if event.get("raise"):
        raise ValueError(event["raise"])
    if event.get("exit") is not None:
        sys.stdout.flush()
        os._exit(int(event["exit"]))
    return {"ok": True, "pid": os.getpid()}


def environ(event, context):
    """The names of the environment variables the function sees (never their values)."""
    return {"names": sorted(os.environ), "tmp": os.environ.get("TMPDIR"), "cwd": os.getcwd()}


def hold_until(event, context):
    """Hold the environment, asleep, until the file the event names exists (at most 25 s): a
    test releases every held environment at once, with no fixed sleep."""
    if isinstance(event, dict) and "requestContext" in event:
        event = json.loads(event.get("body") or "{}")
    deadline = time.monotonic() + 25.0
    while not os.path.exists(event["until"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    return {"ok": True, "released": os.path.exists(event["until"])}


def runtime_client(event, context):
    """Which runtime serves this environment: awslambdaric's bootstrap, or the fork runtime's loop."""
    return {"awslambdaric": "awslambdaric.bootstrap" in sys.modules, "pid": os.getpid(), "ppid": os.getppid()}


def opt_view(event, context):
    """What this environment sees at /opt, and whether a layer's python/ package imports."""
    try:
        import opt_lib  # a layer's python/opt_lib.py: /opt/python on Lambda's path

        lib = opt_lib.WHERE
    except ImportError:
        lib = None
    marker = "/opt/wrapped/ran"
    return {"opt": sorted(os.listdir("/opt")), "lib": lib, "wrapper_ran": os.path.exists(marker)}

"""The lambdascope probe: the function deployed to Lambda (stdlib only; it ships as handler.py
with hostfacts.py beside it).

Each invocation prints exactly one JSON line (the probe record, schema in DESIGN.md) and returns
the same object as the response body. The record says which execution environment ("container")
served the request, whether it was a cold start, and which host it ran on, read from the kernel.

It never prints environment variables: Lambda puts the execution role's credentials there.

A request may ask the probe to hold it (`hold_ms` in the event, or the `x-lambdascope-hold-ms`
header of a function URL request): after the record is written, the handler sleeps that long, so
the environment stays busy without CPU and concurrency is a knob apart from the request rate.
The hold is clamped to the time the invocation has left (less HOLD_MARGIN_MS, to answer before
the timeout), and the record says what was asked, what is held and whether it was clamped.

Today's Lambda breaks two of the blog's assumptions (LANDSCAPE-2026 §1.1, §1.2), so:
- Managed Instances (LMI) run one Python process per concurrent request in one environment, all
  sharing /tmp. The cold marker is created atomically (O_CREAT|O_EXCL): exactly one process of
  an environment wins it, so `cold` is true once per environment; `pid` and `process_cold` say
  which process served and whether it was that process's first request.
- SnapStart restores many environments from one snapshot taken after init. Everything this
  module computes at import would be shared by all of them, so identity is computed at the first
  invocation, and the runtime's after-restore hook (when the runtime provides one) resets it.
  The stream name is not in the environment there; the container id falls back to /tmp.
"""

import importlib
import json
import os
import time
import uuid

# The shared host facts: `probe.hostfacts` in the checkout, `hostfacts` beside this file in the
# deployed zip (where this module is the top-level `handler`).
hostfacts = importlib.import_module(".hostfacts", __package__) if __package__ else importlib.import_module("hostfacts")

SCHEMA = 1
# /tmp survives between invocations of one environment and nowhere else: the blog's cold marker.
MARKER = "reused.txt"
# A hold stops this long before the invocation's deadline: time to return the record before the
# runtime's timeout ends the environment. lambdascope refuses a --hold that would not fit.
HOLD_MARGIN_MS = 100
MAX_HOLD_MS = 900_000  # Lambda's longest timeout
HOLD_HEADER = "x-lambdascope-hold-ms"
_INIT_MS = int(time.time() * 1000)
_seq = 0
_identity = None
_restored = False  # this process was restored from a SnapStart snapshot


def _read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return default


def identity():
    """Host facts, read once per environment: they cannot change while it lives. What a host fact
    is, and how it is read, is probe/hostfacts.py: the extension layer reports the same ones."""
    global _identity
    if _identity is None:
        _identity = hostfacts.host_facts()
    return _identity


def _after_restore():
    """SnapStart: this process now serves a new environment; forget what the snapshot held."""
    global _identity, _INIT_MS, _seq, _restored
    _identity = None
    _INIT_MS = int(time.time() * 1000)
    _seq = 0
    _restored = True


def _register_restore_hook():
    # The Python runtime provides `snapshot_restore_py` (it is not ours to ship: the probe stays
    # one stdlib file), so it is looked up by name, and its absence is fine.
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
        return False
    try:
        hooks = importlib.import_module("snapshot_restore_py")
        hooks.register_after_restore(_after_restore)
        return True
    except (ImportError, AttributeError):
        return False


_HOOKED = _register_restore_hook()


def _tmp_dir():
    # Lambda's /tmp; the local Lambda gives each environment a private one through TMPDIR.
    return os.environ.get("TMPDIR") or "/tmp"


def _container_id(tmp):
    """The log stream name where Lambda gives it, else an id kept in /tmp for this environment.

    Several processes may ask at once (LMI): the id is written to a private file and linked into
    place, so every process reads the one complete id that won."""
    stream = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
    if stream:
        return stream
    path = os.path.join(tmp, "lambdascope-container-id")
    existing = _read(path).strip()
    if existing:
        return existing
    new = uuid.uuid4().hex
    mine = f"{path}.{os.getpid()}.{new[:8]}"
    with open(mine, "w", encoding="utf-8") as fh:
        fh.write(new)
    try:
        os.link(mine, path)
    except FileExistsError:
        new = _read(path).strip() or new
    except OSError:  # no hard links on this file system: last writer wins, still one id each
        os.replace(mine, path)
        return new
    finally:
        try:
            os.unlink(mine)
        except OSError:
            pass
    return new


def _claim_cold(marker):
    """True for exactly one caller per environment: the one whose create made the marker."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(str(_INIT_MS))
    return True


def _client_request_id(event):
    if not isinstance(event, dict):
        return None
    headers = event.get("headers") or {}
    if isinstance(headers, dict):
        for key, value in headers.items():
            if key.lower() == "x-lambdascope-request-id":
                return value
    return event.get("x-lambdascope-request-id") or event.get("client_request_id")


def _hold_asked(event):
    """The hold the request asks for, in whole ms (0 for none or for anything unreadable)."""
    if not isinstance(event, dict):
        return 0
    value = event.get("hold_ms")
    headers = event.get("headers")
    if value is None and isinstance(headers, dict):
        for key, header in headers.items():
            if isinstance(key, str) and key.lower() == HOLD_HEADER:
                value = header
                break
    if isinstance(value, bool):
        return 0
    try:
        ms = float(value)
    except (TypeError, ValueError):
        return 0
    if ms != ms or ms <= 0:  # NaN, zero, negative: no hold
        return 0
    return int(min(ms, MAX_HOLD_MS))


def _hold(event, context):
    """(asked, held, clamped): the hold fits in what the invocation has left, less the margin."""
    asked = _hold_asked(event)
    if not asked:
        return 0, 0, False
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    try:
        room = int(remaining()) - HOLD_MARGIN_MS if remaining is not None else asked
    except Exception:  # noqa: BLE001 - a context without a usable clock: hold as asked
        room = asked
    held = max(0, min(asked, room))
    return asked, held, held < asked


def record(event, context):
    """Build the probe record for one invocation (and mark /tmp so the next one is warm)."""
    global _seq, _restored
    if _seq == 0 and not _HOOKED and os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        _after_restore()  # no hook to tell us: a snapshot is taken before any invocation
    tmp = _tmp_dir()
    process_cold = _seq == 0
    # Only a process's first request can be its environment's first; later ones never are.
    cold = _claim_cold(os.path.join(tmp, MARKER)) if process_cold else False
    _seq += 1
    # SnapStart functions have no stream name (one snapshot, many streams): the id then comes
    # from /tmp and only the stream this line lands in ties it to the logs.
    from_stream = bool(os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"))
    rec = {
        "lambdascope": SCHEMA,
        "container_id": _container_id(tmp),
        "container_id_from": "stream" if from_stream else "tmp",
        "request_id": getattr(context, "aws_request_id", None),
        "client_request_id": _client_request_id(event),
        "cold": cold,
        "seq": _seq,
        "started_at": _INIT_MS,
        "pid": os.getpid(),
        "process_cold": process_cold,
        "init_type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
        "max_concurrency": _int(os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY")),
        "restored": _restored,
    }
    rec["hold_ms"], rec["held_ms"], rec["hold_clamped"] = _hold(event, context)
    rec.update(identity())
    rec.update(
        {
            "function_name": getattr(context, "function_name", None) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
            "function_version": getattr(context, "function_version", None)
            or os.environ.get("AWS_LAMBDA_FUNCTION_VERSION"),
            "memory_mb": _int(getattr(context, "memory_limit_in_mb", None)),
            "region": os.environ.get("AWS_REGION"),
            "ts": int(time.time() * 1000),
        }
    )
    return rec


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def handler(event, context):
    rec = record(event, context)
    # One line, flushed: the runtime ships stdout to the environment's log stream.
    print(json.dumps(rec, separators=(",", ":")), flush=True)
    if rec["held_ms"]:
        # After the line is out: the logs see the invocation at once, the environment stays busy.
        time.sleep(rec["held_ms"] / 1000.0)
    return rec

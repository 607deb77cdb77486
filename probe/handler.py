"""The lambdascope probe: the function deployed to Lambda (stdlib only; it ships as one file).

Each invocation prints exactly one JSON line (the probe record, schema in DESIGN.md) and returns
the same object as the response body. The record says which execution environment ("container")
served the request, whether it was a cold start, and which host it ran on, read from the kernel.

It never prints environment variables: Lambda puts the execution role's credentials there.
"""

import json
import os
import platform
import socket
import time
import uuid

SCHEMA = 1
# /tmp survives between invocations of one environment and nowhere else: the blog's cold marker.
MARKER = "reused.txt"
# Where the kernel facts come from. The local Lambda points this at a simulated host's files,
# so the same code path reads the real kernel on AWS and a simulated one locally.
PROC_ROOT = os.environ.get("LAMBDASCOPE_PROC_ROOT", "/proc")
_INIT_MS = int(time.time() * 1000)
_seq = 0
_identity = None


def _read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return default


def _cpuinfo(text):
    """The first CPU's model, MHz and bogomips, and the number of processors listed."""
    model, mhz, bogomips, vcpus = "", 0.0, 0.0, 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "processor":
            vcpus += 1
        elif key == "model name" and not model:
            model = value
        elif key == "cpu mhz" and not mhz:
            mhz = _number(value)
        elif key == "bogomips" and not bogomips:
            bogomips = _number(value)
    return model, mhz, bogomips, vcpus


def _number(text):
    try:
        return float(text)
    except ValueError:
        return 0.0


def _meminfo_total_kb(text):
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1])
    return 0


def _booted_at_ms(stat_text):
    for line in stat_text.splitlines():
        if line.startswith("btime "):
            return int(line.split()[1]) * 1000
    return 0


def identity():
    """Host facts, read once per environment: they cannot change while it lives."""
    global _identity
    if _identity is None:
        model, mhz, bogomips, vcpus = _cpuinfo(_read(os.path.join(PROC_ROOT, "cpuinfo")))
        hostname = _read(os.path.join(PROC_ROOT, "sys/kernel/hostname")).strip()
        _identity = {
            "hostname": hostname or socket.gethostname(),
            "boot_id": _read(os.path.join(PROC_ROOT, "sys/kernel/random/boot_id")).strip(),
            "booted_at": _booted_at_ms(_read(os.path.join(PROC_ROOT, "stat"))),
            "cpu_model": model,
            "cpu_mhz": mhz,
            "bogomips": bogomips,
            "vcpus": vcpus or os.cpu_count() or 0,
            "mem_total_kb": _meminfo_total_kb(_read(os.path.join(PROC_ROOT, "meminfo"))),
            "kernel": _read(os.path.join(PROC_ROOT, "sys/kernel/osrelease")).strip()
            or platform.release(),
            "arch": platform.machine(),
        }
    return _identity


def _tmp_dir():
    # Lambda's /tmp; the local Lambda gives each environment a private one through TMPDIR.
    return os.environ.get("TMPDIR") or "/tmp"


def _container_id(tmp):
    """The log stream name where Lambda gives it, else an id kept in /tmp for this environment."""
    stream = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
    if stream:
        return stream
    path = os.path.join(tmp, "lambdascope-container-id")
    existing = _read(path).strip()
    if existing:
        return existing
    new = uuid.uuid4().hex
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(new)
    return new


def _client_request_id(event):
    if not isinstance(event, dict):
        return None
    headers = event.get("headers") or {}
    if isinstance(headers, dict):
        for key, value in headers.items():
            if key.lower() == "x-lambdascope-request-id":
                return value
    return event.get("x-lambdascope-request-id") or event.get("client_request_id")


def record(event, context):
    """Build the probe record for one invocation (and mark /tmp so the next one is warm)."""
    global _seq
    tmp = _tmp_dir()
    marker = os.path.join(tmp, MARKER)
    cold = not os.path.exists(marker)
    if cold:
        with open(marker, "w", encoding="utf-8") as fh:
            fh.write(str(_INIT_MS))
    _seq += 1
    rec = {
        "lambdascope": SCHEMA,
        "container_id": _container_id(tmp),
        "request_id": getattr(context, "aws_request_id", None),
        "client_request_id": _client_request_id(event),
        "cold": cold,
        "seq": _seq,
        "started_at": _INIT_MS,
    }
    rec.update(identity())
    rec.update(
        {
            "function_name": getattr(context, "function_name", None)
            or os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
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
    return rec

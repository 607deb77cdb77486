"""lambdascope's host extension: one host-facts line per execution environment, for any function.

Lambda starts it from /opt/extensions/ (through the wrapper `layer.py` writes there) before the
runtime. It registers with the Extensions API for SHUTDOWN only, so it takes no part in any
invocation and adds no latency to one; reads the host facts (hostfacts.py, beside this file in the
layer: the same definition the probe uses); prints exactly one line to stdout, which Lambda ships
to the environment's log stream; then waits for SHUTDOWN and exits.

The line (format version 1; add keys, never rename):
  {"lambdascope_host": 1, "extension": NAME, "function_name", "function_version", "pid", "ts",
   "hostname", "boot_id", "booted_at", "cpu_model", "cpu_mhz", "bogomips", "vcpus",
   "cpu_implementer", "cpu_part", "mem_total_kb", "kernel", "arch", "instance_id", "instance_type"}
It never prints an environment variable (Lambda puts the role's credentials there): the function's
name and version come from the Extensions API's register answer.

Stdlib only, Python 3.9+: it runs on the function's own `python3`, so Python runtimes only.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

import hostfacts

FORMAT = 1
API = "2020-01-01/extension"
# A register or a first poll that takes longer than this means no Extensions API is listening.
CONNECT_TIMEOUT_S = 10.0


def _call(url, data=None, headers=None, timeout=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the platform's own endpoint
        return resp.headers, json.loads(resp.read() or b"{}")


def host_line(name, registered):
    """The one line this extension prints, as a dict."""
    line = {
        "lambdascope_host": FORMAT,
        "extension": name,
        "function_name": registered.get("functionName"),
        "function_version": registered.get("functionVersion"),
        "pid": os.getpid(),
        "ts": int(time.time() * 1000),
    }
    line.update(hostfacts.host_facts())
    return line


def main(argv):
    name = argv[1] if len(argv) > 1 else "lambdascope-host"
    api = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not api:
        print(f"[{name}] no AWS_LAMBDA_RUNTIME_API: run me as a Lambda extension (a layer's extensions/)",
              file=sys.stderr, flush=True)  # fmt: skip
        return 1
    base = f"http://{api}/{API}"
    try:
        headers, registered = _call(
            f"{base}/register",
            data=json.dumps({"events": ["SHUTDOWN"]}).encode(),
            headers={"Lambda-Extension-Name": name, "Content-Type": "application/json"},
            timeout=CONNECT_TIMEOUT_S,
        )
    except (OSError, ValueError) as exc:
        print(f"[{name}] could not register with the Extensions API: {exc}", file=sys.stderr, flush=True)
        return 1
    ext_id = headers.get("Lambda-Extension-Identifier", "")
    if not isinstance(registered, dict):
        registered = {}
    print(json.dumps(host_line(name, registered), separators=(",", ":")), flush=True)
    while True:
        try:
            # Long poll: the environment is frozen between invocations, so no timeout here.
            _, event = _call(f"{base}/event/next", headers={"Lambda-Extension-Identifier": ext_id})
        except (OSError, ValueError) as exc:
            print(f"[{name}] Extensions API gone ({exc}): exiting", file=sys.stderr, flush=True)
            return 0
        if isinstance(event, dict) and event.get("eventType") == "SHUTDOWN":
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The extension layer's zip, as data: which files, where, with which modes.

Lambda unpacks a layer under /opt and starts every executable in /opt/extensions/ as an external
extension. The layer holds:
  extensions/lambdascope-host   a shell wrapper (0755) that runs the Python file with the
                                function's `python3` (AWS's sample extensions do the same)
  lambdascope/extension.py      the extension (probe/extension/extension.py)
  lambdascope/hostfacts.py      the host facts it shares with the probe (probe/hostfacts.py)
/opt/lambdascope is not on any runtime's import path (Python layers use /opt/python), so the
layer cannot shadow a module of the function. The wrapper finds the Python file from its own
path, so the same layer runs unpacked anywhere (the local Lambda's layer folders too).
No AWS calls here.
"""

import hashlib
import os
import tempfile
from importlib import resources

from probe.deploy_spec import reproducible_zip

EXTENSION_NAME = "lambdascope-host"  # the file in extensions/: Lambda-Extension-Name must match it
WRAPPER_PATH = f"extensions/{EXTENSION_NAME}"
# `exec`, so the extension is the process Lambda started (it signals and waits for that one).
WRAPPER = """#!/bin/sh
# lambdascope host extension: one host-facts line per execution environment (Python runtimes).
here="$(cd "$(dirname "$0")/.." && pwd)"
exec python3 "$here/lambdascope/extension.py" "$(basename "$0")"
"""
# Runtimes whose environment has `python3` on the PATH: the extension runs on it.
PYTHON_RUNTIME_PREFIX = "python3."


def layer_files():
    """{path in the layer: bytes}, in the order they are zipped."""
    return {
        WRAPPER_PATH: WRAPPER.encode(),
        "lambdascope/extension.py": resources.files("probe.extension").joinpath("extension.py").read_bytes(),
        "lambdascope/hostfacts.py": resources.files("probe").joinpath("hostfacts.py").read_bytes(),
    }


def layer_zip():
    """The layer's zip: the same bytes for the same sources, so its hash names its content."""
    return reproducible_zip(layer_files(), modes={WRAPPER_PATH: 0o755})


def layer_path(folder: str | None = None) -> str:
    """The layer's zip on disk, for the local Lambda (`--layer lambdascope-host`): named by its
    content hash, so it is written once per version and a run never sees a half-written one."""
    data = layer_zip()
    folder = folder or tempfile.gettempdir()
    path = os.path.join(folder, f"{EXTENSION_NAME}-{content_hash(data)}.zip")
    if not os.path.exists(path):
        fd, partial = tempfile.mkstemp(dir=folder, prefix=f".{EXTENSION_NAME}-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(partial, path)
    return path


def content_hash(data):
    """A short hex digest of the zip: `attach` publishes a new layer version only when it changes."""
    return hashlib.sha256(data).hexdigest()[:16]


def is_python_runtime(runtime):
    return isinstance(runtime, str) and runtime.startswith(PYTHON_RUNTIME_PREFIX)

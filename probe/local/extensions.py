"""An environment's external extensions: found in its layers, started before the runtime, waited
for, told to shut down. The Extensions API they talk to is probe/local/extensions_api.py.

Lambda's order (LDG runtimes-extensions-api.md, "Init phase"): every executable in the layers'
`extensions/` starts at once and registers; then the runtime starts; INIT ends when the runtime
and every registered extension have called `next`. An extension that exits before it is ready
fails the init with `Extension.Crash` (INIT_REPORT Status: error). At retirement each extension
registered for SHUTDOWN gets it with a deadline (2 s here, as for one extension on Lambda), then
whatever still runs is killed.

Layers are folders (a zip is unpacked into the local Lambda's scratch first: `unpack_layer`).
Lambda puts them at /opt; here each stays where it is (no mount namespace), which works for an
extension that finds its files from its own path (lambdascope's does) and for Python packages
under a layer's `python/` (put on PYTHONPATH, as Lambda puts /opt/python on sys.path). Code that
names /opt outright does not find its files locally: the local Lambda says so at start.
"""

import asyncio
import io
import json
import os
import shutil
import stat
import sys
import time
import zipfile

from probe.local.extensions_api import ExtensionsApi
from probe.local.launcher import Proc, SpawnLauncher

SHUTDOWN_DEADLINE_S = 2.0  # Lambda: 500 ms with internal extensions only, 2,000 ms with external
MAX_LAYER_BYTES = 250 * 1024 * 1024  # Lambda's unzipped limit for a function and its layers
EXTENSION_INIT_TIMEOUT_S = 10.0


def unpack_layer(source: str, dest: str) -> str:
    """A layer folder for `source` (a folder, returned as it is, or a zip unpacked into `dest`,
    keeping the modes the zip records, so extensions/ stay executable). ValueError, one line,
    when it is neither or too large."""
    if os.path.isdir(source):
        return os.path.abspath(source)
    try:
        with open(source, "rb") as fh:
            data = fh.read(MAX_LAYER_BYTES + 1)
        zf = zipfile.ZipFile(io.BytesIO(data))
    except OSError as exc:
        raise ValueError(f"layer {source!r} cannot be read ({exc.strerror}): give a folder or a .zip") from None
    except zipfile.BadZipFile:
        raise ValueError(f"layer {source!r} is not a zip: give a folder or a .zip") from None
    with zf:
        if sum(i.file_size for i in zf.infolist()) > MAX_LAYER_BYTES:
            raise ValueError(f"layer {source!r} unpacks past Lambda's 250 MB: give a smaller layer")
        os.makedirs(dest, exist_ok=True)
        for info in zf.infolist():
            path = os.path.realpath(os.path.join(dest, info.filename))
            if not path.startswith(os.path.realpath(dest) + os.sep):
                raise ValueError(f"layer {source!r} holds a path outside the layer ({info.filename!r})")
            zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                os.chmod(path, mode)
    return dest


def find_extensions(layers: list[str]) -> list[tuple[str, str]]:
    """(name, path) of every executable file in the layers' extensions/ folders, by name (a
    later layer's file of the same name replaces an earlier one's, as it would in /opt)."""
    found: dict[str, str] = {}
    for layer in layers:
        folder = os.path.join(layer, "extensions")
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111:
                found[name] = path
    return sorted(found.items())


def at_opt(path: str, opt: str | None) -> str:
    """Where an environment process sees `path`: under /opt when the merged layers' folder `opt`
    is mounted there, else where it is."""
    if opt and (path == opt or path.startswith(opt + os.sep)):
        return "/opt" + path[len(opt) :]
    return path


def merge_layers(layers: list[str], dest: str) -> str:
    """One folder holding every layer, in order, a later file over an earlier one: what Lambda
    extracts into /opt."""
    os.makedirs(dest, exist_ok=True)
    for layer in layers:
        shutil.copytree(layer, dest, symlinks=True, dirs_exist_ok=True)
    return dest


def layer_pythonpath(layers: list[str]) -> list[str]:
    """Each layer's python/ folder (Lambda's /opt/python), for the runtime's PYTHONPATH."""
    return [p for p in (os.path.join(layer, "python") for layer in layers) if os.path.isdir(p)]


def extension_line(json_format: bool, name: str, state: str, events: tuple[str, ...]) -> str:
    """Lambda's line for an extension at the end of INIT (text: `EXTENSION Name: … State: …`)."""
    if json_format:
        record = {"name": name, "state": state, "events": list(events)}
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
        return json.dumps({"time": stamp, "type": "platform.extension", "record": record}, separators=(",", ":"))
    return f"EXTENSION\tName: {name}\tState: {state}\tEvents: [{', '.join(events)}]"


class EnvironmentExtensions:
    """The extension processes of one environment."""

    def __init__(self, layers: list[str], api: ExtensionsApi, opt: str | None = None):
        self.found = find_extensions(layers)
        self.opt = opt  # the merged layers' folder, seen at /opt by each extension
        self.api = api
        self.procs: dict[str, Proc] = {}
        self.failure: str | None = None  # the init error type, when one failed
        self._launcher = SpawnLauncher()

    def __bool__(self) -> bool:
        return bool(self.found)

    async def start(self, env: dict[str, str], cwd: str, on_line) -> bool:
        """Start every extension and wait until each registered; False (and `failure`) if one
        exits or does not register in time."""
        env = dict(env)
        # The runtime's interpreter first on the PATH: on Lambda, python3 is the runtime's own.
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        for name, path in self.found:
            self.procs[name] = await self._launcher.launch([at_opt(path, self.opt)], env, cwd, on_line, opt=self.opt)
        return await self._until(lambda: self.api.names() >= set(self.procs))

    async def wait_ready(self) -> bool:
        """Every registered extension called `next` once (the runtime's readiness is apart)."""
        return await self._until(lambda: self.api.ready(self.api.names()))

    async def _until(self, done) -> bool:
        deadline = asyncio.get_running_loop().time() + EXTENSION_INIT_TIMEOUT_S
        while not done():
            if self.api.errors:
                self.failure = self.api.errors[0]["error_type"]
                return False
            if any(p.exited.done() for p in self.procs.values()):
                self.failure = "Extension.Crash"
                return False
            waits = [asyncio.ensure_future(self.api.changed.wait())] + [
                asyncio.ensure_future(asyncio.shield(p.exited)) for p in self.procs.values()
            ]
            left = deadline - asyncio.get_running_loop().time()
            done_set, pending = await asyncio.wait(waits, timeout=max(0.0, left), return_when=asyncio.FIRST_COMPLETED)
            for w in pending:
                w.cancel()
            if not done_set:
                self.failure = "Extension.TimeOut"
                return False
        return True

    def lines(self, json_format: bool) -> list[str]:
        """The EXTENSION lines for the end of a successful INIT."""
        return [extension_line(json_format, e.name, "Ready", e.events) for e in self.api.by_id.values()]

    async def shutdown(self, reason: str = "spindown") -> None:
        """SHUTDOWN to those who asked, a deadline to exit in, then kill what is left."""
        if not self.procs:
            return
        self.api.shutdown(reason, int((time.time() + SHUTDOWN_DEADLINE_S) * 1000))
        running = [asyncio.shield(p.exited) for p in self.procs.values() if not p.exited.done()]
        if running:
            await asyncio.wait(running, timeout=SHUTDOWN_DEADLINE_S)
        self.kill()
        for p in self.procs.values():
            try:
                await asyncio.wait_for(asyncio.shield(p.exited), 5)
            except TimeoutError:
                pass
        await self.api.close()

    def kill(self) -> None:
        for p in self.procs.values():
            p.kill()

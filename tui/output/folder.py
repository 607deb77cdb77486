"""One export folder for every way in: the monitor's `s` key and `run/analyze/replay --export DIR`.

Not part of the pure core (tui/core/snapshot.py is): it writes files and draws the figures, which loads
matplotlib. A folder given through a symlink is written where the link points. It needs no fleet,
only an `export.Bundle`, so the app runs it off its own thread.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from tui.core.errors import UserError, mask
from tui.core.snapshot import Bundle
from tui.output.files import snapshot_folder

FIGURES = ("timeline", "invocations", "latency")


def write_export(
    folder: str, bundle: Bundle, *, extra_files: dict[str, str | bytes] | None = None, figures: str | None = "here"
) -> list[str]:
    """One export folder, for every way in (the `s` key, `run/analyze/replay --export DIR`):
    snapshot.json, containers.csv, timeline.csv, the figures (PNG and SVG) and `extra_files`.

    `figures`: "here" draws them in this process, "process" in a child process (the monitor:
    matplotlib's import and drawing take seconds and would hold the screen's GIL), None not at all.

    Atomic: everything is written into a hidden folder beside `folder` first. A new (or empty)
    `folder` then appears in one rename, whole; into an existing one each file is renamed over
    its old version, so a reader never sees half a file. Needs no fleet: safe off the app's thread.
    Returns the names written.
    """
    files: dict[str, str | bytes] = bundle.files()
    if figures == "here":
        from tui.output import figures as figs

        files.update(figs.draw_all(bundle.doc, bundle.timeline, bundle.latency))
    files.update(extra_files or {})
    folder = _real_folder(folder)
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".tmp-export-")
    try:
        for name, data in files.items():
            fd = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(mask(data).encode() if isinstance(data, str) else data)  # as write_atomic does
        if figures == "process":
            _draw_in_child(tmp, bundle)
        names = sorted(os.listdir(tmp))
        if os.path.isdir(folder) and not os.listdir(folder):
            os.rmdir(folder)
        if not os.path.exists(folder):
            os.rename(tmp, folder)
        else:
            for name in names:
                os.replace(os.path.join(tmp, name), os.path.join(folder, name))
            os.rmdir(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return names


def _real_folder(folder: str) -> str:
    """The folder to write, a symlink to a folder followed: the hidden folder is made beside the
    real one, so the final rename stays on one file system (and an empty one is replaced, not
    the link). A symlink to anything else, or to nothing, is refused."""
    path = os.path.abspath(folder)
    if not os.path.islink(path):
        return path
    real = os.path.realpath(path)
    if not os.path.isdir(real):
        raise UserError(f"{folder} is a symlink to {real}, which is not a folder; give the real path")
    return real


def _draw_in_child(folder: str, bundle: Bundle, timeout_s: float = 300.0) -> None:
    data = json.dumps({"doc": bundle.doc, "timeline": bundle.timeline, "latency": bundle.latency})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tui.output.figures", folder],
            input=data,
            text=True,
            capture_output=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        raise OSError(f"drawing the figures took more than {timeout_s:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise OSError(f"drawing the figures failed: {mask(last)}")


def write_snapshot(
    base_dir: str, now: float, bundle: Bundle, extra_files: dict[str, str | bytes] | None = None
) -> tuple[str, list[str]]:
    """The monitor's `s` key: one export folder, new and named for `now`, under `base_dir`."""
    folder = snapshot_folder(base_dir, now)
    return folder, write_export(folder, bundle, extra_files=extra_files, figures="process")

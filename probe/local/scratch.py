"""The local Lambda's scratch folder under the system temp dir, and the clean-up of stale ones.

A local Lambda killed by SIGKILL runs no clean-up, so its `lambdascope-local-*` folder (hosts'
fake kernel files, every environment's /tmp) stays behind. Each folder therefore carries an
`owner` file with the pid and kernel start time of the process that made it; at start-up every
folder whose owner is gone is removed. A live owner's folder (another local Lambda running on
this machine) is never touched: the start time guards against a recycled pid.
"""

import os
import shutil
import tempfile
import time

PREFIX = "lambdascope-local-"
OWNER_FILE = "owner"
# Folders from before owner files existed: removed only when nothing has used them for this long
# and no process works inside them.
LEGACY_AGE_S = 3600.0


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    rest = stat[stat.rfind(b")") + 2 :].split()
    if len(rest) < 20 or rest[0] in (b"Z", b"X"):
        return None
    return rest[19].decode()


def make_scratch(base: str | None = None) -> str:
    """A new scratch folder owned by this process (in `base`, default the system temp dir)."""
    path = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base)
    with open(os.path.join(path, OWNER_FILE), "w", encoding="ascii") as fh:
        fh.write(f"{os.getpid()} {start_time(os.getpid()) or ''}\n")
    return path


def _owner_alive(path: str) -> bool | None:
    """True/False from the owner file; None when the folder has none (made by an older version)."""
    try:
        with open(os.path.join(path, OWNER_FILE), encoding="ascii") as fh:
            fields = fh.read().split()
    except FileNotFoundError:
        return None
    except OSError:
        return True  # unreadable: not ours to judge
    if not fields or not fields[0].isdigit():
        return True
    started = start_time(int(fields[0]))
    return started is not None and (len(fields) < 2 or fields[1] == started)


def _in_use(path: str) -> bool:
    """Whether any process we can see works inside `path` (its cwd is there)."""
    real = os.path.realpath(path)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{name}/cwd")
        except OSError:
            continue
        if cwd == real or cwd.startswith(real + os.sep):
            return True
    return False


def _last_touched(path: str) -> float:
    newest = os.stat(path).st_mtime
    for entry in os.scandir(path):
        try:
            newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
        except OSError:
            pass
    return newest


def clean_stale(base: str | None = None, now: float | None = None) -> list[str]:
    """Remove scratch folders whose owner process is dead; returns the paths removed."""
    base = base or tempfile.gettempdir()
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if os.stat(entry.path).st_uid != os.getuid():
                continue
            alive = _owner_alive(entry.path)
            if alive is None:
                alive = now - _last_touched(entry.path) < LEGACY_AGE_S or _in_use(entry.path)
        except OSError:
            continue
        if not alive:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed

"""Layers at /opt, as Lambda puts them: each environment process gets its own mount namespace in
which the function's merged layer folder is bind-mounted, read-only, over /opt.

Real layers name /opt outright (AWS's sample extension is a wrapper that execs
/opt/<name>/extension.py; Python layers put packages in /opt/python), so a layer that works on
Lambda works here only where /opt is the layer. The mount is private to the process (and its
children): the machine's own /opt is untouched, and it is gone when the process is.

Root gets a mount namespace (CLONE_NEWNS); anyone else a user namespace with it
(CLONE_NEWUSER, mapping only their own uid and gid), where the kernel allows unprivileged ones.
Where neither works, `check` says why and the local Lambda falls back to the layer's real folder
(its python/ on PYTHONPATH) and says so. Stdlib only: the fork server imports it.
"""

import ctypes
import os
import subprocess
import sys

OPT = "/opt"
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 1
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
# The per-mount flags a read-only remount must repeat (inside a user namespace the kernel
# refuses to clear them): nosuid, nodev, noexec, noatime, nodiratime, relatime. statvfs's
# ST_* bits have the same values as the MS_* ones.
_LOCKED = 2 | 4 | 8 | 1024 | 2048 | (1 << 21)

_libc = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: the child only calls into it


def _ok(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def enter(source: str) -> None:
    """Make /opt be `source` (read-only) for this process and those it starts. OSError if the
    kernel refuses. Call it in the child, after fork, before the runtime or extension starts."""
    if os.geteuid() == 0:
        _ok(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    else:
        uid, gid = os.geteuid(), os.getegid()
        _ok(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    # Private first: with / shared (systemd's default), the bind would reach the machine's /opt.
    _ok(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "making / private")
    _ok(_libc.mount(os.fsencode(source), OPT.encode(), None, MS_BIND | MS_REC, None), f"bind {source} on /opt")
    locked = os.statvfs(source).f_flag & _LOCKED
    _ok(_libc.mount(None, OPT.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY | locked, None), "read-only /opt")


def check(source: str, timeout_s: float = 10.0) -> str | None:
    """None if `enter(source)` works on this machine (tried in a throwaway process), else why
    not, in one line."""
    if not os.path.isdir(OPT):
        return "this machine has no /opt folder to mount the layers on"
    code = (
        "import os, sys\n"
        "from probe.local.opt_mount import enter\n"
        "enter(sys.argv[1])\n"
        "sys.exit(0 if sorted(os.listdir('/opt')) == sorted(os.listdir(sys.argv[1])) else 3)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, source],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**os.environ, "PYTHONPATH": root},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot try a mount namespace ({exc})"
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("OSError: ").removeprefix("PermissionError: ") if lines else "the mount did not hold"

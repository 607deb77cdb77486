"""Small process helpers shared by everything the local Lambda starts.

Every child gets its own session (process group) so one `killpg` takes it and anything it forked,
and every pid is recorded so tests can prove nothing outlived the local Lambda.
"""

import ctypes
import os
import signal
import socket

PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A port free on 127.0.0.1 right now (a child server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal a child's whole process group; a group that is already gone is fine."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stat(pid: int) -> tuple[bytes, int] | None:
    """(state letter, parent pid) from /proc/<pid>/stat, or None when it is gone. The one reader
    of that file: the command name may hold spaces or parens, so fields follow the last ')'."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    rest = raw[raw.rfind(b")") + 2 :].split()
    try:
        return rest[0], int(rest[1])
    except (IndexError, ValueError):
        return None


def alive(pid: int) -> bool:
    """True while the pid exists and is not a zombie waiting to be reaped."""
    s = stat(pid)
    return s is not None and s[0] not in (b"Z", b"X")


def live_parents() -> dict[int, int]:
    """pid -> parent pid of every live (not zombie) process."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = stat(int(name))
            if s is not None and s[0] not in (b"Z", b"X"):
                out[int(name)] = s[1]
    return out


def descendants(root: int) -> set[int]:
    """Live processes whose parent chain reaches `root` (children, grandchildren, …)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in live_parents().items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def peak_rss_mb(pid: int) -> int | None:
    """The process's real peak resident set (VmHWM), in MB rounded up, as REPORT shows it."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return -(-int(line.split()[1]) // 1024)
    except (OSError, ValueError, IndexError):
        pass
    return None


def minimal_env(extra: dict[str, str]) -> dict[str, str]:
    """A child's whole environment: a few neutral basics plus what the caller adds.

    Built from nothing, never from os.environ, so the parent's AWS credentials and any other
    secrets cannot leak into a function (which may log its environment).
    """
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC"}
    env.update(extra)
    return env


def die_with_parent() -> None:
    """preexec_fn: the kernel kills the child when we die, even by SIGKILL (no cleanup runs then).

    Environments need no help (awslambdaric exits when its Runtime API connection drops; forked
    ones die with the fork server), but moto would otherwise serve on, orphaned, forever.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def stop_with_parent(sig: int = signal.SIGINT) -> None:
    """Ask the kernel to send us `sig` when our parent dies (SIGINT: the clean stop Ctrl-C makes,
    which retires every environment and stops moto; SIGKILL would leave that undone). Set from
    inside the child, not as a preexec_fn (the monitor forks it with threads running, where a
    preexec_fn may deadlock). A parent that died before this call is not signalled: the caller
    checks os.getppid() after it. Without prctl (not Linux) nothing is set.

    The kernel means the parent *thread* that forked us: the monitor starts the local Lambda
    from its event loop's thread, which lives as long as the monitor; one started from a thread
    that ends sooner would be stopped with that thread."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        pass

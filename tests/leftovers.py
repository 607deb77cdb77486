"""Find processes a test left behind: anything whose working directory is under a test folder.

Run the program under test with cwd and TMPDIR inside `tmp_path`; every process it starts
(moto's server, each execution environment, the load process) then works inside it, even the
ones in their own session, so a /proc scan finds survivors that a process-tree walk would miss.
"""

import os
import time

from probe.local.procs import stat


def processes_under(folder) -> list[int]:
    folder = os.path.realpath(folder)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        s = stat(int(entry))
        if s is not None and s[0] != b"Z" and (cwd == folder or cwd.startswith(folder + os.sep)):
            found.append(int(entry))
    return found


def wait_until_gone(folder, timeout=10.0) -> list[int]:
    """Survivors after `timeout` seconds (a process may take a moment to exit)."""
    deadline = time.monotonic() + timeout
    while True:
        left = processes_under(folder)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)

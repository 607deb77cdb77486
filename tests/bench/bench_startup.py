"""Start-up of the monitor, as a user sees it: `lambdascope` in a terminal (tmux, 200x50) until
the header is on screen and until the first container row, beside the previous release started
the same way in the same run. Prints a report, this tree's times beside their budgets (header
<= 0.5 s, first row <= 2 s, on a quiet machine; ✓/✗); asserts nothing.

    make bench      (or: .venv/bin/python -m pytest tests/bench/bench_startup.py -m bench -s)

The previous release is the commit before the one that moved the start of the local Lambda and
the load process behind the first frame (STARTUP_BASELINE, default 6c24c15), checked out with
`git worktree add` into a temporary folder and run by this venv's Python from there (its own
tree first on sys.path). The screen is read with `tmux capture-pane` every 50 ms, so times are
good to about 50 ms. Environment: STARTUP_BENCH_ROUNDS (default 3), STARTUP_BASELINE.

When the first row shows, it also reads from /proc the CPU time each process under the terminal
has used (the monitor, moto, the load process, the environments). Their total over the cores is
a floor no arrangement of the same work can beat, and the report prints it beside the time.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.bench.budget import report

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("STARTUP_BENCH_ROUNDS", "3"))
BASELINE = os.environ.get("STARTUP_BASELINE", "6c24c15")
ROW = re.compile(r"^\s*◌?\s+[0-9a-f]{8}\s+\S+.*\b(busy|idle)\b", re.M)
TIMEOUT_S = 120.0
HEADER_BUDGET_S = 0.5
FIRST_ROW_BUDGET_S = 2.0  # on a quiet machine; README says why 2 cores do not reach it


class Screen:
    def __init__(self):
        self.socket = f"lambdascope-start-{uuid.uuid4().hex[:8]}"
        self.session = "start"

    def tmux(self, *args):
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=env)

    def start(self, cwd, command):
        self.tmux(
            "new-session", "-d", "-x", "200", "-y", "50", "-s", self.session, "-c", str(cwd), f"{command}; sleep 30"
        )

    def text(self):
        return self.tmux("capture-pane", "-p", "-t", self.session).stdout

    def running(self):
        return self.tmux("list-panes", "-t", self.session, "-F", "#{pane_current_command}").stdout.strip()

    def pane_pid(self):
        out = self.tmux("list-panes", "-t", self.session, "-F", "#{pane_pid}").stdout.strip()
        return int(out) if out.isdigit() else None

    def kill(self):
        self.tmux("kill-server")


# What each process is for, by its command line: the first match names it.
ROLES = (
    ("awslambdaric", "environments (awslambdaric)"),
    ("moto.server", "moto (the log store)"),
    ("multiprocessing", "load process"),
    ("tui.cli", "monitor"),
)


def cpu_by_role(root: int | None) -> dict[str, float]:
    """CPU seconds (user + system) used so far by every live process under `root`, by role.
    Processes that already exited are not counted (none of the roles exits this early)."""
    if root is None:
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        procs[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, cmdline)
    used: dict[str, float] = {}
    for pid, (_, cpu, cmdline) in procs.items():
        up = pid
        while up in procs and up != root:
            up = procs[up][0]
        if up != root or pid == root:
            continue
        role = next((name for key, name in ROLES if key in cmdline), "other")
        used[role] = used.get(role, 0.0) + cpu
    return used


def start_times(cwd, snaps):
    """(seconds to the header, seconds to the first container row, seconds to exit after q),
    and the CPU seconds each role had used when the first row showed."""
    screen = Screen()
    command = f"{sys.executable} -m tui.cli watch --snapshot-dir {snaps}"
    t0 = time.monotonic()
    screen.start(cwd, command)
    header = row = None
    cpu: dict[str, float] = {}
    try:
        while time.monotonic() - t0 < TIMEOUT_S:
            text = screen.text()
            now = time.monotonic() - t0
            if header is None and " lambdascope " in text.split("\n", 1)[0]:
                header = now
            if header is not None and ROW.search(text):
                row = now
                cpu = cpu_by_role(screen.pane_pid())
                break
            time.sleep(0.05)
        screen.tmux("send-keys", "-t", screen.session, "q")
        quit_at = time.monotonic()
        # Gone when the pane runs the `sleep` after it (everything it started is stopped by then).
        while time.monotonic() - quit_at < 60 and screen.running() != "sleep":
            time.sleep(0.1)
        return (header, row, time.monotonic() - quit_at), cpu
    finally:
        screen.kill()


@pytest.fixture(scope="module")
def baseline_tree():
    folder = Path(tempfile.mkdtemp(prefix="lambdascope-baseline-"))
    tree = folder / "tree"
    made = subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), BASELINE], capture_output=True, text=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot check out {BASELINE}: {made.stderr.strip()}")
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_time_to_header_and_first_row_against_the_previous_release(baseline_tree, tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (.ci/run installs it)")
    trees = {f"previous ({BASELINE})": baseline_tree, "this tree": ROOT}
    runs = {name: [] for name in trees}
    cpus = {name: [] for name in trees}
    load_before = os.getloadavg()[0]
    for k in range(ROUNDS):
        for name, tree in trees.items():
            times, cpu = start_times(tree, tmp_path / f"snaps-{k}")
            runs[name].append(times)
            cpus[name].append(cpu)
    print(
        f"\n\nStart-up in tmux (200x50), {ROUNDS} rounds, alternating; {os.cpu_count()} cores, load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print("| start | header on screen | first container row | exit after q |")
    print("|---|---|---|---|")
    medians = {}
    for name, values in runs.items():
        cols = []
        for i in range(3):
            got = [v[i] for v in values if v[i] is not None]
            medians[(name, i)] = statistics.median(got) if got else None
            cols.append(f"{medians[(name, i)]:.2f} s ({' '.join(f'{x:.2f}' for x in got)})" if got else "never")
        print(f"| {name} | {' | '.join(cols)} |")
    old, new = list(trees)
    for i, what in ((0, "header"), (1, "first row")):
        if medians[(old, i)] and medians[(new, i)]:
            print(f"{what}: this tree takes {medians[(new, i)] / medians[(old, i)]:.2f}x the previous release's time")
    for i, what, budget in ((0, "header on screen", HEADER_BUDGET_S), (1, "first container row", FIRST_ROW_BUDGET_S)):
        report(
            f"start-up, this tree: {what} (median of {ROUNDS})",
            medians[(new, i)],
            unit=" s",
            at_most=budget,
            why_not=f"it never showed within {TIMEOUT_S:g} s in any round",
            note=f"load average {load_before:.1f} before",
        )
    cpu_report(cpus, {name: medians[(name, 1)] for name in trees})


def cpu_report(cpus: dict[str, list[dict]], first_row: dict[str, float | None]) -> None:
    """Where the CPU went before the first row, and the floor it sets: however the work is
    spread, these cores cannot finish it sooner than its total divided by their number."""
    cores = os.cpu_count() or 1
    print(f"\nCPU seconds used by the first row (medians; {cores} cores)")
    roles = sorted({role for runs in cpus.values() for cpu in runs for role in cpu})
    print(f"| start | {' | '.join(roles)} | total | floor (total / {cores} cores) | first row / floor |")
    print(f"|---|{'---|' * len(roles)}---|---|---|")
    for name, runs in cpus.items():
        runs = [cpu for cpu in runs if cpu]
        if not runs:
            continue
        cells = [f"{statistics.median([cpu.get(role, 0.0) for cpu in runs]):.2f}" for role in roles]
        total = statistics.median([sum(cpu.values()) for cpu in runs])
        row = first_row.get(name)
        ratio = f"{row / (total / cores):.2f}" if row else "-"
        print(f"| {name} | {' | '.join(cells)} | {total:.2f} | {total / cores:.2f} s | {ratio} |")

"""End to end, as a person would: `lambdascope` in a real terminal (tmux) on the local Lambda.

Wait for container rows, press + (the header shows the new level), press s (the snapshot files
appear, with that level), press q: the program exits 0 and every process it started is gone.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from probe.local.procs import descendants

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\s*◌?\s+[0-9a-f]{8}\s+\S+.*\b(busy|idle)\b", re.M)


class Tmux:
    required = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")

    def __init__(self, cwd: Path, env: dict | None = None):
        self.socket = f"lambdascope-e2e-{uuid.uuid4().hex[:8]}"
        self.cwd = cwd
        self.env = os.environ if env is None else env

    def run(self, *args, check=True) -> str:
        # The session inherits this environment: without COLUMNS/LINES (pytest may set them),
        # or the app would take them over the terminal's real size.
        env = {k: v for k, v in self.env.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check, env=env
        ).stdout

    def start(self, command: str) -> None:
        self.run("new-session", "-d", "-s", "e2e", "-x", "160", "-y", "45", "-c", str(self.cwd), command)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e", check=False)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "e2e", *keys)

    def pane_pid(self) -> int:
        return int(self.run("display-message", "-p", "-t", "e2e", "#{pane_pid}").strip())

    def kill(self) -> None:
        self.run("kill-server", check=False)
        try:  # tmux leaves its socket file behind
            os.unlink(f"/tmp/tmux-{os.getuid()}/{self.socket}")
        except OSError:
            pass


pytestmark = Tmux.required


def wait_for(what, timeout: float, describe: str, screen=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {describe}" + (f"; screen:\n{screen()}" if screen else ""))


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_lambdascope_in_tmux_ramps_snapshots_and_quits_cleanly(tmp_path):
    exe = Path(sys.executable).with_name("lambdascope")
    command = f"echo what-was-on-the-terminal; {exe} --snapshot-dir snaps; echo $? > exit-code; sleep 60"
    tmux = Tmux(tmp_path)
    seen: set[int] = set()
    tmux.start(command)
    try:
        shell = tmux.pane_pid()
        wait_for(lambda: ROW.search(tmux.screen()), 120, "a container row", tmux.screen)
        header = tmux.screen().splitlines()[0]
        assert (
            "LOCAL lambdascope-probe · profile today (simulated hosts)" in header
            and "closed loop: 10 concurrent" in header
        )
        seen |= descendants(shell)
        tmux.keys("+")
        # The header, not the status line: that one says what was asked at once; the header says
        # what the generator reports running, which is what the snapshot records (a busy
        # machine took a snapshot between the two: level 10, stress run at f7ecf60).
        wait_for(
            lambda: "closed loop: 11 concurrent" in (tmux.screen().splitlines() or [""])[0],
            60,
            "the new level",
            tmux.screen,
        )
        seen |= descendants(shell)
        tmux.keys("s")
        wait_for(lambda: "snapshot written to" in tmux.screen(), 120, "the snapshot", tmux.screen)  # figures: seconds
        folders = list((tmp_path / "snaps").iterdir())
        assert len(folders) == 1
        names = sorted(p.name for p in folders[0].iterdir())
        assert names == [
            "containers.csv",
            "invocations.png",
            "invocations.svg",
            "latency.png",
            "latency.svg",
            "screen.svg",
            "snapshot.json",
            "timeline.csv",
            "timeline.png",
            "timeline.svg",
        ]
        doc = json.loads((folders[0] / "snapshot.json").read_text())
        assert doc["load"]["mode"] == "closed" and doc["load"]["level"] == 11
        assert doc["totals"]["containers"] >= 1 and doc["source"]["kind"] == "local"
        assert "<svg" in (folders[0] / "screen.svg").read_text()[:200]
        seen |= descendants(shell)
        tmux.keys("q")
        code = wait_for(
            lambda: (tmp_path / "exit-code").exists() and (tmp_path / "exit-code").read_text().strip(),
            60,
            "lambdascope to exit",
            tmux.screen,
        )
        assert code == "0"
        # The first frame (tui/screen/splash.py) and the app shared the alternate screen: the terminal
        # is back as it was.
        assert "what-was-on-the-terminal" in tmux.screen() and "lambdascope " not in tmux.screen()
        assert len(seen) >= 3  # lambdascope, its load process, moto and the environments were seen
        wait_for(lambda: not [p for p in seen if alive(p)], 15, "every process to be gone")
    finally:
        tmux.kill()
        for pid in seen:  # leave nothing behind, even when the test failed
            if alive(pid):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass


def test_closing_the_terminal_stops_everything(tmp_path):
    """The terminal goes away (SIGHUP) while loading: the load process, the local Lambda's
    moto and environments, and lambdascope itself are all gone shortly after."""
    exe = Path(sys.executable).with_name("lambdascope")
    tmux = Tmux(tmp_path)
    seen: set[int] = set()
    tmux.start(f"{exe} --snapshot-dir snaps")
    try:
        shell = tmux.pane_pid()
        wait_for(lambda: ROW.search(tmux.screen()), 120, "a container row", tmux.screen)
        seen |= descendants(shell)
        assert len(seen) >= 3
        tmux.kill()  # the pane's processes get SIGHUP
        wait_for(lambda: not [p for p in seen if alive(p)], 30, "every process to be gone")
    finally:
        tmux.kill()
        for pid in seen:
            if alive(pid):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass

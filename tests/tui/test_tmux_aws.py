"""The monitor on the AWS code path, in a real terminal, with no account: `lambdascope local`
answers the Lambda and CloudWatch Logs APIs at one endpoint, and `watch --function NAME
--endpoint-url URL` looks the function up, loads it and follows its logs with Live Tail. Fake
AWS keys are in the environment: none may reach the screen, the snapshot or an error."""

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.test_aws_target import KEY_ID, SECRET, TOKEN, fake_aws_env
from tests.leftovers import wait_until_gone
from tests.tui.test_tmux_e2e import ROW, Tmux, wait_for

pytestmark = Tmux.required


def test_watch_a_function_by_name_with_live_tail(tmp_path):
    env = fake_aws_env(tmp_path)
    local = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "local"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tmux = Tmux(tmp_path, env=env)
    try:
        endpoint = json.loads(local.stdout.readline())["endpoint_url"]
        exe = Path(sys.executable).with_name("lambdascope")
        tmux.start(
            shlex.join(
                [
                    str(exe),
                    "watch",
                    "--function",
                    "lambdascope-probe",
                    "--region",
                    "us-east-1",
                    "--endpoint-url",
                    endpoint,
                    "--concurrency",
                    "4",
                    "--snapshot-dir",
                    "snaps",
                ]
            )
            + "; echo $? > exit-code"
        )
        wait_for(lambda: ROW.search(tmux.screen()), 120, "a container row", tmux.screen)
        wait_for(lambda: "logs (live tail)" in tmux.screen(), 30, "the Live Tail source", tmux.screen)
        screen = tmux.screen()
        assert "AWS lambdascope-probe · us-east-1" in screen.splitlines()[0]
        tmux.keys("s")
        wait_for(lambda: "snapshot written to" in tmux.screen(), 30, "the snapshot", tmux.screen)
        folder = next((tmp_path / "snaps").iterdir())
        doc = json.loads((folder / "snapshot.json").read_text())
        assert doc["source"]["kind"] == "aws" and doc["totals"]["containers"] >= 1
        tmux.keys("q")
        code = wait_for(
            lambda: (tmp_path / "exit-code").exists() and (tmp_path / "exit-code").read_text().strip(),
            60,
            "lambdascope to exit",
            tmux.screen,
        )
        assert code == "0"
        # Every file of the snapshot, the figures' bytes included (a key would be text in them too).
        everything = screen + "".join(p.read_bytes().decode("latin-1") for p in folder.iterdir())
        for secret in (KEY_ID, SECRET, TOKEN):
            assert secret not in everything
    finally:
        tmux.kill()
        local.send_signal(signal.SIGINT)
        _, err = local.communicate(timeout=30)
    assert KEY_ID not in err and SECRET not in err
    assert wait_until_gone(tmp_path) == []

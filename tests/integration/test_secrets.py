"""No credential reaches any output: stdout, stderr, the screen, recordings, exports.

Recognisable fake credentials sit in the environment AND in ~/.aws/credentials of a temporary
HOME (a profile with a session token, the usual setup), AND come from a credential process
(`--profile proc`: only the resolved session knows those). Every command is pointed at
`EchoAWS`, whose errors quote the request headers (Credential=, Signature=,
X-Amz-Security-Token) and body, and a load target that answers 403 with the same echo. Each
command runs three times: with the environment's keys, the file's, and the process's.
A Live Tail source fails mid-watch under Pilot, with load flowing, a recording and a snapshot.

Every output is scanned for every secret; the figures (outputs scanned, hits) are printed at the
end of the session. Each case also checks that the echo reached the output at all (the
marker, or the request's error): a scan of outputs that never saw a secret proves nothing.
"""

import json
import os
import sys
from pathlib import Path

import pytest

from tests.figures import add_figure
from tests.integration.aws_fixtures import create_function
from tests.integration.echo_aws import MARKER, EchoAWS
from tui.cli import main
from tui.core import errors

ENV = {
    "key": "AKIAENVFAKE0000LEAK1",
    "secret": "eNvSeCrEt/kEy+NeVeR+pRiNtEd0123456789aB",
    "token": "EnvSessionTokenMustNotLeak0123456789",
}
FILE = {
    "key": "ASIAFILEFAKE0000LEAK",
    "secret": "fIlEsEcReT/kEy+NeVeR+pRiNtEd0123456789aB",
    "token": "FileSessionTokenMustNotLeak9876543210",
}
PROC = {
    "key": "ASIAPROCFAKE0000LEAK",
    "secret": "pRoCsEcReT/kEy+NeVeR+pRiNtEd0123456789aB",
    "token": "ProcessSessionTokenMustNotLeak55555",
}
SECRETS = [*ENV.values(), *FILE.values(), *PROC.values()]
REGION = "us-east-1"
SCAN = {"outputs": 0, "hits": 0}


def scan(where: str, text: str) -> list[str]:
    """Count one output scanned; return the secrets found in it (and count them as hits)."""
    found = [s for s in SECRETS if s in text]
    SCAN["outputs"] += 1
    SCAN["hits"] += len(found)
    add_figure(
        "secrets",
        f"secrets scan: {SCAN['outputs']} outputs scanned, {SCAN['hits']} hits "
        f"({len(SECRETS)} fake secrets: environment, ~/.aws/credentials, a credential process)",
    )
    return [f"{where}: {s}" for s in found]


@pytest.fixture
def secret_home(tmp_path, monkeypatch):
    """A HOME whose ~/.aws/credentials holds the FILE keys (profile `filed`), the ENV keys in the
    environment, no other AWS setting, and an empty mask registry (nothing learned earlier)."""
    for var in list(os.environ):
        if var.startswith("AWS_"):
            monkeypatch.delenv(var)
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        f"[filed]\naws_access_key_id = {FILE['key']}\naws_secret_access_key = {FILE['secret']}\n"
        f"aws_session_token = {FILE['token']}\n"
    )
    # A credential process (SSO helpers, aws-vault...): botocore runs it; only the resolved
    # session knows its keys.
    script = home / "creds.py"
    script.write_text(
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': %r, 'SecretAccessKey': %r, "
        "'SessionToken': %r}))\n" % (PROC["key"], PROC["secret"], PROC["token"])
    )
    (home / ".aws" / "config").write_text(
        f"[profile filed]\nregion = {REGION}\n"
        f"[profile proc]\nregion = {REGION}\ncredential_process = {sys.executable} {script}\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ENV["key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ENV["secret"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", ENV["token"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setattr(errors, "_known", set())
    monkeypatch.setattr(errors, "_files_cache", {})
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def echo():
    with EchoAWS(polls_before_failing=2, throttles_before_failing=2) as server:
        yield server


PROFILES = {"env": [], "file": ["--profile", "filed"], "process": ["--profile", "proc"]}
COMMANDS = {
    "deploy": ["deploy", "--region", REGION],
    "destroy": ["destroy", "--region", REGION],
    "run": ["run", "--function", "fn", "--requests", "2"],
    "watch": ["watch", "--function", "fn"],
    "analyze": ["analyze", "--log-group", "/aws/lambda/fn", "--since", "5m"],
    "experiment": ["experiment", "scaling", "--function", "fn"],
}
# Commands whose error quotes AWS's message (the echo); analyze's is our own sentence.
QUOTES_AWS = {"deploy", "destroy", "run", "watch", "experiment"}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("command", COMMANDS)
def test_no_command_prints_a_secret_from_an_echoing_endpoint(command, profile, secret_home, echo, capfd):
    code = main([*COMMANDS[command], "--endpoint-url", echo.url, *PROFILES[profile]])
    out, err = capfd.readouterr()
    leaks = scan(f"{command} stdout", out) + scan(f"{command} stderr", err)
    assert leaks == []
    assert echo.requests > 0, "the command never reached the echoing endpoint"
    # watch draws its screen first (Textual writes it to stderr): the error is the one line
    # printed after the terminal is restored, and the screen is scanned with the rest.
    errors = [line for line in err.splitlines() if "lambdascope: error:" in line]
    assert code == 2 and "Traceback" not in err and len(errors) == 1, err
    assert err.rstrip().endswith(errors[0].split("lambdascope: error:")[-1].rstrip()), err
    if command in QUOTES_AWS:
        assert MARKER in errors[0], err  # the echo was printed, masked
        assert "***" in errors[0], err


@pytest.fixture
def moto_function(moto_endpoint, secret_home):
    """A function named fn in moto (its configuration only: it is never invoked there)."""
    create_function(moto_endpoint, "fn")
    return moto_endpoint


@pytest.mark.parametrize("profile", ["env", "process"])  # the costlier cases: two providers each
def test_a_load_target_echoing_the_signed_request_leaks_nothing(profile, moto_function, echo, secret_home, capfd):
    """`run --url` signs every request (AWS_IAM); the target's 403 body quotes the signature and
    the token. The table, the JSON export and stderr must hold none of it."""
    base = [
        "run",
        "--function",
        "fn",
        "--url",
        echo.url + "/",
        "--endpoint-url",
        moto_function,
        "--requests",
        "4",
        "--concurrency",
        "2",
        "--settle-timeout",
        "2",
        *PROFILES[profile],
    ]
    main([*base, "--format", "json", "--out", "run.json"])
    main([*base, "--format", "table"])
    out, err = capfd.readouterr()
    export = Path("run.json").read_text()
    leaks = scan("run stdout", out) + scan("run stderr", err) + scan("run export", export)
    assert leaks == []
    assert echo.requests >= 8, "the load never reached the echoing target"
    assert json.loads(export)["totals"]["errors"] == 4


@pytest.mark.parametrize("profile", ["file", "process"])
async def test_a_source_failing_mid_watch_shows_no_secret(profile, echo, secret_home):
    """The screen (header and status line), the recording and a snapshot, while a signed load
    gets echoing 403s and the Live Tail source is throttled, then fails, with echoing errors."""
    from loadgen.plan import Plan
    from loadgen.process import LoadProcess
    from tests.tui.fakes import screen_text, until
    from tui.aws import clients as aws
    from tui.aws.sources.livetail import LiveTailSource
    from tui.core.load import LoadState, ProcessLoad
    from tui.core.target_info import TargetInfo
    from tui.output.recording import Recorder, recording_text
    from tui.screen.app import MonitorApp

    name = PROFILES[profile][1] if PROFILES[profile] else None
    session = aws.make_session(name, REGION)
    source = LiveTailSource(
        lambda: aws.client(session, "logs", endpoint_url=echo.url, region=REGION),
        f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/lambda/fn",
        backoff_initial_s=0.05,
        backoff_max_s=0.1,
    )
    plan = Plan(mode="closed", level=2)
    process = LoadProcess(
        {"kind": "url", "url": echo.url + "/", "auth": "aws_iam", "region": REGION, "profile": name},
        plan,
        records="new",
        client="aiohttp",
    )
    process.start()
    target = TargetInfo("aws", "fn", REGION)
    recorder = Recorder(str(secret_home / "rec.jsonl"), target.as_dict(), 0.0)
    app = MonitorApp(
        target=target,
        load=ProcessLoad(process),
        load_state=LoadState.from_plan(plan),
        sources=[source],
        snapshot_dir=str(secret_home / "snaps"),
        recorder=recorder,
    )
    screens = []
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: source.status.error is not None, timeout=90)
            app.refresh_view()
            await pilot.pause()
            screens.append(screen_text(app))  # throttled: the header shows the source's error
            await until(pilot, lambda: app.failures and app.fleet.counters.errors >= 4, timeout=90)
            app.refresh_view()
            await pilot.pause()
            screens.append(screen_text(app))  # failed: the header says it stopped, and why
            await pilot.press("s")
            await until(pilot, lambda: app.last_snapshot is not None, timeout=90)
            await app.shutdown()
    finally:
        await process.stop()
        recorder.close()
    leaks = [leak for i, text in enumerate(screens) for leak in scan(f"screen {i}", text)]
    shown = "\n".join(screens)
    assert "***" in shown or "Validation" in shown, shown  # the failure reached the screen
    recorded = recording_text(str(secret_home / "rec.jsonl"))  # compressed on disk: read as replay does
    leaks += scan("rec.jsonl", recorded)
    for path in Path(app.last_snapshot.path).iterdir():
        leaks += scan(path.name, path.read_text(errors="replace"))
    assert leaks == []
    assert MARKER in recorded  # the 403 bodies were recorded, masked
    assert echo.requests > 4


def test_mask_covers_every_shape():
    """The shapes, without any registry: what an unknown credential looks like is masked too."""
    text = errors.mask(
        "Credential=AKIAIOSFODNN7EXAMPLE/20261201/us-east-1/logs/aws4_request, Signature=0a1b2c3d4e "
        "x-amz-security-token: IQoJb3JpZ2luX2VjEXAMPLE ASIAXXXXXXXXXXXXXXXX "
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY "
        '{"SecretAccessKey": "abc/def+ghi", "SessionToken": "t0kval"} ' + "Zm9v" * 40
    )
    for needle in (
        "AKIAIOSFODNN7EXAMPLE",
        "0a1b2c3d4e",
        "IQoJb3JpZ2luX2VjEXAMPLE",
        "ASIAXXXXXXXXXXXXXXXX",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "abc/def+ghi",
        "t0kval",
        "Zm9vZm9v",
    ):
        assert needle not in text, (needle, text)
    plain = "2026/12/01/[$LATEST]0123456789abcdef0123456789abcdef 1b2c3d4e-0000-1111-2222-333344445555"
    assert errors.mask(plain) == plain  # stream names and request ids stay readable


def test_remembered_credentials_are_masked_whatever_their_shape(monkeypatch):
    monkeypatch.setattr(errors, "_known", set())
    errors.remember("plain-words-token-value", None, "short")
    assert errors.mask("x plain-words-token-value short y") == "x *** short y"


async def test_a_resolved_session_teaches_the_mask(secret_home):
    """Credentials from the profile's file, resolved by botocore, are masked from then on."""
    from tui.aws import clients as aws

    await aws.remember_credentials(aws.make_session("filed", REGION))
    assert {FILE["key"], FILE["secret"], FILE["token"]} <= errors._known
    await aws.remember_credentials(aws.make_session("proc", REGION))  # runs the credential process
    assert {PROC["key"], PROC["secret"], PROC["token"]} <= errors._known
    assert errors.mask(f"x {PROC['token']} y") == "x *** y"

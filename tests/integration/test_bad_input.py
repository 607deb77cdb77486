"""Every command's bad inputs, in one table: exactly one line on stderr, naming a fix, exit 2,
no traceback (house standard: "bad input gets a one-line error naming the fix and exit 2").

Numbers, files, URLs, profiles, credentials and endpoints. The AWS cases run against moto's
server on 127.0.0.1 (a function `fn` with no URL, no log group), a closed port, or a HOME and
environment without credentials; nothing here can reach a real account. Each row is
(id, argv, environment, a phrase the line must contain). `{moto}`, `{closed}` and `{tmp}` are
filled in per test.
"""

import json
import re
import socket

import pytest

from tests.integration.aws_fixtures import create_function
from tui.cli import main

FIX = re.compile(
    r"--[a-z]|\b(use|check|pass|run|give|set|grant|choose|try|fix|record|start|lower|raise|"
    r"refresh|pick|deploy|allow)\b",
    re.I,
)
ENV_KEYS = "keys"  # fake keys and a region (the usual case)
NO_CREDS = "no-creds"  # no keys anywhere
NO_REGION = "no-region"  # keys, no region

CASES = [
    # ---- numbers ----
    ("run requests 0", ["run", "--requests", "0"], ENV_KEYS, "--requests"),
    ("run requests abc", ["run", "--requests", "abc"], ENV_KEYS, "--requests"),
    ("run concurrency -3", ["run", "--concurrency", "-3"], ENV_KEYS, "--concurrency"),
    ("run rate nan", ["run", "--rate", "nan"], ENV_KEYS, "--rate"),
    ("run rate inf", ["run", "--rate", "inf"], ENV_KEYS, "--rate"),
    ("run rate and concurrency", ["run", "--rate", "5", "--concurrency", "3"], ENV_KEYS, "--rate"),
    ("run duration 0", ["run", "--duration", "0"], ENV_KEYS, "--duration"),
    ("run settle-timeout nan", ["run", "--settle-timeout", "nan"], ENV_KEYS, "--settle-timeout"),
    ("watch concurrency 0", ["watch", "--concurrency", "0"], ENV_KEYS, "--concurrency"),
    ("watch rate -1", ["watch", "--rate", "-1"], ENV_KEYS, "--rate"),
    ("watch max-in-flight 0", ["watch", "--max-in-flight", "0"], ENV_KEYS, "--max-in-flight"),
    ("watch refresh-hz inf", ["watch", "--refresh-hz", "inf"], ENV_KEYS, "--refresh-hz"),
    ("watch logs bogus", ["watch", "--logs", "bogus"], ENV_KEYS, "--logs"),
    ("replay speed nan", ["replay", "{tmp}/x.rec", "--speed", "nan"], ENV_KEYS, "--speed"),
    ("deploy memory 64", ["deploy", "--memory", "64"], ENV_KEYS, "--memory"),
    ("deploy arch mips", ["deploy", "--arch", "mips"], ENV_KEYS, "--arch"),
    ("local port 70000", ["local", "--port", "70000"], ENV_KEYS, "--port"),
    ("local concurrency-limit 0", ["local", "--concurrency-limit", "0"], ENV_KEYS, "--concurrency-limit"),
    ("analyze since abc", ["analyze", "--log-group", "g", "--since", "abc"], ENV_KEYS, "--since"),
    ("analyze since 0s", ["analyze", "--log-group", "g", "--since", "0s"], ENV_KEYS, "--since"),
    ("analyze since absurd", ["analyze", "--log-group", "g", "--since", "99999999d"], ENV_KEYS, "--since"),
    ("analyze file and group", ["analyze", "{tmp}/e.json", "--log-group", "g"], ENV_KEYS, "--log-group"),
    ("unknown command", ["frobnicate"], ENV_KEYS, "invalid choice"),
    ("unknown flag", ["run", "--frobnicate"], ENV_KEYS, "--frobnicate"),
    # ---- files ----
    ("analyze missing file", ["analyze", "{tmp}/missing.json"], ENV_KEYS, "no such file"),
    ("analyze a directory", ["analyze", "{tmp}"], ENV_KEYS, "directory"),
    ("analyze not JSON", ["analyze", "{tmp}/garbage.txt"], ENV_KEYS, "not JSON"),
    ("analyze binary", ["analyze", "{tmp}/binary.bin"], ENV_KEYS, "binary.bin"),
    ("analyze out unwritable", ["analyze", "{tmp}/events.jsonl", "--out", "/proc/nope/out.txt"], ENV_KEYS, "--out"),
    ("replay missing", ["replay", "{tmp}/missing.rec"], ENV_KEYS, "no such file"),
    ("replay not a recording", ["replay", "{tmp}/garbage.txt"], ENV_KEYS, "garbage.txt"),
    ("run profile-file missing", ["run", "--profile-file", "{tmp}/nope.toml"], ENV_KEYS, "profile"),
    ("run profile-file bad TOML", ["run", "--profile-file", "{tmp}/garbage.txt"], ENV_KEYS, "TOML"),
    ("compare missing", ["compare", "{tmp}/nope1", "{tmp}/nope2"], ENV_KEYS, "nope1"),
    # ---- URLs ----
    ("run url without function", ["run", "--url", "http://127.0.0.1:9/"], ENV_KEYS, "--function"),
    ("run endpoint not a URL", ["run", "--function", "fn", "--endpoint-url", "not a url"], ENV_KEYS, "--endpoint-url"),
    (
        "analyze endpoint not a URL",
        ["analyze", "--log-group", "g", "--endpoint-url", "::nope::"],
        ENV_KEYS,
        "--endpoint-url",
    ),
    (
        "run url to a closed port",
        [
            "run",
            "--function",
            "fn",
            "--url",
            "{closed}/",
            "--endpoint-url",
            "{moto}",
            "--requests",
            "3",
            "--settle-timeout",
            "1",
        ],
        ENV_KEYS,
        "--url",
    ),
    # ---- profiles ----
    ("run AWS profile on local", ["run", "--profile", "blog"], ENV_KEYS, "--profile-file blog"),
    ("watch AWS profile on local", ["watch", "--profile", "blog"], ENV_KEYS, "--profile-file blog"),
    ("run unknown AWS profile", ["run", "--function", "fn", "--profile", "nosuch"], ENV_KEYS, "nosuch"),
    ("analyze unknown AWS profile", ["analyze", "--log-group", "g", "--profile", "nosuch"], ENV_KEYS, "nosuch"),
    ("deploy unknown AWS profile", ["deploy", "--profile", "nosuch", "--region", "us-east-1"], ENV_KEYS, "nosuch"),
    # ---- credentials and regions ----
    ("analyze no credentials", ["analyze", "--log-group", "g", "--endpoint-url", "{moto}"], NO_CREDS, "credentials"),
    ("run no credentials", ["run", "--function", "fn", "--endpoint-url", "{moto}"], NO_CREDS, "credentials"),
    ("deploy no credentials", ["deploy", "--endpoint-url", "{moto}", "--region", "us-east-1"], NO_CREDS, "credentials"),
    ("analyze no region", ["analyze", "--log-group", "g"], NO_REGION, "--region"),
    ("run no region", ["run", "--function", "fn"], NO_REGION, "--region"),
    # ---- endpoints ----
    (
        "analyze unreachable endpoint",
        ["analyze", "--log-group", "g", "--endpoint-url", "{closed}"],
        ENV_KEYS,
        "cannot reach",
    ),
    ("run unreachable endpoint", ["run", "--function", "fn", "--endpoint-url", "{closed}"], ENV_KEYS, "cannot reach"),
    (
        "analyze missing log group",
        ["analyze", "--log-group", "/aws/lambda/nope", "--endpoint-url", "{moto}"],
        ENV_KEYS,
        "not found",
    ),
    ("run missing function", ["run", "--function", "nope", "--endpoint-url", "{moto}"], ENV_KEYS, "not found"),
]


@pytest.fixture(scope="module")
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # closed again: nothing listens there


@pytest.fixture
def files(tmp_path):
    (tmp_path / "garbage.txt").write_text("this is = not [ json or toml\n")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "events.jsonl").write_text(
        json.dumps({"logStreamName": "s", "timestamp": 1, "message": "START RequestId: r Version: $LATEST"}) + "\n"
    )
    (tmp_path / "e.json").write_text("{}")
    return tmp_path


def _environment(monkeypatch, tmp_path, kind: str) -> None:
    import os

    for var in list(os.environ):
        if var.startswith("AWS_"):
            monkeypatch.delenv(var)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if kind != NO_CREDS:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIABADINPUT00000000")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "bad/input+secret+key+0123456789abcdefghij")
    if kind != NO_REGION:
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.mark.parametrize("case, argv, env, phrase", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_a_fix_and_exit_2(
    case, argv, env, phrase, files, closed_port, moto_endpoint, monkeypatch, capfd
):
    if env != NO_CREDS:
        create_function(moto_endpoint, "fn")
    _environment(monkeypatch, files, env)
    monkeypatch.chdir(files)
    argv = [a.format(tmp=files, moto=moto_endpoint, closed=closed_port) for a in argv]
    code = main(argv)
    out, err = capfd.readouterr()
    lines = err.strip().splitlines()
    assert "Traceback" not in err and "Traceback" not in out
    assert len(lines) == 1, err
    assert lines[0].startswith("lambdascope: error: "), err
    assert phrase.lower() in lines[0].lower(), err
    assert FIX.search(lines[0].removeprefix("lambdascope: error: ")), f"no fix named: {err}"
    assert code == 2, (code, err)


def test_log_content_with_escape_sequences_is_never_printed_raw(tmp_path, capfd):
    """A hostname and CPU model carrying ESC sequences, a bell and a carriage return: the table,
    the CSV and the JSON on stdout hold no control character at all."""
    hostile = "ip-10-0-0-1\x1b[31m\x1b]0;pwned\x07\r"
    record = {
        "lambdascope": 1,
        "container_id": "c1",
        "request_id": "r1",
        "cold": True,
        "hostname": hostile,
        "cpu_model": "Intel\x1b[2J\x9b",
    }
    stream = "2026/12/01/[$LATEST]abc"
    events = [
        {"logStreamName": stream, "timestamp": 1_000, "message": "START RequestId: r1 Version: $LATEST"},
        {"logStreamName": stream, "timestamp": 1_001, "message": json.dumps(record)},
        {"logStreamName": stream, "timestamp": 1_002, "message": "raw \x1b[5m line\x1b[0m"},
        {"logStreamName": stream, "timestamp": 1_003, "message": "REPORT RequestId: r1\tDuration: 1.00 ms"},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    for fmt in ("table", "csv", "json"):
        assert main(["analyze", str(path), "--format", fmt]) == 0
        out, err = capfd.readouterr()
        controls = [c for c in out + err if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]
        assert controls == [], (fmt, out)
        if fmt != "json":
            assert "ip-10-0-0-1" in out  # the host is shown, escaped

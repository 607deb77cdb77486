"""`watch` and `replay` on the command line: flags, defaults, one-line errors."""

import pytest

from tui import cli
from tui.commands import replay, watch


def parse(*argv):
    return cli.build_parser().parse_args(list(argv))


def test_watch_flags_and_defaults():
    args = parse("watch")
    assert args.handler is watch.handle
    plan = watch.plan_from_args(args)
    assert (plan.mode, plan.level, plan.max_in_flight) == ("closed", 10, 1000)
    assert args.snapshot_dir == "lambdascope-snapshots" and args.refresh_hz == 5.0
    args = parse(
        "watch",
        "--rate",
        "250",
        "--max-in-flight",
        "50",
        "--snapshot-dir",
        "/tmp/s",
        "--function",
        "fn",
        "--region",
        "eu-west-1",
        "--profile",
        "p",
        "--endpoint-url",
        "http://x",
        "--record",
        "r.jsonl",
        "--profile-file",
        "blog.toml",
    )
    plan = watch.plan_from_args(args)
    assert (plan.mode, plan.level, plan.max_in_flight) == ("open", 250.0, 50)
    assert (args.function, args.region, args.profile, args.endpoint_url, args.record, args.profile_file) == (
        "fn",
        "eu-west-1",
        "p",
        "http://x",
        "r.jsonl",
        "blog.toml",
    )


@pytest.mark.parametrize(
    "argv, phrase",
    [
        (["watch", "--concurrency", "0"], "--concurrency must be at least 1 (got 0)"),
        (["watch", "--rate", "-5"], "--rate must be greater than 0"),
        (["watch", "--concurrency", "3", "--rate", "5"], "not allowed with argument"),
        (["watch", "--concurrency", "2000"], "above --max-in-flight"),
        (["watch", "--url", "https://x.lambda-url.us-east-1.on.aws/"], "give --function NAME"),
        (["watch", "--refresh-hz", "0"], "--refresh-hz must be greater than 0"),
        (["replay"], "the following arguments are required: file"),
        (["replay", "/nonexistent.jsonl"], "no such file"),
        (["replay", "x.jsonl", "--speed", "-1"], "--speed must be greater than 0"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, phrase, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lambdascope: error: ") and phrase in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_a_bare_lambdascope_is_watch():
    # cli.main maps [] and leading flags to `watch`; parse what it would dispatch.
    assert parse("watch").handler is watch.handle
    assert parse("replay", "f.jsonl").handler is replay.handle


def test_version_names_the_installed_release(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"lambdascope {version('lambdascope')}\n"


def test_the_parser_imports_no_aws_sdk():
    # Every start builds the whole parser: a command module that imports boto3/aioboto3 at the
    # top makes every command (and the monitor's first frame) pay ~0.5 s for it.
    import subprocess
    import sys

    code = (
        "import sys, tui.cli; tui.cli.build_parser(); "
        "print(sorted(m for m in ('aioboto3', 'boto3', 'aiobotocore', 'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

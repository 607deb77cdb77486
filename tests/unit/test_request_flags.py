"""The request flags (--payload, --method, --path, --header, --body): bad input is one line and
exit 2 before anything starts; files are read bounded (6 MB, Lambda's limit)."""

import pytest

from tui.cli import main


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--payload", "{dir}/not.json"], "--payload {dir}/not.json: not JSON"),
        (["--payload", "{dir}/missing.json"], "no such file; pass --payload a readable file"),
        (["--payload", "{dir}/big.json"], "6 MB"),
        (["--payload", "{dir}/ok.json", "--body", "{dir}/ok.json"], "pick one"),
        (["--header", "no-colon"], "write NAME:VALUE"),
        (["--header", "Host:x"], "lambdascope sets this header itself"),
        (["--method", "BREW"], "--method 'BREW': use one of GET, POST"),
        (["--path", "orders"], "starts with /"),
        (["--method", "GET", "--body", "{dir}/ok.json"], "a GET has no body"),
    ],
)
def test_bad_request_flags_are_one_line(flags, expected, tmp_path, capsys):
    (tmp_path / "not.json").write_text("{nope")
    (tmp_path / "ok.json").write_text('{"a": 1}')
    (tmp_path / "big.json").write_bytes(b" " * (6 * 1024 * 1024 + 1))
    argv = ["run", "--requests", "1", *[f.format(dir=tmp_path) for f in flags]]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("lambdascope: error: ")
    assert expected.format(dir=tmp_path) in err

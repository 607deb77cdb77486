"""Hostile files cost bounded memory: the gzip bomb and its cousins each end with one line and
exit 2, and the real CLI, run in its own process, never grows past 200 MB RSS doing it
(issue 18: on main a 2 MB gzip of one 2 GB line grew `replay` to 5.9 GB over 25 s).

Peak RSS is the CLI's own, from wait4's rusage, taken by a small launcher process: a child's
ru_maxrss starts at the high-water mark of the process it was forked from (Linux carries the old
memory's peak across exec), so a CLI forked straight from pytest, which has grown to hundreds of
MB by the middle of the suite, would report pytest's peak (CI saw "337 MB" for every case), and
RUSAGE_CHILDREN would also count any larger child this test process waited for before.

The inputs are built on the fly with streamed writes: a bomb is one compressed megabyte after a
full flush, written 2,048 times, so the test never holds more than a megabyte of it.
"""

import json
import os
import struct
import subprocess
import sys
import zlib

import pytest

from tests.figures import add_figure
from tui.core import caps

pytestmark = pytest.mark.e2e

RSS_BUDGET_MB = 200
PEAKS: dict[str, float] = {}
MIB = 1 << 20
HEADER = b'{"lambdascope_recording": 2, "t": 1.0, "target": {"name": "probe"}, "outcome_fields": []}\n'


def write_gzip(path, head: bytes, unit: bytes, repeats: int, tail: bytes = b"") -> None:
    """A valid gzip file of head + unit * repeats + tail: `unit` is compressed once (after a full
    flush the compressor has no history, so its bytes repeat), its CRC chained repeat by repeat."""
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc, size = zlib.crc32(head), len(head)
    with open(path, "wb") as fh:
        fh.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")  # gzip header: deflate, no name, mtime 0
        fh.write(c.compress(head) + c.flush(zlib.Z_FULL_FLUSH))
        block = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
        for _ in range(repeats):
            fh.write(block)
            crc = zlib.crc32(unit, crc)
        fh.write(c.compress(tail) + c.flush())
        crc, size = zlib.crc32(tail, crc), size + len(unit) * repeats + len(tail)
        fh.write(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))


# Forked from this small interpreter, the CLI's peak starts at the launcher's few MB, not pytest's.
LAUNCHER = """
import json, os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "tui.cli", *argv])
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as fh:
    json.dump([os.waitstatus_to_exitcode(status), usage.ru_maxrss], fh)
"""


def run_measured(argv: list[str], tmp_path, timeout_s: float = 120.0) -> tuple[int, str, float]:
    """The CLI in its own process: (exit code, stderr, peak RSS in MB)."""
    out, err, result = tmp_path / "stdout.txt", tmp_path / "stderr.txt", tmp_path / "rusage.json"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(result), *argv],
            stdin=subprocess.DEVNULL,
            stdout=o,
            stderr=e,
            cwd=tmp_path,
            start_new_session=True,  # a hang kills the launcher and the CLI together
        )
    try:
        proc.wait(timeout_s)  # a hang fails the test instead of holding the suite
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        pytest.fail(f"{argv}: still running after {timeout_s:.0f} s")
    code, maxrss_kib = json.loads(result.read_text())
    return code, err.read_text(errors="replace"), maxrss_kib / 1024  # KiB on Linux


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    # The bomb: 2 MB of gzip, one 2 GB line.
    write_gzip(d / "bomb.gz", b'{"logStreamName": "s", "timestamp": 1, "message": "', b"x" * MIB, 2048, b'"}\n')
    # Its plain cousin: one 300 MB line of an event's message.
    with open(d / "line300.json", "wb") as fh:
        fh.write(b'{"logStreamName": "s", "timestamp": 1, "message": "')
        block = b"x" * MIB
        for _ in range(300):
            fh.write(block)
        fh.write(b'"}\n')
    # A recording whose second line (a log batch) is 1 GB.
    frame = b'{"t": 2.0, "source": "poll", "names": ["s"], "log": [[0, 1, "'
    write_gzip(d / "frame.rec", HEADER + frame, b"y" * MIB, 1024, b'"]]}\n')
    # 10,000 log streams, one event each: as events, and as a recording's names.
    events = b"".join(
        json.dumps({"logStreamName": f"2026/12/07/[$LATEST]{i:032x}", "timestamp": i, "message": "x"}).encode() + b"\n"
        for i in range(10_000)
    )
    write_gzip(d / "streams.jsonl.gz", events, b"", 0)
    names = [f"2026/12/07/[$LATEST]{i:032x}" for i in range(10_000)]
    rows = [[i, 1000 + i, "x"] for i in range(10_000)]
    batch = json.dumps({"t": 2.0, "source": "poll", "names": names, "log": rows}).encode() + b"\n"
    write_gzip(d / "streams.rec", HEADER + batch, b"", 0)
    return d


CASES = [
    # (id, argv, phrase the one line must hold)
    ("replay a gzip bomb", ["replay", "{d}/bomb.gz"], f"over {caps.size(caps.RECORDING_LINE)}"),
    ("analyze a gzip bomb", ["analyze", "{d}/bomb.gz"], f"over {caps.size(caps.EVENT_JSON)}"),
    ("analyze a 300 MB line", ["analyze", "{d}/line300.json"], f"over {caps.size(caps.EVENT_JSON)}"),
    ("replay a 300 MB line", ["replay", "{d}/line300.json"], f"over {caps.size(caps.RECORDING_LINE)}"),
    ("replay a 1 GB frame", ["replay", "{d}/frame.rec"], f"over {caps.size(caps.RECORDING_LINE)}"),
    ("export a 1 GB frame", ["replay", "{d}/frame.rec", "--export", "{d}/out"], "a recording line over"),
    ("compare a 1 GB frame", ["compare", "{d}/frame.rec", "{d}/frame.rec"], "a recording line over"),
    ("plan from a 1 GB frame", ["run", "--plan", "{d}/frame.rec"], "a recording line over"),
    ("analyze 10,000 streams", ["analyze", "{d}/streams.jsonl.gz"], f"more than {caps.STREAMS:,} log streams"),
    ("replay 10,000 streams", ["replay", "{d}/streams.rec"], f"more than {caps.STREAMS:,} log streams"),
]


@pytest.mark.parametrize("case, argv, phrase", CASES, ids=[c[0] for c in CASES])
def test_a_hostile_file_is_one_line_exit_2_in_bounded_memory(case, argv, phrase, inputs, tmp_path):
    code, err, peak_mb = run_measured([a.format(d=inputs) for a in argv], tmp_path)
    lines = err.strip().splitlines()
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("lambdascope: error: "), err
    assert phrase in lines[0], err
    assert code == 2, (code, err)
    assert peak_mb < RSS_BUDGET_MB, f"{case}: peak RSS {peak_mb:.0f} MB"
    PEAKS[case] = peak_mb
    worst = max(PEAKS, key=PEAKS.get)
    add_figure(
        "bounded input",
        f"hostile files: {len(PEAKS)} refused with one line, peak RSS at most {PEAKS[worst]:.0f} MB "
        f"({worst}; budget {RSS_BUDGET_MB} MB)",
    )


def test_a_large_valid_gzip_log_still_reads(tmp_path):
    """The caps refuse only the hostile: 40,000 events in gzip (ratio far under the cap) read."""
    events = b"".join(
        json.dumps(
            {"logStreamName": f"s{i % 50}", "timestamp": i, "message": f"START RequestId: r{i} Version: $LATEST"}
        ).encode()
        + b"\n"
        for i in range(40_000)
    )
    write_gzip(tmp_path / "ok.jsonl.gz", events, b"", 0)
    code, err, _ = run_measured(["analyze", str(tmp_path / "ok.jsonl.gz"), "--format", "json"], tmp_path)
    assert code == 0, err
    doc = json.loads((tmp_path / "stdout.txt").read_text())
    assert doc["totals"]["containers"] == 50

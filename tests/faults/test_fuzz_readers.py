"""Every reader of outside bytes, fuzzed with hypothesis: log files (plain and gzip, any layout,
cut anywhere), recordings, snapshot documents, plan and profile files. Whatever the bytes, a
reader either reads them or raises the one error a user sees (UserError; ValueError for the
local Lambda's profile), never anything else, and a file's chunking never changes what it reads.

The caps themselves (a bomb, a 300 MB line) are measured through the CLI in
tests/integration/test_bounded_input.py; here small caps stand in, so every example is fast.
"""

import gzip
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from probe.local.profile import load_profile
from tui.aws.sources.file import parse_events
from tui.commands.compare import load_run
from tui.commands.plan_flag import load_ramp
from tui.core.errors import UserError
from tui.output import capped

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
)
events = st.fixed_dictionaries(
    {
        "logStreamName": st.text(min_size=1, max_size=12),
        "timestamp": st.integers(0, 2**45) | scalars,
        "message": st.text(),
    },
    optional={"eventId": st.text(max_size=8) | st.integers(), "ingestionTime": scalars},
)
# Events laid out as the AWS CLI, jq -c, JSONL or a bare array would write them.
layouts = st.sampled_from(["cli", "compact", "jsonl", "array", "pages"])


def lay_out(layout: str, evs: list[dict]) -> str:
    if layout == "cli":
        return json.dumps({"events": evs, "searchedLogStreams": [], "nextToken": "t"}, indent=4)
    if layout == "compact":
        return json.dumps({"events": evs})
    if layout == "jsonl":
        return "".join(json.dumps(e) + "\n" for e in evs)
    if layout == "array":
        return json.dumps(evs)
    return "\n".join(json.dumps({"events": evs[i : i + 2]}, indent=2) for i in range(0, len(evs), 2))


def split(text: str, sizes: list[int]) -> list[str]:
    out, pos = [], 0
    for size in sizes:
        out.append(text[pos : pos + size])
        pos += size
    return [*out, text[pos:]]


def reads_or_says_why(read):
    try:
        return read()
    except UserError as exc:
        assert "\n" not in str(exc) and str(exc), exc
        return None


@FUZZ
@given(layout=layouts, evs=st.lists(events, min_size=1, max_size=6), sizes=st.lists(st.integers(1, 40), max_size=30))
def test_log_files_read_the_same_however_they_are_laid_out_and_chunked(layout, evs, sizes):
    text = lay_out(layout, evs)
    whole = reads_or_says_why(lambda: parse_events(text, "f"))
    chunked = reads_or_says_why(lambda: parse_events(split(text, sizes), "f"))
    assert whole == chunked
    if whole is not None:
        ids = {str(e["eventId"]) for e in evs if "eventId" in e}
        assert len(whole) >= len(ids) and {e.stream for e in whole} <= {e["logStreamName"] for e in evs}


@FUZZ
@given(layout=layouts, evs=st.lists(events, min_size=1, max_size=4), cut=st.integers(0, 10_000), junk=st.text())
@example(layout="cli", evs=[{"logStreamName": "s", "timestamp": 1, "message": "m"}], cut=30, junk="]")
def test_log_files_cut_anywhere_or_with_junk_are_one_line_errors(layout, evs, cut, junk):
    text = lay_out(layout, evs)
    reads_or_says_why(lambda: parse_events(text[:cut] + junk, "f"))


@FUZZ
@given(doc=json_values)
def test_any_json_as_a_log_file_is_read_or_refused(doc):
    reads_or_says_why(lambda: parse_events(json.dumps(doc), "f"))


@pytest.fixture
def scratch():
    with tempfile.TemporaryDirectory() as d:
        yield d


def write(folder: str, data: bytes, name: str = "f") -> str:
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


@FUZZ
@given(data=st.binary(max_size=2000), zipped=st.booleans(), cut=st.integers(0, 4000), max_line=st.integers(1, 64))
def test_capped_lines_are_the_files_lines_or_one_error(scratch, data, zipped, cut, max_line):
    raw = gzip.compress(data, mtime=0)[:cut] if zipped else data
    path = write(scratch, raw)
    got = reads_or_says_why(lambda: list(capped.lines(path, max_line=max_line, what="a line", fix="fix it")))
    if got is not None and not zipped and data[:2] != b"\x1f\x8b":  # gzip is told by its magic, not a flag
        assert got == data.decode("utf-8").split("\n")[: len(got)]
        assert all(len(line.encode()) <= max_line for line in got)


@FUZZ
@given(data=st.binary(max_size=3000))
def test_a_small_cap_refuses_what_passes_it(scratch, data):
    path = write(scratch, gzip.compress(data, mtime=0))
    got = reads_or_says_why(lambda: capped.read_small(path, max_bytes=1000, fix="fix it"))
    assert (got == data) if len(data) <= 1000 else got is None


# Mostly well-formed lines (a numeric time, ten-field outcome rows, probe-like records) so that
# many examples get past the reader into the model, where a wrong type would crash it.
times = st.floats(0, 2e9) | scalars
probe_records = st.dictionaries(
    st.sampled_from(["lambdascope", "container_id", "cold", "hostname", "cpu_model", "started_at", "vcpus", "ts"]),
    scalars | st.lists(st.integers(), max_size=2),
    max_size=5,
)
fields = scalars | probe_records
recording_lines = st.lists(
    st.one_of(
        json_values.map(json.dumps),
        st.builds(
            lambda t, names, rows: json.dumps({"t": t, "source": "poll", "names": names, "log": rows}),
            times,
            st.lists(st.text(min_size=1, max_size=6), max_size=3),
            st.lists(
                st.tuples(st.integers(0, 3), times, scalars).map(list) | st.lists(scalars, max_size=4), max_size=3
            ),
        ),
        st.builds(
            lambda t, names, rows, stats: json.dumps({"t": t, "names": names, "outcomes": rows, "stats": stats}),
            times,
            st.lists(st.text(min_size=1, max_size=6), max_size=2),
            st.lists(st.lists(fields, min_size=10, max_size=10) | st.lists(fields, max_size=11), max_size=3),
            st.none() | json_values,
        ),
        st.text(max_size=30),
    ),
    max_size=6,
)


@FUZZ
@given(lines=recording_lines, version=st.sampled_from([1, 2, 3, "2", None]), zipped=st.booleans())
def test_any_recording_replays_to_the_end_or_is_one_line(scratch, lines, version, zipped):
    from tui.commands.replay import replay_bundle

    header = json.dumps({"lambdascope_recording": version, "t": 1.0, "target": {"name": "p"}})
    text = "\n".join([header, *lines]).encode()
    path = write(scratch, gzip.compress(text, mtime=0) if zipped else text, "rec")
    # Read, then played through the model as `replay --export` and `compare` do.
    reads_or_says_why(lambda: replay_bundle(path))


@FUZZ
@given(doc=json_values | st.binary(max_size=200))
def test_any_snapshot_file_is_a_document_or_one_line(scratch, doc):
    path = write(scratch, doc if isinstance(doc, bytes) else json.dumps(doc).encode(), "snapshot.json")
    reads_or_says_why(lambda: load_run(path))


@FUZZ
@given(doc=json_values, as_toml=st.booleans(), junk=st.binary(max_size=100))
def test_any_plan_file_is_a_plan_or_one_line(scratch, doc, as_toml, junk):
    if as_toml:
        path = write(scratch, junk, "plan.toml")
    else:
        path = write(scratch, json.dumps({"load": {"plan": doc}}).encode(), "plan.json")
    reads_or_says_why(lambda: load_ramp(path))


@FUZZ
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_profile_file_is_a_profile_or_a_value_error(scratch, data):
    path = write(scratch, data, "p.toml")
    try:
        load_profile(path)
    except ValueError as exc:
        assert "\n" not in str(exc)

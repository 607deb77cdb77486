"""One duration parser for every duration flag and every plan: the same units, the same error."""

import argparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen import ramp
from loadgen.duration import HOW, UNITS, DurationError, format_duration, parse_duration
from tui.cli import build_parser
from tui.commands.experiment import parse_gaps
from tui.commands.options import parse_since
from tui.core.errors import UserError


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("250ms", 0.25),
        ("2s", 2.0),
        ("30", 30.0),  # a bare number is seconds
        ("1.5s", 1.5),
        (" 2m ", 120.0),
        ("1h", 3600.0),
        ("7d", 7 * 86400.0),
        ("2S", 2.0),
        ("0", 0.0),
        (".5s", 0.5),
    ],
)
def test_the_units(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "5x", "-1s", "1e3s", "inf", "nan", "1 2s", "5 ms s", "1" * 100, None, True])
def test_anything_else_is_one_explanation(text):
    with pytest.raises(DurationError) as err:
        parse_duration(text)
    assert str(err.value) == HOW


@given(st.integers(min_value=0, max_value=10**7), st.sampled_from(sorted(UNITS)))
def test_every_number_with_every_unit(n, unit):
    assert parse_duration(f"{n}{unit}") == pytest.approx(n * UNITS[unit])


@given(st.integers(min_value=1, max_value=7 * 86400 * 1000))
def test_format_reads_back(ms):
    assert parse_duration(format_duration(ms / 1000)) == pytest.approx(ms / 1000)


@given(st.text(max_size=20))
def test_no_text_raises_anything_but_the_one_error(text):
    try:
        assert parse_duration(text) >= 0
    except DurationError:
        pass


def _parse(*argv):
    return build_parser().parse_args(list(argv))


def test_every_duration_flag_reads_the_same_units_and_fails_the_same_way():
    assert _parse("run", "--duration", "2m").duration == 120.0
    assert _parse("run", "--duration", "30").duration == 30.0  # as before: seconds
    assert _parse("run", "--hold", "250ms").hold == 0.25
    assert _parse("run", "--settle-timeout", "1m").settle_timeout == 60.0
    assert _parse("watch", "--hold", "2s").hold == 2.0
    assert _parse("experiment", "lifetime", "--duration", "3h", "--hold", "1s").duration == 10800.0
    assert _parse("experiment", "scaling", "--step", "500ms").step == 0.5
    assert parse_gaps("500ms, 2s,1m") == (0.5, 2.0, 60.0)
    assert parse_since("7d") == 7 * 86400.0
    messages = []
    for argv in (
        ("run", "--duration", "5x"),
        ("run", "--hold", "5x"),
        ("watch", "--hold", "5x"),
        ("run", "--settle-timeout", "5x"),
        ("experiment", "scaling", "--step", "5x"),
        ("experiment", "lifetime", "--duration", "5x"),
    ):
        with pytest.raises(UserError) as err:
            _parse(*argv)
        messages.append(str(err.value))
    for call in (lambda: parse_gaps("1s,5x"), lambda: parse_since("5x")):
        with pytest.raises(UserError) as err:
            call()
        messages.append(str(err.value))
    with pytest.raises(ramp.RampError) as err:
        ramp.parse("10c@5x")
    messages.append(str(err.value))
    # Each names what it read, then the one explanation.
    assert all(m.endswith(HOW) for m in messages), messages
    assert messages[0].startswith("--duration '5x'") and messages[1].startswith("--hold '5x'")


def test_a_plan_stage_reads_durations_like_the_flags():
    assert ramp.parse("10c@30").stages[0].duration_s == 30.0
    assert ramp.parse("10c@1.5m hold 250ms").stages[0] == ramp.Stage("closed", 10, 10, 90.0, 250)


def test_argparse_never_sees_a_value_error():
    # The type raises UserError (one line, exit 2), not argparse's "invalid duration value".
    with pytest.raises(UserError):
        _parse("run", "--hold", "-")
    assert not isinstance(UserError("x"), (ValueError, argparse.ArgumentTypeError))

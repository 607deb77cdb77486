"""Durations as people write them: the one parser behind every duration on the command line
(`--duration`, `--hold`, `--gaps`, `--since`, `--settle-timeout`, `--step`) and in plans.

    250ms  1.5s  30s  2m  1h  7d      a number and a unit
    30                                a bare number is seconds

Pure: no IO imports. A text that is not a duration raises `DurationError` whose message is the
one explanation every caller puts after its own name ("--hold '5x': …", "stage 2 ('10c@5x'): …").
"""

import math
import re

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# Case-insensitive: `2S` or `250MS` mean what they say. A sign, an exponent or `inf` is not a
# duration anyone means, and `math.isfinite` stops what the pattern lets through.
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
HOW = "write a number with ms, s, m, h or d (250ms, 30s, 2m; a bare number is seconds)"


class DurationError(ValueError):
    """Not a duration; `str()` is `HOW`, for the caller to prefix with what it was reading."""

    def __init__(self) -> None:
        super().__init__(HOW)


def parse_duration(text: object) -> float:
    """Seconds from a duration text (or a plain int/float, taken as seconds). Zero is allowed:
    a caller that needs more than 0 says so in its own words."""
    if isinstance(text, bool):
        raise DurationError()
    if isinstance(text, (int, float)):
        seconds = float(text)
    elif isinstance(text, str) and len(text) <= 64:
        m = _PATTERN.match(text)
        if not m:
            raise DurationError()
        seconds = float(m.group(1)) * UNITS[(m.group(2) or "s").lower()]
    else:
        raise DurationError()
    if not math.isfinite(seconds) or seconds < 0:
        raise DurationError()
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact text parse_duration reads back: 0.25 -> '250ms', 90 -> '90s',
    120 -> '2m'."""
    if seconds == 0:
        return "0s"
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if seconds >= size and (seconds / size) == int(seconds / size):
            return f"{int(seconds / size)}{unit}"
    if seconds >= 1:
        return _trim(f"{seconds:.3f}") + "s"  # to the millisecond: 1022.752s, never 1022.75s
    return _trim(f"{seconds * 1000:.3f}") + "ms"


def _trim(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number

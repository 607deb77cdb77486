"""The one way a bench prints a figure beside its budget: `label: figure (budget ≤ B) ✓` or `✗`.

Benches report, they never assert (DESIGN.md): a missed budget is a ✗ in the report, not a
failed run. A figure that could not be measured says why in words, never `nan`. Every row also
goes to the terminal summary (tests/figures.py), so `make bench` ends with all of them together.
"""

import math

from tests.figures import add_figure

PASS, MISS = "✓", "✗"


def measured(value: float | None) -> bool:
    """A real number: not None, not nan, not infinite."""
    return value is not None and math.isfinite(value)


def row(
    label: str,
    value: float | None,
    *,
    unit: str = "",
    fmt: str = "{:,.2f}",
    at_most: float | None = None,
    at_least: float | None = None,
    why_not: str = "the bench did not get that far",
    note: str = "",
) -> str:
    """The printed row for one figure and its budget (`at_most` or `at_least`; neither: none).
    `unit` is written as given after each number (" ms", "×", " MB"). `why_not` is what the row
    says when `value` is not a real number. `note`: a few words after the verdict."""
    if not measured(value):
        line = f"{label}: not measured: {why_not}"
    else:
        line = f"{label}: {fmt.format(value)}{unit}"
        if at_most is not None:
            line += f" (budget ≤ {at_most:,g}{unit}) {PASS if value <= at_most else MISS}"
        elif at_least is not None:
            line += f" (budget ≥ {at_least:,g}{unit}) {PASS if value >= at_least else MISS}"
    if note:
        line += f"; {note}"
    add_figure(label, line)
    return line


def report(label: str, value: float | None, **kwargs) -> None:
    """Print `row(...)` on a line of its own."""
    print(row(label, value, **kwargs))

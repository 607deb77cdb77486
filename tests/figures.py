"""Figures a test suite measures and prints in the terminal summary (tests/conftest.py), so a
closing note can cite them: one line per name, the last value wins."""

FIGURES: dict[str, str] = {}


def add_figure(name: str, line: str) -> None:
    FIGURES[name] = line

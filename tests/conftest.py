"""Test tiers by marker, so each can be run by name (`make test-unit`, `-m integration`, …).

A module may set its own `pytestmark`; otherwise its tier follows from where it lives:
- unit: pure code, no server, no process (seconds for the whole tier);
- integration: real local servers (moto, the local Lambda, aiohttp) or the app under Pilot;
- e2e: the program as a user runs it, in its own process or in tmux;
- bench: benchmarks under tests/bench (deselected unless asked for; they never assert time).
"""

import signal

import pytest

# The tests press Ctrl-C on the programs they start (a SIGINT to the child). A shell that runs
# `make test` in the background (`make test &` in a script, nohup) has SIGINT ignored, children
# inherit that, and each such test would wait out its timeout. A handler here is not inherited:
# exec resets it to the default, so every child can be interrupted as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

TIERS = ("unit", "integration", "e2e", "bench")

# Pure tests that live beside the integration tests of their package.
_UNIT_FILES = {
    "tests/loadgen/test_plan.py",
    "tests/loadgen/test_schedule.py",
    "tests/loadgen/test_stats.py",
    "tests/tui/test_view_helpers.py",
    "tests/local/test_profile.py",
}
_E2E_PREFIXES = (
    "tests/tui/test_tmux_",
    "tests/integration/test_experiment",
    "tests/integration/test_blog_story",
    "tests/local/test_aws_tools",
)


def _tier(relpath: str) -> str:
    if relpath.startswith("tests/bench/"):
        return "bench"
    if relpath.startswith("tests/unit/") or relpath in _UNIT_FILES:
        return "unit"
    if relpath.startswith(_E2E_PREFIXES):
        return "e2e"
    return "integration"


def pytest_collection_modifyitems(config, items):
    root = config.rootpath
    for item in items:
        if any(item.get_closest_marker(t) for t in TIERS):
            continue
        try:
            rel = item.path.relative_to(root).as_posix()
        except ValueError:
            continue
        item.add_marker(getattr(pytest.mark, _tier(rel)))


def pytest_terminal_summary(terminalreporter):
    """The figures suites measured (tests/figures.py: the fault suite, the secrets scan), so a
    closing note can cite them."""
    from tests.figures import FIGURES

    if FIGURES:
        terminalreporter.section("lambdascope figures")
        for line in FIGURES.values():
            terminalreporter.write_line(line)

"""`run`'s closing line says when the log channel sampled, and how much the backfill made up."""

from types import SimpleNamespace

from tui.commands.run import _run_facts, _summary
from tui.core.fleet import Fleet


def result(name: str, extra: dict) -> SimpleNamespace:
    fleet = Fleet()
    fleet.counters.requests = fleet.counters.invocations = 3000
    return SimpleNamespace(
        fleet=fleet, load_s=5.0, wall_s=9.0, log_lag_s=1.0, missing=0, unknown=0, log_only=0, unaccounted=0,
        source_error=None, source_name=name, source_extra=extra, source_requests=12, swept_late=0,
        outcome_errors={}, function_errors=0,
    )  # fmt: skip


def test_a_sampled_live_tail_is_said_with_what_the_backfill_brought():
    r = result("live tail", {"sampled_updates": 6, "backfilled": 9314})
    line = _summary(r)
    assert "Live Tail sampled 6 updates (over 500 events each)" in line
    assert "the FilterLogEvents backfill brought 9,314 events it left out" in line
    assert _run_facts(r)["log_source_counts"] == {"sampled_updates": 6, "backfilled": 9314}


def test_an_unsampled_channel_says_nothing_of_sampling():
    assert "sampled" not in _summary(result("live tail", {"sampled_updates": 0, "backfilled": 0}))
    assert "sampled" not in _summary(result("poll", {}))
    assert "log_source_counts" not in _run_facts(result("poll", {}))

"""What a fan-out says of each loader (tui/methods/fanout.py): a loader its share reached after
the shared start is said, with how late, and a loader in time says nothing of it."""

from loadgen.plan import Plan
from tui.methods.fanout import LATE_S, LoaderState


def _state(received_at, offset_s=0.25, start_at=100.0):
    s = LoaderState(0, Plan("closed", 5, duration=4.0), rows=10, sent=10, offset_s=offset_s, ended="end")
    s.received_at, s.start_at = received_at, start_at
    return s


def test_a_loader_reached_after_the_shared_start_is_said_with_how_late():
    late = _state(received_at=102.05)  # 101.8 on this clock: 1.8 s after the start
    assert abs(late.late_s - 1.8) < 1e-9
    assert "reached it 1.8 s after the shared start (its share ran that much later)" in late.line()


def test_a_loader_in_time_or_unknown_says_nothing_of_it():
    assert _state(received_at=100.25 + LATE_S / 2).late_s is None  # within LATE_S
    assert _state(received_at=99.0).late_s is None  # waited for the start, as it should
    assert _state(received_at=None).late_s is None and "after the shared start" not in _state(None).line()
    assert _state(received_at=102.0, offset_s=None).late_s is None  # no offset: no estimate


def test_in_flight_is_what_running_loaders_sent_without_an_outcome_yet():
    from tui.methods.fanout import FanOut

    fan = FanOut.__new__(FanOut)  # the states alone: no target, no IO
    running = LoaderState(0, Plan("closed", 4), rows=90, sent=97)
    dead = LoaderState(1, Plan("closed", 4), rows=10, sent=30, ended="died: stopped")  # handed on as lost
    done = LoaderState(2, Plan("closed", 4), rows=50, sent=50, ended="end")
    fan.states = [running, dead, done]
    assert fan.in_flight == 7 and fan.reported == 150


def test_a_fan_out_past_the_account_quota_is_refused_naming_both_parts():
    import pytest

    from tui.commands.fanout_flag import check_quota
    from tui.core.errors import UserError

    check_quota(4, 996, "--concurrency 996", 1000)  # exactly the quota: runs
    check_quota(4, 5000, "--concurrency 5000", None)  # no quota known: nothing to hold it to
    with pytest.raises(UserError, match=r"^--fan-out 4 with scaling's 997 concurrent needs 1001 concurrent"):
        check_quota(4, 997, "scaling's 997 concurrent", 1000)

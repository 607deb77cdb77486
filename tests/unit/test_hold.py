"""The hold: the probe's part (asked, held, clamped to the time left, said in its record), the
plan's (steerable, bounded by the function's timeout, stepped by keys), and the words said before
a run (a hold the timeout refuses; more concurrency than Lambda will run)."""

import json
from pathlib import Path

import pytest

from loadgen.plan import MAX_HOLD_MS, Plan, PlanError
from loadgen.stats import StatsSnapshot
from loadgen.steering import Steering
from loadgen.targets import InvokeTarget, UrlTarget
from probe import handler
from tui.core.limits import (
    ConcurrencyLimits,
    asked_concurrency,
    concurrency_warning,
    hold_refusal,
    max_hold_ms,
    peak_concurrency,
)
from tui.core.load import LoadState
from tui.screen.widgets.header import header_text

GOLDEN = json.loads((Path(__file__).parent.parent / "golden" / "probe_record.json").read_text())


class Context:
    """Lambda's context object as the runtime hands it to a handler (the parts the probe reads)."""

    aws_request_id = "8f6c2a53-3b1e-4a1b-9d0c-6c1f3a7e2b10"
    function_name = "lambdascope-probe"
    function_version = "$LATEST"
    memory_limit_in_mb = "128"

    def __init__(self, remaining_ms=3000):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


@pytest.fixture(autouse=True)
def tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))


@pytest.mark.parametrize(
    "event, remaining, expected",
    [
        ({"hold_ms": 1000}, 3000, (1000, 1000, False)),
        ({"hold_ms": 5000}, 3000, (5000, 3000 - handler.HOLD_MARGIN_MS, True)),
        ({"hold_ms": 500}, 50, (500, 0, True)),  # no time left: answer at once, and say so
        ({"headers": {"X-Lambdascope-Hold-Ms": "250"}}, 3000, (250, 250, False)),  # a function URL
        ({"hold_ms": "250"}, 3000, (250, 250, False)),
        ({}, 3000, (0, 0, False)),
        ({"hold_ms": -5}, 3000, (0, 0, False)),
        ({"hold_ms": "soon"}, 3000, (0, 0, False)),
        ({"hold_ms": True}, 3000, (0, 0, False)),
        ({"hold_ms": float("nan")}, 3000, (0, 0, False)),
        ({"hold_ms": 10**12}, 10**9, (MAX_HOLD_MS, MAX_HOLD_MS, False)),
        ("not a dict", 3000, (0, 0, False)),
    ],
)
def test_the_probe_clamps_its_hold_to_the_time_left_and_says_so(event, remaining, expected):
    rec = handler.record(event, Context(remaining))
    assert (rec["hold_ms"], rec["held_ms"], rec["hold_clamped"]) == expected


def test_the_probe_record_keeps_its_written_contract():
    """Every key the probe writes is in the golden example, and the other way round."""
    rec = handler.record({"hold_ms": 1000}, Context())
    assert set(rec) == set(GOLDEN)
    assert {"hold_ms", "held_ms", "hold_clamped"} <= set(GOLDEN)


def test_a_handler_without_a_hold_answers_at_once(capsys):
    rec = handler.handler({}, Context())
    line = json.loads(capsys.readouterr().out)
    assert line == rec and rec["held_ms"] == 0


def test_the_load_generator_sends_the_hold_in_every_request():
    _, _, headers, body = UrlTarget("http://127.0.0.1:9/").prepare("ab" * 16, 1500)
    assert headers["x-lambdascope-hold-ms"] == "1500" and body is None
    _, _, headers, body = UrlTarget("http://127.0.0.1:9/", method="POST").prepare("ab" * 16, 1500)
    assert json.loads(body) == {"client_request_id": "ab" * 16, "hold_ms": 1500}
    _, _, headers, _ = UrlTarget("http://127.0.0.1:9/").prepare("ab" * 16)
    assert "x-lambdascope-hold-ms" not in headers  # no hold, no header (each one is signed)
    target = InvokeTarget("http://127.0.0.1:9", "probe", "us-east-1", _Creds())
    body = target.prepare("cd" * 16, 250)[3]
    assert json.loads(body) == {"client_request_id": "cd" * 16, "hold_ms": 250}
    # What the probe makes of each: the Invoke API's event is the body; a URL's carries headers.
    assert handler._hold_asked(json.loads(body)) == 250
    assert handler._hold_asked({"headers": {"x-lambdascope-hold-ms": "1500"}}) == 1500


class _Creds:
    def get_frozen_credentials(self):
        from botocore.credentials import ReadOnlyCredentials

        return ReadOnlyCredentials("AKIDEXAMPLE", "secret" * 7, None)


# ---- the plan ------------------------------------------------------------------------------


def test_the_hold_is_steerable_and_bounded_by_the_run():
    running = Plan("closed", 10, max_in_flight=50).with_max_hold(2900)
    steered = running.steered_by(Plan("closed", 20, hold_ms=5000))
    assert (steered.level, steered.hold_ms, steered.max_hold_ms) == (20, 2900, 2900)
    assert Plan(hold_ms=1000).with_max_hold(500).hold_ms == 500
    with pytest.raises(PlanError, match="hold_ms 5s is longer than this function allows"):
        Plan(hold_ms=5000, max_hold_ms=2900)
    with pytest.raises(PlanError, match="hold_ms must be between 0 and 900 s"):
        Plan(hold_ms=MAX_HOLD_MS + 1)
    assert Plan(hold_ms=250).describe() == "closed loop: 10 concurrent · hold 250ms"
    assert Plan.from_dict({"mode": "closed", "level": 3}).hold_ms == 0  # a plan saved before the hold


def test_hold_keys_walk_a_ladder_within_the_functions_bound():
    state = LoadState.from_plan(Plan("closed", 10))
    holds = []
    for _ in range(4):
        state.asked(state.held_longer())
        holds.append(state.wanted.hold_ms)
    assert holds == [50, 100, 250, 500]
    state.asked(state.held_shorter())
    assert state.wanted.hold_ms == 250
    # The generator reports the run's bound (the function's timeout): the keys stop there.
    state.take(_snapshot(Plan("closed", 10, hold_ms=250, max_hold_ms=900)))
    for _ in range(5):
        state.asked(state.held_longer())
    assert state.wanted.hold_ms == 900
    assert state.as_dict()["hold_ms"] == 250  # what the generator runs (until it reports the new one)
    for _ in range(20):
        state.asked(state.held(-1))
    assert state.wanted.hold_ms == 0
    assert state.held(+1).hold_ms == 50


def test_the_header_shows_the_hold():
    from tui.core.fleet import Fleet
    from tui.core.target_info import TargetInfo

    state = LoadState.from_plan(Plan("closed", 50, hold_ms=1000))
    text = header_text(TargetInfo("local", "lambdascope-probe"), state.describe(), None, Fleet(), [], {}, 1.0)
    assert "closed loop: 50 concurrent · hold 1s" in text.plain.splitlines()[0]


def test_a_plan_stage_sets_its_own_hold_and_the_others_run_the_flags():
    from loadgen import ramp

    plan = ramp.parse("10c@10s, 20c@10s hold 2s, 5r@10s")
    steering = Steering(plan, Plan("closed", 10, max_in_flight=20, hold_ms=500), 100.0)
    steering.start(100.0)
    assert steering.tick(100.0).hold_ms == 500
    assert steering.tick(111.0).hold_ms == 2000
    assert steering.tick(121.0).hold_ms == 500
    # The plan that ran, saved, repeats its holds exactly.
    effective = steering.effective(125.0)
    assert [s.hold_ms for s in effective.stages] == [500, 2000, 500]
    assert ramp.from_dict(effective.to_dict()) == effective
    assert plan.max_hold_ms(default=500) == 2000


def _snapshot(plan):
    return StatsSnapshot(plan=plan)


# ---- what is said before a run -------------------------------------------------------------


def test_a_hold_the_timeout_cannot_take_is_refused_in_one_line():
    assert max_hold_ms(3.0, 100) == 2900
    assert hold_refusal(2900, 3.0, 100, "probe") is None
    assert hold_refusal(0, 3.0, 100, "probe") is None
    assert hold_refusal(5000, None, 100, "probe") is None  # timeout unknown: the probe still clamps
    text = hold_refusal(3000, 3.0, 100, "my-fn", raise_timeout="raise its timeout")
    assert text == (
        "--hold 3s is longer than my-fn can hold a request: its timeout is 3s and the probe answers "
        "100 ms before it, so at most 2.9s; shorten --hold, or raise its timeout"
    )
    assert "\n" not in text


def test_the_concurrency_a_plan_asks_for():
    assert asked_concurrency("closed", 50, 0, 1000) == 50
    assert asked_concurrency("open", 1000, 1000, 2000) == 1000  # 1,000/s held 1 s: ~1,000 in flight
    assert asked_concurrency("open", 1000, 1000, 300) == 300  # never above the in-flight cap
    assert asked_concurrency("open", 1000, 0, 1000) == 0  # unknown without a hold
    from loadgen import ramp

    plan = ramp.parse("10c@10s, 200c@10s, 100r@10s hold 5s")
    assert peak_concurrency(Plan("closed", 10, max_in_flight=1000), plan) == 500


def test_more_concurrency_than_the_account_allows_is_said_with_what_lambda_will_do():
    limits = ConcurrencyLimits(account_limit=400, unreserved=390)
    assert concurrency_warning(390, limits, "probe") is None
    text = concurrency_warning(1000, limits, "probe")
    assert text == (
        "this run asks for 1,000 concurrent requests, but Lambda will run at most 390 of probe at "
        "once (the account's concurrency quota is 400; 390 unreserved, shared with every function "
        "without a reservation): it throttles the excess (610 at a time, 429 TooManyRequestsException, "
        "counted as throttled); lower the load, or ask AWS for a higher quota (Service Quotas: Lambda "
        "concurrent executions)"
    )
    reserved = ConcurrencyLimits(account_limit=1000, unreserved=900, reserved=100)
    text = concurrency_warning(150, reserved, "probe")
    assert "at most 100 of probe" in text and "probe reserves 100" in text and "50 at a time" in text
    assert concurrency_warning(150, None, "probe") is None  # unread: said elsewhere, not guessed


def test_a_local_profiles_hold_is_the_default_and_the_flag_overrides_it():
    from argparse import Namespace

    from tui.commands.options import hold_ms

    local = dict(function=None, url=None)
    assert hold_ms(Namespace(hold=None, profile_file="scale", **local)) == 2000  # [load] hold_ms = 2000
    assert hold_ms(Namespace(hold=0.25, profile_file="scale", **local)) == 250
    assert hold_ms(Namespace(hold=None, profile_file=None, **local)) == 0  # today holds nothing
    assert hold_ms(Namespace(hold=None, profile_file="scale", function="f", url=None)) == 0  # AWS: no profile

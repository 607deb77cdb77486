"""Ramp plans: the inline grammar, TOML and saved forms, positions in time, and one-line errors."""

import tomllib

import pytest

from loadgen import ramp
from loadgen.ramp import CLOSED, OPEN, PAUSE, RampError, Stage


@pytest.mark.parametrize(
    "text, stages",
    [
        ("10c@30s", [Stage(CLOSED, 10, 10, 30)]),
        (
            "10c@30s, 50c@30s, 0@2m, 10c@30s",
            [Stage(CLOSED, 10, 10, 30), Stage(CLOSED, 50, 50, 30), Stage(PAUSE, 0, 0, 120), Stage(CLOSED, 10, 10, 30)],
        ),
        ("100r@1m", [Stage(OPEN, 100, 100, 60)]),
        ("10c..100c@2m", [Stage(CLOSED, 10, 100, 120)]),
        ("5r..50r@500ms", [Stage(OPEN, 5, 50, 0.5)]),
        ("10c@1h, 20@1s", [Stage(CLOSED, 10, 10, 3600), Stage(CLOSED, 20, 20, 1)]),  # the unit carries on
        (" 2.5r @ 10s ", [Stage(OPEN, 2.5, 2.5, 10)]),
    ],
)
def test_inline_plans_parse(text, stages):
    assert list(ramp.parse(text).stages) == stages


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "empty"),
        ("10c", "stage 1 ('10c'): write LEVEL@DURATION"),
        ("10c@30x", "stage 1 ('10c@30x'): the duration: write a number with ms, s, m, h or d"),
        ("10c@30s, 50x@1m", "stage 2 ('50x@1m'): the level must be"),
        ("10@30s", "stage 1 ('10@30s'): say c (concurrent) or r"),
        ("10c..5r@1m", "a ramp stays in one mode"),
        ("0@1m", "only pauses"),
        ("2.5c@1m", "a concurrency is a whole number"),
        ("10c@0s", "more than 0"),
        ("10c@9999h", "at most 7 days"),
        ("nan c@1s", "the level must be"),
    ],
)
def test_bad_plans_name_the_stage_and_the_fix(text, says):
    with pytest.raises(RampError) as err:
        ramp.parse(text)
    assert says in str(err.value)
    assert "\n" not in str(err.value)


def test_position_walks_the_stages_and_ramps_linearly():
    plan = ramp.parse("10c@10s, 10c..20c@10s, 0@5s, 100r@5s")
    assert plan.duration_s == 30
    assert plan.at(0) == ramp.Position(0, CLOSED, 10, 0.0, 10.0, False)
    assert plan.at(15).level == 15 and plan.at(15).index == 1
    assert plan.at(21).mode == PAUSE
    assert plan.at(27).mode == OPEN and plan.at(27).level == 100
    end = plan.at(31)
    assert end.done and end.index == 4
    assert plan.stage_start(2) == 20


def test_closed_ramps_move_in_whole_requests():
    plan = ramp.parse("1c..4c@3s")
    assert [plan.at(t).level for t in (0, 0.5, 1.6, 2.9)] == [1, 2, 3, 4]


def test_text_and_dict_round_trip():
    plan = ramp.parse("10c@30s, 10c..100c@2m, 0@1m, 100r@500ms")
    assert plan.text() == "10c@30s, 10c..100c@2m, 0@1m, 100r@500ms"
    assert ramp.parse(plan.text()) == plan
    assert ramp.from_dict(plan.to_dict()) == plan


def test_toml_plans():
    doc = tomllib.loads("""
[[stage]]
load = "10c"
for = "30s"
[[stage]]
from = "10c"
to = "50c"
for = "1m"
""")
    assert ramp.from_toml(doc).text() == "10c@30s, 10c..50c@1m"


@pytest.mark.parametrize(
    "doc, says",
    [
        ({}, "no [[stage]] tables"),
        ({"stage": [{"load": "10c"}]}, "stage 1: 'for' must be a duration"),
        ({"stage": [{"for": "1s"}]}, "stage 1: give 'load', or 'from' and 'to'"),
        ({"stage": [{"load": "1c", "for": "1s", "speed": 2}]}, "unknown key 'speed'"),
    ],
)
def test_bad_toml_plans(doc, says):
    with pytest.raises(RampError, match=None) as err:
        ramp.from_toml(doc)
    assert says in str(err.value)


def test_a_saved_plan_that_is_damaged_is_one_error():
    with pytest.raises(RampError, match="stage 1 of the saved plan"):
        ramp.from_dict({"stages": [{"mode": "closed"}]})


# ---- steering ---------------------------------------------------------------------------------

from loadgen.plan import Plan  # noqa: E402
from loadgen.steering import Steering  # noqa: E402


def steering(text, t0=100.0):
    return Steering(ramp.parse(text), Plan(mode="closed", level=1, max_in_flight=200), t0)


def test_steering_follows_the_stages_and_applies_only_changes():
    s = steering("10c@10s, 0@5s, 50r@5s")
    assert s.tick(100.0) == Plan(mode="closed", level=10, max_in_flight=200)
    assert s.tick(105.0) is None  # nothing changed
    paused = s.tick(111.0)
    assert paused.paused and paused.level == 10
    assert s.tick(116.0) == Plan(mode="open", level=50.0, max_in_flight=200)
    assert s.done(121.0)
    assert "stage 3/3 50r@5s" in s.status(117.0)


def test_hold_freezes_the_plan_and_resume_goes_on_from_there():
    s = steering("10c..20c@10s, 30c@10s")
    s.tick(100.0)
    s.hold(105.0)  # held where the ramp stood: 15 concurrent
    assert s.tick(105.0).level == 15
    assert s.tick(130.0) is None  # held: the level stays
    assert s.status(130.0).startswith("held at stage 1/2")
    s.hold(130.0)  # resume from the plan's 5 s mark
    assert s.tick(134.9).level == 20
    assert s.tick(135.1).level == 30
    assert s.effective(136.0).text() == "10c..15c@5s, 15c@25s, 15c..20c@5s, 30c@1s"


def test_skip_moves_to_the_next_stage():
    s = steering("10c@1m, 30c@1m")
    s.tick(100.0)
    s.skip(110.0)
    assert s.tick(110.0).level == 30
    assert s.position(110.0).index == 1


def test_a_key_holds_the_plan_and_the_effective_plan_repeats_what_ran():
    s = steering("10c@10s, 20c@10s")
    s.tick(100.0)
    s.manual(104.0, Plan(mode="closed", level=12, max_in_flight=200))  # a `+` press
    assert s.tick(104.0).level == 12
    s.hold(110.0)  # resume where the plan stood (4 s into stage 1)
    eff = s.effective(126.0)
    assert eff.text() == "10c@4s, 12c@6s, 10c@6s, 20c@10s"
    assert [e["what"] for e in s.events] == ["key", "resume"]
    saved = s.to_dict(126.0)
    assert ramp.from_saved(saved) == eff
    assert ramp.from_saved({"stages": saved["stages"]}) == s.plan


def test_stage_windows_say_when_each_stage_ran():
    s = steering("10c@2s, 20c@3s")
    s.tick(100.0)
    wins = s.stage_windows(105.0)
    assert [(w["stage"], w["from_s"], w["to_s"]) for w in wins] == [(0, 0.0, 2.0), (1, 2.0, 5.0)]

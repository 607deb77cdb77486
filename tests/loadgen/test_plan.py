"""Plan validation (one-line messages keyed by field, mapped to flags by the CLI), level stepping
and the mode switch's conversion."""

import pytest

from loadgen.plan import Plan, PlanError, equivalent_level, step_level


@pytest.mark.parametrize(
    "kwargs, field, message",
    [
        ({"requests": 0}, "requests", "requests must be at least 1 (got 0)"),
        ({"requests": 2.5}, "requests", "requests must be a whole number (got 2.5)"),
        ({"level": 0}, "level", "level must be at least 1 (got 0)"),
        ({"level": 2.5}, "level", "level must be a whole number (got 2.5)"),
        ({"mode": "open", "level": 0}, "level", "level must be between 0.1 and 1e+06 requests/s (got 0)"),
        ({"duration": 0}, "duration", "duration must be more than 0 seconds (got 0)"),
        ({"duration": float("nan")}, "duration", "duration must be a number (got nan)"),
        ({"max_in_flight": 0}, "max_in_flight", "max_in_flight must be at least 1 (got 0)"),
        ({"level": 20, "max_in_flight": 10}, "level", "level 20 is above max_in_flight 10 (raise max_in_flight)"),
        ({"mode": "burst"}, "mode", "mode must be 'closed' or 'open' (got 'burst')"),
        ({"level": "10"}, "level", "level must be a number (got '10')"),
        ({"paused": 1}, "paused", "paused must be true or false (got 1)"),
    ],
)
def test_invalid_plans_name_the_field_in_one_line(kwargs, field, message):
    with pytest.raises(PlanError) as info:
        Plan(**kwargs)
    assert str(info.value) == message and info.value.field == field
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "kwargs, mode, message",
    [
        ({"level": 0}, "closed", "--concurrency must be at least 1 (got 0)"),
        ({"mode": "open", "level": 0}, "open", "--rate must be between 0.1 and 1e+06 requests/s (got 0)"),
        (
            {"level": 20, "max_in_flight": 10},
            "closed",
            "--concurrency 20 is above --max-in-flight 10 (raise --max-in-flight)",
        ),
        ({"duration": 0}, "closed", "--duration must be more than 0 seconds (got 0)"),
    ],
)
def test_the_command_line_maps_fields_to_its_flags(kwargs, mode, message):
    from tui.commands.options import plan_error_text

    with pytest.raises(PlanError) as info:
        Plan(**kwargs)
    assert plan_error_text(info.value, mode) == message


def test_valid_plans():
    assert Plan().concurrency == 10 and Plan().rate is None
    assert Plan("open", 2.5).rate == 2.5
    assert Plan("open", 5000, max_in_flight=10).rate == 5000  # the cap bounds in-flight, not rate
    assert Plan.from_dict(Plan("open", 3, requests=7, duration=2).to_dict()) == Plan("open", 3, requests=7, duration=2)


@pytest.mark.parametrize(
    "mode, level, direction, large, expected",
    [
        ("closed", 10, +1, False, 11),
        ("closed", 1, -1, False, 0),  # Plan.step clamps this to 1
        ("closed", 10, +1, True, 20),
        ("closed", 20, +1, True, 50),
        ("closed", 7, -1, True, 5),
        ("closed", 2, -1, True, 1),
        ("open", 100, +1, False, 120),
        ("open", 100, -1, False, 80),
        ("open", 37, +1, False, 40),
        ("open", 100, +1, True, 200),
        ("open", 100, -1, True, 50),
        ("open", 1, -1, False, 0.8),
        ("open", 0.3, +1, False, 0.4),
    ],
)
def test_steps(mode, level, direction, large, expected):
    assert step_level(mode, level, direction, large) == pytest.approx(expected)


def test_step():
    assert Plan("closed", 10).step(+1).level == 11
    assert Plan("closed", 10).step(-1, large=True).level == 5
    assert Plan("open", 100).step(+1, large=True) == Plan("open", 200)


def test_a_running_plan_is_steered_by_mode_level_and_paused_only():
    running = Plan("closed", 4, requests=100, max_in_flight=50)
    assert running.steered_by(Plan("open", 30, paused=True)) == Plan(
        "open", 30, requests=100, max_in_flight=50, paused=True
    )


def test_littles_law_conversion_for_the_mode_switch():
    assert equivalent_level("open", 412.3, 24.0, 100.0) == 330  # a little under the achieved rate
    assert equivalent_level("closed", 400.0, 25.0, 10) == 10  # 400/s x 25 ms = 10 in flight
    assert equivalent_level("closed", 1374.0, 100.0, 10) == 140  # two significant digits
    assert equivalent_level("closed", 400.0, None, 7) == 7  # no median: the last level used
    assert equivalent_level("open", 0.0, None, 100.0) == 100.0


def test_describe():
    assert Plan("closed", 10).describe() == "closed loop: 10 concurrent"
    assert Plan("open", 250.0, paused=True).describe() == "open loop: 250 req/s · PAUSED"


def test_step_clamps_into_range():
    assert Plan("closed", 1).step(-1).level == 1
    assert Plan("closed", 8, max_in_flight=10).step(+1, large=True).level == 10
    assert Plan("open", 0.1).step(-1).level == 0.1
    plan = Plan("open", 1)
    for _ in range(20):
        plan = plan.step(+1, large=True)
    assert plan.level == 1_000_000


def test_mode_switch_clamps_level():
    assert Plan("open", 250.7).with_mode("closed", 250.7) == Plan("closed", 251)
    assert Plan("closed", 4).with_mode("open", 0) == Plan("open", 0.1)

"""Plan validation (one-line messages naming the flag) and level stepping."""

import pytest

from loadgen.plan import Plan, step_level


@pytest.mark.parametrize("kwargs, message", [
    ({"requests": 0}, "--requests must be at least 1 (got 0)"),
    ({"requests": 2.5}, "--requests must be a whole number (got 2.5)"),
    ({"level": 0}, "--concurrency must be at least 1 (got 0)"),
    ({"level": 2.5}, "--concurrency must be a whole number (got 2.5)"),
    ({"mode": "open", "level": 0}, "--rate must be between 0.1 and 1e+06 requests/s (got 0)"),
    ({"duration": 0}, "--duration must be more than 0 seconds (got 0)"),
    ({"duration": float("nan")}, "--duration must be a number (got nan)"),
    ({"max_in_flight": 0}, "--max-in-flight must be at least 1 (got 0)"),
    ({"level": 20, "max_in_flight": 10},
     "--concurrency 20 is above --max-in-flight 10 (raise --max-in-flight)"),
    ({"mode": "burst"}, "mode must be 'closed' or 'open' (got 'burst')"),
    ({"level": "10"}, "level must be a number (got '10')"),
])
def test_invalid_plans_say_what_to_fix_in_one_line(kwargs, message):
    with pytest.raises(ValueError) as info:
        Plan(**kwargs)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_valid_plans():
    assert Plan().concurrency == 10 and Plan().rate is None
    assert Plan("open", 2.5).rate == 2.5
    assert Plan("open", 5000, max_in_flight=10).rate == 5000  # the cap bounds in-flight, not rate
    assert Plan.from_dict(Plan("open", 3, requests=7, duration=2).to_dict()) == \
        Plan("open", 3, requests=7, duration=2)


@pytest.mark.parametrize("mode, level, direction, large, expected", [
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
])
def test_steps(mode, level, direction, large, expected):
    assert step_level(mode, level, direction, large) == pytest.approx(expected)


def test_step_helpers():
    assert Plan("closed", 10).step_up().level == 11
    assert Plan("closed", 10).step_down(large=True).level == 5
    assert Plan("open", 100).step_up(large=True) == Plan("open", 200)


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

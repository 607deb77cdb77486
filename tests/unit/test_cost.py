"""The loaders' cost line (tui/core/cost.py), and the README's prices held to its constants."""

from pathlib import Path

import pytest

from tui.core.cost import GB_SECOND_USD, PRICE_REGION, PRICES_AS_OF, REQUEST_USD, cost_line, gb_seconds, usd

README = Path(__file__).resolve().parents[2] / "README.md"


def _price(value):
    return f"${value:.10f}".rstrip("0")


def test_the_readme_states_the_prices_the_code_uses():
    text = " ".join(README.read_text().split())
    assert f"At list prices ({PRICE_REGION}, {PRICES_AS_OF};" in text
    assert (
        f"{_price(GB_SECOND_USD['x86_64'])} per GB-second on x86_64 ({_price(GB_SECOND_USD['arm64'])} on arm64" in text
    )
    assert f"${REQUEST_USD * 1_000_000:.2f} per million requests" in text


@pytest.mark.parametrize(
    ("loaders", "seconds", "memory", "expected"),
    [
        (4, 60, 1769, 4 * 60 * 1769 / 1024),  # 414.6 GB-s
        (16, 900, 1024, 16 * 900.0),
        (1, 1, 128, 0.125),
    ],
)
def test_gb_seconds_are_loaders_times_seconds_times_memory(loaders, seconds, memory, expected):
    assert gb_seconds(loaders, seconds, memory) == pytest.approx(expected)


def test_the_line_says_gb_seconds_dollars_and_which_price():
    line = cost_line(4, 60, 1769)
    assert "4 x 60 s x 1.728 GB = 414.6 GB-s, about $0.0069" in line
    assert f"{_price(GB_SECOND_USD['x86_64'])}/GB-s (x86_64, {PRICE_REGION} list price, {PRICES_AS_OF})" in line
    assert usd(4, 60, 1769, "arm64") < usd(4, 60, 1769)


def test_past_lambdas_timeout_a_loader_is_billed_to_it_and_the_line_says_so():
    line = cost_line(2, 1800, 1024)
    assert "2 x 900 s x 1.000 GB = 1,800.0 GB-s" in line and "cut at Lambda's 900 s timeout" in line


def test_no_planned_end_is_priced_per_minute():
    line = cost_line(8, None, 1769)
    assert "per second of load" in line and "a minute" in line and "900 s timeout" in line

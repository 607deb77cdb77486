"""What a fan-out's loaders cost on Lambda, said before the run starts.

A loader is billed for its duration times its memory (GB-seconds) like any function, for the
whole of its share: N loaders x the planned seconds x memory. The price is AWS's published Lambda
price (https://aws.amazon.com/lambda/pricing/, us-east-1, the first tier of duration), as the
README's "What it costs" states it; tests/unit/test_cost.py holds the README to these constants,
so the two cannot drift apart. Other Regions and later tiers differ: the line says which price.
"""

PRICES_AS_OF = "late 2026"
PRICE_REGION = "us-east-1"
GB_SECOND_USD = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
REQUEST_USD = 0.20 / 1_000_000
LOADER_TIMEOUT_S = 900  # Lambda's longest: a loader's share ends there, whatever the plan says


def gb_seconds(loaders: int, seconds: float, memory_mb: int) -> float:
    """Lambda bills memory in GB of 1,024 MB."""
    return loaders * seconds * memory_mb / 1024


def usd(loaders: int, seconds: float, memory_mb: int, arch: str = "x86_64") -> float:
    price = GB_SECOND_USD.get(arch, GB_SECOND_USD["x86_64"])
    return gb_seconds(loaders, seconds, memory_mb) * price + loaders * REQUEST_USD


def _money(value: float) -> str:
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def cost_line(loaders: int, seconds: float | None, memory_mb: int, arch: str = "x86_64") -> str:
    """One line: the loaders' GB-seconds and dollars for a run of `seconds` (None: no planned end,
    then per minute), at the list price it names. Past Lambda's timeout each loader ends."""
    price = GB_SECOND_USD.get(arch, GB_SECOND_USD["x86_64"])
    gb = memory_mb / 1024
    at = f"at ${price:.10f}".rstrip("0") + f"/GB-s ({arch}, {PRICE_REGION} list price, {PRICES_AS_OF})"
    if seconds is None:
        minute = usd(loaders, 60, memory_mb, arch) - loaders * REQUEST_USD
        return (
            f"loaders' cost: {loaders} x {gb:.3f} GB = {gb_seconds(loaders, 1, memory_mb):,.1f} GB-s per second of "
            f"load, about {_money(minute)} a minute {at}; each loader ends at Lambda's {LOADER_TIMEOUT_S} s timeout"
        )
    billed = min(seconds, LOADER_TIMEOUT_S)
    cut = f" (the plan's {seconds:g} s is cut at Lambda's {LOADER_TIMEOUT_S} s timeout)" if seconds > billed else ""
    return (
        f"loaders' cost: {loaders} x {billed:g} s x {gb:.3f} GB = {gb_seconds(loaders, billed, memory_mb):,.1f} GB-s, "
        f"about {_money(usd(loaders, billed, memory_mb, arch))} {at}{cut}"
    )


def planned_seconds(duration: float | None, ramp_seconds: float | None, start_ahead_s: float = 0.0) -> float | None:
    """How long each loader runs: the plan's duration (or its stages'), plus the shared start's
    wait (billed too: the loader is running); None when only a request count ends the plan."""
    seconds = ramp_seconds if ramp_seconds is not None else duration
    return None if seconds is None else seconds + start_ahead_s

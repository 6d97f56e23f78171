"""GPU prices: the ones a user gives, and shipped EXAMPLE prices.

The example figures below are ILLUSTRATIVE PLACEHOLDERS, not quotes or market data: round
numbers of the order cloud on-demand GPU-hours cost in 2025, ordered by generation, so that
``--example-prices`` shows how a cost comparison reads. Give your own prices
(``price_per_gpu_hour`` / ``--price-per-gpu-hour HW=USD``) for any decision.
"""

from __future__ import annotations

from infercast.errors import InvalidInputError

__all__ = [
    "EXAMPLE_PRICES_USD_PER_GPU_HOUR",
    "parse_price",
    "resolve_prices",
    "usd_per_million_tokens",
]

EXAMPLE_PRICES_USD_PER_GPU_HOUR: dict[str, float] = {
    "a100": 1.50,
    "l40s": 1.00,
    "h100": 2.50,
    "h200": 3.50,
    "b200": 5.00,
    "b300": 6.50,
    "gb200": 6.00,
    "gb300": 7.50,
    "mi300x": 2.00,
    "mi325x": 2.50,
    "mi355x": 3.50,
}
"""EXAMPLE prices in USD per GPU-hour — illustrative placeholders, not quotes."""


def parse_price(text: str) -> tuple[str, float]:
    """``"h100=2.5"`` → ``("h100", 2.5)`` (the CLI's ``--price-per-gpu-hour``)."""
    hw, sep, value = text.partition("=")
    try:
        price = float(value)
    except ValueError:
        price = -1.0
    if not sep or not hw.strip() or not price > 0:
        raise InvalidInputError(
            f"--price-per-gpu-hour: expected HW=USD with a positive price, e.g. h100=2.49; "
            f"got {text!r}"
        )
    return hw.strip().lower(), price


def resolve_prices(
    hardware: list[str], given: dict[str, float], examples: bool
) -> dict[str, tuple[float, str]]:
    """Price and its source per hardware id: the given one, else the example (if asked)."""
    unknown = sorted(set(given) - set(hardware))
    if unknown:
        raise InvalidInputError(
            f"price_per_gpu_hour: {', '.join(unknown)} is not among the searched hardware "
            f"({', '.join(hardware)})"
        )
    out: dict[str, tuple[float, str]] = {}
    for hw in hardware:
        if hw in given:
            price = given[hw]
            if not price > 0:
                raise InvalidInputError(f"price_per_gpu_hour[{hw}] must be > 0, got {price!r}")
            out[hw] = (price, "given")
        elif examples and hw in EXAMPLE_PRICES_USD_PER_GPU_HOUR:
            out[hw] = (EXAMPLE_PRICES_USD_PER_GPU_HOUR[hw], "EXAMPLE price")
    return out


def usd_per_million_tokens(usd_per_gpu_hour: float, tokens_per_s_per_gpu: float) -> float:
    """Cost of a million output tokens: a GPU-hour's price over the tokens it produces."""
    if tokens_per_s_per_gpu <= 0:
        return float("inf")
    return usd_per_gpu_hour / (tokens_per_s_per_gpu * 3600.0) * 1e6

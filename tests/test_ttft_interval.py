"""``scripts/ttft_interval.py``: the inter-completion interval in a measured TTFT, hand-derived."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ttft_interval.py"
interval = SimpleNamespace(**runpy.run_path(str(SCRIPT)))


def _row(concurrency: int, osl: int, ttft_ms: float, tpot_ms: float) -> dict[str, str]:
    return {
        "model": "m",
        "hardware": "h100",
        "framework": "trtllm",
        "attention_tp": "2",
        "concurrency": str(concurrency),
        "osl": str(osl),
        "ttft_ms": str(ttft_ms),
        "tpot_ms": str(tpot_ms),
    }


def test_interval_is_littles_law() -> None:
    # 8 clients, each 0.2 s to the first token and 127 × 0.01 s after it: 1.47 s a request,
    # so a completion every 1.47 / 8 = 0.18375 s.
    assert interval.completion_interval_s(8, 0.2, 0.01, 128) == pytest.approx(0.18375)


def test_rows_carrying_one_interval_fit_b_one() -> None:
    # TTFT = 50 ms + 1/X with 1/X = (TTFT + (osl − 1)·TPOT)/C solves to
    # TTFT = (50 + (osl − 1)·TPOT/C) / (1 − 1/C):
    # C = 10, osl 101, TPOT 10 ms: (50 + 100) / 0.9 = 166.67 ms;
    # C = 20, osl 201, TPOT 12 ms: (50 + 120) / 0.95 = 178.95 ms;
    # C = 5, osl 51, TPOT 8 ms: (50 + 80) / 0.8 = 162.5 ms.
    rows = [_row(10, 101, 1500 / 9, 10.0), _row(20, 201, 170 / 0.95, 12.0), _row(5, 51, 162.5, 8.0)]
    [(key, points)] = interval.groups(rows).items()
    assert key == ("m", "h100", "trtllm", "2")
    a, b, r2 = interval.fit_interval(points)
    assert a == pytest.approx(0.050)
    assert b == pytest.approx(1.0)
    assert r2 == pytest.approx(1.0)


def test_rows_without_the_interval_fit_b_zero() -> None:
    # A flat 200 ms TTFT whatever the requests' length: slope 0, intercept 0.2 s.
    rows = [_row(8, 128, 200.0, 8.0), _row(8, 512, 200.0, 8.0), _row(16, 256, 200.0, 9.0)]
    [points] = interval.groups(rows).values()
    a, b, _ = interval.fit_interval(points)
    assert (a, b) == (pytest.approx(0.2), pytest.approx(0.0, abs=1e-12))


def test_rows_above_low_concurrency_are_left_out() -> None:
    # C = 64 > 32: queueing behind other prompts, not fitted.
    assert interval.groups([_row(64, 128, 500.0, 20.0)]) == {}

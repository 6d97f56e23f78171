"""The concurrency solve on hand-checkable curves: TPOT = 10 + C ms and TTFT = 100·C ms."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from infercast.planning.adapter import Probe
from infercast.planning.concurrency import largest_concurrency
from infercast.planning.sla import Sla


def curve(calls: list[int]) -> Callable[[int], Probe]:
    def evaluate(c: int) -> Probe:
        calls.append(c)
        tpot = 10.0 + c
        return Probe(c, 100.0 * c, tpot, c * 1.0, 1e3 / tpot)

    return evaluate


@pytest.mark.parametrize("rough", [False, True])
@pytest.mark.parametrize("guess", [None, 1, 37, 40, 41, 500, 5000])
def test_largest_c_under_tpot(guess: int | None, rough: bool) -> None:
    calls: list[int] = []
    solved = largest_concurrency(curve(calls), Sla(tpot_max_ms=50.0), 1000, guess, rough)
    # 10 + C ≤ 50 ⇔ C ≤ 40.
    assert solved.best is not None and solved.best.concurrency == 40
    assert solved.limited_by == "tpot_max_ms"
    assert 41 in calls  # the first failing concurrency was seen
    assert len(calls) <= 2 * math.log2(1000) + 4
    assert all(p.tpot_ms <= 50.0 for p in solved.passing)


def test_the_tighter_limit_binds() -> None:
    # TTFT = 100·C ≤ 2500 ⇔ C ≤ 25, tighter than TPOT's 40; per-user 1000/(10+C) ≥ 30 ⇔ C ≤ 23.
    solved = largest_concurrency(curve([]), Sla(2500.0, 50.0), 1000)
    assert solved.best is not None and solved.best.concurrency == 25
    assert solved.limited_by == "ttft_max_ms"
    solved = largest_concurrency(curve([]), Sla(2500.0, 50.0, 30.0), 1000)
    assert solved.best is not None and solved.best.concurrency == 23


def test_engine_capacity_and_infeasible() -> None:
    solved = largest_concurrency(curve([]), Sla(tpot_max_ms=50.0), 30, 12)
    assert solved.best is not None and solved.best.concurrency == 30
    assert solved.limited_by == "engine capacity"
    calls: list[int] = []
    solved = largest_concurrency(curve(calls), Sla(tpot_max_ms=5.0), 1000, 300)
    assert solved.best is None and solved.first is not None and solved.first.concurrency == 1
    assert 1 in calls


@pytest.mark.parametrize("guess", [37, 40, 41, 500])
def test_a_given_c_1_probe_is_reused_and_brackets_a_failing_guess(guess: int) -> None:
    calls: list[int] = []
    evaluate = curve(calls)
    first = evaluate(1)
    calls.clear()
    solved = largest_concurrency(evaluate, Sla(tpot_max_ms=50.0), 1000, guess, True, first=first)
    assert solved.best is not None and solved.best.concurrency == 40  # 10 + C ≤ 50
    assert 1 not in calls and solved.first == first and first in solved.passing
    if guess > 40:
        assert all(c < guess for c in calls[1:])  # bracketed by C = 1 and the guess


def test_stop_ends_the_solve_at_the_largest_passing_probe() -> None:
    asked: list[tuple[int, int]] = []

    def stop(lo: Probe, below: int, passing: list[Probe]) -> bool:
        asked.append((lo.concurrency, below))
        return lo.concurrency >= 20

    first = curve([])(1)
    solved = largest_concurrency(curve([]), Sla(tpot_max_ms=50.0), 1000, 20, True, stop, first)
    # Asked at C = 1 (nothing known above: below = cap + 1), then at the passing guess 20.
    assert asked == [(1, 1001), (20, 1001)]
    assert solved.pruned and solved.best is not None and solved.best.concurrency == 20

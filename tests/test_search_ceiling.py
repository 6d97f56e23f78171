"""The decode-only throughput ceiling (:mod:`infercast.planning.ceiling`) on hand-checkable
step times: T(D) = 10 ms + 0.1 ms per decoding sequence, osl = 101 (so output tokens/s per
GPU of a probe with D decoding is at most D · 101/100 / T(D − ½) on one GPU)."""

from __future__ import annotations

import pytest

from infercast.hardware import get_hardware
from infercast.planning import adapter
from infercast.planning.adapter import Probe
from infercast.planning.ceiling import Ceiling
from infercast.planning.prune import SLACK
from infercast.specs.registry import default_registry

FIRST = Probe(1, 100.0, 10.0, 100.0, 90.0)
"""C = 1: 100 tokens/s per GPU (Little's law: C × that at C), 90 tokens/s per user."""


def step_s(d: float) -> float:
    return 0.010 + 0.0001 * d


def ceiling(tpot_limit_ms: float | None, cap: int = 1000, dp: int = 1) -> Ceiling:
    return Ceiling(step_s, FIRST, 101, 1, dp, cap, tpot_limit_ms, SLACK)


@pytest.mark.parametrize(
    ("limit_ms", "sup"),
    [
        # T(D − ½) ≤ 30 ms ⇔ D ≤ 200.5: at most 200.5 / 0.030 s · 1.01 = 6750.2 tokens/s.
        (30.0, 200.5 / 0.030 * 1.01),
        # T(D − ½) ≤ 20 ms ⇔ D ≤ 100.5: at most 100.5 / 0.020 s · 1.01 = 5075.3 tokens/s.
        (20.0, 100.5 / 0.020 * 1.01),
    ],
)
def test_the_ceiling_is_the_decode_only_rate_at_the_tpot_limit(limit_ms: float, sup: float):
    below = ceiling(limit_ms)
    assert below.harmless(lambda rate, _: rate <= 1.05 * sup, FIRST, 1001)
    assert not ceiling(limit_ms).harmless(lambda rate, _: rate <= 0.99 * sup, FIRST, 1001)


def test_without_a_tpot_limit_the_cap_bounds_the_decoding_sequences() -> None:
    # D ≤ cap = 100: at most 100 / T(99.5) · 1.01 = 100 / 0.01995 · 1.01 = 5062.7 tokens/s
    # (below Little's law from C = 1: 100 × 100 tokens/s).
    sup = 100 / 0.01995 * 1.01
    assert ceiling(None, cap=100).harmless(lambda rate, _: rate <= 1.05 * sup, FIRST, 101)
    assert not ceiling(None, cap=100).harmless(lambda rate, _: rate <= 0.99 * sup, FIRST, 101)


def test_speed_per_user_is_bounded_by_the_step_and_by_c_1() -> None:
    # Probes decoding D ≥ 150.5 have 1/τ ≤ 1/T(150) = 40 tokens/s; below that up to 90 (C = 1).
    seen: list[float] = []

    def test(rate: float, per_user: float) -> bool:
        seen.append(per_user)
        return per_user <= 40.0

    assert not ceiling(30.0).harmless(test, FIRST, 1001)
    assert max(seen) == 90.0  # never above the C = 1 speed


def test_below_dp_only_littles_law_from_c_1_applies() -> None:
    def no_step(d: float) -> float:
        raise AssertionError("no decode step time is needed when every C < dp")

    c = Ceiling(no_step, FIRST, 101, 1, 8, 4, 30.0, SLACK)
    # C ≤ 4 < dp = 8: at most 4 × 100 tokens/s (× 1.001 slack) = 400.4, at 90 tokens/s per user.
    assert c.harmless(lambda rate, user: rate <= 400.5 and user <= 90.0, FIRST, 5)
    assert not c.harmless(lambda rate, user: rate <= 400.3, FIRST, 5)


def test_a_bracket_tightens_the_bound() -> None:
    lo = Probe(100, 500.0, 20.0, 3000.0, 50.0)
    # Probes to come at 100 < C < 120: Little's law bounds them by 3000 / 100 · 119 · 1.001.
    little = 3000.0 / 100 * 119 * (1 + SLACK)
    assert ceiling(30.0).harmless(lambda rate, user: rate <= little and user <= 50.0, lo, 120)
    # Below that, the decode ceiling at D ≤ 119 (119 / T(118.5) · 1.01 = 5500) is no help.
    assert not ceiling(30.0).harmless(lambda rate, _: rate <= 0.999 * little, lo, 120)
    assert ceiling(30.0).harmless(lambda rate, _: False, lo, 101)  # nothing left to probe


@pytest.mark.parametrize("plan", [{"tp": 1}, {"tp": 1, "dp": 2, "gpus": 2}])
def test_no_real_probe_is_above_its_ceiling(plan: dict) -> None:
    """Each probe of a real plan is a probe to come at its own corner: the ceiling must never
    call it harmless (the bound holds on the cost model, not only on straight lines)."""
    spec = default_registry().get("meta-llama/Llama-3.1-8B-Instruct")
    dep = adapter.deploy(spec, get_hardware("h100"), plan)
    isl, osl = 1024, 256
    cap, _ = adapter.admission(dep, isl, osl)
    first = adapter.probe(dep, isl, osl, 1)
    for c in (2, 3, 8, 40, 150, min(cap, 600)):
        p = adapter.probe(dep, isl, osl, c)
        ceil = Ceiling(
            adapter.decode_step_s(dep, isl, osl),
            first,
            osl,
            dep.plan.gpus,
            dep.plan.dp,
            cap,
            p.tpot_ms,
            SLACK,
        )

        def beaten(rate: float, per_user: float, p: Probe = p) -> bool:
            return rate < p.output_tokens_per_s_per_gpu or per_user < p.tokens_per_s_per_user

        assert not ceil.harmless(beaten, first, cap + 1), c


def test_workers_news_goes_to_the_other_shares_only() -> None:
    from infercast.planning.exchange import Exchange

    exchange = Exchange(3)
    try:
        exchange.bind(1)
        passing = tuple(Probe(c, 100.0 + c, 10.0, 100.0 * c, 90.0 - c) for c in range(1, 21))
        exchange.publish(("h100", 2, passing[-1], passing))
        assert exchange.drain() == []  # nothing for share 1 itself
        for share in (0, 2):
            exchange.bind(share)
            news = exchange.drain()
            # 20 probes travel as 8 + 8 + 4; only the first part carries the plan's rank.
            assert [len(n[3]) for n in news] == [8, 8, 4]
            assert news[0][:3] == ("h100", 2, passing[-1])
            assert [n[:3] for n in news[1:]] == [("", 0, None)] * 2
            assert tuple(p for n in news for p in n[3]) == passing  # every float exact
            assert exchange.drain() == []
    finally:
        exchange.close()


def test_a_full_inbox_drops_news_instead_of_waiting() -> None:
    from infercast.planning.exchange import Exchange

    exchange = Exchange(2)
    try:
        exchange.bind(0)
        for _ in range(20_000):  # ~100 bytes each: more than a 1 MiB (or 64 KiB) pipe holds
            exchange.publish(("h100", 2, None, (FIRST,)))
        exchange.bind(1)
        arrived = exchange.drain()
        assert 0 < len(arrived) < 20_000
        assert all(n == ("h100", 2, None, (FIRST,)) for n in arrived)
    finally:
        exchange.close()


@pytest.mark.parametrize("concurrency", [1, 3, 8, 64])
def test_a_probe_within_the_admitted_load_is_the_estimate(concurrency: int) -> None:
    """The search's probes skip the per-load memory plan up to the admission cap: below dp
    (a timer that knows the load) and above it, TTFT, TPOT and throughput are still those of
    ``infercast.estimate`` to the last bit."""
    import infercast

    spec = default_registry().get("Qwen/Qwen3-30B-A3B")
    args = {"tp": 1, "dp": 4, "ep": 4, "moe_tp": 1, "gpus": 4}
    dep = adapter.deploy(spec, get_hardware("h100"), args)
    isl, osl = 1024, 128
    cap, _ = adapter.admission(dep, isl, osl)
    assert cap >= 64
    p = adapter.probe(dep, isl, osl, concurrency, cap)
    est = infercast.estimate(
        "Qwen/Qwen3-30B-A3B", "h100", **args, isl=isl, osl=osl, concurrency=concurrency
    )
    assert (p.ttft_ms, p.tpot_ms, p.output_tokens_per_s_per_gpu) == (
        est.ttft_ms,
        est.tpot_ms,
        est.output_tokens_per_s_per_gpu,
    )


def test_the_front_answers_dominance_from_its_staircase() -> None:
    """Points (10, 5), (20, 3), (30, 1) (tokens/s per GPU, per user): a corner is dominated
    when one point is at least as good on both axes, whatever the order they came in."""
    from infercast.planning.pareto import Front

    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        front = Front()
        points = [(10.0, 5.0), (20.0, 3.0), (30.0, 1.0)]
        for i in order:
            front.add(Probe(1, 0.0, 0.0, *points[i]), i)
        front.add(Probe(1, 0.0, 0.0, 15.0, 2.0), "dominated by (20, 3)")
        assert [p.output_tokens_per_s_per_gpu for p, _ in front.ordered()] == [30.0, 20.0, 10.0]
        assert front.dominated(15.0, 3.0)  # by (20, 3), tie on speed
        assert not front.dominated(15.0, 4.0)  # (10, 5) is too slow, (20, 3) too low
        assert front.dominated(30.0, 1.0)  # the point itself
        assert not front.dominated(30.5, 0.0)
        assert front.dominated(0.0, 5.0) and not front.dominated(0.0, 5.5)
        assert not front.dominated(float("nan"), 0.0)
    front.add(Probe(1, 0.0, 0.0, float("nan"), 9.0), "nan")  # never dominated, never dominates
    assert not front.dominated(1.0, 6.0) and front.dominated(15.0, 3.0)
    assert len(front.points) == 4

"""Plan search: optimum, SLA, equality with ``estimate``, sizing, rejections, bad input.

Expectations come from ``infercast.estimate`` of the same plans (an independent path: the
public function, fresh deployments, a plain bisection written here) or from arithmetic on the
search's own outputs — never from calibrated figures typed into the test.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import infercast
from infercast.errors import InfercastError, InvalidInputError, UnknownIdError
from infercast.planning import search
from infercast.planning.prices import EXAMPLE_PRICES_USD_PER_GPU_HOUR

LLAMA8 = "meta-llama/Llama-3.1-8B-Instruct"
WORK = {"isl": 1024, "osl": 256}
FIGURES = ("ttft_ms", "tpot_ms", "output_tokens_per_s_per_gpu", "tokens_per_s_per_user")


def est(args: dict[str, Any], concurrency: int | None = None) -> Any:
    args = dict(args)
    if concurrency is not None:
        args["concurrency"] = concurrency
    return infercast.estimate(**args)


def meets(result: Any, ttft: float | None, tpot: float | None, rate: float | None = None) -> bool:
    return (
        (ttft is None or result.ttft_ms <= ttft)
        and (tpot is None or result.tpot_ms <= tpot)
        and (rate is None or result.tokens_per_s_per_user >= rate)
    )


def largest_c_by_bisection(args: dict[str, Any], ttft: float, tpot: float) -> int:
    """Independent plain bisection over estimate() for the largest C meeting the SLA."""
    cap = min(est(args, 1).max_concurrency, 1024 * args["dp"])
    if meets(est(args, cap), ttft, tpot):
        return cap
    lo, hi = 1, cap
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if meets(est(args, mid), ttft, tpot) else (lo, mid)
    return lo


SLA = {"ttft_max_ms": 600.0, "tpot_max_ms": 20.0}


@pytest.fixture(scope="module")
def two_gpu() -> Any:
    return search(LLAMA8, "h100", gpus=2, top=10, **WORK, **SLA)


def test_exact_gpus_enumerates_every_layout_of_two(two_gpu: Any) -> None:
    # A dense model on 2 GPUs: TP2, DP2, PP2 — three layouts, all fit an 8B model.
    assert two_gpu.evaluated == 3
    layouts = {(p.tp, p.dp, p.pp) for p in two_gpu.plans}
    assert layouts <= {(2, 1, 1), (1, 2, 1), (1, 1, 2)}
    assert all(p.gpus == 2 and p.replicas == 1 and p.total_gpus == 2 for p in two_gpu.plans)


def test_plans_equal_estimate_exactly(two_gpu: Any) -> None:
    for plan in two_gpu.plans:
        result = est(plan.estimate_args)
        for name in FIGURES:
            assert getattr(plan, name) == getattr(result, name), (plan.label, name)
        assert result.fits
        assert plan.memory_per_gpu_bytes == result.memory_per_gpu_bytes


def test_pareto_points_equal_estimate_and_are_not_dominated(two_gpu: Any) -> None:
    front = two_gpu.pareto
    assert front
    for p in front:
        result = est(p.estimate_args)
        assert [getattr(p, n) for n in FIGURES] == [getattr(result, n) for n in FIGURES]
        assert meets(result, SLA["ttft_max_ms"], SLA["tpot_max_ms"])
    for a in front:
        for b in front:
            if a is not b:
                assert not (
                    b.output_tokens_per_s_per_gpu >= a.output_tokens_per_s_per_gpu
                    and b.tokens_per_s_per_user >= a.tokens_per_s_per_user
                )
    speeds = [p.tokens_per_s_per_user for p in front]
    assert speeds == sorted(speeds)


def test_concurrency_is_the_largest_meeting_the_sla(two_gpu: Any) -> None:
    for plan in two_gpu.plans:
        c = plan.concurrency
        assert meets(est(plan.estimate_args, c), **_sla())
        if plan.limited_by != "engine capacity":
            assert not meets(est(plan.estimate_args, c + 1), **_sla())
        assert c == largest_c_by_bisection(plan.estimate_args, **_sla())


def _sla() -> dict[str, float]:
    return {"ttft": SLA["ttft_max_ms"], "tpot": SLA["tpot_max_ms"]}


def test_the_best_plan_is_the_best_of_all_layouts(two_gpu: Any) -> None:
    # Independently: each layout's largest SLA concurrency by bisection, then its throughput.
    best = 0.0
    for tp, dp, pp in ((2, 1, 1), (1, 2, 1), (1, 1, 2)):
        args = {"model": LLAMA8, "hardware": "h100", "tp": tp, "dp": dp, "pp": pp, **WORK}
        c = largest_c_by_bisection({**args, "concurrency": 1}, **_sla())
        best = max(best, est(args, c).output_tokens_per_s_per_gpu)
    top = two_gpu.plans[0].output_tokens_per_s_per_gpu
    assert top == best
    rates = [p.output_tokens_per_s_per_gpu for p in two_gpu.plans]
    assert rates == sorted(rates, reverse=True)


def test_no_sla_means_the_engine_capacity() -> None:
    # Without limits the largest concurrency is what the engine holds: the KV capacity or
    # the batch cap of 1024 sequences per DP rank, whichever is smaller.
    result = search(LLAMA8, "h100", gpus=1, **WORK)
    (plan,) = result.plans
    cap = min(est(plan.estimate_args).max_concurrency, 1024)
    assert plan.concurrency == cap and plan.limited_by == "engine capacity"


def test_every_returned_plan_meets_its_sla_across_limits() -> None:
    for sla in (
        {"tpot_max_ms": 12.0},
        {"ttft_max_ms": 250.0},
        {"min_tokens_per_s_per_user": 60.0, "ttft_max_ms": 1000.0},
    ):
        result = search(LLAMA8, "h100", max_gpus=4, top=20, **WORK, **sla)
        assert result.plans, sla
        for plan in result.plans:
            r = est(plan.estimate_args)
            assert meets(
                r,
                sla.get("ttft_max_ms"),
                sla.get("tpot_max_ms"),
                sla.get("min_tokens_per_s_per_user"),
            )
            assert r.fits


def test_sizing_users_fill_replicas() -> None:
    users = 1000
    result = search(LLAMA8, "h100", max_gpus=2, users=users, objective="gpus", top=5, **WORK, **SLA)
    assert result.plans
    for plan in result.plans:
        assert plan.replicas * plan.concurrency >= users
        assert (plan.replicas - 1) * plan.max_concurrency < users  # no spare replica
        assert plan.concurrency <= plan.max_concurrency
        assert plan.total_gpus == plan.replicas * plan.gpus
        assert meets(est(plan.estimate_args), **_sla())
    totals = [p.total_gpus for p in result.plans]
    assert totals == sorted(totals)
    # The fewest GPUs: no plan evaluated here needs fewer (each plan's own replicas).
    for gpus_plan in result.plans[1:]:
        assert gpus_plan.total_gpus >= result.plans[0].total_gpus


def test_prices_cost_per_million_tokens_and_per_hour() -> None:
    result = search(
        LLAMA8,
        ["h100", "h200"],
        gpus=1,
        users=300,
        price_per_gpu_hour={"h100": 2.0, "h200": 3.0},
        objective="cost",
        **WORK,
        **SLA,
    )
    assert {p.hardware for p in result.plans} == {"h100", "h200"}
    for plan in result.plans:
        price = {"h100": 2.0, "h200": 3.0}[plan.hardware]
        per_gpu_hour_tokens = plan.output_tokens_per_s_per_gpu * 3600
        assert plan.usd_per_million_output_tokens == pytest.approx(
            price / per_gpu_hour_tokens * 1e6
        )
        assert plan.usd_per_hour == pytest.approx(price * plan.total_gpus)
        assert plan.price_source == "given"
    costs = [p.usd_per_million_output_tokens for p in result.plans]
    assert costs == sorted(costs)


def test_example_prices_are_labelled() -> None:
    result = search(LLAMA8, "h100", gpus=1, example_prices=True, **WORK)
    plan = result.plans[0]
    assert plan.price_source == "EXAMPLE price"
    assert plan.usd_per_hour == EXAMPLE_PRICES_USD_PER_GPU_HOUR["h100"]
    assert any("EXAMPLE" in n and "not quotes" in n for n in result.notes)


def test_infeasible_tpot_names_the_constraint_and_the_nearest_miss() -> None:
    result = search(LLAMA8, "h100", gpus=2, tpot_max_ms=0.5, **WORK)
    assert result.plans == [] and result.pareto == [] and result.feasible == 0
    (rejection,) = result.rejected
    assert rejection.constraint == "tpot_max_ms" and rejection.plans == 3
    fastest = min(
        est({"model": LLAMA8, "hardware": "h100", "tp": tp, "dp": dp, "pp": pp, **WORK}, 1).tpot_ms
        for tp, dp, pp in ((2, 1, 1), (1, 2, 1), (1, 1, 2))
    )
    assert rejection.nearest_miss.startswith("no plan meets TPOT ≤ 0.5 ms: the fastest reaches")
    assert f"{fastest:.2f} ms" in rejection.nearest_miss and "at C = 1" in rejection.nearest_miss


def test_infeasible_per_user_speed_names_the_fastest_plan() -> None:
    # A per-user speed no plan reaches: the first rejected plan used to compare its speed
    # with "no best yet" (None) and raise TypeError (a 500 from POST /search).
    result = search(LLAMA8, "h100", gpus=2, min_tokens_per_s_per_user=5000.0, **WORK)
    assert result.plans == [] and result.feasible == 0
    (rejection,) = result.rejected
    assert rejection.constraint == "min_tokens_per_s_per_user" and rejection.plans == 3
    fastest = max(
        1000.0
        / est(
            {"model": LLAMA8, "hardware": "h100", "tp": tp, "dp": dp, "pp": pp, **WORK}, 1
        ).tpot_ms
        for tp, dp, pp in ((2, 1, 1), (1, 2, 1), (1, 1, 2))
    )
    assert rejection.nearest_miss.startswith("no plan meets ≥ 5000 tokens/s per user")
    assert f"{fastest:.1f} tokens/s" in rejection.nearest_miss


def test_memory_rejection() -> None:
    # 70B parameters in bf16 are 141 GB: one 48 GB L40S cannot hold them.
    result = search("meta-llama/Llama-3.3-70B-Instruct", "l40s", gpus=1, **WORK)
    assert result.plans == []
    (rejection,) = result.rejected
    assert rejection.constraint == "memory" and rejection.plans == 1
    assert "do not fit" in rejection.nearest_miss


def test_plans_whose_weights_cannot_fit_are_skipped_and_said_so() -> None:
    # DeepSeek-V3 holds about 673 GB of fp8 weights; an H100 leaves 72 GB of its 80 to them,
    # so even 8 H100s hold at most 576 GB: every layout of 1..8 GPUs (1 + 5 + 1 + 14 + 1 + 5 + 1
    # + 30 = 58) is a memory rejection, now found without evaluating any.
    result = search("deepseek-ai/DeepSeek-V3", "h100", max_gpus=8, isl=1024, osl=1024)
    assert (result.evaluated, result.skipped) == (0, 58)
    assert result.plans == [] and not result.truncated
    (rejection,) = result.rejected
    assert rejection.constraint == "memory" and rejection.plans == 58
    text = rejection.nearest_miss
    assert text.startswith("58 plans do not fit in memory (58 skipped unevaluated: their weights")
    # The nearest by the floor: 8 GPUs without PP, the first in plan order; at least
    # 673 / 8 − 72 ≈ 12 GB short.
    assert "the nearest, h100 TP1×DP8 MoE TP8×EP1 fp8/fp8 kv bf16 generic, is at least 12." in text


def test_max_plans_counts_only_plans_that_may_fit() -> None:
    # B200s leave 162 GB each to DeepSeek-V3's 673 GB: 1..4 of them cannot hold it (21
    # layouts), 5 can (one layout, PP5). The one plan max_plans allows is that one; it used
    # to be the single-GPU plan, a memory rejection, and the search stopped there.
    result = search("deepseek-ai/DeepSeek-V3", "b200", max_gpus=5, max_plans=1, isl=1024, osl=1024)
    assert (result.evaluated, result.skipped, result.feasible) == (1, 21, 1)
    assert not result.truncated
    (plan,) = result.plans
    assert (plan.gpus, plan.tp, plan.dp, plan.pp) == (5, 1, 1, 5)
    assert [(r.constraint, r.plans) for r in result.rejected] == [("memory", 21)]


def test_moe_space_has_every_expert_split() -> None:
    result = search("Qwen/Qwen3-30B-A3B", "h100", gpus=4, top=200, isl=1024, osl=128)
    splits = {(p.tp, p.dp, p.pp, p.ep, p.moe_tp) for p in result.plans}
    # tp·dp = 4 with no PP: every ep dividing 4 (moe_tp = 4/ep) appears for TP4 and for DP4.
    for tp, dp in ((4, 1), (1, 4), (2, 2)):
        for ep in (1, 2, 4):
            assert (tp, dp, 1, ep, 4 // ep) in splits


def test_long_prompts_try_context_parallelism() -> None:
    result = search(LLAMA8, "h100", gpus=2, isl=32768, osl=64, top=50)
    assert any(p.cp == 2 for p in result.plans)
    assert any(p.sp for p in result.plans)


def test_limits_stop_the_search() -> None:
    result = search(LLAMA8, "h100", max_gpus=8, max_plans=2, **WORK)
    assert result.evaluated == 2 and result.truncated
    assert any("stopped after 2 plans" in n for n in result.notes)


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"tpot_max_ms": -1.0}, "tpot_max_ms"),
        ({"ttft_max_ms": 0.0}, "ttft_max_ms"),
        ({"max_gpus": 0}, "max_gpus"),
        ({"max_gpus": 100_000}, "max_gpus"),
        ({"gpus": 2, "max_gpus": 4}, "not both"),
        ({"kv_dtypes": ["fp7"]}, "kv_dtypes"),
        ({"moe_dtypes": ["fp8"]}, "moe_dtypes"),
        ({"frameworks": ["tgi"]}, "frameworks"),
        ({"objective": "cost"}, "no price for h100"),
        ({"objective": "speed"}, "objective"),
        ({"price_per_gpu_hour": {"b200": 5.0}}, "b200"),
        ({"users": 0}, "users"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_clear_error(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        search(LLAMA8, "h100", **{**WORK, **options})


def test_unknown_ids() -> None:
    with pytest.raises(UnknownIdError, match="hardware"):
        search(LLAMA8, "h1000", **WORK)
    with pytest.raises(InfercastError, match="model"):
        search("no/such-model", "h100", **WORK)
    with pytest.raises(InvalidInputError, match="encoder"):
        search("google-bert/bert-base-uncased", "h100", **WORK)


def test_hardware_aliases_are_one_part_searched_once() -> None:
    # h100, h100 and H100-SXM are one catalog part; a dense model on one GPU has one layout
    # (TP1), so the search has one plan — it searched the part three times and listed it thrice.
    result = search(LLAMA8, ["h100", "h100", "H100-SXM"], gpus=1, top=10, **WORK)
    assert result.evaluated == 1 and not result.truncated
    (plan,) = result.plans
    assert (plan.hardware, plan.tp, plan.dp, plan.pp) == ("h100", 1, 1, 1)
    assert plan == search(LLAMA8, "h100", gpus=1, **WORK).plans[0]
    assert [p.hardware for p in result.best_per_hardware] == ["h100"]
    note = "hardware: h100, h100, H100-SXM name the same part (h100): searched once"
    assert note in result.notes


def test_hardware_aliases_keep_the_order_first_named() -> None:
    # Two parts, one layout each: two plans, the first named part's first (max_plans 1 keeps
    # only it). With the alias counted apart there were three plans and max_plans 2 truncated.
    names = ["h200", "H100-SXM", "h200-141gb", "h100"]
    both = search(LLAMA8, names, gpus=1, max_plans=2, **WORK)
    assert both.evaluated == 2 and not both.truncated
    assert {p.hardware for p in both.plans} == {"h200", "h100"}
    first = search(LLAMA8, names, gpus=1, max_plans=1, **WORK)
    assert [p.hardware for p in first.plans] == ["h200"] and first.truncated


def test_prices_may_name_a_part_by_alias() -> None:
    result = search(
        LLAMA8, "h100", gpus=1, price_per_gpu_hour={"H100-SXM": 2.0}, objective="cost", **WORK
    )
    (plan,) = result.plans
    assert plan.price_source == "given" and plan.usd_per_hour == 2.0
    with pytest.raises(InvalidInputError, match="'h100' and 'H100-SXM' name the same part"):
        search(LLAMA8, "h100", gpus=1, price_per_gpu_hour={"h100": 2.0, "H100-SXM": 3.0}, **WORK)


def test_replicas_arithmetic_is_ceil() -> None:
    result = search(LLAMA8, "h100", gpus=1, users=5000, **WORK, **SLA)
    plan = result.plans[0]
    assert plan.replicas == math.ceil(5000 / plan.max_concurrency)
    assert plan.concurrency == math.ceil(5000 / plan.replicas)


def test_sizing_across_hardware_gives_each_parts_fewest_gpus() -> None:
    users = 800
    options = {"gpus": 1, "users": users, "objective": "gpus", "example_prices": True}
    result = search(LLAMA8, ["h100", "h200"], **options, **WORK, **SLA)
    best = {p.hardware: p for p in result.best_per_hardware}
    assert set(best) == {"h100", "h200"}
    for hw, plan in best.items():
        alone = search(LLAMA8, hw, **options, **WORK, **SLA).plans[0]
        assert plan.total_gpus == alone.total_gpus == math.ceil(users / alone.max_concurrency)
        assert plan.usd_per_hour == EXAMPLE_PRICES_USD_PER_GPU_HOUR[hw] * plan.total_gpus


def test_forked_workers_give_the_serial_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from infercast.planning import evaluate

    forks: list[str] = []
    real = multiprocessing.get_context

    def context(method: str) -> Any:
        forks.append(method)
        return real(method)

    monkeypatch.setattr(evaluate.multiprocessing, "get_context", context)
    monkeypatch.setattr(evaluate.threading, "active_count", lambda: 1)  # the harness's threads
    monkeypatch.setattr(evaluate, "MIN_PLANS_PER_WORKER", 8)
    options = {"max_gpus": 6, "kv_dtypes": ["bf16", "fp8"], "top": 20, **WORK, **SLA}
    serial = search(LLAMA8, "h100", **options)
    assert serial.evaluated >= 2 * evaluate.MIN_PLANS_PER_WORKER
    parallel = search(LLAMA8, "h100", workers=2, **options)
    assert forks == ["fork"]
    # Each process prunes on what it has seen, so only the work count may differ.
    a, b = parallel.model_dump(), serial.model_dump()
    assert a.pop("probes") > 0 and b.pop("probes") > 0
    assert a == b

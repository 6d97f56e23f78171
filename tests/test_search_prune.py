"""Pruned bisections (:mod:`infercast.planning.prune`) change nothing but the work done.

Each case is searched twice, with ``prune=False`` (every feasible plan bisected to its ``C*``)
and with the default pruning; everything the search returns — top plans and their figures,
best per hardware, the Pareto front, counts, rejections, notes — must be equal, and the
pruned search must have solved fewer steady states (else the test checks nothing).

Plans skipped for their weights (:mod:`infercast.planning.fit`) likewise: the floor is below
every plan's weights, a plan it skips admits nothing, and a search skipping them finds the
feasible plans a search evaluating every plan finds.
"""

from __future__ import annotations

from typing import Any

import pytest

from infercast.deployment import Workload
from infercast.estimation.admit import admit
from infercast.hardware import get_hardware
from infercast.planning import adapter, search
from infercast.planning.fit import WeightFloor
from infercast.planning.search import _label
from infercast.planning.space import candidates
from infercast.specs.registry import default_registry

LLAMA8 = "meta-llama/Llama-3.1-8B-Instruct"
WORK = {"isl": 1024, "osl": 256}
SLA = {"ttft_max_ms": 600.0, "tpot_max_ms": 20.0}
KV = {"kv_dtypes": ["bf16", "fp8"]}

CASES: list[tuple[str, Any, dict[str, Any]]] = [
    (LLAMA8, "h100", {"max_gpus": 4, "top": 3, **KV, **WORK, **SLA}),
    (LLAMA8, "h100", {"max_gpus": 4, "top": 2, "objective": "gpus", **KV, **WORK, **SLA}),
    (
        LLAMA8,
        ["h100", "h200"],
        {"max_gpus": 2, "top": 1, "objective": "cost", "example_prices": True, **KV, **WORK, **SLA},
    ),
    (
        "Qwen/Qwen3-30B-A3B",
        "h100",
        {"max_gpus": 4, "top": 2, "isl": 1024, "osl": 128, "tpot_max_ms": 30.0, **KV},
    ),
]


@pytest.mark.parametrize(("model", "hardware", "options"), CASES)
def test_pruning_returns_what_the_full_bisection_does(
    model: str, hardware: Any, options: dict[str, Any]
) -> None:
    full = search(model, hardware, prune=False, **options)
    pruned = search(model, hardware, **options)
    assert pruned.probes < full.probes
    a, b = full.model_dump(), pruned.model_dump()
    a.pop("probes"), b.pop("probes")
    assert a == b
    assert full.plans and full.pareto


def test_no_pruning_when_sizing_for_users() -> None:
    options = {"max_gpus": 2, "users": 300, "top": 1, **KV, **WORK, **SLA}
    full = search(LLAMA8, "h100", prune=False, **options)
    assert search(LLAMA8, "h100", **options).probes == full.probes


V3 = "deepseek-ai/DeepSeek-V3"


@pytest.mark.parametrize(
    ("model", "hardware", "gpus", "formats"),
    [
        (V3, "h100", 12, [(None, None, None)]),  # MLA + MoE, fp8 checkpoint
        (V3, "b200", 8, [("bf16", None, "fp8")]),
        ("meta-llama/Llama-3.3-70B-Instruct", "l40s", 8, [(None, None, None), ("fp8", None, None)]),
        ("Qwen/Qwen3-Next-80B-A3B-Thinking", "h100", 4, [(None, None, None)]),  # hybrid blocks
        ("openai/gpt-oss-120b", "l40s", 4, [(None, None, None)]),  # mxfp4 experts, windows
    ],
)
def test_the_weight_floor_is_below_every_plans_weights(
    model: str, hardware: str, gpus: int, formats: list[Any]
) -> None:
    spec = default_registry().get(model)
    part = get_hardware(hardware)
    floor = WeightFloor(spec, {hardware: part}, 1024, 256, _label)
    unfit = 0
    for cand in candidates(spec, [hardware], list(range(1, gpus + 1)), 1024, formats, [None]):
        dep = adapter.deploy(spec, part, cand.plan_args())
        weights = admit(dep, Workload(1024, 256, 1)).memory.weights_bytes
        bound = floor.floor_bytes(cand)
        assert bound is not None and bound <= weights * (1 + 1e-12), cand
        if cand.gpus == 1:  # one GPU holds the replica: the floor is its weights
            assert bound == pytest.approx(weights, rel=1e-12)
        if floor.unfit(cand):
            unfit += 1
            assert adapter.admission(dep, 1024, 256)[0] == 0, cand
    assert unfit == floor.skipped and unfit > 0  # else the case checks nothing


def test_skipping_unfit_plans_finds_every_feasible_plan() -> None:
    """DeepSeek-V3 (about 673 GB of fp8 weights) on H100 and B200, 1..12 GPUs: 79 layouts per
    part (1, 5, 1, 14, 1, 5, 1, 30, 1, 5, 1, 14 of 1..12 GPUs). An H100 leaves 72 GB to the
    weights (80 GB less the 8 GB reserve), so 1..9 of them cannot hold 673 GB (59 layouts); a
    B200 leaves 162 GB, so 1..4 of them cannot (21 layouts). Skipped, those 80 plans are not
    evaluated; the feasible plans (all of them listed, top 200) are the same."""
    options: dict[str, Any] = {"max_gpus": 12, "isl": 1024, "osl": 1024, "top": 200}
    full = search(V3, ["h100", "b200"], skip_unfit=False, **options)
    fast = search(V3, ["h100", "b200"], **options)
    assert (full.evaluated, full.skipped, fast.evaluated, fast.skipped) == (158, 0, 78, 80)
    assert 0 < full.feasible < 200
    a, b = full.model_dump(), fast.model_dump()
    for key in ("plans", "best_per_hardware", "pareto", "feasible", "truncated", "notes"):
        assert a[key] == b[key], key
    assert [(r.constraint, r.plans) for r in full.rejected] == [
        (r.constraint, r.plans) for r in fast.rejected
    ]
    (memory,) = (r for r in fast.rejected if r.constraint == "memory")
    assert "(80 skipped unevaluated: their weights alone exceed" in memory.nearest_miss

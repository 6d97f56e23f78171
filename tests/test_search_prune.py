"""Pruned bisections (:mod:`infercast.planning.prune`) change nothing but the work done.

Each case is searched twice, with ``prune=False`` (every feasible plan bisected to its ``C*``)
and with the default pruning; everything the search returns — top plans and their figures,
best per hardware, the Pareto front, counts, rejections, notes — must be equal, and the
pruned search must have solved fewer steady states (else the test checks nothing).
"""

from __future__ import annotations

from typing import Any

import pytest

from infercast.planning import search

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

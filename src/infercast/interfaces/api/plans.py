"""Which parallelism degrees a model admits, so clients offer only valid choices.

These mirror ``ParallelPlan.validate_for``'s shape rules (a degree must split heads, widths or
experts evenly); the estimator still validates the whole plan and its 422 is authoritative.
"""

from __future__ import annotations

from infercast.specs import ModelSpec
from infercast.specs.layer_classes import ATTENTION_CLASSES

from .schemas import PlanConstraints

__all__ = ["MAX_DEGREE", "plan_constraints"]

MAX_DEGREE = 1024


def _divisors(n: int, limit: int = MAX_DEGREE) -> list[int]:
    return [d for d in range(1, min(n, limit) + 1) if n % d == 0]


def _tp_ok(tp: int, heads: list[int], kv_heads: list[int], widths: list[int]) -> bool:
    if any(h % tp for h in heads) or any(w % tp for w in widths):
        return False
    # KV heads split evenly (kv % tp == 0) or are replicated (tp a multiple of kv).
    return all(kv % tp == 0 or tp % kv == 0 for kv in kv_heads)


def plan_constraints(spec: ModelSpec) -> PlanConstraints:
    attention = spec.layers_of(*ATTENTION_CLASSES)
    heads = [lt.layer_specs.num_heads for lt in attention]
    kv_heads = [
        getattr(lt.layer_specs, "num_kv_heads", None)
        or (1 if lt.layer_class == "MultiHeadLatentAttentionLayer" else lt.layer_specs.num_heads)
        for lt in attention
    ]
    widths = [
        lt.layer_specs.intermediate_size for lt in spec.layers_of("MLPLayer", "GatedMLPLayer")
    ]
    candidates = sorted({d for h in heads for d in _divisors(h)}) or [1]
    valid_tp = [tp for tp in candidates if _tp_ok(tp, heads, kv_heads, widths)] or [1]
    moe = spec.moe_layers
    num_experts = moe[0].num_experts if moe else None
    top_k = moe[0].num_experts_per_tok if moe else None
    valid_ep = sorted({d for m in moe for d in _divisors(m.num_experts)}) if moe else [1]
    if moe:
        valid_ep = [ep for ep in valid_ep if all(m.num_experts % ep == 0 for m in moe)]
    return PlanConstraints(
        num_layers=spec.num_layers,
        attention_heads=heads,
        kv_heads=kv_heads,
        num_experts=num_experts,
        experts_per_token=top_k,
        valid_tp=valid_tp,
        valid_ep=valid_ep,
        expert_intermediate_sizes=[m.expert_intermediate_size for m in moe],
    )

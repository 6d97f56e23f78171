"""Which parallelism degrees a model admits, so clients offer only valid choices.

These are ``ParallelPlan.validate_for``'s shape rules (:mod:`infercast.parallel.shards`: a
degree must split heads, widths or experts evenly); the estimator still validates the whole
plan and its 422 is authoritative.
"""

from __future__ import annotations

from infercast.parallel import ParallelPlan, PlanError
from infercast.parallel.shards import shard_problems
from infercast.specs import ModelSpec

from .schemas import PlanConstraints

__all__ = ["MAX_DEGREE", "plan_constraints"]

MAX_DEGREE = 1024
MAX_GROUP = 128
"""Largest attention group (tp × dp) whose expert-parallel degrees are listed."""


def _divisors(n: int, limit: int = MAX_DEGREE) -> list[int]:
    return [d for d in range(1, min(n, limit) + 1) if n % d == 0]


def _tp_ok(spec: ModelSpec, tp: int) -> bool:
    """No op of the model breaks a ``tp`` rule (the estimator's own shard rules)."""
    plan = ParallelPlan(tp=tp, moe_tp=tp)
    return not any(
        field == "tp"
        for lt in spec.layer_types
        for field, _ in shard_problems(lt.layer_specs.ops(), plan)
    )


def _valid_ep(spec: ModelSpec, group: int) -> list[int]:
    """Expert-parallel degrees with no expert shard problem over ``group`` GPUs."""
    out = []
    for ep in _divisors(group):
        plan = ParallelPlan(tp=1, dp=group, ep=ep, moe_tp=group // ep)
        problems = [
            field
            for lt in spec.moe_entries
            for field, _ in shard_problems(lt.layer_specs.ops(), plan)
            if field in ("ep", "moe_tp")
        ]
        if not problems:
            out.append(ep)
    return out


def _valid_cp(spec: ModelSpec, dp: int) -> list[int]:
    """Context-parallel degrees the plan rules accept over ``dp`` ranks (``ParallelPlan``)."""
    if not spec.layers_with("attention"):
        return [1]
    return [cp for cp in range(1, dp + 1) if _builds(dp, cp)]


def _builds(dp: int, cp: int) -> bool:
    """Whether ``ParallelPlan.build`` accepts these degrees (its own arithmetic rules)."""
    try:
        ParallelPlan.build(dp=dp, cp=cp)
    except PlanError:
        return False
    return True


def plan_constraints(spec: ModelSpec) -> PlanConstraints:
    cores = [lt.layer_specs.attention_core() for lt in spec.layers_with("attention")]
    heads = [core.heads for core in cores if core]
    # MLA's absorbed decode shares one latent over all heads: 1 KV head for display.
    kv_heads = [1 if core.kind == "mla" else core.kv_heads for core in cores if core]
    candidates = sorted({d for h in heads for d in _divisors(h)}) or [1]
    valid_tp = [tp for tp in candidates if _tp_ok(spec, tp)] or [1]
    moe = spec.moe_layers
    num_experts = moe[0].num_experts if moe else None
    top_k = moe[0].num_experts_per_tok if moe else None
    valid_ep = sorted({d for m in moe for d in _divisors(m.num_experts)}) if moe else [1]
    if moe:
        valid_ep = [ep for ep in valid_ep if all(m.num_experts % ep == 0 for m in moe)]
    by_group = {str(g): _valid_ep(spec, g) for g in range(1, MAX_GROUP + 1)} if moe else {}
    by_dp = {str(dp): _valid_cp(spec, dp) for dp in range(1, MAX_GROUP + 1)}
    return PlanConstraints(
        num_layers=spec.num_layers,
        attention_heads=heads,
        kv_heads=kv_heads,
        num_experts=num_experts,
        experts_per_token=top_k,
        valid_tp=valid_tp,
        valid_ep=valid_ep,
        expert_intermediate_sizes=[m.expert_intermediate_size for m in moe],
        valid_ep_by_group=by_group,
        valid_cp_by_dp=by_dp,
    )

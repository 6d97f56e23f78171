"""Which parallelism degrees a model admits, so clients offer only valid choices.

These are ``ParallelPlan.validate_for``'s shape rules (:mod:`infercast.parallel.shards`: a
degree must split heads, widths or experts evenly), and the DP/PP layouts per TP are asked of
``ParallelPlan.build`` and ``validate_for`` themselves, so the web page holds no plan rule. The
estimator still validates the whole plan and its 422 is authoritative.
"""

from __future__ import annotations

import threading

from infercast.parallel import ParallelPlan, PlanError
from infercast.parallel.shards import shard_problems
from infercast.specs import ModelSpec

from .schemas import PlanConstraints, PlanShape

__all__ = ["MAX_DEGREE", "plan_constraints"]

MAX_DEGREE = 1024
MAX_GROUP = 128
"""Largest attention group (tp × dp) whose expert-parallel degrees are listed."""
MAX_GPUS = 128
"""Largest replica (tp × dp × pp GPUs) whose DP/PP layouts are listed."""
_MEMO_SIZE = 64
_memo: dict[str, tuple[ModelSpec, PlanConstraints]] = {}
_memo_lock = threading.Lock()


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


def _accepts(spec: ModelSpec, tp: int, dp: int, pp: int, eps: list[int]) -> bool:
    """Whether ``ParallelPlan`` (build + ``validate_for``) accepts tp×dp×pp with one of ``eps``."""
    for ep in eps:
        try:
            ParallelPlan.build(tp=tp, dp=dp, pp=pp, ep=ep).validate_for(spec)
        except PlanError:
            continue
        return True
    return False


def _plan_shapes(spec: ModelSpec, tp: int, ep_by_group: dict[str, list[int]]) -> list[PlanShape]:
    """Every (dp, pp) the plan rules accept at ``tp``, with the GPUs it takes."""
    shapes = []
    for dp in range(1, MAX_GROUP // tp + 1):
        eps = ep_by_group.get(str(tp * dp)) or [1]  # dense (or no EP works): ep = 1 only
        for pp in range(1, MAX_GPUS // (tp * dp) + 1):
            if _accepts(spec, tp, dp, pp, eps):
                shapes.append(PlanShape(dp=dp, pp=pp, gpus=tp * dp * pp))
    return shapes


def plan_constraints(spec: ModelSpec) -> PlanConstraints:
    """The valid degrees of ``spec``, memoised per spec object: listing them asks
    ``ParallelPlan`` about a thousand plans (~0.3 s), and the answer depends on the spec alone
    (a re-imported model is a new object, so it is recomputed)."""
    hit = _memo.get(spec.model_id)
    if hit is not None and hit[0] is spec:
        return hit[1]
    constraints = _constraints(spec)
    with _memo_lock:  # requests run on worker threads
        _memo[spec.model_id] = (spec, constraints)
        while len(_memo) > _MEMO_SIZE:
            _memo.pop(next(iter(_memo)))
    return constraints


def _constraints(spec: ModelSpec) -> PlanConstraints:
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
        plans_by_tp={str(tp): _plan_shapes(spec, tp, by_group) for tp in valid_tp},
        sequence_parallel_tp=[
            tp for tp in valid_tp if ParallelPlan.build(tp=tp, sequence_parallel=True).sp
        ],
    )

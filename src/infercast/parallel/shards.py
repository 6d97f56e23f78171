"""How each primitive op is split over the GPUs of a plan, and when a plan cannot split it.

The shard kinds are defined in :mod:`infercast.specs.ops`. Here: the per-GPU size of an op
(parameters, and the ``N``/``K`` of its GEMM) and the divisibility rules a plan must meet —
a column or row shard divides by ``tp`` (whole heads, or K/V heads replicated one per GPU when
``tp`` is a multiple of them), experts by ``ep`` and an expert's width by ``moe_tp``. Both the
cost engine (:mod:`infercast.layers.engine`) and plan validation read these functions, so a
layer class built from ops needs no rule of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infercast.specs.ops import Embedding, Linear, Op

if TYPE_CHECKING:
    from infercast.parallel.plan import ParallelPlan

__all__ = ["local_features", "local_params", "shard_problems"]


def _split(size: int, heads: int | None, tp: int) -> float:
    """``size`` features split ``tp`` ways; by whole heads (≥ 1 per GPU) when ``heads``."""
    if heads:
        return max(1, heads // tp) * (size // heads)
    return size / tp


def local_features(op: Linear, plan: ParallelPlan) -> tuple[float, float]:
    """``(in, out)`` features of ONE matrix of the op on one GPU (an expert: one expert)."""
    if op.shard == "col":
        return op.in_features, _split(op.out_features, op.heads, plan.tp)
    if op.shard == "row":
        return _split(op.in_features, op.heads, plan.tp), op.out_features
    if op.shard == "vocab":
        return op.in_features, op.out_features / plan.tp
    if op.shard == "expert" and op.expert_split == "out":
        return op.in_features, op.out_features / plan.moe_tp
    if op.shard == "expert":
        return op.in_features / plan.moe_tp, op.out_features
    return op.in_features, op.out_features


def local_params(op: Op, plan: ParallelPlan) -> float:
    """Parameters of the op stored on one GPU."""
    if isinstance(op, Linear):
        if op.shard == "expert":
            # E/ep whole experts, each sliced moe_tp ways (biases too, as engines pad them).
            return op.experts / plan.ep * (op.params // op.experts) / plan.moe_tp
        k, n = local_features(op, plan)
        weights = 0.0 if op.tied else k * n
        if not op.bias:
            return weights
        return weights + (op.out_features if op.shard == "row" else n)
    if isinstance(op, Embedding):
        return op.params / plan.tp
    shard = getattr(op, "shard", "replicated")
    return op.params / plan.tp if shard == "col" else float(op.params)


_Rules = tuple[tuple[tuple[str, int, str], ...], tuple[int, ...]]
_RULES: dict[int, tuple[tuple[Op, ...], _Rules]] = {}


def _rules(ops: tuple[Op, ...]) -> _Rules:
    """What :func:`shard_problems` checks of ``ops``, in its order: (plan field, size that
    field's degree must divide, the size's label) per split, and the K/V head counts that
    may be replicated. Remembered per ops tuple (memoised per layer spec, so its identity is
    stable; the entry keeps it alive): a plan search checks thousands of layouts."""
    hit = _RULES.get(id(ops))
    if hit is not None and hit[0] is ops:
        return hit[1]
    splits: list[tuple[str, int, str]] = []
    linears = [op for op in ops if isinstance(op, Linear)]
    for op in linears:
        sharded = op.out_features if op.shard == "col" else op.in_features
        n = op.heads or sharded
        if op.shard in ("col", "row") and op.split_label:
            splits.append(("tp", n, op.split_label))
        if op.shard == "expert":
            splits.append(("ep", op.experts, ""))
            inner = op.out_features if op.expert_split == "out" else op.in_features
            splits.append(("moe_tp", inner, op.split_label))
    kv_heads = tuple(op.heads for op in linears if op.replicable and op.heads)
    rules = (tuple(splits), kv_heads)
    if len(_RULES) >= 1 << 12:
        _RULES.clear()
    _RULES[id(ops)] = (ops, rules)
    return rules


def shard_problems(ops: tuple[Op, ...], plan: ParallelPlan) -> list[tuple[str, str]]:
    """``(plan field, message)`` for every op this plan cannot split evenly (deduplicated).

    K/V heads (``replicable``) are checked only once the query heads split: a wrong ``tp``
    is reported once, by its first cause."""
    found: list[tuple[str, str]] = []
    tp, moe_tp, ep = plan.tp, plan.moe_tp, plan.ep
    splits, kv_heads = _rules(ops)
    for field, n, label in splits:
        degree = tp if field == "tp" else ep if field == "ep" else moe_tp
        if n % degree:
            if field == "ep":
                problem = ("ep", f"{n} experts are not divisible by ep={ep}")
            else:
                problem = (field, f"{label.format(n=n)} not divisible by {field}={degree}")
            if problem not in found:
                found.append(problem)
    if found and any(field == "tp" for field, _ in found):
        return found
    for kv in kv_heads:
        if tp <= kv and kv % tp:
            problem = ("tp", f"{kv} KV heads are not divisible by tp={tp}")
            if problem not in found:
                found.append(problem)
        if tp > kv and tp % kv:
            problem = (
                "tp",
                f"tp={tp} is not a multiple of the {kv} KV heads, so they cannot be replicated "
                "evenly",
            )
            if problem not in found:
                found.append(problem)
    return found

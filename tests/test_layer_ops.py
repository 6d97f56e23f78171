"""Layers declared as primitive ops: counting, sharding, plan rules and GEMM shapes.

Shapes (unless a test says otherwise): hidden h = 64, 4 query heads, 2 KV heads, head_dim 16,
bf16. Expected values are written out by hand from the op definitions in the docstrings of
``infercast.specs.ops`` and ``infercast.parallel.shards``.
"""

from __future__ import annotations

import typing
from typing import ClassVar

import pytest

from infercast.dtypes import dtype
from infercast.errors import InvalidInputError
from infercast.layers import CostContext, StepShape, cost_model_class, cost_models
from infercast.layers.ffn import MLPCost
from infercast.parallel import ParallelPlan
from infercast.parallel.shards import local_params, shard_problems
from infercast.specs import LAYER_CLASSES
from infercast.specs.classes.base import LayerSpecs, Role
from infercast.specs.layer_classes import (
    GroupedQueryAttentionLayerSpecs,
    MoELayerSpecs,
    MultiHeadLatentAttentionLayerSpecs,
)
from infercast.specs.ops import Linear, Op
from infercast.specs.registry import default_registry
from infercast.specs.schema import LayerType

BF16 = dtype("bf16")
GQA = GroupedQueryAttentionLayerSpecs(hidden_size=64, num_heads=4, num_kv_heads=2, head_dim=16)


def ctx(plan: ParallelPlan) -> CostContext:
    return CostContext(plan, None, None, BF16, BF16, BF16)


def test_gqa_ops_count_its_parameters() -> None:
    # q 64·64 + k 64·32 + v 64·32 + o 64·64 = 12288; no biases, norms or sinks.
    assert GQA.parameter_count_per_instance() == 12288
    assert GQA.matmul_params_per_token() == 12288
    # K and V of 2 heads × 16 per token.
    assert GQA.kv_cache_elements_per_token() == 64
    assert [op.name for op in GQA.ops() if isinstance(op, Linear)] == [
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
    ]


def test_ops_are_kept_per_instance_and_a_copy_recomputes_them() -> None:
    """ops() is remembered per (frozen) instance; the memo is no field (equality, dumps) and a
    model_copy with changed specs derives its own ops."""
    specs = GroupedQueryAttentionLayerSpecs(
        hidden_size=64, num_heads=4, num_kv_heads=2, head_dim=16
    )
    first = specs.ops()
    assert specs.ops() is first
    assert specs == GQA and "ops" not in specs.model_dump_json()
    wider = specs.model_copy(update={"num_kv_heads": 4})
    # k and v now 64·64 each: q 4096 + k 4096 + v 4096 + o 4096 = 16384.
    assert wider.parameter_count_per_instance() == 16384
    assert specs.parameter_count_per_instance() == 12288


def test_k_v_heads_replicate_when_tp_exceeds_them() -> None:
    # tp = 4 > 2 KV heads: each GPU holds 1 whole KV head (16 features), not half of one.
    plan = ParallelPlan(tp=4, moe_tp=4)
    q, k, _, o = (op for op in GQA.ops() if isinstance(op, Linear))
    assert local_params(q, plan) == 64 * 16  # 1 of 4 query heads
    assert local_params(k, plan) == 64 * 16  # 1 replicated KV head
    assert local_params(o, plan) == 16 * 64


def test_row_bias_is_replicated_and_column_bias_split() -> None:
    col = Linear("up", 64, 128, "col", bias=True)
    row = Linear("down", 128, 64, "row", bias=True)
    plan = ParallelPlan(tp=2, moe_tp=2)
    assert local_params(col, plan) == 64 * 64 + 64
    assert local_params(row, plan) == 64 * 64 + 64  # 64·128/2 weights + the full 64 bias


def test_experts_are_placed_then_sliced() -> None:
    moe = MoELayerSpecs(
        hidden_size=64, num_experts=8, num_experts_per_tok=2, expert_intermediate_size=32
    )
    # router 64·8 + 8 experts × 3·64·32 = 512 + 49152.
    assert moe.parameter_count_per_instance() == 512 + 49152
    assert moe.active_parameters() == 512 + 2 * 3 * 64 * 32
    assert moe.routed_expert_parameters() == 49152
    plan = ParallelPlan(tp=2, dp=2, moe_tp=2, ep=2)
    gate_proj = next(op for op in moe.ops() if op.name == "experts.gate_proj")
    # 4 experts on this GPU, each 64 × 32/2.
    assert local_params(gate_proj, plan) == 4 * 64 * 16


@pytest.mark.parametrize(
    ("specs", "plan", "expected"),
    [
        (
            GQA,
            ParallelPlan(tp=3, moe_tp=3),
            [("tp", "4 attention heads are not divisible by tp=3")],
        ),
        (GQA, ParallelPlan(tp=4, moe_tp=4), []),
        (
            GroupedQueryAttentionLayerSpecs(
                hidden_size=96, num_heads=6, num_kv_heads=3, head_dim=16
            ),
            ParallelPlan(tp=2, moe_tp=2),
            [("tp", "3 KV heads are not divisible by tp=2")],
        ),
        (
            GroupedQueryAttentionLayerSpecs(
                hidden_size=192, num_heads=12, num_kv_heads=3, head_dim=16
            ),
            ParallelPlan(tp=4, moe_tp=4),
            [
                (
                    "tp",
                    "tp=4 is not a multiple of the 3 KV heads, so they cannot be replicated evenly",
                )
            ],
        ),
        (
            MoELayerSpecs(
                hidden_size=64, num_experts=6, num_experts_per_tok=2, expert_intermediate_size=30
            ),
            ParallelPlan(tp=1, dp=4, moe_tp=1, ep=4),
            [("ep", "6 experts are not divisible by ep=4")],
        ),
        (
            MoELayerSpecs(
                hidden_size=64, num_experts=8, num_experts_per_tok=2, expert_intermediate_size=30
            ),
            ParallelPlan(tp=4, moe_tp=4),
            [("moe_tp", "expert size 30 is not divisible by moe_tp=4")],
        ),
    ],
)
def test_shard_rules(specs: LayerSpecs, plan: ParallelPlan, expected: list) -> None:
    assert shard_problems(specs.ops(), plan) == expected


def test_mla_keeps_down_projections_whole() -> None:
    mla = MultiHeadLatentAttentionLayerSpecs(
        hidden_size=64,
        num_heads=4,
        q_lora_rank=16,
        kv_lora_rank=8,
        qk_nope_head_dim=8,
        qk_rope_head_dim=4,
        v_head_dim=8,
    )
    plan = ParallelPlan(tp=2, moe_tp=2)
    split = {op.name: local_params(op, plan) for op in mla.ops() if isinstance(op, Linear)}
    assert split == {
        "q_a_proj": 64 * 16,
        "q_b_proj": 16 * 2 * 12,  # 2 of 4 heads × (8 nope + 4 rope)
        "kv_a_proj_with_mqa": 64 * 12,
        "kv_b_proj": 8 * 2 * 16,  # 2 heads × (8 nope + 8 v)
        "o_proj": 2 * 8 * 64,
    }


def test_gemm_shapes_of_a_prefill_step() -> None:
    model = cost_model_class(GQA)(GQA, ctx(ParallelPlan(tp=2, moe_tp=2)))
    shape = StepShape(prefill_tokens=8, prefill_seqs=1, prefill_context=4.5, prefill_chunk=8)
    got = [(g.name, g.m, g.n, g.k) for g in model.gemms(shape)]
    assert got == [
        ("q_proj", 8, 32, 64),
        ("k_proj", 8, 16, 64),
        ("v_proj", 8, 16, 64),
        ("o_proj", 8, 64, 32),
    ]


PLANS = [
    dict(tp=1),
    dict(tp=2),
    dict(tp=8),
    dict(tp=2, dp=2, ep=4),
    dict(tp=1, dp=4, cp=2),
]
SHAPES = [
    StepShape(prefill_tokens=2048, prefill_seqs=1, prefill_context=1024.5, prefill_chunk=2048),
    StepShape(decode_seqs=64, decode_context=3000),
]


@pytest.mark.parametrize("model_id", sorted(s.model_id for s in default_registry()))
def test_gemm_flops_are_the_matmul_flops(model_id: str) -> None:
    """Over every catalog model, plan and phase: the kept GEMM shapes add up to the FLOPs."""
    spec = default_registry().get(model_id)
    for kwargs in PLANS:
        plan = ParallelPlan.build(**kwargs)
        try:
            plan.validate_for(spec)
        except InvalidInputError:
            continue
        for lt, model in cost_models(spec, ctx(plan)):
            for shape in SHAPES:
                cost = model.step_cost(shape)
                gemm_flops = sum(g.flops for g in model.gemms(shape))
                assert gemm_flops == pytest.approx(cost.matmul_flops, rel=1e-12), lt.name


class _TwoLinearSpecs(LayerSpecs):
    """A trial class made of existing ops (not registered): an FFN of two Linears."""

    class_name: ClassVar[str] = "TrialFFN"
    role: ClassVar[Role] = "ffn"
    hidden_size: int
    intermediate_size: int

    def ops(self) -> tuple[Op, ...]:
        h, i = self.hidden_size, self.intermediate_size
        return (Linear("up", h, i, "col"), Linear("down", i, h, "row"))


def test_a_new_class_of_existing_ops_needs_no_cost_code() -> None:
    specs = _TwoLinearSpecs(hidden_size=64, intermediate_size=128)
    assert specs.parameter_count_per_instance() == 2 * 64 * 128
    assert cost_model_class(specs) is MLPCost
    model = MLPCost(specs, ctx(ParallelPlan(tp=2, moe_tp=2)))  # type: ignore[arg-type]
    assert model.stored_weight_bytes() == 2 * 64 * 64 * 2  # half of each matrix, bf16
    cost = model.step_cost(StepShape(decode_seqs=4, decode_context=10))
    assert cost.matmul_flops == 2 * 4 * (2 * 64 * 64)
    assert [c.kind for c in cost.collectives] == ["all_reduce"]


def test_the_spec_union_is_the_registry() -> None:
    union = typing.get_args(typing.get_args(LayerType)[0])
    assert len(union) == len(LAYER_CLASSES)
    for cls in LAYER_CLASSES.values():
        assert cls.role in typing.get_args(Role)
        assert cls.short_name

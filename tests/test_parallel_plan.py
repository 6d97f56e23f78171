"""Parallelism plans (building, validation, KV replication) and collective times by hand."""

from __future__ import annotations

import math
from typing import Any

import pytest

from infercast.errors import InfercastError, InvalidInputError
from infercast.hardware import get_hardware
from infercast.parallel import (
    Collective,
    CollectiveTimer,
    ParallelPlan,
    PlanError,
    collective_time_s,
)
from infercast.specs.schema import ModelSpec


def _spec(layers: list[dict[str, Any]], num_layers: int = 2) -> ModelSpec:
    return ModelSpec.model_validate(
        {
            "model_id": "plan-test",
            "hf_model_id": "test/plan-test",
            "name": "plan test",
            "hidden_size": 64,
            "num_layers": num_layers,
            "vocab_size": 1000,
            "total_params": 1,
            "total_params_formatted": "1K",
            "layer_types": layers,
            "validated": False,
        }
    )


def _attention(heads: int, kv: int) -> dict[str, Any]:
    return {
        "name": "attn",
        "class": "GroupedQueryAttentionLayer",
        "count": 2,
        "specs": {"hidden_size": 64, "num_heads": heads, "num_kv_heads": kv, "head_dim": 16},
    }


def _mlp(inter: int) -> dict[str, Any]:
    return {
        "name": "mlp",
        "class": "GatedMLPLayer",
        "count": 2,
        "specs": {"hidden_size": 64, "intermediate_size": inter},
    }


def _moe(experts: int, width: int) -> dict[str, Any]:
    return {
        "name": "moe",
        "class": "MoELayer",
        "count": 2,
        "specs": {
            "hidden_size": 64,
            "num_experts": experts,
            "num_experts_per_tok": 2,
            "expert_intermediate_size": width,
        },
    }


DENSE = _spec([_attention(8, 2), _mlp(96)])  # 96 = 2^5·3: divisible by 1, 2, 4 … not by 64
MOE = _spec([_attention(8, 8), _moe(6, 48)])  # 6 experts; expert width 48


# ----------------------------------------------------------------------------- building


@pytest.mark.parametrize(
    ("tp", "dp", "pp", "ep", "moe_tp"),
    [(1, 1, 1, 1, 1), (8, 1, 1, 1, 8), (2, 4, 1, 8, 1), (4, 2, 2, 2, 4), (1, 8, 4, 4, 2)],
)
def test_gpus_is_tp_dp_pp_and_moe_tp_defaults_to_fill_the_group(
    tp: int, dp: int, pp: int, ep: int, moe_tp: int
) -> None:
    plan = ParallelPlan.build(tp=tp, dp=dp, pp=pp, ep=ep)
    assert plan.gpus == tp * dp * pp
    assert plan.group == tp * dp
    assert plan.moe_tp == moe_tp  # moe_tp = tp·dp / ep
    assert plan.moe_tp * plan.ep == plan.tp * plan.dp
    # Giving the consistent gpus count explicitly is accepted.
    assert ParallelPlan.build(tp=tp, dp=dp, pp=pp, ep=ep, gpus=tp * dp * pp) == plan


def test_inconsistent_gpus_is_an_error_that_shows_the_product() -> None:
    with pytest.raises(PlanError, match=r"gpus=6 but tp × dp × pp = 2×1×2 = 4"):
        ParallelPlan.build(tp=2, pp=2, gpus=6)


def test_inconsistent_gpus_says_ep_adds_none_and_what_dp_would_do() -> None:
    # "TP4 × EP2 on 8 GPUs": EP splits the experts over the 4 attention GPUs; dp=2 gives 8.
    with pytest.raises(PlanError) as err:
        ParallelPlan.build(tp=4, ep=2, gpus=8)
    assert str(err.value) == (
        "gpus=8 but tp × dp × pp = 4×1×1 = 4 (ep adds no GPUs: the experts are spread over "
        "the tp × dp GPUs of a stage; for 8 GPUs at tp=4, pp=1 use dp=2)"
    )
    # No hint when no dp makes the count (6 GPUs at tp=2, pp=2).
    with pytest.raises(PlanError) as err:
        ParallelPlan.build(tp=2, pp=2, gpus=6)
    assert str(err.value).endswith("= 4")


def test_ep_must_divide_the_attention_group() -> None:
    with pytest.raises(PlanError, match=r"ep=3 must divide tp×dp=4"):
        ParallelPlan.build(tp=4, ep=3)


def test_explicit_moe_tp_must_fill_tp_times_dp() -> None:
    with pytest.raises(PlanError, match=r"moe_tp × ep = 2×2 = 4 must equal tp × dp = 8"):
        ParallelPlan.build(tp=8, ep=2, moe_tp=2)
    with pytest.raises(PlanError, match="moe_tp"):
        ParallelPlan.build(tp=2, moe_tp=0, ep=2)
    assert ParallelPlan.build(tp=4, dp=2, ep=4, moe_tp=2).moe_tp == 2


@pytest.mark.parametrize("field", ["tp", "dp", "pp", "ep", "cp"])
@pytest.mark.parametrize("value", [0, -2, 1.5, True, "2"])
def test_degrees_must_be_positive_integers(field: str, value: object) -> None:
    with pytest.raises(PlanError, match=rf"^{field} must be a positive integer, got"):
        ParallelPlan.build(**{field: value})  # type: ignore[arg-type]


def test_context_parallelism_uses_dp_ranks() -> None:
    assert ParallelPlan.build(dp=4, cp=2).cp == 2
    assert ParallelPlan.build(dp=4, cp=2).gpus == 4  # cp adds no GPUs
    with pytest.raises(PlanError, match=r"cp=3 must divide dp=4"):
        ParallelPlan.build(dp=4, cp=3)


def test_plan_errors_are_infercast_input_errors() -> None:
    assert issubclass(PlanError, InvalidInputError)
    assert issubclass(PlanError, InfercastError)


def test_describe() -> None:
    assert ParallelPlan.build(tp=8).describe() == "TP8"
    assert ParallelPlan.build(tp=2, dp=4, pp=2, ep=8).describe() == "TP2×DP4×PP2 (MoE TP1×EP8)"
    assert ParallelPlan.build(dp=4, cp=2).describe() == "TP1×DP4 (MoE TP4×EP1) CP2"
    # A dense model's label names no experts; EP asked of one is still shown.
    assert ParallelPlan.build(tp=16, dp=2, pp=100).describe(moe=False) == "TP16×DP2×PP100"
    assert ParallelPlan.build(tp=2, ep=2).describe(moe=False) == "TP2 (MoE TP1×EP2)"


# ------------------------------------------------------------------- validation for a model


@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_valid_tp_for_the_dense_model(tp: int) -> None:
    ParallelPlan.build(tp=tp).validate_for(DENSE)  # 8 heads, 2 KV heads, width 96


def test_heads_not_divisible_by_tp() -> None:
    with pytest.raises(
        PlanError,
        match=r"attn \(GroupedQueryAttentionLayer\): 8 attention heads are not divisible by tp=3",
    ):
        ParallelPlan.build(tp=3).validate_for(DENSE)


def test_kv_heads_not_divisible_by_tp() -> None:
    spec = _spec([_attention(12, 6), _mlp(96)])
    with pytest.raises(PlanError, match=r"6 KV heads are not divisible by tp=4"):
        ParallelPlan.build(tp=4).validate_for(spec)


def test_kv_heads_cannot_be_replicated_unevenly() -> None:
    spec = _spec([_attention(12, 2), _mlp(96)])  # tp 3 > 2 KV heads, and 3 % 2 ≠ 0
    with pytest.raises(PlanError, match=r"tp=3 is not a multiple of the 2 KV heads"):
        ParallelPlan.build(tp=3).validate_for(spec)


def test_intermediate_not_divisible_by_tp() -> None:
    spec = _spec([_attention(8, 8), _mlp(100)])  # 100 = 4·25
    ParallelPlan.build(tp=4).validate_for(spec)
    with pytest.raises(
        PlanError, match=r"mlp \(GatedMLPLayer\): intermediate size 100 is not divisible by tp=8"
    ):
        ParallelPlan.build(tp=8).validate_for(spec)


def test_experts_not_divisible_by_ep() -> None:
    ParallelPlan.build(tp=2, ep=2).validate_for(MOE)  # 6 experts / 2
    with pytest.raises(PlanError, match=r"6 experts are not divisible by ep=4"):
        ParallelPlan.build(tp=4, ep=4).validate_for(MOE)


def test_expert_width_not_divisible_by_moe_tp() -> None:
    # tp 8, ep 1 → moe_tp 8; 48 / 8 = 6 fine. dp 4 × tp 8 = 32 → moe_tp 32 ∤ 48.
    ParallelPlan.build(tp=8).validate_for(MOE)
    with pytest.raises(PlanError, match=r"expert size 48 is not divisible by moe_tp=32"):
        ParallelPlan.build(tp=8, dp=4).validate_for(MOE)


def test_ep_on_a_dense_model() -> None:
    with pytest.raises(PlanError, match=r"ep=2 needs a Mixture-of-Experts model"):
        ParallelPlan.build(tp=2, ep=2).validate_for(DENSE)


def test_more_stages_than_layers() -> None:
    ParallelPlan.build(pp=2).validate_for(DENSE)
    with pytest.raises(PlanError, match=r"pp=3 exceeds the model's 2 layers"):
        ParallelPlan.build(pp=3).validate_for(DENSE)


def test_every_broken_rule_is_named_at_once() -> None:
    spec = _spec([_attention(6, 6), _moe(6, 48)])
    with pytest.raises(PlanError) as info:
        ParallelPlan.build(tp=4, ep=4, pp=3).validate_for(spec)
    message = str(info.value)
    assert message.startswith("plan TP4×PP3 (MoE TP1×EP4) is invalid for test/plan-test: ")
    assert "6 attention heads are not divisible by tp=4" in message
    assert "6 experts are not divisible by ep=4" in message
    assert "pp=3 exceeds the model's 2 layers" in message


@pytest.mark.parametrize(
    ("kv", "tp", "per_gpu", "replicated"),
    [(8, 1, 8, False), (8, 2, 4, False), (8, 8, 1, False), (4, 8, 1, True), (1, 4, 1, True)],
)
def test_kv_heads_per_gpu(kv: int, tp: int, per_gpu: int, replicated: bool) -> None:
    plan = ParallelPlan.build(tp=tp)
    assert plan.kv_heads_per_gpu(kv) == per_gpu
    assert plan.kv_replicated(kv) is replicated


# --------------------------------------------------------------------- collective times

H100 = get_hardware("h100")
NVLINK = 450e9  # bytes/s per GPU per direction (900 GB/s bidirectional)
NVLINK_LAT = 1e-6
IB = 50e9  # one 400 Gb/s NDR port per GPU
IB_LAT = 5e-6


def test_h100_fabric_figures() -> None:
    assert H100.scale_up.bandwidth_bytes_per_s == NVLINK
    assert H100.scale_up.domain_size == 8
    assert H100.scale_up.latency_s == NVLINK_LAT
    assert H100.scale_out.bandwidth_bytes_per_s == IB
    assert H100.scale_out.latency_s == IB_LAT


def test_large_all_reduce_uses_the_ring() -> None:
    op = Collective("all_reduce", 8, 1e9)
    # ring: 2(n−1) = 14 hops + 2·7/8·1 GB / 450 GB/s = 3.889 ms
    ring = 14 * NVLINK_LAT + 2 * 7 / 8 * 1e9 / NVLINK
    # tree: 2·⌈log2 8⌉ = 6 hops + 2·1 GB / 450 GB/s = 4.444 ms — slower
    assert ring < 6 * NVLINK_LAT + 2e9 / NVLINK
    assert collective_time_s(op, H100, 1.0) == pytest.approx(ring)
    # Efficiency 0.5 halves the bandwidth, not the latency.
    assert collective_time_s(op, H100, 0.5) == pytest.approx(14 * NVLINK_LAT + 2 * ring_bw(op))


def ring_bw(op: Collective) -> float:
    return 2 * (op.group_size - 1) / op.group_size * op.bytes / NVLINK


def test_small_all_reduce_uses_the_tree() -> None:
    op = Collective("all_reduce", 8, 1e3)
    tree = 6 * NVLINK_LAT + 2 * 1e3 / NVLINK  # 6 µs + 4.4 ns
    assert tree < 14 * NVLINK_LAT  # the ring's hops alone are slower
    assert collective_time_s(op, H100, 1.0) == pytest.approx(tree)


@pytest.mark.parametrize("kind", ["all_gather", "reduce_scatter", "all_to_all"])
def test_gather_scatter_all_to_all_inside_the_domain(kind: str) -> None:
    op = Collective(kind, 4, 8e6)  # type: ignore[arg-type]
    # n−1 = 3 hops + (3/4)·8 MB / (0.7 · 450 GB/s)
    expected = 3 * NVLINK_LAT + 0.75 * 8e6 / (0.7 * NVLINK)
    assert collective_time_s(op, H100, 0.7) == pytest.approx(expected)
    assert op.wire_bytes() == 0.75 * 8e6


def test_groups_beyond_the_domain_use_the_scale_out_network() -> None:
    op = Collective("all_reduce", 16, 1e9)  # 16 GPUs > 8 per NVLink domain
    ring = 30 * IB_LAT + 2 * 15 / 16 * 1e9 / IB  # 37.65 ms
    tree = 2 * math.ceil(math.log2(16)) * IB_LAT + 2 * 1e9 / IB  # 40.04 ms
    assert collective_time_s(op, H100, 1.0) == pytest.approx(min(ring, tree)) == pytest.approx(ring)
    a2a = Collective("all_to_all", 16, 1e6)
    assert collective_time_s(a2a, H100, 1.0) == pytest.approx(15 * IB_LAT + 15 / 16 * 1e6 / IB)
    # The same all-to-all inside one domain is far faster.
    inside = Collective("all_to_all", 8, 1e6)
    assert collective_time_s(inside, H100, 1.0) < collective_time_s(a2a, H100, 1.0) / 5


def test_point_to_point() -> None:
    op = Collective("p2p", 2, 1e6)
    assert collective_time_s(op, H100, 1.0) == pytest.approx(NVLINK_LAT + 1e6 / NVLINK)
    assert op.wire_bytes() == 1e6


def test_degenerate_collectives_cost_nothing() -> None:
    assert collective_time_s(Collective("all_reduce", 1, 1e9), H100, 1.0) == 0.0
    assert collective_time_s(Collective("all_reduce", 8, 0.0), H100, 1.0) == 0.0
    assert Collective("all_reduce", 1, 1e9).wire_bytes() == 0.0


def test_wire_bytes_of_an_all_reduce() -> None:
    # Ring all-reduce: reduce-scatter then all-gather, each (n−1)/n of the tensor.
    assert Collective("all_reduce", 4, 1000.0).wire_bytes() == 2 * 3 / 4 * 1000


@pytest.mark.parametrize(
    ("kind", "n", "nbytes", "floor_s", "expected"),
    [
        # ring all-reduce: 14 hops + 2·7/8·1 GB at 0.5 of NVLink, plus the 10 µs floor
        ("all_reduce", 8, 1e9, 1e-5, 1e-5 + 14 * NVLINK_LAT + 2 * 7 / 8 * 1e9 / (0.5 * NVLINK)),
        # tree all-reduce for a small message: 6 hops + 2·1 kB
        ("all_reduce", 8, 1e3, 0.0, 6 * NVLINK_LAT + 2 * 1e3 / (0.5 * NVLINK)),
        ("all_to_all", 4, 8e6, 0.0, 3 * NVLINK_LAT + 0.75 * 8e6 / (0.5 * NVLINK)),
        ("p2p", 2, 4e6, 2e-6, 2e-6 + NVLINK_LAT + 4e6 / (0.5 * NVLINK)),
        ("all_gather", 1, 4e6, 1e-5, 0.0),  # one GPU: no collective at all
        ("all_gather", 4, 0.0, 1e-5, 0.0),  # nothing to send
    ],
)
def test_collective_timer_terms_once_same_seconds(
    kind: str, n: int, nbytes: float, floor_s: float, expected: float
) -> None:
    """The per-(kind, group) terms computed once give the hand-derived seconds, and exactly
    what collective_time_s gives (step timing relies on the two agreeing to the bit)."""
    timer = CollectiveTimer(H100, 0.5, floor_s)
    got = timer.time_s(kind, n, nbytes)
    assert got == pytest.approx(expected, rel=1e-12)
    assert got == collective_time_s(Collective(kind, n, nbytes), H100, 0.5, floor_s)  # type: ignore[arg-type]
    assert timer.time_s(kind, n, nbytes) == got  # the second call reads the stored terms

"""The 2025–26 layer classes and options: counts, state and costs derived by hand.

Small round shapes (hidden h = 64 unless stated), bf16 (2 bytes), one instance, one GPU. Every
expected figure is written out from the architecture, not asked of the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from infercast.dtypes import dtype
from infercast.estimation.memory import MemoryPlan
from infercast.layers import CostContext, StepShape
from infercast.layers.attention import AttentionCost, _chunked_mean
from infercast.layers.recurrent import RecurrentMixerCost
from infercast.layers.sparse_attention import SparseAttentionCost
from infercast.parallel import ParallelPlan
from infercast.specs import LAYER_CLASSES, SpecError, format_params, parse_spec

BF16 = dtype("bf16")
H = 64


def make(cls: str, **specs: Any) -> Any:
    return LAYER_CLASSES[cls].model_validate(specs)


def context(tp: int = 1) -> CostContext:
    return CostContext(
        plan=ParallelPlan.build(tp=tp),
        weight_dtype=None,
        moe_dtype=None,
        kv_dtype=BF16,
        activation_dtype=BF16,
        default_dtype=BF16,
    )


# ---- Gated DeltaNet: 2 key heads × 8, 4 value heads × 16, kernel 4 ------------------------------

GDN = {
    "hidden_size": H,
    "num_key_heads": 2,
    "num_value_heads": 4,
    "key_head_dim": 8,
    "value_head_dim": 16,
    "conv_kernel_size": 4,
}


def test_gated_delta_net_parameters_and_state() -> None:
    layer = make("GatedDeltaNetLayer", **GDN)
    # key_dim 2·8 = 16, value_dim 4·16 = 64. in_proj: 64 × (16+16+64+64 + 4+4) = 64·168.
    in_proj = 64 * 168
    conv = (16 + 16 + 64) * 4  # q, k, v channels × taps, no bias
    out_proj = 64 * 64
    assert layer.parameter_count_per_instance() == in_proj + conv + 2 * 4 + 16 + out_proj
    assert layer.matmul_params_per_token() == in_proj + out_proj
    assert layer.kv_cache_elements_per_token() == 0
    # 4 heads × 8 × 16 recurrent state + 3 last inputs of the 96 conv channels.
    assert layer.state_elements_per_sequence() == 4 * 8 * 16 + 3 * 96


def test_gated_delta_net_decode_and_prefill_cost() -> None:
    cost = RecurrentMixerCost(make("GatedDeltaNetLayer", **GDN), context())
    state_bytes = (512 + 288) * 2
    assert cost.state_bytes_per_sequence() == state_bytes
    assert cost.kv_bytes_per_token() == 0
    decode = cost.step_cost(StepShape(decode_seqs=2, decode_context=1000))
    # Per token: 4 heads × 7·8·16 recurrent update + conv 2·4·96; matmuls 2·(10752 + 4096).
    assert decode.attention_flops == 2 * (4 * 7 * 8 * 16 + 2 * 4 * 96)
    assert decode.matmul_flops == 2 * 2 * (64 * 168 + 64 * 64)
    assert decode.kv_bytes == 2 * 2 * state_bytes  # each sequence reads + writes its state
    prefill = cost.step_cost(
        StepShape(prefill_tokens=128, prefill_seqs=1, prefill_context=64.5, prefill_chunk=128)
    )
    # Chunk 64: 64·(2·8 + 16) within the chunk + 4·8·16 across chunks, per head and token.
    per_token = 4 * (64 * (2 * 8 + 16) + 4 * 8 * 16) + 2 * 4 * 96
    assert prefill.attention_flops == 128 * per_token
    assert prefill.kv_bytes == 2 * state_bytes


def test_gated_delta_net_tensor_parallel_splits_heads_and_state() -> None:
    cost = RecurrentMixerCost(make("GatedDeltaNetLayer", **GDN), context(tp=2))
    assert cost.state_bytes_per_sequence() == (512 + 288) * 2 / 2
    assert cost.stored_weight_bytes() == (64 * 168 + 384 + 8 + 64 * 64) / 2 * 2 + 16 * 2


def test_gated_delta_net_head_groups_must_divide() -> None:
    data = tiny_spec([entry("linear", "GatedDeltaNetLayer", 2, {**GDN, "num_value_heads": 3})])
    with pytest.raises(SpecError, match="not a multiple of num_key_heads 2"):
        parse_spec(data)


# ---- Mamba-2: 4 heads × 16, state 8, 2 groups, kernel 4 -----------------------------------------

MAMBA = {
    "hidden_size": H,
    "num_heads": 4,
    "head_dim": 16,
    "state_size": 8,
    "n_groups": 2,
    "conv_kernel_size": 4,
}


def test_mamba2_parameters_and_state() -> None:
    layer = make("Mamba2Layer", **MAMBA)
    # inner 4·16 = 64; conv channels 64 + 2·2·8 = 96; in_proj 64 × (64 + 96 + 4).
    in_proj, out_proj = 64 * 164, 64 * 64
    conv = 96 * 4 + 96  # weights + bias (use_conv_bias default)
    assert layer.parameter_count_per_instance() == in_proj + conv + 3 * 4 + 64 + out_proj
    assert layer.state_elements_per_sequence() == 4 * 16 * 8 + 3 * 96
    biased = make("Mamba2Layer", **MAMBA, has_bias=True, conv_bias=False)
    assert biased.parameter_count_per_instance() == (
        in_proj + 164 + 96 * 4 + 12 + 64 + out_proj + 64
    )


def test_mamba2_decode_cost() -> None:
    cost = RecurrentMixerCost(make("Mamba2Layer", **MAMBA), context())
    decode = cost.step_cost(StepShape(decode_seqs=1, decode_context=10))
    assert decode.attention_flops == 4 * 5 * 8 * 16 + 2 * 4 * 96
    assert decode.kv_bytes == 2 * (512 + 288) * 2


# ---- attention options ---------------------------------------------------------------------------

GQA = {"hidden_size": H, "num_heads": 4, "num_kv_heads": 2, "head_dim": 16}


def test_output_gate_adds_q_rows() -> None:
    plain = make("GroupedQueryAttentionLayer", **GQA)
    gated = make("GroupedQueryAttentionLayer", **GQA, output_gate=True)
    # The gate: one sigmoid per output element, 4 heads × 16 more q_proj rows.
    assert gated.parameter_count_per_instance() - plain.parameter_count_per_instance() == 64 * 64
    assert gated.kv_cache_elements_per_token() == plain.kv_cache_elements_per_token() == 64


def test_value_head_dim_and_projection_qk_norm() -> None:
    layer = make(
        "GroupedQueryAttentionLayer",
        **{**GQA, "head_dim": 24},
        v_head_dim=16,
        qk_norm=True,
        qk_norm_scope="projection",
    )
    # q 64·96, k 64·48, v 64·32, o 64·64; norms over q (96) and k (48) projections.
    assert layer.parameter_count_per_instance() == 64 * (96 + 48 + 32 + 64) + 96 + 48
    assert layer.kv_cache_elements_per_token() == 2 * (24 + 16)
    per_head = make("GroupedQueryAttentionLayer", **GQA, qk_norm=True)
    assert per_head.parameter_count_per_instance() == 64 * (64 + 32 + 32 + 64) + 2 * 16


def test_value_head_dim_in_attention_cost() -> None:
    specs = make("GroupedQueryAttentionLayer", **{**GQA, "head_dim": 24}, v_head_dim=16)
    cost = AttentionCost(specs, context()).step_cost(StepShape(decode_seqs=1, decode_context=10))
    # 4 heads × 10 positions × 2·(24 + 16) FLOPs; KV: 10 read + 1 written × 2·(24+16)·2 B.
    assert cost.attention_flops == 4 * 10 * 2 * (24 + 16)
    assert cost.kv_bytes == 11 * 2 * 40 * 2


def test_chunked_mean_positions() -> None:
    # Chunks of 4 over positions 1..10: 1+2+3+4 twice, then 1+2 → 23 / 10.
    assert _chunked_mean(0, 10, 4) == pytest.approx(2.3)
    # Positions 5..8 (cached 4, a whole second chunk): 1+2+3+4 → 2.5.
    assert _chunked_mean(4, 4, 4) == pytest.approx(2.5)
    assert _chunked_mean(0, 3, 8) == pytest.approx(2.0)  # inside one chunk: causal (3+1)/2


def test_chunked_attention_caps_kv_and_scores() -> None:
    specs = make("ChunkedLocalAttentionLayer", **GQA, attention_chunk_size=4)
    cost = AttentionCost(specs, context())
    assert cost.kv_window() == 4
    decode = cost.step_cost(StepShape(decode_seqs=1, decode_context=10))
    assert decode.attention_flops == pytest.approx(4 * 2.3 * 4 * 16)


# ---- DeepSeek Sparse Attention -------------------------------------------------------------------

MLA = {
    "hidden_size": H,
    "num_heads": 4,
    "q_lora_rank": 32,
    "kv_lora_rank": 16,
    "qk_nope_head_dim": 8,
    "qk_rope_head_dim": 4,
    "v_head_dim": 8,
}
INDEXER = {"index_n_heads": 2, "index_head_dim": 8, "index_topk": 5}


def test_sparse_attention_counts_the_indexer() -> None:
    mla = make("MultiHeadLatentAttentionLayer", **MLA)
    dsa = make("DeepSeekSparseAttentionLayer", **MLA, **INDEXER)
    # wq_b 32 × 2·8, wk 64 × 8, LayerNorm(8) weight + bias, weights_proj 64 × 2.
    indexer = 32 * 16 + 64 * 8 + 2 * 8 + 64 * 2
    assert dsa.parameter_count_per_instance() == mla.parameter_count_per_instance() + indexer
    assert dsa.kv_cache_elements_per_token() == 16 + 4 + 8  # latent + rope key + indexer key


def test_sparse_attention_decode_cost() -> None:
    dsa = SparseAttentionCost(make("DeepSeekSparseAttentionLayer", **MLA, **INDEXER), context())
    cost = dsa.step_cost(StepShape(decode_seqs=1, decode_context=100))
    # MLA (absorbed) over top-5 keys: 2·4 heads·5·(2·16 + 4); indexer over all 100:
    # (2·8 + 2)·2 heads per position.
    assert cost.attention_flops == 2 * 4 * 5 * (2 * 16 + 4) + 100 * 18 * 2
    # Reads: latent+rope of 5 keys (20 el.) and indexer keys of 100 (8 el.); writes 28 el.
    assert cost.kv_bytes == (5 * 20 + 100 * 8 + 28) * 2


# ---- MoE options ---------------------------------------------------------------------------------


def test_two_projection_experts_and_shared_format() -> None:
    specs = {
        "hidden_size": H,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "expert_intermediate_size": 32,
        "num_shared_experts": 1,
        "shared_expert_intermediate_size": 48,
    }
    moe = make("MoELayer", **specs, expert_gated=False, shared_expert_weight_dtype="bf16")
    # Experts up + down: 2·64·32 each; shared 2·64·48; router 64·4.
    assert moe.parameter_count_per_instance() == 4 * 2 * 64 * 32 + 2 * 64 * 48 + 64 * 4
    assert moe.active_parameters() == 2 * 2 * 64 * 32 + 2 * 64 * 48 + 64 * 4
    with pytest.raises(ValueError, match="int3"):
        make("MoELayer", **specs, shared_expert_weight_dtype="int3")


def test_memory_plan_counts_state_beside_kv() -> None:
    plan = MemoryPlan(
        weights_bytes=10e9,
        kv_bytes_per_sequence=1e9,
        activations_bytes=1e9,
        reserve_bytes=2e9,
        capacity_bytes=80e9,
        state_bytes_per_sequence=0.5e9,
    )
    # 80 − 13 = 67 GB free, 1.5 GB per sequence → 44 sequences.
    assert plan.max_sequences_per_gpu() == 44
    assert plan.state_bytes(4) == 2e9


# ---- per-block census ----------------------------------------------------------------------------


def entry(name: str, cls: str, count: int, specs: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "class": cls, "count": count, "specs": specs}


def tiny_spec(blocks: list[dict[str, Any]], layers: int = 2) -> dict[str, Any]:
    norm = entry("norm", "NormLayer", layers + 1, {"hidden_size": H, "has_bias": False})
    edges = [
        norm,
        entry("embedding", "EmbeddingLayer", 1, {"vocab_size": 10, "hidden_size": H}),
        entry("lm_head", "OutputLayer", 1, {"vocab_size": 10, "hidden_size": H}),
    ]
    if not any(b["class"].endswith("MLPLayer") or b["class"] == "MoELayer" for b in blocks):
        blocks = [
            *blocks,
            entry("mlp", "GatedMLPLayer", layers, {"hidden_size": H, "intermediate_size": 8}),
        ]
    layer_types = blocks + edges
    total = sum(
        lt["count"] * make(lt["class"], **lt["specs"]).parameter_count_per_instance()
        for lt in layer_types
    )
    return {
        "model_id": "t_hybrid",
        "hf_model_id": "t/hybrid",
        "name": "hybrid",
        "hidden_size": H,
        "num_layers": layers,
        "vocab_size": 10,
        "total_params": total,
        "total_params_formatted": format_params(total),
        "layer_types": layer_types,
        "validated": False,
    }


def test_hybrid_counts_mixers_with_attention() -> None:
    spec = parse_spec(
        tiny_spec(
            [
                entry("attention", "GroupedQueryAttentionLayer", 1, GQA),
                entry("linear", "GatedDeltaNetLayer", 1, GDN),
            ]
        )
    )
    census = spec.layer_census()
    assert (census.softmax_attention, census.linear_or_ssm, census.ffn) == (1, 1, 2)


def test_census_without_indices_still_requires_one_mixer_per_block() -> None:
    data = tiny_spec([entry("attention", "GroupedQueryAttentionLayer", 1, GQA)])
    with pytest.raises(SpecError, match="attention counts sum to 1, num_layers is 2"):
        parse_spec(data)


def test_census_with_indices_accepts_mixer_only_and_ffn_only_blocks() -> None:
    mlp = {"hidden_size": H, "intermediate_size": 8, "layer_indices": [1]}
    data = tiny_spec(
        [
            entry("mamba", "Mamba2Layer", 1, {**MAMBA, "layer_indices": [0]}),
            entry("mlp", "MLPLayer", 1, mlp),
        ]
    )
    spec = parse_spec(data)
    assert spec.layer_census().linear_or_ssm == 1


@pytest.mark.parametrize(
    ("mamba_indices", "mlp_indices", "message"),
    [
        ([0, 0], [1], "block 0 already has a mixer"),
        ([0], [0], "blocks \\[1\\] hold neither a mixer nor an FFN"),
        ([0, 5], [1], "layer index 5 ≥ num_layers 2"),
        ([0], [1, 0], "count 1 but 2 layer_indices"),
    ],
)
def test_census_rejects_inconsistent_blocks(
    mamba_indices: list[int], mlp_indices: list[int], message: str
) -> None:
    mlp = {"hidden_size": H, "intermediate_size": 8, "layer_indices": mlp_indices}
    data = tiny_spec(
        [
            entry(
                "mamba",
                "Mamba2Layer",
                len(mamba_indices),
                {**MAMBA, "layer_indices": mamba_indices},
            ),
            entry("mlp", "MLPLayer", 1, mlp),
        ]
    )
    with pytest.raises(SpecError, match=message):
        parse_spec(data)


def test_census_needs_indices_on_every_block_entry_once_one_has_them() -> None:
    data = tiny_spec(
        [
            entry("mamba", "Mamba2Layer", 1, {**MAMBA, "layer_indices": [0]}),
            entry("mlp", "MLPLayer", 2, {"hidden_size": H, "intermediate_size": 8}),
        ]
    )
    with pytest.raises(SpecError, match="layer_indices is required"):
        parse_spec(data)


def test_fp32_recurrent_state_beside_a_bf16_conv_state() -> None:
    cost = RecurrentMixerCost(make("Mamba2Layer", **MAMBA, state_dtype="fp32"), context())
    # 4 heads × 16 × 8 recurrent elements in fp32 (4 B), 3 × 96 conv inputs in bf16 (2 B).
    assert cost.state_bytes_per_sequence() == 512 * 4 + 288 * 2

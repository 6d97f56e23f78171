"""Per-layer costs of every layer class, derived by hand on small round shapes.

Shapes used throughout (unless a test says otherwise): hidden h = 64, 4 query heads, 2 KV heads,
head_dim d = 16, MLP intermediate 128, bf16 everywhere (2 bytes per element). One layer
instance, one GPU, one step. The arithmetic is written out in each test; the code under test is
only asked for its answer.

Conventions the expectations follow (stated in ``infercast.layers.base``):
- matmul FLOPs are 2·M·N·K, i.e. 2 per weight element per token;
- attention-score FLOPs are 2·2·d per head per attended position (QKᵀ and PV); a causal
  prefill chunk of S tokens after P cached ones attends to P + i positions for token i = 1..S,
  a sliding window caps each token at W positions;
- weights are read once per step; the KV cache is read for every cached position attended and
  written for every new token.
"""

from __future__ import annotations

import pytest

from infercast.dtypes import dtype
from infercast.layers import CostContext, StepShape, cost_models, expected_experts_touched
from infercast.layers.attention import AttentionCost, LatentAttentionCost
from infercast.layers.edges import EmbeddingCost, NormCost, OutputCost, PoolerCost
from infercast.layers.ffn import MLPCost, MoECost
from infercast.parallel import Collective, ParallelPlan
from infercast.specs.layer_classes import (
    AttentionLayerSpecs,
    EmbeddingLayerSpecs,
    GroupedQueryAttentionLayerSpecs,
    MLPLayerSpecs,
    MoELayerSpecs,
    NormLayerSpecs,
    OutputLayerSpecs,
    PoolerLayerSpecs,
    SlidingWindowAttentionLayerSpecs,
)
from infercast.specs.schema import ModelSpec
from shapes import (
    DECODE,
    GATED,
    GQA,
    MLA,
    MLA_NORMS,
    MLA_REPLICATED,
    MLA_SPLIT,
    MOE,
    PREFILL,
    PREFILL_CACHED,
)

BF16 = dtype("bf16")
B = 2  # bytes per bf16 element


def context(
    tp: int = 1,
    dp: int = 1,
    ep: int = 1,
    *,
    kv: str = "bf16",
    weights: str | None = None,
    experts: str | None = None,
) -> CostContext:
    plan = ParallelPlan.build(tp=tp, dp=dp, ep=ep)
    return CostContext(
        plan=plan,
        weight_dtype=dtype(weights) if weights else None,
        moe_dtype=dtype(experts) if experts else None,
        kv_dtype=dtype(kv),
        activation_dtype=BF16,
        default_dtype=BF16,
    )


def all_reduce(tp: int, nbytes: float) -> list[Collective]:
    return [Collective("all_reduce", tp, nbytes)]


# ---------------------------------------------------------------------------- attention (GQA)


def test_gqa_weights_tp1_and_tp2() -> None:
    # TP1: q 64×(4·16) = 4096, k 64×(2·16) = 2048, v 2048, o (4·16)×64 = 4096 → 12288 params.
    assert AttentionCost(GQA, context()).stored_weight_bytes() == 12288 * B
    # TP2: 2 heads, 1 KV head per GPU: q 64×32 = 2048, k 1024, v 1024, o 2048 → 6144 params.
    assert AttentionCost(GQA, context(tp=2)).stored_weight_bytes() == 6144 * B


def test_gqa_prefill_tp1() -> None:
    cost = AttentionCost(GQA, context()).step_cost(PREFILL)
    assert cost.matmul_flops == 2 * 8 * 12288  # 2 · tokens · weight elements = 196608
    # Causal: 1 + 2 + … + 8 = 36 attended positions; 4 heads × 4·d = 64 FLOPs each.
    assert cost.attention_flops == 4 * 36 * 64 == 9216
    # KV written: 8 tokens × (K and V) × 2 KV heads × 16 × 2 bytes = 1024; nothing cached.
    assert cost.kv_bytes == 8 * 2 * 2 * 16 * B == 1024
    assert cost.weight_bytes == 12288 * B
    # Activations per token: x in + out (64 + 64) and q (64), k (32), v (32), attention output
    # (64) each written then read: 128 + 2·192 = 512 elements.
    assert cost.activation_bytes == 8 * (128 + 2 * (64 + 32 + 32 + 64)) * B == 8192
    assert cost.collectives == []  # no TP, no all-reduce


def test_gqa_prefill_tp2_halves_everything_and_all_reduces_the_output() -> None:
    cost = AttentionCost(GQA, context(tp=2)).step_cost(PREFILL)
    assert cost.matmul_flops == 2 * 8 * 6144  # 98304 = TP1 / 2
    assert cost.attention_flops == 2 * 36 * 64  # 2 local heads: 4608
    assert cost.kv_bytes == 8 * 2 * 1 * 16 * B  # 1 KV head: 512
    # x/out 128 + 2·(q 32 + k 16 + v 16 + out 32) = 320 elements per token.
    assert cost.activation_bytes == 8 * 320 * B
    # The o-projection's partial sums: 8 tokens × 64 × 2 bytes = 1024 bytes, over 2 GPUs.
    assert cost.collectives == all_reduce(2, 8 * 64 * B)
    # Ring all-reduce sends 2(n−1)/n of the tensor: 2·(1/2)·1024.
    assert cost.communication_bytes == 1024


def test_gqa_prefill_after_a_cache_reads_the_cached_kv() -> None:
    cost = AttentionCost(GQA, context()).step_cost(PREFILL_CACHED)
    # Each token sees the 16 cached positions plus its causal share: 8·16 + 36 = 164 positions.
    assert cost.attention_flops == 4 * (8 * 16 + 36) * 64 == 41984
    # KV per token per GPU: 2 · 2 heads · 16 · 2 bytes = 128; read 16 cached, write 8 new.
    assert cost.kv_bytes == (16 + 8) * 128


def test_gqa_decode_tp1_and_tp2() -> None:
    one = AttentionCost(GQA, context()).step_cost(DECODE)
    assert one.matmul_flops == 2 * 4 * 12288  # 4 tokens
    assert one.attention_flops == 4 * 4 * 100 * 64  # 4 heads × 4 seqs × 100 positions × 64
    assert one.kv_bytes == 4 * 100 * 128 + 4 * 128  # read 400 positions, write 4 tokens
    two = AttentionCost(GQA, context(tp=2)).step_cost(DECODE)
    assert two.matmul_flops == 2 * 4 * 6144
    assert two.attention_flops == 2 * 4 * 100 * 64
    assert two.kv_bytes == 4 * 100 * 64 + 4 * 64  # one KV head: 64 bytes per token
    assert two.collectives == all_reduce(2, 4 * 64 * B)


def test_kv_heads_are_replicated_when_tp_exceeds_them() -> None:
    # TP4 with 2 KV heads: every GPU holds 1 query head and 1 (replicated) KV head.
    model = AttentionCost(GQA, context(tp=4))
    assert model.kv_bytes_per_token() == 2 * 1 * 16 * B  # 64 bytes, as at TP2
    # q 64×16 + k 64×16 + v 64×16 + o 16×64 = 4096 params (k, v not shrinking below one head).
    assert model.stored_weight_bytes() == 4 * 64 * 16 * B
    # Over 4 GPUs the cache holds each KV head twice: 4·64 = 2 × the TP1 128 bytes per token.
    assert 4 * model.kv_bytes_per_token() == 2 * AttentionCost(GQA, context()).kv_bytes_per_token()


def test_dp_attention_splits_the_sequences_not_the_heads() -> None:
    cost = AttentionCost(GQA, context(dp=2)).step_cost(DECODE)
    # 2 of the 4 sequences per DP rank; all 4 heads and both KV heads local; no all-reduce.
    assert cost.matmul_flops == 2 * 2 * 12288
    assert cost.attention_flops == 4 * 2 * 100 * 64
    assert cost.kv_bytes == 2 * 100 * 128 + 2 * 128
    assert cost.collectives == []


def test_fp8_kv_cache_includes_its_block_scales() -> None:
    # fp8: 8 bits + one 32-bit scale per 128×128 block = 8 + 32/16384 bits per element.
    model = AttentionCost(GQA, context(kv="fp8"))
    assert model.kv_bytes_per_token() == pytest.approx(64 * (8 + 32 / 16384) / 8)


def test_fp8_weight_override_applies_to_attention() -> None:
    model = AttentionCost(GQA, context(weights="fp8"))
    assert model.stored_weight_bytes() == pytest.approx(12288 * (8 + 32 / 16384) / 8)
    assert model.step_cost(DECODE).matmul_dtype == dtype("fp8")


# ------------------------------------------------------------------------ attention (MHA etc.)

MHA = AttentionLayerSpecs(hidden_size=64, num_heads=4, head_dim=16, qkv_bias=True, o_bias=True)


def test_mha_with_biases_tp1_and_tp2() -> None:
    # Projections 4 × 64 × 64 = 16384; q/k/v biases 3·64 = 192, o bias 64 → 16640 params.
    assert AttentionCost(MHA, context()).stored_weight_bytes() == 16640 * B
    # TP2: projections 8192; q/k/v biases of the 2 local heads 3·32 = 96; o bias replicated 64.
    assert AttentionCost(MHA, context(tp=2)).stored_weight_bytes() == (8192 + 96 + 64) * B
    # MHA caches all 4 heads: 2 · 4 · 16 · 2 bytes.
    assert AttentionCost(MHA, context()).kv_bytes_per_token() == 256
    cost = AttentionCost(MHA, context()).step_cost(DECODE)
    assert cost.matmul_flops == 2 * 4 * 16384  # biases are not matmul FLOPs


def test_bidirectional_attention_attends_to_the_whole_chunk_and_caches_nothing() -> None:
    encoder = AttentionLayerSpecs(hidden_size=64, num_heads=4, head_dim=16, causal=False)
    model = AttentionCost(encoder, context())
    cost = model.step_cost(PREFILL)
    assert cost.attention_flops == 4 * 8 * 8 * 64  # every token sees all 8: 16384
    assert model.kv_bytes_per_token() == 0
    assert cost.kv_bytes == 0


def test_qk_norm_and_sinks_are_stored() -> None:
    specs = GroupedQueryAttentionLayerSpecs(
        hidden_size=64, num_heads=4, num_kv_heads=2, head_dim=16, qk_norm=True,
        attention_sinks=True,
    )  # fmt: skip
    # 12288 projections + q/k norm weights 2·16 + one sink logit per head (4) = 12324.
    assert specs.parameter_count_per_instance() == 12324
    assert AttentionCost(specs, context()).stored_weight_bytes() == 12324 * B
    # TP2: 6144 + norms replicated 32 + the 2 local heads' sinks = 6178.
    assert AttentionCost(specs, context(tp=2)).stored_weight_bytes() == 6178 * B


# ----------------------------------------------------------------------- sliding-window GQA

SWA = SlidingWindowAttentionLayerSpecs(
    hidden_size=64, num_heads=4, num_kv_heads=2, head_dim=16, sliding_window=4
)


def test_sliding_window_caps_each_prefill_token_at_the_window() -> None:
    model = AttentionCost(SWA, context())
    assert model.kv_window() == 4
    cost = model.step_cost(PREFILL)
    # Token i sees min(i, 4): 1 + 2 + 3 + 4 + 4 + 4 + 4 + 4 = 26 positions (not 8 × min(4.5, 4)).
    assert cost.attention_flops == pytest.approx(4 * 26 * 64)
    assert cost.kv_bytes == 8 * 128  # nothing cached yet; 8 tokens written


def test_sliding_window_prefill_after_a_long_cache() -> None:
    cost = AttentionCost(SWA, context()).step_cost(PREFILL_CACHED)
    # 16 cached tokens ≥ window: every token sees exactly 4 positions.
    assert cost.attention_flops == pytest.approx(4 * 8 * 4 * 64)
    # Only the last 4 cached positions are read (4 · 128 bytes), plus 8 new tokens written.
    assert cost.kv_bytes == pytest.approx(4 * 128 + 8 * 128)


@pytest.mark.parametrize(
    ("cached", "chunk", "window"),
    [(0, 8, 4), (0, 8192, 4096), (3000, 2048, 4096), (2, 3, 4), (5000, 512, 4096), (0, 7, 7)],
)
def test_sliding_window_prefill_matches_a_token_by_token_count(
    cached: int, chunk: int, window: int
) -> None:
    specs = SlidingWindowAttentionLayerSpecs(
        hidden_size=64, num_heads=4, num_kv_heads=2, head_dim=16, sliding_window=window
    )
    shape = StepShape(
        prefill_tokens=chunk,
        prefill_seqs=1,
        prefill_context=cached + (chunk + 1) / 2,
        prefill_chunk=chunk,
    )
    cost = AttentionCost(specs, context()).step_cost(shape)
    positions = sum(min(cached + i, window) for i in range(1, chunk + 1))
    assert cost.attention_flops == pytest.approx(4 * positions * 64)
    # Cached KV read: at most the window's worth; then the chunk's own K/V written.
    assert cost.kv_bytes == pytest.approx((min(cached, window) + chunk) * 128)


def test_sliding_window_decode_tp2() -> None:
    cost = AttentionCost(SWA, context(tp=2)).step_cost(DECODE)
    # 2 heads × 4 seqs × min(100, 4) positions × 64; KV: 1 head = 64 bytes per token.
    assert cost.attention_flops == 2 * 4 * 4 * 64
    assert cost.kv_bytes == 4 * 4 * 64 + 4 * 64
    assert cost.collectives == all_reduce(2, 4 * 64 * B)


def test_window_larger_than_the_context_changes_nothing() -> None:
    wide = SlidingWindowAttentionLayerSpecs(
        hidden_size=64, num_heads=4, num_kv_heads=2, head_dim=16, sliding_window=4096
    )
    for shape in (PREFILL, PREFILL_CACHED, DECODE):
        a = AttentionCost(wide, context()).step_cost(shape)
        b = AttentionCost(GQA, context()).step_cost(shape)
        assert (a.attention_flops, a.kv_bytes) == (b.attention_flops, b.kv_bytes)


# ------------------------------------------------------------------------------------- MLA


def test_mla_weights_tp1_and_tp2() -> None:
    assert MLA.parameter_count_per_instance() == MLA_REPLICATED + MLA_SPLIT + MLA_NORMS  # 7984
    assert LatentAttentionCost(MLA, context()).stored_weight_bytes() == 7984 * B
    two = LatentAttentionCost(MLA, context(tp=2)).stored_weight_bytes()
    assert two == (MLA_REPLICATED + MLA_SPLIT / 2 + MLA_NORMS) * B  # 5680 params


def test_mla_caches_the_latent_and_rope_key_on_every_rank() -> None:
    # kv_lora_rank 16 + rope 4 = 20 elements = 40 bytes per token, whatever TP is.
    for tp in (1, 2, 4):
        assert LatentAttentionCost(MLA, context(tp=tp)).kv_bytes_per_token() == 20 * B
    assert LatentAttentionCost(MLA, context()).kv_window() is None


def test_mla_prefill_naive_form() -> None:
    cost = LatentAttentionCost(MLA, context()).step_cost(PREFILL)
    assert cost.matmul_flops == 2 * 8 * (MLA_REPLICATED + MLA_SPLIT)  # 126976
    # Per head per position: QK over qk_head_dim 12 (2·12) + PV over v 8 (2·8) = 40 FLOPs;
    # 4 heads × 36 causal positions × 40.
    assert cost.attention_flops == 4 * 36 * 40 == 5760
    assert cost.kv_bytes == 8 * 40  # 8 latents written
    two = LatentAttentionCost(MLA, context(tp=2)).step_cost(PREFILL)
    assert two.matmul_flops == 2 * 8 * (MLA_REPLICATED + MLA_SPLIT / 2)
    assert two.attention_flops == 2 * 36 * 40
    assert two.kv_bytes == 8 * 40  # the latent is not split
    assert two.collectives == all_reduce(2, 8 * 64 * B)


def test_mla_decode_absorbed_form() -> None:
    cost = LatentAttentionCost(MLA, context()).step_cost(DECODE)
    # Absorbed: QK over latent + rope (2·20) and PV over the latent (2·16) = 72 per head-position.
    assert cost.attention_flops == 4 * 4 * 100 * 72 == 115200
    assert cost.kv_bytes == 4 * 100 * 40 + 4 * 40  # read 400 latents, write 4
    two = LatentAttentionCost(MLA, context(tp=2)).step_cost(DECODE)
    assert two.attention_flops == 2 * 4 * 100 * 72
    assert two.kv_bytes == cost.kv_bytes


# ------------------------------------------------------------------------------------ MLPs

MLP = MLPLayerSpecs(hidden_size=64, intermediate_size=128, has_bias=True)


def test_mlp_weights_with_biases() -> None:
    # up 64×128 + down 128×64 = 16384; biases up 128 + down 64 → 16576.
    assert MLPCost(MLP, context()).stored_weight_bytes() == 16576 * B
    # TP2: 8192 + up bias 64 (split) + down bias 64 (replicated) = 8320.
    assert MLPCost(MLP, context(tp=2)).stored_weight_bytes() == 8320 * B


def test_mlp_prefill_and_decode() -> None:
    cost = MLPCost(MLP, context()).step_cost(PREFILL)
    assert cost.matmul_flops == 2 * 8 * 16384
    # Per token: x and y (64 + 64) plus the up output and the activation output (128 each),
    # each written and read: 128 + 4·128 = 640 elements.
    assert cost.activation_bytes == 8 * 640 * B
    two = MLPCost(MLP, context(tp=2)).step_cost(DECODE)
    assert two.matmul_flops == 2 * 4 * 8192
    assert two.activation_bytes == 4 * (128 + 4 * 64) * B
    assert two.collectives == all_reduce(2, 4 * 64 * B)


def test_gated_mlp() -> None:
    # gate + up + down: 3 × 64 × 128 = 24576 params, no bias.
    assert MLPCost(GATED, context()).stored_weight_bytes() == 24576 * B
    assert MLPCost(GATED, context(tp=2)).stored_weight_bytes() == 12288 * B
    cost = MLPCost(GATED, context()).step_cost(PREFILL)
    assert cost.matmul_flops == 2 * 8 * 24576
    # gate, up and their product (128 each) written and read: 128 + 6·128 = 896 per token.
    assert cost.activation_bytes == 8 * 896 * B
    # Peak live for 8 tokens: the input (64) and two 128-wide intermediates per token.
    assert MLPCost(GATED, context()).activation_peak_bytes(8) == 8 * (64 + 2 * 128) * B


# ------------------------------------------------------------------------------------- MoE

EXPERT = 6144
ROUTER = 64 * 8  # 512


def test_expected_experts_touched_formula() -> None:
    # A token picks 2 of 8: a given expert is missed with probability 1 − 2/8 = 0.75;
    # T independent tokens miss it with 0.75^T.
    assert expected_experts_touched(8, 2, 1) == pytest.approx(2.0)
    assert expected_experts_touched(8, 2, 4) == pytest.approx(8 * (1 - 0.75**4))  # 5.46875
    assert expected_experts_touched(8, 2, 4) == pytest.approx(5.46875)
    assert expected_experts_touched(8, 2, 0) == 0.0
    assert expected_experts_touched(8, 2, 10_000) == pytest.approx(8.0)  # saturates at E
    # Top-k = E: every expert from the first token.
    assert expected_experts_touched(8, 8, 1) == pytest.approx(8.0)


def test_moe_weights_tp1() -> None:
    model = MoECost(MOE, context())
    assert model.stored_weight_bytes() == (8 * EXPERT + ROUTER) * B  # 49664 params


def test_moe_decode_reads_only_the_touched_experts() -> None:
    model = MoECost(MOE, context())
    one = model.step_cost(StepShape(decode_seqs=1, decode_context=100))
    # 1 token touches exactly 2 experts: 2·6144 params + the router, read once.
    assert one.weight_bytes == (2 * EXPERT + ROUTER) * B == 25600
    four = model.step_cost(DECODE)
    assert four.weight_bytes == pytest.approx((5.46875 * EXPERT + ROUTER) * B)  # 68224
    # 4 tokens × (2 experts × 6144 + router 512) weight elements × 2 FLOPs.
    assert four.matmul_flops == 2 * 4 * (2 * EXPERT + ROUTER) == 102400
    # Activations: x and y per token (2·64) + each of the 8 token-expert pairs reads its input
    # and writes its output (2·64) and the gate, up and product (3·32).
    assert four.activation_bytes == (4 * 2 * 64 + 8 * (2 * 64 + 3 * 32)) * B
    assert four.collectives == []


def test_moe_tensor_parallel_slices_every_expert() -> None:
    model = MoECost(MOE, context(tp=2))  # moe_tp = 2, ep = 1
    # Each GPU holds half of every expert (3072) and the whole router (replicated).
    assert model.stored_weight_bytes() == (8 * EXPERT / 2 + ROUTER) * B
    cost = model.step_cost(DECODE)
    assert cost.matmul_flops == 2 * 4 * (2 * EXPERT / 2 + ROUTER)
    assert cost.collectives == all_reduce(2, 4 * 64 * B)
    # Peak live for 8 tokens: 16 pairs, each its input (64) and gate/up slices (2·16).
    assert model.activation_peak_bytes(8) == 16 * (64 + 2 * 16) * B


def test_moe_expert_parallel_places_whole_experts() -> None:
    model = MoECost(MOE, context(tp=2, ep=2))  # moe_tp = 1
    # 4 whole experts per GPU + router.
    assert model.stored_weight_bytes() == (4 * EXPERT + ROUTER) * B
    cost = model.step_cost(DECODE)
    # Of 5.46875 expected experts touched, each GPU holds half.
    assert cost.weight_bytes == pytest.approx((5.46875 / 2 * EXPERT + ROUTER) * B)
    # 8 token-expert pairs spread over 2 GPUs: 4 pairs × 6144, plus the router on all 4 tokens.
    assert cost.matmul_flops == 2 * (4 * EXPERT + 4 * ROUTER)
    # Dispatch and combine: each GPU sends its 2 tokens × top-2 copies × 64 × 2 bytes = 512.
    assert cost.collectives == [
        Collective("all_to_all", 2, 2 * 2 * 64 * B),
        Collective("all_to_all", 2, 2 * 2 * 64 * B),
    ]
    # all-to-all: (n−1)/n of each buffer leaves the GPU: 2 × 256.
    assert cost.communication_bytes == 512
    # Peak live for 8 tokens: 16 pairs over 2 GPUs, full-width experts: 8 × (64 + 2·32).
    assert model.activation_peak_bytes(8) == 8 * (64 + 2 * 32) * B


def test_moe_with_dp_attention_gathers_and_scatters() -> None:
    model = MoECost(MOE, context(dp=2))  # tp 1, dp 2, moe_tp 2, ep 1
    cost = model.step_cost(DECODE)
    # All 4 tokens of the replica go through the sliced experts: gathered 4·64·2 bytes.
    assert cost.collectives == [
        Collective("all_gather", 2, 4 * 64 * B),
        Collective("reduce_scatter", 2, 4 * 64 * B),
    ]


def test_moe_shared_experts_and_gate() -> None:
    specs = MoELayerSpecs(
        hidden_size=64,
        num_experts=8,
        num_experts_per_tok=2,
        expert_intermediate_size=32,
        num_shared_experts=1,
        shared_expert_intermediate_size=64,
        shared_expert_gate=True,
    )
    shared = 3 * 64 * 64  # 12288
    gate = 64  # Linear(hidden, 1)
    assert specs.parameter_count_per_instance() == 8 * EXPERT + shared + ROUTER + gate  # 62016
    assert MoECost(specs, context()).stored_weight_bytes() == 62016 * B
    # TP2: experts halved, shared expert split over tp, router and gate replicated.
    two = MoECost(specs, context(tp=2)).stored_weight_bytes()
    assert two == (8 * EXPERT / 2 + shared / 2 + ROUTER + gate) * B  # 31296 params
    cost = MoECost(specs, context()).step_cost(DECODE)
    # Per token: 2 routed experts + the shared expert + router + gate.
    assert cost.matmul_flops == 2 * 4 * (2 * EXPERT + shared + ROUTER + gate)
    # The shared expert is always read, routed ones as touched.
    assert cost.weight_bytes == pytest.approx((5.46875 * EXPERT + shared + ROUTER + gate) * B)


def test_moe_formats_per_role() -> None:
    # mxfp4 experts: 4 bits + an 8-bit scale per 32 elements = 4.25 bits; router stays bf16.
    model = MoECost(MOE, context(experts="mxfp4"))
    assert model.stored_weight_bytes() == pytest.approx(8 * EXPERT * 4.25 / 8 + ROUTER * B)
    # nvfp4: an 8-bit scale per 16 → 4.5 bits; int4: 32 bits of scale+zero per 128 → 4.25.
    nv = MoECost(MOE, context(experts="nvfp4")).stored_weight_bytes()
    assert nv == pytest.approx(8 * EXPERT * 4.5 / 8 + ROUTER * B)
    i4 = MoECost(MOE, context(experts="int4")).stored_weight_bytes()
    assert i4 == pytest.approx(8 * EXPERT * 4.25 / 8 + ROUTER * B)
    # A checkpoint that stores the layer in fp8 keeps its shared expert in fp8 as well.
    fp8 = MoELayerSpecs(
        hidden_size=64, num_experts=8, num_experts_per_tok=2, expert_intermediate_size=32,
        num_shared_experts=1, weight_dtype="fp8",
    )  # fmt: skip
    per_fp8 = (8 + 32 / 16384) / 8
    expected = (8 * EXPERT + 3 * 64 * 32) * per_fp8 + ROUTER * B
    assert MoECost(fp8, context()).stored_weight_bytes() == pytest.approx(expected)
    # A dense fp8 override quantizes the shared expert but never the router (engines keep the
    # gate in 16 bits); the routed experts keep their own (here bf16) format.
    shared = MoELayerSpecs(
        hidden_size=64, num_experts=8, num_experts_per_tok=2, expert_intermediate_size=32,
        num_shared_experts=1,
    )  # fmt: skip
    expected = 8 * EXPERT * B + 3 * 64 * 32 * per_fp8 + ROUTER * B
    got = MoECost(shared, context(weights="fp8")).stored_weight_bytes()
    assert got == pytest.approx(expected)


# ------------------------------------------------------------------------- norms and edges


def test_norms_are_replicated() -> None:
    rms = NormLayerSpecs(hidden_size=64, has_bias=False)
    layer = NormLayerSpecs(hidden_size=64, has_bias=True)
    for tp in (1, 2):
        assert NormCost(rms, context(tp=tp)).stored_weight_bytes() == 64 * B
        assert NormCost(layer, context(tp=tp)).stored_weight_bytes() == 128 * B
    cost = NormCost(rms, context(tp=2)).step_cost(PREFILL)
    assert cost.flops == 0
    assert cost.activation_bytes == 2 * 8 * 64 * B  # read and write 8 × 64
    assert cost.collectives == []


def test_embedding_is_vocab_parallel_and_gathers_rows() -> None:
    specs = EmbeddingLayerSpecs(vocab_size=1000, hidden_size=64)
    assert EmbeddingCost(specs, context()).stored_weight_bytes() == 64000 * B
    model = EmbeddingCost(specs, context(tp=2))
    assert model.stored_weight_bytes() == 32000 * B
    cost = model.step_cost(PREFILL)
    assert cost.flops == 0
    assert cost.weight_bytes == 8 * 64 * B  # only the 8 looked-up rows are read
    assert cost.collectives == all_reduce(2, 8 * 64 * B)


def test_untied_lm_head_runs_on_logit_rows_only() -> None:
    specs = OutputLayerSpecs(vocab_size=1000, hidden_size=64)
    one = OutputCost(specs, context(), None)
    assert one.stored_weight_bytes() == 1000 * 64 * B
    cost = one.step_cost(PREFILL)
    # One prompt → one logit row: 2 · 1 · 1000 · 64.
    assert cost.matmul_flops == 128000
    # fp32 logits 1000 × 4 bytes + the hidden row 64 × 2.
    assert cost.activation_bytes == 1000 * 4 + 64 * B
    two = OutputCost(specs, context(tp=2), None)
    assert two.stored_weight_bytes() == 500 * 64 * B
    dec = two.step_cost(DECODE)
    assert dec.matmul_flops == 2 * 4 * 500 * 64  # 4 rows, half the vocabulary
    # Logits gathered in fp32: the full 4 × 1000 × 4 bytes.
    assert dec.collectives == [Collective("all_gather", 2, 4 * 1000 * 4)]
    assert dec.communication_bytes == 0.5 * 16000  # (n−1)/n of the gathered tensor


def test_tied_lm_head_stores_nothing_but_reads_the_embedding() -> None:
    specs = OutputLayerSpecs(vocab_size=1000, hidden_size=64, tied=True)
    model = OutputCost(specs, context(), "fp32")
    assert model.stored_weight_bytes() == 0
    cost = model.step_cost(DECODE)
    assert cost.matmul_flops == 2 * 4 * 1000 * 64
    assert cost.weight_bytes == 1000 * 64 * 4  # the embedding matrix, in its fp32 format
    assert cost.matmul_dtype == dtype("fp32")


def test_lm_head_bias_is_stored() -> None:
    specs = OutputLayerSpecs(vocab_size=1000, hidden_size=64, has_bias=True)
    assert specs.parameter_count_per_instance() == 65000
    assert OutputCost(specs, context(), None).stored_weight_bytes() == 65000 * B
    assert OutputCost(specs, context(tp=2), None).stored_weight_bytes() == 32500 * B


def test_pooler_runs_on_one_row_per_sequence() -> None:
    specs = PoolerLayerSpecs(hidden_size=64)
    model = PoolerCost(specs, context(tp=2))
    assert model.stored_weight_bytes() == (64 * 64 + 64) * B  # replicated dense + bias
    two_prompts = StepShape(prefill_tokens=16, prefill_seqs=2, prefill_context=4.5, prefill_chunk=8)
    cost = model.step_cost(two_prompts)
    assert cost.matmul_flops == 2 * 2 * 64 * 64  # 2 first tokens × 64 × 64
    assert model.step_cost(DECODE).matmul_flops == 0  # no decode rows


# ------------------------------------------------------------ a whole (tiny) spec end to end


def _tiny_spec(tied: bool) -> ModelSpec:
    layers = [
        {"name": "embed", "class": "EmbeddingLayer", "count": 1,
         "specs": {"vocab_size": 1000, "hidden_size": 64}},
        {"name": "attn", "class": "GroupedQueryAttentionLayer", "count": 2,
         "specs": {"hidden_size": 64, "num_heads": 4, "num_kv_heads": 2, "head_dim": 16}},
        {"name": "mlp", "class": "GatedMLPLayer", "count": 2,
         "specs": {"hidden_size": 64, "intermediate_size": 128}},
        {"name": "norm", "class": "NormLayer", "count": 5,
         "specs": {"hidden_size": 64, "has_bias": False}},
        {"name": "head", "class": "OutputLayer", "count": 1,
         "specs": {"vocab_size": 1000, "hidden_size": 64, "tied": tied}},
    ]  # fmt: skip
    # 64000 + 2·12288 + 2·24576 + 5·64 + (0 if tied else 64000)
    total = 64000 + 2 * 12288 + 2 * 24576 + 5 * 64 + (0 if tied else 64000)
    return ModelSpec.model_validate(
        {
            "model_id": "tiny",
            "hf_model_id": "test/tiny",
            "name": "tiny",
            "hidden_size": 64,
            "num_layers": 2,
            "vocab_size": 1000,
            "total_params": total,
            "total_params_formatted": "1K",
            "layer_types": layers,
            "validated": False,
        }
    )


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("tp", [1, 2])
def test_every_parameter_is_stored_once_over_the_tp_group(tied: bool, tp: int) -> None:
    spec = _tiny_spec(tied)
    models = cost_models(spec, context(tp=tp))
    stored = sum(lt.count * m.stored_weight_bytes() for lt, m in models)
    # Everything splits except the 5 norms, which every GPU holds.
    assert tp * stored == (spec.total_params + (tp - 1) * 5 * 64) * B


def test_tied_head_reads_the_embedding_in_the_embedding_format() -> None:
    spec = _tiny_spec(tied=True)
    models = dict((lt.name, m) for lt, m in cost_models(spec, context()))
    head = models["head"].step_cost(DECODE)
    assert head.weight_bytes == 1000 * 64 * B
    assert head.matmul_flops == 2 * 4 * 1000 * 64

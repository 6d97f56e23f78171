"""Small round layer shapes and step shapes shared by the cost-model tests.

h = 64, 4 query heads, 2 KV heads, head_dim 16, MLP intermediate 128, bf16; the arithmetic of
each figure is written next to it.
"""

from __future__ import annotations

from infercast.layers import StepShape
from infercast.specs.layer_classes import (
    GatedMLPLayerSpecs,
    GroupedQueryAttentionLayerSpecs,
    MoELayerSpecs,
    MultiHeadLatentAttentionLayerSpecs,
)

# One prompt of S = 8 tokens from scratch: token i attends to i positions, mean (8+1)/2 = 4.5.
PREFILL = StepShape(prefill_tokens=8, prefill_seqs=1, prefill_context=4.5, prefill_chunk=8)
# The same 8-token chunk after 16 cached tokens: mean context 16 + 4.5 = 20.5.
PREFILL_CACHED = StepShape(prefill_tokens=8, prefill_seqs=1, prefill_context=20.5, prefill_chunk=8)
# Four sequences decoding one token each against 100 cached positions.
DECODE = StepShape(decode_seqs=4, decode_context=100)

GQA = GroupedQueryAttentionLayerSpecs(hidden_size=64, num_heads=4, num_kv_heads=2, head_dim=16)

MLA = MultiHeadLatentAttentionLayerSpecs(
    hidden_size=64,
    num_heads=4,
    q_lora_rank=32,
    kv_lora_rank=16,
    qk_nope_head_dim=8,
    qk_rope_head_dim=4,
    v_head_dim=8,
)
# Replicated down-projections: kv_a 64×(16+4) = 1280, q_a 64×32 = 2048 → 3328.
# Split per-head up-projections: q_b 32×4×(8+4) = 1536, kv_b 16×4×(8+8) = 1024,
# o 4×8×64 = 2048 → 4608. Norms (replicated): kv_lora 16 + q_lora 32 = 48.
MLA_REPLICATED, MLA_SPLIT, MLA_NORMS = 3328, 4608, 48

GATED = GatedMLPLayerSpecs(hidden_size=64, intermediate_size=128)

# 8 experts, top-2, expert width 32: one expert = gate + up + down = 3·64·32 = 6144 params.
MOE = MoELayerSpecs(
    hidden_size=64, num_experts=8, num_experts_per_tok=2, expert_intermediate_size=32
)

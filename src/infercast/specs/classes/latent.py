"""Multi-head latent attention (DeepSeek-V2/V3, Kimi K2)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from infercast.specs.classes.attention import HEADS
from infercast.specs.classes.base import (
    HeadCount,
    LayerSpecs,
    NonNegativeWidth,
    Role,
    Size,
    layer_class,
)
from infercast.specs.ops import AttentionCore, Linear, Norm, Op

__all__ = ["MultiHeadLatentAttentionLayerSpecs"]


@layer_class
class MultiHeadLatentAttentionLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "MultiHeadLatentAttentionLayer"
    description: ClassVar[str] = (
        "Multi-head latent attention (DeepSeek-V2/V3, Kimi K2): K/V compressed to a "
        "kv_lora_rank latent plus a shared rope key, which is all the KV cache holds."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = (
        "tensor_parallel",
        "context_parallel",
        "data_parallel",
    )
    role: ClassVar[Role] = "attention"
    short_name: ClassVar[str] = "MLA attention"
    label: ClassVar[str] = "MLA"

    hidden_size: Size
    num_heads: HeadCount
    q_lora_rank: NonNegativeWidth = Field(
        description="Rank of the query down-projection; 0 means a plain q_proj (V2-Lite)."
    )
    kv_lora_rank: Size
    qk_nope_head_dim: Size
    qk_rope_head_dim: Size
    v_head_dim: Size
    causal: bool = True

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim

    def ops(self) -> tuple[Op, ...]:
        """Down-projections replicated (their latents are small), per-head up-projections split
        by heads; the cache is the latent plus the rope key on every TP rank."""
        h, n = self.hidden_size, self.num_heads
        q_rank, kv_rank = self.q_lora_rank, self.kv_lora_rank
        qk, rope, v = self.qk_head_dim, self.qk_rope_head_dim, self.v_head_dim
        ops: list[Op] = []
        if q_rank:
            ops += [
                Linear("q_a_proj", h, q_rank),
                Norm("q_a_layernorm", q_rank, fmt="dense"),
                Linear("q_b_proj", q_rank, n * qk, "col", heads=n, split_label=HEADS),
            ]
        else:
            ops.append(Linear("q_proj", h, n * qk, "col", heads=n, split_label=HEADS))
        return (
            *ops,
            Linear("kv_a_proj_with_mqa", h, kv_rank + rope),
            Norm("kv_a_layernorm", kv_rank, fmt="dense"),
            Linear(
                "kv_b_proj",
                kv_rank,
                n * (self.qk_nope_head_dim + v),
                "col",
                heads=n,
                split_label=HEADS,
            ),
            Linear("o_proj", n * v, h, "row", heads=n, split_label=HEADS),
            AttentionCore(
                "mla", n, n, qk, causal=self.causal, latent=kv_rank, rope_dim=rope, v_head_dim=v
            ),
        )

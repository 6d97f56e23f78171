"""Attention layer classes: vanilla MHA, grouped-query, sliding-window and chunked local GQA.

Options every class shares: a value head width of its own (``v_head_dim``, MiMo-V2), QK-norm per
head or over the whole projection (OLMo 2, MiniMax-M2), and gated softmax attention (an output
gate from q_proj, Qwen3-Next / Qwen3.5)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from infercast.specs.classes.base import (
    HeadCount,
    LayerSpecs,
    NonNegativeWidth,
    Role,
    Size,
    layer_class,
)
from infercast.specs.ops import AttentionCore, Linear, Norm, Op, Param

__all__ = [
    "AttentionLayerSpecs",
    "ChunkedLocalAttentionLayerSpecs",
    "GroupedQueryAttentionLayerSpecs",
    "SlidingWindowAttentionLayerSpecs",
]

HEADS = "{n} attention heads are"


class _AttentionSpecs(LayerSpecs):
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel", "context_parallel")
    role: ClassVar[Role] = "attention"

    hidden_size: Size
    num_heads: HeadCount
    head_dim: Size = Field(description="Per-head width; may differ from hidden_size/num_heads.")
    v_head_dim: NonNegativeWidth = Field(
        default=0, description="Per-head width of values (MiMo-V2: 128 beside 192); 0 = head_dim."
    )
    qkv_bias: bool = Field(default=False, description="Q, K and V projections carry biases.")
    o_bias: bool = Field(default=False, description="The output projection carries a bias.")
    qk_norm: bool = Field(
        default=False, description="RMSNorm over head_dim on queries and keys (Qwen3, Gemma 3)."
    )
    qk_norm_scope: Literal["head", "projection"] = Field(
        default="head",
        description="With qk_norm: 'head' normalises each head over head_dim (weights 2·head_dim);"
        " 'projection' normalises the whole q and k projections (OLMo 2, MiniMax-M2: weights "
        "heads·head_dim + kv_heads·head_dim, split over TP with the heads).",
    )
    output_gate: bool = Field(
        default=False,
        description="Gated softmax attention (Qwen3-Next, Qwen3.5): q_proj also emits a "
        "sigmoid gate per output element (heads·v_head_dim more rows).",
    )
    attention_sinks: bool = Field(
        default=False, description="One learned sink logit per head (gpt-oss)."
    )
    causal: bool = Field(
        default=True,
        description="Causal (decoder) attention; false for bidirectional encoders (BERT).",
    )

    @property
    def kv_heads(self) -> int:
        return self.num_heads

    @property
    def window(self) -> int | None:
        return None

    @property
    def chunk(self) -> int | None:
        return None

    def ops(self) -> tuple[Op, ...]:
        h, n, kv, d = self.hidden_size, self.num_heads, self.kv_heads, self.head_dim
        dv = self.v_head_dim or d
        q_rows = n * (d + (dv if self.output_gate else 0))
        ops: list[Op] = [
            Linear("q_proj", h, q_rows, "col", self.qkv_bias, heads=n, split_label=HEADS),
            Linear("k_proj", h, kv * d, "col", self.qkv_bias, heads=kv, replicable=True),
            Linear("v_proj", h, kv * dv, "col", self.qkv_bias, heads=kv, replicable=True),
            Linear("o_proj", n * dv, h, "row", self.o_bias, heads=n, split_label=HEADS),
        ]
        if self.qk_norm and self.qk_norm_scope == "projection":
            ops += [
                Norm("q_norm", n * d, fmt="dense", shard="col"),
                Norm("k_norm", kv * d, fmt="dense", shard="col"),
            ]
        elif self.qk_norm:
            ops += [Norm("q_norm", d, fmt="dense"), Norm("k_norm", d, fmt="dense")]
        if self.attention_sinks:
            ops.append(Param("sinks", n, "col"))
        core = AttentionCore(
            "gqa", n, kv, d, self.window, self.causal, v_head_dim=self.v_head_dim, chunk=self.chunk
        )
        ops.append(core)
        return tuple(ops)


@layer_class
class AttentionLayerSpecs(_AttentionSpecs):
    class_name: ClassVar[str] = "AttentionLayer"
    description: ClassVar[str] = "Vanilla multi-head attention (MHA): as many KV heads as heads."
    short_name: ClassVar[str] = "MHA attention"
    label: ClassVar[str] = "MHA"


@layer_class
class GroupedQueryAttentionLayerSpecs(_AttentionSpecs):
    class_name: ClassVar[str] = "GroupedQueryAttentionLayer"
    description: ClassVar[str] = "Grouped-query attention (GQA): num_kv_heads shared K/V heads."
    short_name: ClassVar[str] = "GQA attention"
    label: ClassVar[str] = "GQA"

    num_kv_heads: HeadCount

    @property
    def kv_heads(self) -> int:
        return self.num_kv_heads

    def problems(self) -> list[tuple[str, str]]:
        kv, n = self.num_kv_heads, self.num_heads
        if kv > n:
            return [("num_kv_heads", f"{kv} exceeds num_heads {n}")]
        if n % kv:
            return [("num_kv_heads", f"num_heads {n} is not a multiple of num_kv_heads {kv}")]
        return []


@layer_class
class SlidingWindowAttentionLayerSpecs(GroupedQueryAttentionLayerSpecs):
    class_name: ClassVar[str] = "SlidingWindowAttentionLayer"
    description: ClassVar[str] = (
        "GQA that attends to the last sliding_window tokens only (Mistral, Gemma 2/3 local "
        "layers, gpt-oss): its KV cache stops growing at the window."
    )
    short_name: ClassVar[str] = "SWA attention"
    label: ClassVar[str] = "sliding-window GQA"

    sliding_window: Annotated[int, Field(gt=0, le=1 << 27)]

    @property
    def window(self) -> int | None:
        return self.sliding_window


@layer_class
class ChunkedLocalAttentionLayerSpecs(GroupedQueryAttentionLayerSpecs):
    class_name: ClassVar[str] = "ChunkedLocalAttentionLayer"
    description: ClassVar[str] = (
        "GQA within fixed chunks (Llama 4's RoPE layers, 8192 tokens): a token attends to the "
        "earlier tokens of its own chunk only, so a sequence never needs more than one chunk "
        "of K/V."
    )
    short_name: ClassVar[str] = "chunked attention"
    label: ClassVar[str] = "chunked local GQA"

    attention_chunk_size: Annotated[int, Field(gt=0, le=1 << 27)]

    @property
    def chunk(self) -> int | None:
        return self.attention_chunk_size

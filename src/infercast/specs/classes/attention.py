"""Attention layer classes: vanilla MHA, grouped-query and sliding-window grouped-query."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from infercast.specs.classes.base import HeadCount, LayerSpecs, Role, Size, layer_class
from infercast.specs.ops import AttentionCore, Linear, Norm, Op, Param

__all__ = [
    "AttentionLayerSpecs",
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
    qkv_bias: bool = Field(default=False, description="Q, K and V projections carry biases.")
    o_bias: bool = Field(default=False, description="The output projection carries a bias.")
    qk_norm: bool = Field(
        default=False, description="RMSNorm over head_dim on queries and keys (Qwen3, Gemma 3)."
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

    def ops(self) -> tuple[Op, ...]:
        h, n, kv, d = self.hidden_size, self.num_heads, self.kv_heads, self.head_dim
        ops: list[Op] = [
            Linear("q_proj", h, n * d, "col", self.qkv_bias, heads=n, split_label=HEADS),
            Linear("k_proj", h, kv * d, "col", self.qkv_bias, heads=kv, replicable=True),
            Linear("v_proj", h, kv * d, "col", self.qkv_bias, heads=kv, replicable=True),
            Linear("o_proj", n * d, h, "row", self.o_bias, heads=n, split_label=HEADS),
        ]
        if self.qk_norm:
            ops += [Norm("q_norm", d, fmt="dense"), Norm("k_norm", d, fmt="dense")]
        if self.attention_sinks:
            ops.append(Param("sinks", n, "col"))
        ops.append(AttentionCore("gqa", n, kv, d, window=self.window, causal=self.causal))
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

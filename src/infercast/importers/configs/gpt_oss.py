"""gpt-oss (openai/gpt-oss-20b, -120b): alternating sliding/full GQA with sinks, biased MoE.

What differs from a Llama block, and why it matters for the counts:
- attention: biases on q, k, v and o (``attention_bias``, default true) and one learned sink
  logit per head; ``layer_types`` (default: even layers sliding) picks sliding (window
  ``sliding_window``, default 128) or full attention per layer;
- MoE in every layer: ``num_local_experts`` experts of width ``intermediate_size`` with biases
  on the fused gate/up (2·i) and down (h) projections, a router ``Linear(h, E)`` with bias and a
  softmax over the top-k (``num_experts_per_tok``, default 4; the original name
  ``experts_per_token`` is accepted too).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from infercast.importers.configs.base import (
    MAX_EXPERTS,
    MAX_LAYERS,
    MAX_WINDOW,
    ConfigReader,
    LayerPart,
    OnBase,
    RoutedExperts,
    layer_windows,
)
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.moe import routed_part
from infercast.importers.configs.registry import GGUFKey, family

__all__ = ["GptOssConfig"]


@family(
    "gpt_oss",
    gguf="gpt-oss",
    gguf_keys=(
        GGUFKey("head_dim", "attention.key_length"),
        GGUFKey("num_local_experts", "expert_count", required=True),
        GGUFKey("num_experts_per_tok", "expert_used_count", required=True),
        GGUFKey("intermediate_size", "expert_feed_forward_length", required=True),
        GGUFKey("sliding_window", "attention.sliding_window", required=True),
        GGUFKey("attention_bias", tensor="blk.0.attn_q.bias"),
    ),
)
@dataclass(frozen=True)
class GptOssConfig(OnBase, RoutedExperts):
    """gpt-oss: a Llama-family ``base`` (attention, norms, vocab) plus the MoE fields."""

    base: LlamaFamilyConfig
    num_experts: int
    num_experts_per_tok: int
    expert_intermediate_size: int

    model_type = "gpt_oss"

    @classmethod
    def from_hf(cls, reader: ConfigReader) -> GptOssConfig:
        num_experts = reader.first_integer(
            ("num_local_experts", "num_experts"), maximum=MAX_EXPERTS
        )
        top_k = reader.first_integer(
            ("num_experts_per_tok", "experts_per_token"), 4, maximum=MAX_EXPERTS
        )
        if reader.has("num_experts_per_tok") and reader.has("experts_per_token"):
            other = reader.integer("experts_per_token", maximum=MAX_EXPERTS)
            if other != top_k:
                raise reader.error(
                    "experts_per_token", f"{other} disagrees with num_experts_per_tok {top_k}"
                )
        if top_k > num_experts:
            raise reader.error(
                "num_experts_per_tok", f"top-k {top_k} exceeds num_local_experts {num_experts}"
            )
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        window = reader.opt_integer("sliding_window", maximum=MAX_WINDOW)
        if "sliding_window" not in reader.data:
            window = 128
        alternate = [bool((i + 1) % 2) for i in range(layers)]
        base = LlamaFamilyConfig.read_common(
            reader,
            head_dim_default=64,
            **LlamaFamilyConfig.attention_bias(reader, default=True),
            sliding_windows=layer_windows(reader, layers, window, alternate),
        )
        return cls(base, num_experts, top_k, base.intermediate_size)

    def ffn_part(self, i: int) -> LayerPart:
        experts = f"model.layers.{i}.mlp.experts"
        modules = (f"{experts}.gate_up_proj", f"{experts}.down_proj")
        return routed_part(self, i, modules, router_bias=True, expert_bias=True)

    def attention_part(self, i: int) -> LayerPart:
        """The base attention with one learned sink per head."""
        attention = self.base.attention_part(i)
        return replace(attention, specs={**attention.specs, "attention_sinks": True})

    def layer_parts(self) -> list[LayerPart]:
        return self.base.assemble(self.ffn_part, self.attention_part)

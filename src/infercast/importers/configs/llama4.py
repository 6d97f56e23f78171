"""Llama 4 (``llama4_text``; the ``llama4`` wrapper imports it): chunked local attention with
NoPE global layers, and MoE with a shared expert.

Per transformers' ``modeling_llama4``:
- ``no_rope_layers`` (default: 0 at every ``no_rope_layer_interval``-th layer, interval 4)
  marks the NoPE layers: they attend globally (full causal attention). The RoPE layers attend
  within ``attention_chunk_size``-token chunks (8192): ``ChunkedLocalAttentionLayerSpecs``;
- QK-norm (``use_qk_norm``) is a weightless L2 norm: no parameters; ``attention_bias`` biases
  q, k, v and o;
- MoE layers (``moe_layers``, default every ``interleave_moe_layer_step``-th layer) hold
  ``num_local_experts`` experts of ``intermediate_size``, ``num_experts_per_tok`` (1) per token
  through a sigmoid router ``Linear(hidden, E)``, plus one shared expert of the same width;
  the other layers are dense gated MLPs of ``intermediate_size_mlp``.
"""

from __future__ import annotations

from infercast.importers.configs.base import (
    MAX_INTERMEDIATE,
    MAX_LAYERS,
    MAX_WINDOW,
    ConfigReader,
    LayerPart,
)
from infercast.importers.configs.blocks import BlockDecoder, expert_modules
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.moe import moe_part, read_experts
from infercast.importers.configs.registry import family

__all__ = ["Llama4Family", "llama4_from_hf"]


def _flags(reader: ConfigReader, name: str, layers: int) -> list[int] | None:
    values = reader.integers(name, maximum=MAX_LAYERS) if reader.has(name) else None
    return values


def llama4_from_hf(reader: ConfigReader) -> BlockDecoder:
    layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
    rope = _flags(reader, "no_rope_layers", layers)
    if rope is None:
        every = reader.integer("no_rope_layer_interval", 4, maximum=MAX_LAYERS)
        rope = [int((i + 1) % every != 0) for i in range(layers)]
    elif len(rope) != layers:
        raise reader.error(
            "no_rope_layers", f"has {len(rope)} entries but num_hidden_layers is {layers}"
        )
    chunk = reader.opt_integer("attention_chunk_size", maximum=MAX_WINDOW)
    chunked = tuple(i for i in range(layers) if rope[i]) if chunk is not None else ()
    moe_layers = _flags(reader, "moe_layers", layers)
    if moe_layers is None:
        step = reader.integer("interleave_moe_layer_step", 1, maximum=MAX_LAYERS)
        moe_layers = list(range(step - 1, layers, step))
    elif any(i >= layers for i in moe_layers):
        raise reader.error("moe_layers", f"names a layer ≥ num_hidden_layers {layers}")
    dense_size = (
        reader.integer("intermediate_size_mlp", maximum=MAX_INTERMEDIATE)
        if len(moe_layers) < layers
        else None
    )
    base = LlamaFamilyConfig.read_common(
        reader,
        **LlamaFamilyConfig.attention_bias(reader),
        chunked_layers=chunked,
        attention_chunk_size=chunk,
    )
    experts, top_k = read_experts(reader, "num_local_experts", 1)
    sparse = set(moe_layers)

    def ffn(i: int) -> LayerPart:
        if i not in sparse:
            return base.dense_ffn_part(i, dense_size)
        return moe_part(
            i,
            base.hidden_size,
            experts,
            top_k,
            base.intermediate_size,
            expert_modules(i, "experts", "feed_forward"),
            num_shared_experts=1,
            norm_topk_prob=False,
            router_scoring="sigmoid",
        )

    return BlockDecoder(base, base.attention_part, ffn)


@family("llama4_text")
class Llama4Family:
    """Llama 4: registered reader (see the module docstring)."""

    from_hf = staticmethod(llama4_from_hf)

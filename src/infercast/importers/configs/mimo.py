"""MiMo-V2-Flash (``mimo_v2_flash``): hybrid sliding/full GQA with distinct K and V head dims.

Per Xiaomi's ``modeling_mimo_v2_flash``:
- ``hybrid_layer_pattern`` gives each layer's attention: 0 full, 1 sliding-window (window
  ``sliding_window``). The two kinds have their own heads: full layers ``num_attention_heads``,
  ``num_key_value_heads``, ``head_dim`` (queries and keys) and ``v_head_dim``; sliding layers the
  ``swa_``-prefixed fields (each defaulting to the full layers' value);
- ``add_swa_attention_sink_bias`` / ``add_full_attention_sink_bias`` add one learned sink
  logit per head to that kind; ``attention_bias`` biases q, k, v and o;
- ``moe_layer_freq`` is a 0/1 list: 1 = MoE (``n_routed_experts`` of ``moe_intermediate_size``,
  sigmoid router with selection bias), 0 = dense gated MLP of ``intermediate_size``.
"""

from __future__ import annotations

from infercast.importers.configs.base import (
    MAX_HEADS,
    MAX_LAYERS,
    MAX_WINDOW,
    ConfigReader,
    LayerPart,
    check_heads,
)
from infercast.importers.configs.blocks import BlockDecoder, routed_experts
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.registry import family
from infercast.specs.classes.attention import (
    GroupedQueryAttentionLayerSpecs,
    SlidingWindowAttentionLayerSpecs,
)

__all__ = ["MiMoV2FlashFamily", "mimo_v2_from_hf"]


def _kind(
    reader: ConfigReader, prefix: str, base: LlamaFamilyConfig, full: dict[str, int] | None = None
) -> dict[str, int]:
    """One attention kind's heads; the sliding kind's unset fields are the full kind's."""
    default = full or {
        "num_heads": base.num_heads,
        "num_kv_heads": base.num_kv_heads,
        "head_dim": base.head_dim,
        "v_head_dim": reader.integer("v_head_dim", base.head_dim),
    }
    heads = reader.integer(f"{prefix}num_attention_heads", default["num_heads"], maximum=MAX_HEADS)
    kv = reader.integer(f"{prefix}num_key_value_heads", default["num_kv_heads"], maximum=MAX_HEADS)
    check_heads(reader, heads, kv)
    return {
        "num_heads": heads,
        "num_kv_heads": kv,
        "head_dim": reader.integer(f"{prefix}head_dim", default["head_dim"]),
        "v_head_dim": reader.integer(f"{prefix}v_head_dim", default["v_head_dim"]),
    }


def mimo_v2_from_hf(reader: ConfigReader) -> BlockDecoder:
    layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
    pattern = reader.integers("hybrid_layer_pattern", maximum=1) or [0] * layers
    if len(pattern) != layers:
        raise reader.error(
            "hybrid_layer_pattern", f"has {len(pattern)} entries but num_hidden_layers is {layers}"
        )
    window = reader.opt_integer("sliding_window", maximum=MAX_WINDOW)
    if any(pattern) and window is None:
        raise reader.error("sliding_window", "is required: some layers use sliding attention")
    base = LlamaFamilyConfig.read_common(reader, **LlamaFamilyConfig.attention_bias(reader))
    full = _kind(reader, "", base)
    kinds = {0: full, 1: _kind(reader, "swa_", base, full)}
    sinks = {
        0: reader.flag("add_full_attention_sink_bias", False),
        1: reader.flag("add_swa_attention_sink_bias", False),
    }
    moe = routed_experts(reader, layers)

    def mixer(i: int) -> LayerPart:
        sliding = pattern[i] == 1
        part = base.attention_part(i)
        specs = {**part.specs, **kinds[pattern[i]], "attention_sinks": sinks[pattern[i]]}
        if sliding:
            specs["sliding_window"] = window
            return LayerPart(
                "sliding_attention", SlidingWindowAttentionLayerSpecs, specs, i, part.modules
            )
        return LayerPart("attention", GroupedQueryAttentionLayerSpecs, specs, i, part.modules)

    def ffn(i: int) -> LayerPart:
        return moe.part(i, base.hidden_size) if moe.moe_layers[i] else base.dense_ffn_part(i)

    return BlockDecoder(base, mixer, ffn)


@family("mimo_v2_flash")
class MiMoV2FlashFamily:
    """MiMo-V2-Flash: registered reader (see the module docstring)."""

    from_hf = staticmethod(mimo_v2_from_hf)

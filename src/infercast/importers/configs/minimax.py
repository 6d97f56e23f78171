"""MiniMax-M2 / M2.5 (``minimax_m2``): GQA with QK-norm over the projection + a sigmoid MoE.

Per MiniMax's ``modeling_minimax_m2`` (and transformers' port):
- attention: ``qk_norm_type: per_layer`` normalises the whole q and k projections
  (``heads·head_dim`` and ``kv_heads·head_dim`` weights; ``per_head`` would be ``head_dim``
  each); no biases; ``rotary_dim`` partial RoPE changes no count;
- every layer is a MoE of ``num_local_experts`` experts of width ``intermediate_size``,
  ``num_experts_per_tok`` per token, a sigmoid router ``Linear(hidden, E)`` with a per-expert
  selection bias (``use_routing_bias``; a buffer, not counted); ``shared_intermediate_size``
  > 0 would add one shared expert;
- the MTP modules (``use_mtp``, ``num_mtp_modules``) are not part of the model and not counted.
"""

from __future__ import annotations

from infercast.importers.configs.base import (
    MAX_INTERMEDIATE,
    MAX_LAYERS,
    ConfigReader,
    LayerPart,
    layer_windows,
)
from infercast.importers.configs.blocks import BlockDecoder, expert_modules, mtp_note
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.moe import moe_part, read_experts
from infercast.importers.configs.registry import family

__all__ = ["MiniMaxM2Family", "minimax_m2_from_hf"]


def minimax_m2_from_hf(reader: ConfigReader) -> BlockDecoder:
    layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
    experts, top_k = read_experts(reader, "num_local_experts", None)
    shared = reader.integer("shared_intermediate_size", 0, minimum=0, maximum=MAX_INTERMEDIATE)
    scope = reader.text("qk_norm_type", "per_layer")
    if scope not in ("per_layer", "per_head"):
        raise reader.error("qk_norm_type", f"{scope!r} is not 'per_layer' or 'per_head'")
    base = LlamaFamilyConfig.read_common(
        reader,
        qk_norm=reader.flag("use_qk_norm", True),
        attention_options=(("qk_norm_scope", "projection" if scope == "per_layer" else "head"),),
        sliding_windows=layer_windows(reader, layers, None, None),
    )
    options = {
        "router_scoring": reader.text("scoring_func", "sigmoid"),
        "router_score_correction_bias": reader.flag("use_routing_bias", True),
    }
    if options["router_scoring"] not in ("sigmoid", "softmax"):
        raise reader.error("scoring_func", f"{options['router_scoring']!r} is not supported")
    if shared:
        options.update(num_shared_experts=1, shared_expert_intermediate_size=shared)

    def ffn(i: int) -> LayerPart:
        return moe_part(
            i,
            base.hidden_size,
            experts,
            top_k,
            base.intermediate_size,
            expert_modules(i, "experts.0", "block_sparse_moe"),
            **options,
        )

    return BlockDecoder(
        base, base.attention_part, ffn, extra_notes=mtp_note(reader, "num_mtp_modules", "use_mtp")
    )


@family("minimax_m2")
class MiniMaxM2Family:
    """MiniMax-M2: registered reader (see the module docstring)."""

    from_hf = staticmethod(minimax_m2_from_hf)

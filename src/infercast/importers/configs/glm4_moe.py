"""GLM-4.5 to GLM-4.7 (``glm4_moe``): GQA with partial RoPE + DeepSeek-style sigmoid MoE.

Per transformers' ``modeling_glm4_moe``:
- attention: ``attention_bias`` puts biases on q, k and v (never on o); ``use_qk_norm`` adds a
  per-head RMSNorm on queries and keys; ``partial_rotary_factor`` changes no count;
- FFN: the first ``first_k_dense_replace`` layers are dense gated MLPs of
  ``intermediate_size``; the others are MoE with ``n_routed_experts`` experts of
  ``moe_intermediate_size``, ``num_experts_per_tok`` per token, ``n_shared_experts`` shared
  experts, a sigmoid router with a per-expert selection bias (a buffer, not counted);
- the ``num_nextn_predict_layers`` multi-token-prediction layers are not built nor counted.
``glm4_moe_lite`` (GLM-4.7-Flash) uses MLA instead and is read by the DeepSeek importer.
"""

from __future__ import annotations

from infercast.importers.configs.base import MAX_LAYERS, ConfigReader, LayerPart, layer_windows
from infercast.importers.configs.blocks import BlockDecoder, mtp_note, routed_experts
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.registry import family

__all__ = ["Glm4MoeFamily", "glm4_moe_from_hf"]


def glm4_moe_from_hf(reader: ConfigReader) -> BlockDecoder:
    layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
    moe = routed_experts(reader, layers)
    base = LlamaFamilyConfig.read_common(
        reader,
        qkv_bias=reader.flag("attention_bias", False),
        qk_norm=reader.flag("use_qk_norm", False),
        sliding_windows=layer_windows(reader, layers, None, None),
    )

    def ffn(i: int) -> LayerPart:
        return moe.part(i, base.hidden_size) if moe.moe_layers[i] else base.dense_ffn_part(i)

    return BlockDecoder(
        base, base.attention_part, ffn, extra_notes=mtp_note(reader, "num_nextn_predict_layers")
    )


@family("glm4_moe")
class Glm4MoeFamily:
    """GLM-4.5 to 4.7: registered reader (see the module docstring)."""

    from_hf = staticmethod(glm4_moe_from_hf)

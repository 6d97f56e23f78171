"""Nemotron-H and Nemotron 3 (``nemotron_h``): Mamba-2, attention, MLP and MoE blocks.

Per transformers' ``modeling_nemotron_h``, ``hybrid_override_pattern`` has one character per
block, and each block holds exactly one mixer or FFN behind one RMSNorm:
- ``M``: a Mamba-2 mixer — ``mamba_num_heads`` heads of ``mamba_head_dim``, ``ssm_state_size``,
  ``n_groups``, a ``conv_kernel`` convolution (bias ``use_conv_bias``), projection biases
  ``use_bias`` (see ``Mamba2LayerSpecs``);
- ``*``: GQA attention (``num_attention_heads``, ``num_key_value_heads``, ``head_dim``,
  biases ``attention_bias``), no RoPE;
- ``-``: a 2-projection MLP (squared ReLU) of ``intermediate_size`` (biases ``mlp_bias``);
- ``E``: a MoE of ``n_routed_experts`` 2-projection experts of ``moe_intermediate_size``,
  ``num_experts_per_tok`` per token, ``n_shared_experts`` shared experts of
  ``moe_shared_expert_intermediate_size``, a sigmoid router with a selection bias (a buffer).
Blocks therefore lack attention or an FFN; the spec lists each entry's ``layer_indices``.
"""

from __future__ import annotations

from infercast.importers.configs.base import (
    MAX_HEADS,
    MAX_INTERMEDIATE,
    MAX_LAYERS,
    ConfigReader,
    LayerPart,
)
from infercast.importers.configs.blocks import BlockDecoder, expert_modules, state_format
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.moe import read_experts
from infercast.importers.configs.registry import family
from infercast.specs.classes.hybrid import Mamba2LayerSpecs
from infercast.specs.classes.mlp import MLPLayerSpecs
from infercast.specs.classes.moe import MoELayerSpecs

__all__ = ["NemotronHFamily", "nemotron_h_from_hf"]

_BLOCKS = {"M": "Mamba-2", "*": "attention", "-": "MLP", "E": "MoE"}


def _pattern(reader: ConfigReader, layers: int) -> str:
    pattern = reader.text("hybrid_override_pattern")
    if len(pattern) != layers:
        raise reader.error(
            "hybrid_override_pattern",
            f"has {len(pattern)} blocks but num_hidden_layers is {layers}",
        )
    unknown = sorted(set(pattern) - set(_BLOCKS))
    if unknown:
        raise reader.error(
            "hybrid_override_pattern",
            f"block kind {unknown[0]!r} is not one of "
            + ", ".join(f"{k!r} ({v})" for k, v in _BLOCKS.items()),
        )
    return pattern


def _mamba(reader: ConfigReader, hidden: int) -> dict[str, object]:
    heads = reader.integer("mamba_num_heads", maximum=MAX_HEADS)
    groups = reader.integer("n_groups", 1, maximum=MAX_HEADS)
    if heads % groups:
        raise reader.error("n_groups", f"mamba_num_heads {heads} is not a multiple of {groups}")
    return {
        "hidden_size": hidden,
        "num_heads": heads,
        "head_dim": reader.integer("mamba_head_dim"),
        "state_size": reader.integer("ssm_state_size"),
        "n_groups": groups,
        "conv_kernel_size": reader.integer("conv_kernel", 4, maximum=64),
        "has_bias": reader.flag("use_bias", False),
        "conv_bias": reader.flag("use_conv_bias", True),
        "chunk_size": reader.integer("chunk_size", 256, maximum=1 << 16),
        **state_format(reader, "mamba_ssm_cache_dtype"),
    }


def _moe(reader: ConfigReader, hidden: int) -> dict[str, object]:
    """The 'E' blocks' MoE: 2-projection experts, sigmoid router with a selection bias."""
    experts, top_k = read_experts(reader, "n_routed_experts", None)
    shared = reader.integer("n_shared_experts", 0, minimum=0, maximum=1 << 10)
    width = "moe_shared_expert_intermediate_size"
    return {
        "hidden_size": hidden,
        "num_experts": experts,
        "num_experts_per_tok": top_k,
        "expert_intermediate_size": reader.integer(
            "moe_intermediate_size", maximum=MAX_INTERMEDIATE
        ),
        "num_shared_experts": shared,
        "shared_expert_intermediate_size": reader.integer(width, maximum=MAX_INTERMEDIATE)
        if shared
        else 0,
        "expert_gated": False,
        "norm_topk_prob": reader.flag("norm_topk_prob", True),
        "router_scoring": "sigmoid",
        "router_score_correction_bias": True,
    }


def nemotron_h_from_hf(reader: ConfigReader) -> BlockDecoder:
    layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
    pattern = _pattern(reader, layers)
    # intermediate_size is the '-' blocks' MLP width; without such blocks it is not needed.
    dense = reader.integer("intermediate_size", maximum=MAX_INTERMEDIATE) if "-" in pattern else 1
    base = LlamaFamilyConfig.read_common(
        reader,
        **LlamaFamilyConfig.attention_bias(reader),
        mlp_bias=reader.flag("mlp_bias", False),
        intermediate_size=dense,
        norms_per_block=1,
    )
    mamba = _mamba(reader, base.hidden_size) if "M" in pattern else {}
    moe = _moe(reader, base.hidden_size) if "E" in pattern else {}

    def mixer(i: int) -> LayerPart | None:
        if pattern[i] == "*":
            return base.attention_part(i)
        if pattern[i] == "M":
            prefix = f"backbone.layers.{i}.mixer"
            modules = (f"{prefix}.in_proj", f"{prefix}.out_proj")
            return LayerPart("mamba", Mamba2LayerSpecs, mamba, i, modules)
        return None

    def ffn(i: int) -> LayerPart | None:
        if pattern[i] == "-":
            part = base.dense_ffn_part(i)
            return LayerPart("feedforward", MLPLayerSpecs, part.specs, i, part.modules)
        if pattern[i] == "E":
            modules = expert_modules(i, "experts.0", "mixer")
            return LayerPart("moe", MoELayerSpecs, moe, i, modules)
        return None

    return BlockDecoder(base, mixer, ffn)


@family("nemotron_h")
class NemotronHFamily:
    """Nemotron-H: registered reader (see the module docstring)."""

    from_hf = staticmethod(nemotron_h_from_hf)

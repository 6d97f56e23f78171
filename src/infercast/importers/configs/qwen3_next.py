"""Qwen3-Next and Qwen3.5 (``qwen3_next``, ``qwen3_5_text``, ``qwen3_5_moe_text``): hybrid
Gated DeltaNet + gated softmax attention.

Per transformers' ``modeling_qwen3_next`` / ``modeling_qwen3_5``:
- ``layer_types`` names each layer's mixer, ``linear_attention`` or ``full_attention``; without
  it every ``full_attention_interval``-th layer (default 4) is full attention;
- full attention is Qwen3's (per-head QK-norm, ``head_dim``, ``attention_bias`` on q/k/v/o)
  with an output gate: q_proj emits a sigmoid gate per output element (Qwen3.5:
  ``attn_output_gate``, default true);
- linear attention is a Gated DeltaNet: ``linear_num_key_heads`` × ``linear_key_head_dim``
  keys, ``linear_num_value_heads`` × ``linear_value_head_dim`` values, a depthwise causal
  convolution of ``linear_conv_kernel_dim`` taps (see ``GatedDeltaNetLayerSpecs``);
- FFNs as in Qwen2-MoE: MoE layers (not in ``mlp_only_layers``, on the ``decoder_sparse_step``
  grid) with ``num_experts`` experts of ``moe_intermediate_size``, ``num_experts_per_tok`` per
  token and one gated shared expert of ``shared_expert_intermediate_size``; dense gated MLPs of
  ``intermediate_size`` elsewhere, and in every layer of the dense Qwen3.5 (``qwen3_5_text``);
- the MTP layers (``mtp_num_hidden_layers``) are not built nor counted.
"""

from __future__ import annotations

from dataclasses import replace

from infercast.importers.configs.base import (
    MAX_HEADS,
    MAX_INTERMEDIATE,
    MAX_LAYERS,
    ConfigReader,
    LayerPart,
)
from infercast.importers.configs.blocks import (
    BlockDecoder,
    expert_modules,
    mtp_note,
    state_format,
)
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.moe import _sparse_layers, moe_part, read_experts
from infercast.importers.configs.registry import family
from infercast.specs.classes.hybrid import GatedDeltaNetLayerSpecs

__all__ = ["Qwen3NextFamily", "mixer_kinds", "qwen3_next_from_hf"]

_KINDS = ("linear_attention", "full_attention")


def mixer_kinds(reader: ConfigReader, layers: int) -> list[bool]:
    """True where a layer is full (softmax) attention, False for linear attention."""
    names = reader.texts("layer_types")
    if names is None:
        every = reader.integer("full_attention_interval", 4, maximum=MAX_LAYERS)
        return [(i + 1) % every == 0 for i in range(layers)]
    if len(names) != layers:
        raise reader.error(
            "layer_types", f"has {len(names)} entries but num_hidden_layers is {layers}"
        )
    for i, kind in enumerate(names):
        if kind not in _KINDS:
            raise reader.error(f"layer_types[{i}]", f"{kind!r} is not one of {', '.join(_KINDS)}")
    return [kind == "full_attention" for kind in names]


def _delta_net(reader: ConfigReader, hidden: int) -> dict[str, int | str]:
    key_heads = reader.integer("linear_num_key_heads", maximum=MAX_HEADS)
    value_heads = reader.integer("linear_num_value_heads", maximum=MAX_HEADS)
    if value_heads % key_heads:
        raise reader.error(
            "linear_num_value_heads",
            f"{value_heads} is not a multiple of linear_num_key_heads {key_heads}",
        )
    return {
        "hidden_size": hidden,
        "num_key_heads": key_heads,
        "num_value_heads": value_heads,
        "key_head_dim": reader.integer("linear_key_head_dim"),
        "value_head_dim": reader.integer("linear_value_head_dim"),
        "conv_kernel_size": reader.integer("linear_conv_kernel_dim", 4, maximum=64),
        **state_format(reader, "mamba_ssm_dtype"),
    }


def qwen3_next_from_hf(reader: ConfigReader) -> BlockDecoder:
    layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
    full = mixer_kinds(reader, layers)
    dense_model = reader.model_type == "qwen3_5_text"
    gate = reader.flag("attn_output_gate", True) if reader.model_type != "qwen3_next" else True
    if dense_model:
        moe_layers = [False] * layers
        expert_size = None
    else:
        step, mlp_only = _sparse_layers(reader, layers)
        moe_layers = [i not in mlp_only and (i + 1) % step == 0 for i in range(layers)]
        expert_size = reader.integer("moe_intermediate_size", maximum=MAX_INTERMEDIATE)
    needs_dense = not all(moe_layers)
    base = LlamaFamilyConfig.read_common(
        reader,
        head_dim_default=None,
        **LlamaFamilyConfig.attention_bias(reader),
        qk_norm=True,
        attention_options=(("output_gate", gate),),
        intermediate_size=None if needs_dense else expert_size,
    )
    delta_net = _delta_net(reader, base.hidden_size)
    if expert_size is not None:
        experts, top_k = read_experts(reader, "num_experts", 10)
        shared = reader.integer("shared_expert_intermediate_size", 0, minimum=0)
        options: dict[str, object] = {"norm_topk_prob": reader.flag("norm_topk_prob", True)}
        if shared:
            options.update(
                num_shared_experts=1,
                shared_expert_intermediate_size=shared,
                shared_expert_gate=True,
            )

    def mixer(i: int) -> LayerPart:
        if full[i]:
            return base.attention_part(i)
        prefix = f"model.layers.{i}.linear_attn"
        modules = (f"{prefix}.in_proj_qkvz", f"{prefix}.out_proj")
        return LayerPart("linear_attention", GatedDeltaNetLayerSpecs, delta_net, i, modules)

    def ffn(i: int) -> LayerPart:
        if not moe_layers[i] or expert_size is None:
            return base.dense_ffn_part(i)
        part = moe_part(
            i, base.hidden_size, experts, top_k, expert_size, expert_modules(i), **options
        )
        if not shared:
            return part
        shared_modules = (f"model.layers.{i}.mlp.shared_expert.gate_proj",)
        return replace(part, spec_modules=(("shared_expert_weight_dtype", shared_modules),))

    return BlockDecoder(base, mixer, ffn, extra_notes=mtp_note(reader, "mtp_num_hidden_layers"))


@family("qwen3_next", "qwen3_5_text", "qwen3_5_moe_text")
class Qwen3NextFamily:
    """Qwen3-Next / Qwen3.5: registered reader (see the module docstring)."""

    from_hf = staticmethod(qwen3_next_from_hf)

"""Mixture-of-Experts decoders built on the Llama-family block: Qwen3-MoE, Qwen2-MoE, Mixtral.

Design (from the seed, ``000``): **composition, not inheritance**. Each MoE config *wraps* a
:class:`LlamaFamilyConfig` (``base``) holding every dense field (attention, norms, vocab, RoPE)
and adds only the MoE hyperparameters, so dense call sites never see MoE fields and MoE code
never duplicates dense ones. ``base.intermediate_size`` is set to the expert width for
compatibility; the real number lives in ``expert_intermediate_size``.

Which layers are sparse follows transformers: Qwen MoE layers are those not in
``mlp_only_layers`` whose ``(layer_idx + 1) % decoder_sparse_step == 0``; the others are dense
gated MLPs of the config's ``intermediate_size``. Mixtral is sparse in every layer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from infercast.importers.configs.base import (
    MAX_EXPERTS,
    MAX_INTERMEDIATE,
    MAX_LAYERS,
    MAX_WINDOW,
    ConfigReader,
    LayerPart,
    OnBase,
    RoutedExperts,
    layer_windows,
)
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.registry import GGUFKey, family
from infercast.specs.classes.moe import MoELayerSpecs

__all__ = ["MixtralConfig", "Qwen2MoeConfig", "Qwen3MoeConfig", "moe_part", "read_experts"]


def routed_part(config: Any, i: int, modules: tuple[str, ...], **options: Any) -> LayerPart:
    """The MoE FFN of block ``i`` of a family config with routed experts (``num_experts``,
    ``num_experts_per_tok``, ``expert_intermediate_size``, ``hidden_size``)."""
    return moe_part(
        i,
        config.hidden_size,
        config.num_experts,
        config.num_experts_per_tok,
        config.expert_intermediate_size,
        modules,
        **options,
    )


def moe_part(
    i: int,
    hidden_size: int,
    num_experts: int,
    top_k: int,
    expert_size: int,
    modules: tuple[str, ...],
    **options: Any,
) -> LayerPart:
    """One MoE FFN instance; ``options`` are optional MoE specs (shared experts, biases)."""
    specs = {
        "hidden_size": hidden_size,
        "num_experts": num_experts,
        "num_experts_per_tok": top_k,
        "expert_intermediate_size": expert_size,
        **options,
    }
    return LayerPart("moe", MoELayerSpecs, specs, i, modules)


def read_experts(
    reader: ConfigReader, experts_field: str, top_k_default: int | None
) -> tuple[int, int]:
    """Experts and top-k; a top-k above the expert count cannot be built."""
    num_experts = reader.integer(experts_field, maximum=MAX_EXPERTS)
    top_k = reader.integer(
        "num_experts_per_tok",
        *(() if top_k_default is None else (top_k_default,)),
        maximum=MAX_EXPERTS,
    )
    if top_k > num_experts:
        raise reader.error(
            "num_experts_per_tok", f"top-k {top_k} exceeds {experts_field} {num_experts}"
        )
    return num_experts, top_k


def _sparse_layers(reader: ConfigReader, num_layers: int) -> tuple[int, tuple[int, ...]]:
    step = reader.integer("decoder_sparse_step", 1, maximum=MAX_LAYERS)
    mlp_only = tuple(reader.integers("mlp_only_layers", maximum=MAX_LAYERS))
    out_of_range = [i for i in mlp_only if i >= num_layers]
    if out_of_range:
        raise reader.error(
            "mlp_only_layers",
            f"layer {out_of_range[0]} does not exist (num_hidden_layers is {num_layers})",
        )
    return step, mlp_only


@family(
    "qwen3_moe",
    gguf="qwen3moe",
    gguf_keys=(
        GGUFKey("head_dim", "attention.key_length"),
        GGUFKey("num_experts", "expert_count", required=True),
        GGUFKey("num_experts_per_tok", "expert_used_count", default=8),
        GGUFKey("moe_intermediate_size", "expert_feed_forward_length", required=True),
        GGUFKey("norm_topk_prob", "expert_weights_norm", default=True),
    ),
)
@dataclass(frozen=True)
class Qwen3MoeConfig(OnBase, RoutedExperts):
    """Configuration for Qwen3-MoE family models (Qwen3-30B-A3B and friends).

    All MoE hyperparameters live here; dense fields are inherited via ``base``, whose
    ``intermediate_size`` is set to ``expert_intermediate_size`` (as the seed specifies).
    """

    base: LlamaFamilyConfig
    """Shared transformer hyperparameters (attention with QK-norm, RoPE, vocab, …)."""
    num_experts: int
    """Total experts per MoE layer. Qwen3-30B-A3B = 128."""
    num_experts_per_tok: int
    """Top-K experts activated per token. Qwen3-30B-A3B = 8."""
    expert_intermediate_size: int
    """Per-expert FFN inner size. Qwen3-30B-A3B = 768."""
    norm_topk_prob: bool
    """Router weights renormalised over the chosen top-K before the weighted combine."""
    # Beyond the seed: which layers are sparse, and the width of the dense ones.
    decoder_sparse_step: int = 1
    mlp_only_layers: tuple[int, ...] = ()
    dense_intermediate_size: int | None = None
    """``intermediate_size`` of config.json, used by dense (non-MoE) layers only."""

    model_type = "qwen3_moe"

    @classmethod
    def from_base(
        cls,
        base: LlamaFamilyConfig,
        num_experts: int,
        num_experts_per_tok: int,
        expert_intermediate_size: int,
        norm_topk_prob: bool,
    ) -> Qwen3MoeConfig:
        """From an already-built base plus the MoE hyperparameters (tests, synthetic models)."""
        return cls(
            base=replace(base, intermediate_size=expert_intermediate_size),
            num_experts=num_experts,
            num_experts_per_tok=num_experts_per_tok,
            expert_intermediate_size=expert_intermediate_size,
            norm_topk_prob=norm_topk_prob,
            dense_intermediate_size=base.intermediate_size,
        )

    @classmethod
    def from_hf(cls, reader: ConfigReader) -> Qwen3MoeConfig:
        """From config.json: ``num_experts`` and ``moe_intermediate_size`` are required,
        ``num_experts_per_tok`` defaults to 8 and ``norm_topk_prob`` to true (the seed's rules).
        A Qwen3-Next config relabelled ``qwen3_moe`` is refused: its linear-attention layers
        would silently be counted as softmax attention.
        """
        if reader.has("linear_num_value_heads"):
            raise reader.error(
                "linear_num_value_heads",
                f"Gated DeltaNet fields in a {reader.model_type} config; its model_type is "
                "qwen3_next (or qwen3_5_moe_text)",
            )
        num_experts, top_k = read_experts(reader, "num_experts", 8)
        expert_size = reader.integer("moe_intermediate_size", maximum=MAX_INTERMEDIATE)
        norm_topk_prob = reader.flag("norm_topk_prob", True)
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        step, mlp_only = _sparse_layers(reader, layers)
        has_dense = bool(mlp_only) or step > 1
        dense = reader.integer("intermediate_size", maximum=MAX_INTERMEDIATE) if has_dense else None
        # transformers' Qwen3-MoE attention takes head_dim from the config or hidden/heads.
        base = LlamaFamilyConfig.qwen3_from_hf(
            reader, head_dim_default=None, intermediate_size=expert_size
        )
        return cls(
            base=base,
            num_experts=num_experts,
            num_experts_per_tok=top_k,
            expert_intermediate_size=expert_size,
            norm_topk_prob=norm_topk_prob,
            decoder_sparse_step=step,
            mlp_only_layers=mlp_only,
            dense_intermediate_size=dense,
        )

    def is_moe_layer(self, i: int) -> bool:
        return i not in self.mlp_only_layers and (i + 1) % self.decoder_sparse_step == 0

    def ffn_part(self, i: int) -> LayerPart:
        if not self.is_moe_layer(i):
            return self.base.dense_ffn_part(i, self.dense_intermediate_size)
        prefix = f"model.layers.{i}.mlp.experts.0"
        modules = tuple(f"{prefix}.{p}" for p in ("gate_proj", "up_proj", "down_proj"))
        return routed_part(self, i, modules, norm_topk_prob=self.norm_topk_prob)

    def layer_parts(self) -> list[LayerPart]:
        return self.base.assemble(self.ffn_part)


@family("qwen2_moe")
@dataclass(frozen=True)
class Qwen2MoeConfig(Qwen3MoeConfig):
    """Qwen2-MoE (Qwen1.5-MoE, Qwen2-57B-A14B): Qwen2 attention (q/k/v biases, no QK-norm)
    plus one always-on shared expert behind a sigmoid gate ``Linear(hidden, 1)``.
    """

    shared_expert_intermediate_size: int = 0

    model_type = "qwen2_moe"

    @classmethod
    def from_hf(cls, reader: ConfigReader) -> Qwen2MoeConfig:
        num_experts, top_k = read_experts(reader, "num_experts", 4)
        expert_size = reader.integer("moe_intermediate_size", maximum=MAX_INTERMEDIATE)
        shared = reader.integer("shared_expert_intermediate_size", maximum=MAX_INTERMEDIATE)
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        step, mlp_only = _sparse_layers(reader, layers)
        has_dense = bool(mlp_only) or step > 1
        dense = reader.integer("intermediate_size", maximum=MAX_INTERMEDIATE) if has_dense else None
        base = LlamaFamilyConfig.read_common(
            reader,
            intermediate_size=expert_size,
            qkv_bias=reader.flag("qkv_bias", True),
            sliding_windows=_qwen2_moe_windows(reader, layers),
        )
        return cls(
            base=base,
            num_experts=num_experts,
            num_experts_per_tok=top_k,
            expert_intermediate_size=expert_size,
            norm_topk_prob=reader.flag("norm_topk_prob", False),
            decoder_sparse_step=step,
            mlp_only_layers=mlp_only,
            dense_intermediate_size=dense,
            shared_expert_intermediate_size=shared,
        )

    def ffn_part(self, i: int) -> LayerPart:
        part = super().ffn_part(i)
        if part.spec_class is not MoELayerSpecs:
            return part
        specs = {
            **part.specs,
            "num_shared_experts": 1,
            "shared_expert_intermediate_size": self.shared_expert_intermediate_size,
            "shared_expert_gate": True,
        }
        return replace(part, specs=specs)


def _qwen2_moe_windows(reader: ConfigReader, num_layers: int) -> tuple[int | None, ...]:
    """transformers' Qwen2-MoE rule: with ``use_sliding_window``, even-indexed layers below
    ``max_window_layers`` slide; an explicit ``layer_types`` wins.
    """
    use = reader.flag("use_sliding_window", False)
    window = reader.opt_integer("sliding_window", maximum=MAX_WINDOW)
    first = reader.integer("max_window_layers", 28, minimum=0, maximum=MAX_LAYERS)
    if not use or window is None:
        layer_windows(reader, num_layers, window or 1, None)
        return (None,) * num_layers
    default = [bool((i + 1) % 2) and i < first for i in range(num_layers)]
    return layer_windows(reader, num_layers, window, default)


@family("mixtral")
@dataclass(frozen=True)
class MixtralConfig(OnBase, RoutedExperts):
    """Mixtral: Mistral attention (a non-null ``sliding_window`` applies to every layer) and a
    sparse MoE FFN in every layer: ``num_local_experts`` experts of ``intermediate_size``,
    ``num_experts_per_tok`` (default 2) per token, router weights renormalised over the top-k.
    """

    base: LlamaFamilyConfig
    num_experts: int
    num_experts_per_tok: int
    expert_intermediate_size: int
    norm_topk_prob: bool = True

    model_type = "mixtral"

    @classmethod
    def from_hf(cls, reader: ConfigReader) -> MixtralConfig:
        num_experts, top_k = read_experts(reader, "num_local_experts", 2)
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        base = LlamaFamilyConfig.read_common(
            reader, sliding_windows=LlamaFamilyConfig.all_layers_window(reader, layers)
        )
        return cls(base, num_experts, top_k, base.intermediate_size)

    def ffn_part(self, i: int) -> LayerPart:
        prefix = f"model.layers.{i}.block_sparse_moe.experts.0"
        modules = tuple(f"{prefix}.{w}" for w in ("w1", "w3", "w2"))
        return routed_part(self, i, modules, norm_topk_prob=self.norm_topk_prob)

    def layer_parts(self) -> list[LayerPart]:
        return self.base.assemble(self.ffn_part)

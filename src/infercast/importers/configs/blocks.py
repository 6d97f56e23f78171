"""Shared block builders: a decoder assembled block by block from a family's part functions.

Most 2025–26 families are a Llama-family base (vocab, hidden, norms, embedding, LM head, the
usual GQA attention) whose blocks differ only in *which* token mixer and *which* FFN a layer
holds: sliding or full attention, linear attention, an SSM, a dense MLP or a MoE. A family module
reads its fields and hands :class:`BlockDecoder` two functions — layer index → mixer part and
layer index → FFN part (``None`` for a block without one) — instead of copying the loop, the
norms and the head. :func:`routed_experts` reads the DeepSeek-style MoE fields several families
share (GLM-4.5+, MiMo-V2, DeepSeek).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infercast.dtypes import UnknownDTypeError, dtype
from infercast.importers.configs.base import (
    MAX_INTERMEDIATE,
    MAX_LAYERS,
    ConfigReader,
    LayerPart,
)
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.moe import read_experts
from infercast.specs.classes.moe import MoELayerSpecs

__all__ = [
    "BlockDecoder",
    "ExpertLayout",
    "expert_modules",
    "mtp_note",
    "routed_experts",
    "state_format",
]

PartFn = Callable[[int], LayerPart | None]


@dataclass(frozen=True)
class BlockDecoder:
    """A decoder whose block ``i`` holds ``mixer(i)``, ``ffn(i)`` and ``norms(i)`` RMSNorms."""

    base: LlamaFamilyConfig
    mixer: PartFn
    ffn: PartFn
    norms: Callable[[int], int] | None = None
    """Norms of block ``i`` (default: the base's ``norms_per_block``)."""
    extra_notes: tuple[str, ...] = field(default=())

    @property
    def model_type(self) -> str:
        return self.base.model_type

    @property
    def hidden_size(self) -> int:
        return self.base.hidden_size

    @property
    def num_layers(self) -> int:
        return self.base.num_layers

    @property
    def vocab_size(self) -> int:
        return self.base.vocab_size

    def layer_parts(self) -> list[LayerPart]:
        return self.base.assemble(self.ffn, self.mixer, self.norms)

    def notes(self) -> list[str]:
        return list(self.extra_notes)


def expert_modules(i: int, experts: str = "experts.0", mlp: str = "mlp") -> tuple[str, ...]:
    prefix = f"model.layers.{i}.{mlp}.{experts}"
    return tuple(f"{prefix}.{p}" for p in ("gate_proj", "up_proj", "down_proj"))


@dataclass(frozen=True)
class ExpertLayout:
    """DeepSeek-style MoE fields: which layers are sparse and what their experts are."""

    num_experts: int
    top_k: int
    expert_size: int
    num_shared: int
    moe_layers: tuple[bool, ...]
    options: tuple[tuple[str, Any], ...] = ()

    def part(self, i: int, hidden: int) -> LayerPart:
        shared = f"model.layers.{i}.mlp.shared_experts.gate_proj"
        return LayerPart(
            "moe",
            MoELayerSpecs,
            {
                "hidden_size": hidden,
                "num_experts": self.num_experts,
                "num_experts_per_tok": self.top_k,
                "expert_intermediate_size": self.expert_size,
                "num_shared_experts": self.num_shared,
                **dict(self.options),
            },
            i,
            expert_modules(i),
            (("shared_expert_weight_dtype", (shared,)),) if self.num_shared else (),
        )


def routed_experts(
    reader: ConfigReader,
    num_layers: int,
    *,
    experts_field: str = "n_routed_experts",
    sigmoid_default: bool = True,
    **options: Any,
) -> ExpertLayout:
    """Read the routed/shared experts and the dense-then-sparse layout.

    Sparse layers are those from ``first_k_dense_replace`` on, on the ``moe_layer_freq`` grid;
    a list ``moe_layer_freq`` (MiMo-V2) gives 1/0 per layer instead. ``scoring_func`` sigmoid
    with ``topk_method: noaux_tc`` (or ``use_routing_bias``) adds the per-expert selection bias,
    a buffer that is not counted.
    """
    experts, top_k = read_experts(reader, experts_field, None)
    freq = reader.raw("moe_layer_freq", 1)
    if isinstance(freq, list):
        flags = reader.integers("moe_layer_freq", maximum=1)
        if len(flags) != num_layers:
            raise reader.error(
                "moe_layer_freq", f"has {len(flags)} entries but num_hidden_layers is {num_layers}"
            )
        layout = tuple(bool(f) for f in flags)
    else:
        step = reader.integer("moe_layer_freq", 1, maximum=MAX_LAYERS)
        first = reader.integer("first_k_dense_replace", 0, minimum=0, maximum=MAX_LAYERS)
        layout = tuple(i >= first and i % step == 0 for i in range(num_layers))
    scoring = reader.text("scoring_func", "sigmoid" if sigmoid_default else "softmax")
    if scoring not in ("sigmoid", "softmax"):
        raise reader.error("scoring_func", f"{scoring!r} is not 'sigmoid' or 'softmax'")
    biased = reader.text("topk_method", "noaux_tc" if scoring == "sigmoid" else "greedy")
    return ExpertLayout(
        num_experts=experts,
        top_k=top_k,
        expert_size=reader.integer("moe_intermediate_size", maximum=MAX_INTERMEDIATE),
        num_shared=reader.integer("n_shared_experts", 0, minimum=0, maximum=1 << 10),
        moe_layers=layout,
        options=tuple(
            {
                "norm_topk_prob": reader.flag("norm_topk_prob", True),
                "router_scoring": scoring,
                "router_score_correction_bias": biased == "noaux_tc",
                **options,
            }.items()
        ),
    )


def mtp_note(reader: ConfigReader, *fields: str) -> tuple[str, ...]:
    """Multi-token-prediction layers are not part of the model transformers builds."""
    for name in fields:
        value = reader.raw(name)
        if value:
            return (f"Multi-token-prediction layers ({name}={value}) are not counted.",)
    return ()


def state_format(reader: ConfigReader, field: str) -> dict[str, str]:
    """``{"state_dtype": ...}`` when the config names the recurrent state's cache format
    (``mamba_ssm_cache_dtype``, ``mamba_ssm_dtype``); ``{}`` otherwise."""
    if not reader.has(field):
        return {}
    try:
        return {"state_dtype": dtype(reader.text(field)).name}
    except UnknownDTypeError as exc:
        raise reader.error(field, str(exc)) from None

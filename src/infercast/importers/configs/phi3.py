"""Phi-3 / Phi-4-mini (``phi3``): a Llama-family block with fused projections.

``qkv_proj`` and ``gate_up_proj`` hold exactly the weights of separate q/k/v and gate/up
projections, so the counts are a Llama block's; the fused names only matter for matching
quantization module patterns. No biases; a non-null ``sliding_window`` applies to every layer
(transformers passes it to all layers); ``partial_rotary_factor`` changes no count.
"""

from __future__ import annotations

from dataclasses import dataclass

from infercast.importers.configs.base import (
    MAX_LAYERS,
    ConfigReader,
    OnBase,
)
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.registry import family

__all__ = ["Phi3Config"]


@family("phi3")
@dataclass(frozen=True)
class Phi3Config(OnBase):
    """Phi-3: every field that matters lives in ``base`` (with ``fused_projections``)."""

    base: LlamaFamilyConfig

    @classmethod
    def from_hf(cls, reader: ConfigReader) -> Phi3Config:
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        base = LlamaFamilyConfig.read_common(
            reader,
            fused_projections=True,
            sliding_windows=LlamaFamilyConfig.all_layers_window(reader, layers),
        )
        return cls(base)

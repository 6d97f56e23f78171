"""Phi-3 / Phi-4-mini (``phi3``): a Llama-family block with fused projections.

``qkv_proj`` and ``gate_up_proj`` hold exactly the weights of separate q/k/v and gate/up
projections, so the counts are a Llama block's; the fused names only matter for matching
quantization module patterns. No biases; a non-null ``sliding_window`` applies to every layer
(transformers passes it to all layers); ``partial_rotary_factor`` changes no count.
"""

from __future__ import annotations

from dataclasses import dataclass

from infercast.importers.configs.base import MAX_LAYERS, ConfigReader, LayerPart
from infercast.importers.configs.llama import LlamaFamilyConfig

__all__ = ["Phi3Config"]


@dataclass(frozen=True)
class Phi3Config:
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
        return self.base.layer_parts()

    def notes(self) -> list[str]:
        return []

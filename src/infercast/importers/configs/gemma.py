"""Gemma decoders (``gemma``, ``gemma2``, ``gemma3_text``): a Llama-family base with Gemma's rules.

What changes the arithmetic, per transformers' Gemma modules:
- embeddings are tied by default (``tie_word_embeddings`` true): the LM head owns no parameters
  but still costs its matmul;
- Gemma 2 and 3 have **4 RMSNorms per block** (input, post-attention, pre- and post-feedforward)
  plus the final one; Gemma 1 has the usual 2;
- Gemma 3 adds QK-norm (RMSNorm over ``head_dim`` on queries and keys);
- sliding windows: Gemma 2 alternates (even layers slide), Gemma 3 slides every layer except
  each ``sliding_window_pattern``-th (default 6); an explicit ``layer_types`` wins;
- ``head_dim`` defaults to 256, independent of hidden_size / heads.
Logit soft-capping and ``query_pre_attn_scalar`` change no parameter, FLOP or cache figure.
"""

from __future__ import annotations

from dataclasses import dataclass

from infercast.importers.configs.base import (
    MAX_LAYERS,
    MAX_WINDOW,
    ConfigReader,
    OnBase,
    layer_windows,
)
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.registry import family

__all__ = ["GemmaConfig"]


@family("gemma", "gemma2", "gemma3_text")
@dataclass(frozen=True)
class GemmaConfig(OnBase):
    """A Gemma model: every field that matters lives in ``base``; the rest is informational."""

    base: LlamaFamilyConfig
    attn_logit_softcapping: float | None = None
    final_logit_softcapping: float | None = None

    @classmethod
    def from_hf(cls, reader: ConfigReader) -> GemmaConfig:
        model_type = reader.model_type
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        if model_type == "gemma":
            windows = layer_windows(reader, layers, None, None)
        else:
            window = reader.opt_integer("sliding_window", maximum=MAX_WINDOW)
            if "sliding_window" not in reader.data:
                window = 4096
            if model_type == "gemma2":
                pattern = 2
            else:
                pattern = reader.integer("sliding_window_pattern", 6, maximum=MAX_LAYERS)
            default = [bool((i + 1) % pattern) for i in range(layers)]
            windows = layer_windows(reader, layers, window, default)
        base = LlamaFamilyConfig.read_common(
            reader,
            tie_default=True,
            head_dim_default=256,
            **LlamaFamilyConfig.attention_bias(reader),
            qk_norm=model_type == "gemma3_text",
            norms_per_block=2 if model_type == "gemma" else 4,
            sliding_windows=windows,
        )
        return cls(
            base,
            reader.number("attn_logit_softcapping"),
            reader.number("final_logit_softcapping"),
        )

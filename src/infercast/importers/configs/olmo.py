"""OLMo 2 and OLMo 3 (``olmo2``, ``olmo3``): Llama-family blocks with QK-norm over the projection.

Per transformers' ``modeling_olmo2`` / ``modeling_olmo3``:
- ``q_norm`` and ``k_norm`` are RMSNorms over the *whole* query and key projections
  (``heads·head_dim`` and ``kv_heads·head_dim`` weights), not per head;
- the two norms of a block sit after attention and after the MLP (post-norm); same count, 2;
- ``attention_bias`` puts biases on q, k, v and o (default false); head_dim = hidden / heads;
- OLMo 3 slides a ``sliding_window`` (default 4096) over three of every four layers (every
  fourth is full); an explicit ``layer_types`` wins.
"""

from __future__ import annotations

from infercast.importers.configs.base import (
    MAX_LAYERS,
    MAX_WINDOW,
    ConfigReader,
    layer_windows,
)
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.registry import family

__all__ = ["OlmoFamily", "olmo_from_hf"]


def olmo_from_hf(reader: ConfigReader) -> LlamaFamilyConfig:
    layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
    if reader.model_type == "olmo3":
        window = reader.integer("sliding_window", 4096, maximum=MAX_WINDOW)
        default = [bool((i + 1) % 4) for i in range(layers)]
        windows = layer_windows(reader, layers, window, default)
    else:
        windows = layer_windows(reader, layers, None, None)
    return LlamaFamilyConfig.read_common(
        reader,
        **LlamaFamilyConfig.attention_bias(reader),
        qk_norm=True,
        attention_options=(("qk_norm_scope", "projection"),),
        sliding_windows=windows,
    )


@family("olmo2", "olmo3")
class OlmoFamily:
    """OLMo 2 / OLMo 3: registered reader (see the module docstring)."""

    from_hf = staticmethod(olmo_from_hf)

"""Dense Llama-family decoders of 2025: EXAONE 4, Seed-OSS, Ministral 3 / Devstral 2.

Each differs from Llama in a few fields, read here as transformers' modules read them:
- ``exaone4``: per-head QK-norm; post-norms (2 per block); a hybrid of sliding (window
  ``sliding_window``) and full layers from ``layer_types`` or ``sliding_window_pattern``
  ("LLLG": L local, G global, repeated; an integer N: every N-th layer global); without a
  window every layer is full.
- ``seed_oss``: biases on q, k and v (``attention_bias``, default true) and on o
  (``attention_out_bias``, default false); ``mlp_bias`` on the MLP.
- ``ministral3`` (Devstral 2, Ministral 3): Mistral's block with an explicit ``head_dim``; a
  non-null ``sliding_window`` applies to every layer. YaRN/Llama-4 scaling changes no count.
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

__all__ = [
    "Exaone4Family",
    "Ministral3Family",
    "SeedOssFamily",
    "exaone4_from_hf",
    "ministral3_from_hf",
    "seed_oss_from_hf",
]


def _exaone_pattern(reader: ConfigReader, layers: int) -> list[bool]:
    pattern = reader.raw("sliding_window_pattern", "LLLG")
    if isinstance(pattern, str) and pattern and set(pattern) <= {"L", "G"}:
        return [pattern[i % len(pattern)] == "L" for i in range(layers)]
    every = reader.integer("sliding_window_pattern", maximum=MAX_LAYERS)
    return [bool((i + 1) % every) for i in range(layers)]


def exaone4_from_hf(reader: ConfigReader) -> LlamaFamilyConfig:
    layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
    window = reader.opt_integer("sliding_window", maximum=MAX_WINDOW)
    default = _exaone_pattern(reader, layers) if window is not None else None
    if window is None and reader.texts("layer_types") is not None:
        layer_windows(reader, layers, 1, None)  # still validate layer_types
        windows: tuple[int | None, ...] = (None,) * layers
    else:
        windows = layer_windows(reader, layers, window, default)
    return LlamaFamilyConfig.read_common(
        reader, qk_norm=True, sliding_windows=windows, **LlamaFamilyConfig.attention_bias(reader)
    )


def seed_oss_from_hf(reader: ConfigReader) -> LlamaFamilyConfig:
    layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
    return LlamaFamilyConfig.read_common(
        reader,
        qkv_bias=reader.flag("attention_bias", True),
        o_bias=reader.flag("attention_out_bias", False),
        mlp_bias=reader.flag("mlp_bias", False),
        sliding_windows=layer_windows(reader, layers, None, None),
    )


def ministral3_from_hf(reader: ConfigReader) -> LlamaFamilyConfig:
    layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
    return LlamaFamilyConfig.read_common(
        reader, sliding_windows=LlamaFamilyConfig.all_layers_window(reader, layers)
    )


@family("exaone4")
class Exaone4Family:
    """EXAONE 4: registered reader (see the module docstring)."""

    from_hf = staticmethod(exaone4_from_hf)


@family("seed_oss")
class SeedOssFamily:
    """Seed-OSS: registered reader (see the module docstring)."""

    from_hf = staticmethod(seed_oss_from_hf)


@family("ministral3")
class Ministral3Family:
    """Ministral 3 / Devstral 2: registered reader (see the module docstring)."""

    from_hf = staticmethod(ministral3_from_hf)

"""Multimodal wrappers (``gemma3``, ``llama4``, ``kimi_k25``, ``mistral3``, ``qwen3_5``,
``qwen3_5_moe``): import the text model their ``text_config`` describes.

A wrapper's config nests the language model's config under ``text_config`` and its vision
tower under ``vision_config``. infercast models the language model only: the vision tower and
the multimodal projector are out of scope, not counted, and the notes say so.

Published ``text_config`` objects often leave fields to transformers' defaults (Gemma 3's omits
``vocab_size`` and ``num_attention_heads``). Those defaults, from transformers' documented
``*TextConfig`` signatures, are filled in here and every filled field is named in the notes;
a text model type without a table below gets none (a missing field then fails, naming it).
Fields a wrapper keeps at its top level (``quantization_config``, ``torch_dtype``/``dtype``,
``tie_word_embeddings``) apply to the text model when its own config lacks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infercast.errors import InvalidInputError

__all__ = ["TEXT_DEFAULTS", "WRAPPER_TEXT_TYPES", "unwrap_multimodal"]

WRAPPER_TEXT_TYPES: dict[str, str] = {
    "gemma3": "gemma3_text",
    "llama4": "llama4_text",
    "kimi_k25": "kimi_k2",
    "mistral3": "mistral",
    "qwen3_5": "qwen3_5_text",
    "qwen3_5_moe": "qwen3_5_moe_text",
}
"""Wrapper model type → the text model type transformers builds when ``text_config`` names
none."""

TEXT_DEFAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "gemma3_text": (
        "Gemma3TextConfig",
        {
            "vocab_size": 262_208,
            "hidden_size": 2304,
            "intermediate_size": 9216,
            "num_hidden_layers": 26,
            "num_attention_heads": 8,
            "num_key_value_heads": 4,
            "head_dim": 256,
            "sliding_window": 4096,
            "tie_word_embeddings": True,
            "max_position_embeddings": 131_072,
        },
    ),
    "llama4_text": (
        "Llama4TextConfig",
        {
            "vocab_size": 202_048,
            "hidden_size": 5120,
            "intermediate_size": 8192,
            "intermediate_size_mlp": 16384,
            "num_hidden_layers": 48,
            "num_attention_heads": 40,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "num_local_experts": 16,
            "num_experts_per_tok": 1,
            "interleave_moe_layer_step": 1,
            "attention_chunk_size": 8192,
            "tie_word_embeddings": False,
        },
    ),
    "mistral": (
        "MistralConfig",
        {
            "vocab_size": 32000,
            "hidden_size": 4096,
            "intermediate_size": 14336,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "tie_word_embeddings": False,
        },
    ),
}

_INHERITED = ("quantization_config", "torch_dtype", "dtype", "tie_word_embeddings")
VISION_NOTE = (
    "Multimodal wrapper {wrapper!r}: the {text!r} text model is counted; the vision tower "
    "(vision_config) and the multimodal projector are out of scope and not counted."
)


def unwrap_multimodal(data: Mapping[str, Any], source: str) -> tuple[Mapping[str, Any], list[str]]:
    """The text model's config (with defaults filled in) and notes saying what was done."""
    wrapper = data.get("model_type")
    if not isinstance(wrapper, str) or wrapper not in WRAPPER_TEXT_TYPES:
        return data, []
    text = data.get("text_config")
    if text is None:
        text = {}
    if not isinstance(text, Mapping):
        raise InvalidInputError(
            f"{source}: field 'text_config' ({wrapper}): must be an object, got {text!r}"[:300]
        )
    config = dict(text)
    if not isinstance(config.get("model_type"), str):
        config["model_type"] = WRAPPER_TEXT_TYPES[wrapper]
    text_type = config["model_type"]
    if text_type in WRAPPER_TEXT_TYPES:
        raise InvalidInputError(f"{source}: text_config of {wrapper} is itself a {text_type!r}")
    notes = [VISION_NOTE.format(wrapper=wrapper, text=text_type)]
    for name in _INHERITED:
        if config.get(name) is None and data.get(name) is not None:
            config[name] = data[name]
    class_name, defaults = TEXT_DEFAULTS.get(text_type, ("", {}))
    filled = []
    for name, value in defaults.items():
        if config.get(name) is None:
            config[name] = value
            filled.append(f"{name}={value}")
    if filled:
        notes.append(
            f"text_config leaves {len(filled)} field(s) to transformers' {class_name} "
            f"defaults, used here: {', '.join(filled)}."
        )
    return config, notes

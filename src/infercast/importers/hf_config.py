"""Hugging Face config.json → family config → ``ModelSpec``.

Dispatch is on ``model_type``, the field transformers itself dispatches on; an unknown type is
an error naming it and listing the supported ones, never a guess from similar-looking fields.
Each family module reads every field that changes the arithmetic (see ``configs/``);
``quantization_config`` sets each layer type's ``weight_dtype`` (see ``quantization``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from infercast.errors import InvalidInputError
from infercast.importers.configs.base import ConfigReader, FamilyConfig
from infercast.importers.configs.bert import BertConfig
from infercast.importers.configs.deepseek import DeepseekV3Config
from infercast.importers.configs.dense_next import (
    exaone4_from_hf,
    ministral3_from_hf,
    seed_oss_from_hf,
)
from infercast.importers.configs.gemma import GemmaConfig
from infercast.importers.configs.glm4_moe import glm4_moe_from_hf
from infercast.importers.configs.gpt_oss import GptOssConfig
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.llama4 import llama4_from_hf
from infercast.importers.configs.mimo import mimo_v2_from_hf
from infercast.importers.configs.minimax import minimax_m2_from_hf
from infercast.importers.configs.moe import MixtralConfig, Qwen2MoeConfig, Qwen3MoeConfig
from infercast.importers.configs.nemotron_h import nemotron_h_from_hf
from infercast.importers.configs.olmo import olmo_from_hf
from infercast.importers.configs.phi3 import Phi3Config
from infercast.importers.configs.qwen3_next import qwen3_next_from_hf
from infercast.importers.configs.wrappers import WRAPPER_TEXT_TYPES, unwrap_multimodal
from infercast.importers.quantization import read_quantization
from infercast.importers.spec_builder import build_spec
from infercast.specs import ModelSpec

__all__ = ["FAMILIES", "family_config", "spec_from_hf_config"]

FAMILIES: dict[str, Callable[[ConfigReader], FamilyConfig]] = {
    "llama": LlamaFamilyConfig.from_hf,
    "mistral": LlamaFamilyConfig.from_hf,
    "qwen2": LlamaFamilyConfig.from_hf,
    "qwen3": LlamaFamilyConfig.from_hf,
    "phi3": Phi3Config.from_hf,
    "qwen3_moe": Qwen3MoeConfig.from_hf,
    "qwen2_moe": Qwen2MoeConfig.from_hf,
    "mixtral": MixtralConfig.from_hf,
    "deepseek_v2": DeepseekV3Config.from_hf,
    "deepseek_v3": DeepseekV3Config.from_hf,
    "kimi_k2": DeepseekV3Config.from_hf,
    "gpt_oss": GptOssConfig.from_hf,
    "gemma": GemmaConfig.from_hf,
    "gemma2": GemmaConfig.from_hf,
    "gemma3_text": GemmaConfig.from_hf,
    "bert": BertConfig.from_hf,
    "olmo2": olmo_from_hf,
    "olmo3": olmo_from_hf,
    "exaone4": exaone4_from_hf,
    "seed_oss": seed_oss_from_hf,
    "ministral3": ministral3_from_hf,
    "glm4_moe": glm4_moe_from_hf,
    "glm4_moe_lite": DeepseekV3Config.from_hf,
    "glm_moe_dsa": DeepseekV3Config.from_hf,
    "deepseek_v32": DeepseekV3Config.from_hf,
    "minimax_m2": minimax_m2_from_hf,
    "mimo_v2_flash": mimo_v2_from_hf,
    "qwen3_next": qwen3_next_from_hf,
    "qwen3_5_text": qwen3_next_from_hf,
    "qwen3_5_moe_text": qwen3_next_from_hf,
    "nemotron_h": nemotron_h_from_hf,
    "llama4_text": llama4_from_hf,
}


def family_config(data: Any, source: str = "config.json") -> FamilyConfig:
    """The family config for a decoded config.json; every failure is an InvalidInputError.

    A multimodal wrapper stands for its text model (see ``configs.wrappers``)."""
    reader = ConfigReader(data, source)
    data, _ = unwrap_multimodal(data, source)
    reader = ConfigReader(data, source)
    model_type = data.get("model_type")
    supported = ", ".join(sorted([*FAMILIES, *WRAPPER_TEXT_TYPES]))
    if model_type is None:
        raise InvalidInputError(
            f"{source}: field 'model_type' is missing; supported model types: {supported}"
        )
    if not isinstance(model_type, str) or model_type not in FAMILIES:
        hint = ""
        if isinstance(data.get("text_config"), Mapping):
            hint = " (an unsupported multimodal wrapper; import its text model's config)"
        raise InvalidInputError(
            f"{source}: unknown model_type {model_type!r}{hint}; supported model types: {supported}"
        )
    try:
        return FAMILIES[model_type](reader)
    except InvalidInputError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        # A field shape the readers did not anticipate: still the user's input, still one line.
        raise InvalidInputError(f"{source}: cannot read {model_type} config: {exc}") from None


def spec_from_hf_config(
    data: Any,
    hf_model_id: str,
    *,
    source: str = "config.json",
    name: str | None = None,
    validated: bool = False,
    validation_notes: str | None = None,
    validation_sources: list[str] | None = None,
) -> ModelSpec:
    """Build the spec for ``hf_model_id`` from its decoded config.json."""
    config = family_config(data, source)
    data, extra = unwrap_multimodal(ConfigReader(data, source).data, source)
    reader = ConfigReader(data, source)
    plan = read_quantization(reader)
    if plan is not None:
        extra.append(plan.description)
    else:
        stored = reader.raw("torch_dtype") or reader.raw("dtype")
        if isinstance(stored, str) and stored not in ("bfloat16", "bf16"):
            extra.append(f"Checkpoint weights are stored as {stored}.")
    return build_spec(
        config,
        hf_model_id,
        name=name,
        weight_dtype=plan.weight_dtype if plan is not None else None,
        validated=validated,
        validation_notes=validation_notes,
        validation_sources=validation_sources,
        extra_notes=extra,
        source=source,
    )

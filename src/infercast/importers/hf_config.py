"""Hugging Face config.json → family config → ``ModelSpec``.

Dispatch is on ``model_type``, the field transformers itself dispatches on, through the
families registered with ``@family`` (:mod:`infercast.importers.configs.registry`); an unknown
type is an error naming it and listing the supported ones, never a guess from similar-looking
fields.
Each family module reads every field that changes the arithmetic (see ``configs/``);
``quantization_config`` sets each layer type's ``weight_dtype`` (see ``quantization``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infercast.errors import InvalidInputError
from infercast.importers.configs import FAMILIES, ConfigReader, FamilyConfig
from infercast.importers.configs.base import context_tokens
from infercast.importers.configs.wrappers import WRAPPER_TEXT_TYPES, unwrap_multimodal
from infercast.importers.quantization import read_quantization
from infercast.importers.spec_builder import build_spec
from infercast.specs import ModelSpec

__all__ = ["FAMILIES", "family_config", "spec_from_hf_config"]


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
    spec = build_spec(
        config,
        hf_model_id,
        name=name,
        weight_dtype=plan.weight_dtype if plan is not None else None,
        validated=validated,
        validation_notes=validation_notes,
        validation_sources=validation_sources,
        extra_notes=extra,
        source=source,
        max_context_tokens=context_tokens(reader),
    )
    if plan is not None and plan.kv_dtype:
        spec = spec.model_copy(update={"kv_cache_dtype": plan.kv_dtype})
    return spec

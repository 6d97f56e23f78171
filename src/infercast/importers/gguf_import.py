"""GGUF header → the same family configs as config.json → ``ModelSpec``.

llama.cpp's metadata keys (``{arch}.block_count``, ``{arch}.expert_count``, …) are translated
to the Hugging Face fields the family configs read, so a GGUF and its config.json give the same
spec. Facts GGUF only implies are read from the tensor list: a missing ``output.weight`` means
tied embeddings; ``attn_q.bias``/``attn_output.bias``/``ffn_up.bias`` mean biases;
``exp_probs_b`` means DeepSeek-V3's score-correction bias. Which keys an architecture reads is
its family's table (``@family(..., gguf=...)`` in ``importers/configs/``). Missing required
keys are errors naming the GGUF key. The weights' ggml types (Q4_K, Q8_0, MXFP4, …) are
reported in the spec's notes; they do not map one-to-one onto infercast's formats, so no
``weight_dtype`` is guessed.
"""

from __future__ import annotations

import os
from typing import Any

from infercast.errors import InvalidInputError
from infercast.importers.configs import GGUF_ARCHITECTURES, ConfigReader, FamilyConfig
from infercast.importers.configs.base import context_tokens
from infercast.importers.gguf_metadata import ArraySummary, GGUFMetadata, read_gguf_metadata
from infercast.importers.hf_config import family_config
from infercast.importers.spec_builder import build_spec
from infercast.specs import ModelSpec

__all__ = [
    "GGUF_ARCHITECTURES",
    "gguf_family_config",
    "gguf_hf_config",
    "gguf_hf_id",
    "quantization_summary",
    "spec_from_gguf",
]


class _Keys:
    """Typed access to ``{arch}.*`` keys; errors name the GGUF key and the file."""

    def __init__(self, meta: GGUFMetadata) -> None:
        self.meta = meta

    def key(self, suffix: str) -> str:
        return f"{self.meta.architecture}.{suffix}"

    def get(self, suffix: str, required: bool = False) -> Any:
        key = self.key(suffix)
        value = self.meta.metadata.get(key)
        if value is None and required:
            raise InvalidInputError(
                f"{self.meta.source}: GGUF metadata key {key!r} is required but missing"
            )
        if isinstance(value, list):
            # Per-layer arrays (e.g. head_count_kv) are fine when every layer agrees.
            if value and all(v == value[0] for v in value) and not isinstance(value[0], list):
                return value[0]
            raise InvalidInputError(
                f"{self.meta.source}: GGUF key {key!r} varies per layer ({value[:8]!r}…), "
                "which infercast does not model"
            )
        if isinstance(value, ArraySummary):
            raise InvalidInputError(
                f"{self.meta.source}: GGUF key {key!r} is a long array, expected a number"
            )
        return value

    def tensor(self, name: str) -> bool:
        return name in self.meta.tensor_shapes


def _vocab_size(meta: GGUFMetadata, keys: _Keys) -> Any:
    shape = meta.tensor_shapes.get("token_embd.weight")
    if shape is not None and len(shape) == 2:
        return shape[1]  # ggml order: ne0 = hidden, ne1 = vocabulary
    if keys.get("vocab_size") is not None:
        return keys.get("vocab_size")
    tokens = meta.metadata.get("tokenizer.ggml.tokens")
    if isinstance(tokens, ArraySummary):
        return tokens.length
    if isinstance(tokens, list) and tokens:
        return len(tokens)
    raise InvalidInputError(
        f"{meta.source}: cannot tell the vocabulary size: no 'token_embd.weight' tensor, "
        f"{keys.key('vocab_size')!r} or 'tokenizer.ggml.tokens'"
    )


def gguf_hf_config(meta: GGUFMetadata) -> dict[str, Any]:
    """Translate a GGUF header into the config.json fields its family config reads: the keys
    every architecture shares, then the architecture's own table (``@family(gguf=...)``)."""
    arch = GGUF_ARCHITECTURES.get(meta.architecture)
    if arch is None:
        raise InvalidInputError(
            f"{meta.source}: GGUF architecture {meta.architecture!r} is not supported; "
            f"supported: {', '.join(sorted(GGUF_ARCHITECTURES))}"
        )
    keys = _Keys(meta)
    heads = keys.get("attention.head_count", required=True)
    config: dict[str, Any] = {
        "model_type": arch.model_type,
        "hidden_size": keys.get("embedding_length", required=True),
        "num_hidden_layers": keys.get("block_count", required=True),
        "num_attention_heads": heads,
        "num_key_value_heads": keys.get("attention.head_count_kv") or heads,
        "vocab_size": _vocab_size(meta, keys),
        "max_position_embeddings": keys.get("context_length"),
        "rope_theta": keys.get("rope.freq_base"),
    }
    untied = keys.tensor("output.weight") or meta.tensor_shapes_truncated
    config["tie_word_embeddings"] = not untied
    for row in arch.keys:
        if row.tensor:
            config[row.hf] = keys.tensor(row.tensor)
            continue
        value = keys.get(row.key, required=row.required)
        config[row.hf] = row.default if value is None else value
    if arch.extra is not None:
        config.update(arch.extra(keys))
    return config


def _config_source(meta: GGUFMetadata) -> str:
    return f"{meta.source} (GGUF metadata)"


def gguf_family_config(meta: GGUFMetadata) -> FamilyConfig:
    return family_config(gguf_hf_config(meta), source=_config_source(meta))


def quantization_summary(meta: GGUFMetadata) -> str:
    """'Q4_K 193 tensors (62.1% of weights), …' — largest share first."""
    total = sum(meta.tensor_elements.values()) or 1
    parts = [
        f"{name} {meta.tensor_types[name]} tensors ({100 * elements / total:.1f}% of weights)"
        for name, elements in sorted(meta.tensor_elements.items(), key=lambda kv: -kv[1])
    ]
    return ", ".join(parts) if parts else "no tensors"


def gguf_hf_id(meta: GGUFMetadata) -> str | None:
    """The Hugging Face id a GGUF names as its source, when it names one."""
    for key in (
        "general.source.huggingface.repository",
        "general.source.repo_url",
        "general.base_model.0.repo_url",
    ):
        value = meta.metadata.get(key)
        if isinstance(value, str) and value:
            value = value.removeprefix("https://huggingface.co/").strip("/")
            if value.count("/") == 1:
                return value
    return None


def spec_from_gguf(
    path: str | os.PathLike[str] | GGUFMetadata, hf_model_id: str, *, name: str | None = None
) -> ModelSpec:
    """Read a .gguf header and build the spec of the model it holds."""
    meta = path if isinstance(path, GGUFMetadata) else read_gguf_metadata(path)
    data = gguf_hf_config(meta)
    config = family_config(data, source=_config_source(meta))
    general_name = meta.metadata.get("general.name")
    return build_spec(
        config,
        hf_model_id,
        name=name
        or (general_name[:200] if isinstance(general_name, str) and general_name else None),
        extra_notes=[f"GGUF weight types: {quantization_summary(meta)}."],
        source=meta.source,
        max_context_tokens=context_tokens(ConfigReader(data, _config_source(meta))),
    )

"""What every family config shares: typed field reading and the layer parts it describes.

A config.json comes from anywhere, so fields are read strictly: integers must be JSON integers
(``8192.0``, ``"8192"`` and ``true`` are rejected), sizes must be positive and below sanity
bounds, and every error names the field, the model type and the file. Family configs turn their
fields into :class:`LayerPart` records, one per layer instance, which the spec builder groups into
``layer_types`` entries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from infercast.errors import InvalidInputError
from infercast.specs.classes.base import LayerSpecs

__all__ = [
    "MAX_EXPERTS",
    "MAX_HEADS",
    "MAX_HIDDEN",
    "MAX_INTERMEDIATE",
    "MAX_LAYERS",
    "MAX_VOCAB",
    "MAX_WINDOW",
    "ConfigReader",
    "FamilyConfig",
    "LayerPart",
    "OnBase",
    "RoutedExperts",
    "check_heads",
    "context_tokens",
    "layer_windows",
]

# Bounds match (or tighten) the layer classes' own, so an accepted config always builds a spec.
MAX_HIDDEN = 1 << 20
MAX_INTERMEDIATE = 1 << 22
MAX_HEADS = 1 << 14
MAX_VOCAB = 1 << 24
MAX_LAYERS = 10_000
MAX_EXPERTS = 1 << 16
MAX_WINDOW = 1 << 27
MAX_LIST = MAX_LAYERS

_MISSING: Any = object()


@dataclass(frozen=True)
class LayerPart:
    """One instance of one layer class (e.g. the attention of block 3).

    ``spec_class`` is the layer-spec class itself, never its name as a string, so renaming a
    class touches its own module only (``layer_class`` is the name the spec file gets).
    ``modules`` are the Hugging Face module names holding this part's bulk weights (largest
    first); quantization configs are matched against them to find the part's ``weight_dtype``.
    """

    name: str
    spec_class: type[LayerSpecs]
    specs: Mapping[str, Any]
    layer_idx: int | None = None
    modules: tuple[str, ...] = field(default=())
    spec_modules: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    """(spec, modules) for specs naming the stored format of a sub-part, e.g.
    ``shared_expert_weight_dtype`` of a MoE whose shared experts stay unquantized."""

    @property
    def layer_class(self) -> str:
        """The ``class`` string of the model-spec format."""
        return self.spec_class.class_name


class FamilyConfig(Protocol):
    """What the spec builder needs from a family config."""

    model_type: str

    @property
    def hidden_size(self) -> int: ...

    @property
    def num_layers(self) -> int: ...

    @property
    def vocab_size(self) -> int: ...

    def layer_parts(self) -> list[LayerPart]: ...

    def notes(self) -> list[str]: ...


class OnBase:
    """Mixin of a family config built on a Llama-family ``base`` (by composition): the model
    figures every family reports come from it, and it has no notes of its own by default."""

    base: Any

    @property
    def model_type(self) -> str:
        return str(self.base.model_type)

    @property
    def hidden_size(self) -> int:
        return int(self.base.hidden_size)

    @property
    def num_layers(self) -> int:
        return int(self.base.num_layers)

    @property
    def vocab_size(self) -> int:
        return int(self.base.vocab_size)

    def layer_parts(self) -> list[LayerPart]:
        return list(self.base.layer_parts())

    def notes(self) -> list[str]:
        return []


class RoutedExperts:
    """Mixin of MoE family configs with ``num_experts`` and ``num_experts_per_tok``."""

    num_experts: int
    num_experts_per_tok: int

    @property
    def is_truly_sparse(self) -> bool:
        """True iff fewer than all experts run per token (top_k == num_experts is dense)."""
        return 0 < self.num_experts_per_tok < self.num_experts


class ConfigReader:
    """Strictly typed access to a config.json object; errors name field, model type and file."""

    def __init__(self, data: Mapping[str, Any], source: str = "config.json") -> None:
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"{source}: expected a JSON object, got {type(data).__name__}")
        self.data = data
        self.source = source
        model_type = data.get("model_type")
        self.model_type = model_type if isinstance(model_type, str) else "?"

    def error(self, name: str, message: str) -> InvalidInputError:
        return InvalidInputError(f"{self.source}: field {name!r} ({self.model_type}): {message}")

    def has(self, name: str) -> bool:
        """Present and not null (HF writes null for 'not set')."""
        return self.data.get(name) is not None

    def raw(self, name: str, default: Any = None) -> Any:
        value = self.data.get(name)
        return default if value is None else value

    def _get(self, name: str, default: Any) -> Any:
        value = self.data.get(name)
        if value is None:
            if default is _MISSING:
                what = "is null" if name in self.data else "is required but missing"
                raise self.error(name, what)
            return default
        return value

    def _check_int(self, name: str, value: Any, minimum: int, maximum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"must be an integer, got {value!r}")
        if value < minimum:
            raise self.error(name, f"must be at least {minimum}, got {value}")
        if value > maximum:
            raise self.error(name, f"{value} exceeds the sanity limit {maximum}")
        return value

    def integer(
        self, name: str, default: Any = _MISSING, *, minimum: int = 1, maximum: int = MAX_HIDDEN
    ) -> int:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        return self._check_int(name, value, minimum, maximum)

    def opt_integer(self, name: str, *, minimum: int = 1, maximum: int = MAX_HIDDEN) -> int | None:
        value = self.data.get(name)
        return None if value is None else self._check_int(name, value, minimum, maximum)

    def first_integer(self, names: tuple[str, ...], default: Any = _MISSING, **bounds: int) -> int:
        """The first present of several aliases (e.g. ``num_local_experts``/``num_experts``)."""
        for name in names:
            if self.has(name):
                return self.integer(name, **bounds)
        if default is _MISSING:
            raise self.error(names[0], "is required but missing")
        return default

    def flag(self, name: str, default: Any = _MISSING) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {value!r}")
        return value

    def text(self, name: str, default: Any = _MISSING) -> str:
        value = self._get(name, default)
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, got {value!r}")
        return value

    def number(self, name: str, default: float | None = None) -> float | None:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"must be a number, got {value!r}"[:200])
        number = float(value) if isinstance(value, float) or abs(value) < 2**1023 else math.inf
        if not math.isfinite(number):
            raise self.error(name, "must be a finite number (it is out of range)")
        return number

    def integers(self, name: str, *, minimum: int = 0, maximum: int = MAX_LAYERS) -> list[int]:
        value = self._get(name, [])
        if not isinstance(value, list):
            raise self.error(name, f"must be a list of integers, got {value!r}"[:200])
        if len(value) > MAX_LIST:
            raise self.error(name, f"has {len(value)} items; the limit is {MAX_LIST}")
        return [self._check_int(f"{name}[{i}]", v, minimum, maximum) for i, v in enumerate(value)]

    def texts(self, name: str) -> list[str] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, f"must be a list of strings, got {value!r}"[:200])
        if len(value) > MAX_LIST:
            raise self.error(name, f"has {len(value)} items; the limit is {MAX_LIST}")
        return value


def context_tokens(reader: ConfigReader) -> int | None:
    """The spec's ``max_context_tokens``: ``max_position_embeddings`` as the config states it
    (None when absent), the field every supported family — and a GGUF header's
    ``<arch>.context_length`` — uses for the longest sequence the model is configured for.

    Rope-scaled configs: transformers takes ``max_position_embeddings`` as the length
    (``rope_scaling`` only rescales frequencies); vLLM's ``_get_and_verify_max_len``
    (vllm/config.py) derives YaRN's as ``original_max_position_embeddings × factor``, which
    equals the stated figure in every YaRN config shipped here (DeepSeek-V3: 4096 × 40 =
    163,840; gpt-oss: 4096 × 32 = 131,072; Kimi K2.5, Devstral 2: 4096 × 64 = 262,144), and
    keeps the stated figure for ``llama3`` scaling. The stated figure is used for every type.
    """
    return reader.opt_integer("max_position_embeddings", maximum=MAX_WINDOW)


def check_heads(reader: ConfigReader, heads: int, kv_heads: int) -> None:
    """GQA needs whole groups: reject head counts no attention module could be built with."""
    if kv_heads > heads:
        raise reader.error("num_key_value_heads", f"{kv_heads} exceeds num_attention_heads {heads}")
    if heads % kv_heads:
        raise reader.error(
            "num_key_value_heads",
            f"num_attention_heads {heads} is not a multiple of num_key_value_heads {kv_heads}",
        )


def layer_windows(
    reader: ConfigReader,
    num_layers: int,
    window: int | None,
    default_sliding: list[bool] | None,
) -> tuple[int | None, ...]:
    """Sliding window per layer (None = full attention).

    An explicit ``layer_types`` list wins (newer transformers write it for every family);
    otherwise ``default_sliding`` is the family's own rule. A sliding layer needs a window.
    """
    names = reader.texts("layer_types")
    if names is not None:
        if len(names) != num_layers:
            raise reader.error(
                "layer_types",
                f"has {len(names)} entries but num_hidden_layers is {num_layers}",
            )
        sliding = []
        for i, kind in enumerate(names):
            if kind not in ("sliding_attention", "full_attention"):
                raise reader.error(
                    f"layer_types[{i}]",
                    f"{kind!r} is not supported (only 'full_attention' and 'sliding_attention')",
                )
            sliding.append(kind == "sliding_attention")
    else:
        sliding = default_sliding or [False] * num_layers
    if any(sliding) and window is None:
        raise reader.error("sliding_window", "is required: some layers use sliding attention")
    return tuple(window if s else None for s in sliding)

"""Model families register themselves: ``@family("qwen3_moe", gguf="qwen3moe", gguf_keys=...)``.

A family config class (one module in this package) declares with the decorator which
config.json ``model_type`` values it reads and, optionally, which llama.cpp GGUF architectures
become which ``model_type`` and through which metadata keys. The importers dispatch only
through :data:`FAMILIES` and :data:`GGUF_ARCHITECTURES`, so a new family is one module.

GGUF keys are a per-architecture table of :class:`GGUFKey` rows: the config.json field, then
the ``{arch}.<key>`` metadata key it is read from, or the tensor whose presence sets it (biases),
whether it is required, and a default. An architecture whose fields are computed (DeepSeek's
MLA sizes) adds an ``extra`` function of the key reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["FAMILIES", "GGUF_ARCHITECTURES", "GGUFArchitecture", "GGUFKey", "family"]


@dataclass(frozen=True)
class GGUFKey:
    """One config.json field read from a GGUF header."""

    hf: str
    key: str = ""
    """``{arch}.<key>`` metadata key (e.g. ``feed_forward_length``)."""
    tensor: str = ""
    """Tensor whose presence sets the field to true (e.g. ``blk.0.attn_q.bias``)."""
    required: bool = False
    default: Any = None
    """Used when the key is absent (``None``: the field is null, which readers treat as unset)."""


@dataclass(frozen=True)
class GGUFArchitecture:
    """A llama.cpp ``general.architecture`` and how it becomes a config.json."""

    name: str
    model_type: str
    keys: tuple[GGUFKey, ...] = ()
    extra: Callable[[Any], dict[str, Any]] | None = None
    """Fields computed from the key reader (``get``/``tensor``/``key``/``meta``)."""


FAMILIES: dict[str, Callable[[Any], Any]] = {}
"""config.json ``model_type`` → the family config's ``from_hf(reader)``."""
GGUF_ARCHITECTURES: dict[str, GGUFArchitecture] = {}
"""GGUF ``general.architecture`` → how to translate its header."""

_C = TypeVar("_C")


def family(
    *model_types: str,
    gguf: str | Iterable[GGUFArchitecture] | None = None,
    gguf_keys: tuple[GGUFKey, ...] = (),
) -> Callable[[_C], _C]:
    """Register a family config class for ``model_types`` (class decorator).

    ``gguf``: a GGUF architecture name that becomes the first model type, read through
    ``gguf_keys``; or a list of :class:`GGUFArchitecture` for a class that several
    architectures map to."""

    def register(cls: _C) -> _C:
        reader = cls.from_hf  # type: ignore[attr-defined]
        for model_type in model_types:
            if model_type in FAMILIES:
                raise ValueError(f"model_type {model_type!r} is registered twice")
            FAMILIES[model_type] = reader
        archs = (
            [GGUFArchitecture(gguf, model_types[0], gguf_keys)]
            if isinstance(gguf, str)
            else list(gguf or ())
        )
        for arch in archs:
            if arch.name in GGUF_ARCHITECTURES:
                raise ValueError(f"GGUF architecture {arch.name!r} is registered twice")
            GGUF_ARCHITECTURES[arch.name] = arch
        return cls

    return register

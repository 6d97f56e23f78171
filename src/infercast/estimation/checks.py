"""Loads no deployment can serve: errors naming the limit, never an answer.

An estimate for ``osl = 0`` on a decoder (a request that generates nothing still produces a
first token) or for a prompt longer than the model's context would be a number without meaning,
so these are refused before any arithmetic. Kept apart from the estimate pipeline so every entry
point (Python API, CLI, HTTP) applies the same rules.
"""

from __future__ import annotations

from infercast.errors import InvalidInputError
from infercast.specs.schema import ModelSpec

__all__ = ["LoadError", "check_load"]


class LoadError(InvalidInputError):
    """A request load the model cannot take; ``field`` names the argument at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_load(spec: ModelSpec, isl: int, osl: int) -> None:
    """Raise :class:`LoadError` for an output length of 0 on a decoder, or a prompt (plus its
    output) beyond the context the spec declares."""
    if osl < 1 and not spec.is_encoder_only:
        raise LoadError(
            f"osl must be at least 1 for {spec.hf_model_id} (a decoder): every request "
            f"generates at least its first token, got osl={osl}",
            "osl",
        )
    context = getattr(spec, "max_context_tokens", None)
    if context and isl + (0 if spec.is_encoder_only else osl) > context:
        total = isl + (0 if spec.is_encoder_only else osl)
        field = "isl" if isl > context else "osl"
        raise LoadError(
            f"isl + osl = {total:,} tokens exceeds the {context:,}-token context of "
            f"{spec.hf_model_id}",
            field,
        )

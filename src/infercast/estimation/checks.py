"""Loads no deployment can serve: errors naming the limit, never an answer.

An estimate for ``osl = 0`` on a decoder (a request that generates nothing still produces a
first token) or for a sequence longer than the model's context would be a number without
meaning, so these are refused before any arithmetic. Kept apart from the estimate pipeline so
every entry point (Python API, CLI, HTTP, plan search) applies the same rules.
"""

from __future__ import annotations

from infercast.errors import InvalidInputError
from infercast.specs.schema import ModelSpec

__all__ = ["LoadError", "check_context", "check_load", "context_limit"]


class LoadError(InvalidInputError):
    """A request load the model cannot take; ``field`` names the argument at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def context_limit(spec: ModelSpec) -> int | None:
    """Tokens one sequence may hold, where the spec declares it: the model-level
    ``max_context_tokens`` and a learned position table's rows (BERT-class
    ``max_position_embeddings``), the smaller of the two; None where neither is declared."""
    tables = [getattr(lt.layer_specs, "max_position_embeddings", 0) for lt in spec.layer_types]
    known = [int(n) for n in [spec.max_context_tokens or 0, *tables] if n]
    return min(known) if known else None


def check_context(spec: ModelSpec, isl: int, osl: int) -> None:
    """Raise :class:`LoadError` for ``isl + osl`` beyond the model's context (an encoder's
    sequence is its input alone: it generates nothing)."""
    limit = context_limit(spec)
    total = isl + (0 if spec.is_encoder_only else osl)
    if limit is not None and total > limit:
        raise LoadError(
            f"isl + osl = {total:,} tokens exceeds the {limit:,}-token context of "
            f"{spec.hf_model_id}",
            "isl" if isl > limit else "osl",
        )


def check_load(spec: ModelSpec, isl: int, osl: int) -> None:
    """Raise :class:`LoadError` for an output length of 0 on a decoder, or a prompt (plus its
    output) beyond the context the spec declares."""
    if osl < 1 and not spec.is_encoder_only:
        raise LoadError(
            f"osl must be at least 1 for {spec.hf_model_id} (a decoder): every request "
            f"generates at least its first token, got osl={osl}",
            "osl",
        )
    check_context(spec, isl, osl)

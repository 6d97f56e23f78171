"""What every layer-spec class is: its specs (pydantic fields), its declared traits and ops.

A class is a pydantic model of its ``specs`` (required specs are fields without a default) that
declares, as class attributes, the traits the rest of infercast reads instead of its name:

- ``class_name``: the ``class`` string of the model-spec format; ``description``;
- ``role``: ``attention`` | ``mixer`` | ``ffn`` | ``norm`` | ``embedding`` | ``head`` |
  ``pooler`` (what a block holds: ``attention`` softmax attention with a per-token KV cache,
  ``mixer`` linear attention / SSM with a fixed per-sequence state; validation takes a per-block
  census of token mixers and FFNs, see ``validation``);
- ``per_block``: True when its instances sit in the transformer blocks (split over pipeline
  stages, hold KV cache), False for once-per-model layers (embedding, head, pooler); ``None``
  means per block unless the entry has ``count`` 1 (the final norm);
- ``kernels``: GPU kernels one instance launches per step, collectives excluded (the counts
  and their sources in the engines' model code: :mod:`infercast.estimation.kernels`);
- ``efficiency_class``: which achievable-compute fraction its GEMMs run at (``dense``, or
  ``moe`` for grouped expert GEMMs);
- ``short_name``: the label tables print (``GQA attention``); ``label``: the kind in prose
  (``sliding-window GQA``); ``supported_parallelism``.

and returns its primitive ops (:meth:`LayerSpecs.ops`, see :mod:`infercast.specs.ops`), from
which parameter counts are derived — never re-typed. :func:`layer_class` registers a class:
the model-spec union, the class list of ``/api/layers`` and the cost engine all read the
registry, so a new class is one module in this package (imported automatically).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from infercast.dtypes import UnknownDTypeError, dtype
from infercast.specs.ops import (
    AttentionCore,
    Op,
    RecurrentCore,
    count_active,
    count_matmul,
    count_params,
    count_routed,
)

__all__ = [
    "LAYER_CLASSES",
    "PARALLELISM_KINDS",
    "ExpertCount",
    "HeadCount",
    "LayerSpecs",
    "NonNegativeWidth",
    "Role",
    "Size",
    "Vocab",
    "Width",
    "canonical_dtype",
    "layer_class",
]

PARALLELISM_KINDS: dict[str, str] = {
    "tensor_parallel": "weights split across GPUs of a tensor-parallel group (Megatron style)",
    "sequence_parallel": "norms/activations split along the sequence between TP collectives",
    "context_parallel": "a long prompt split along the sequence across GPUs (ring attention)",
    "expert_parallel": "whole experts placed on different GPUs, tokens routed by all-to-all",
    "data_parallel": "replicated weights, different requests per GPU (e.g. DP attention)",
    "pipeline_parallel": "consecutive layers on different GPUs",
}

# Upper bounds reject absurd sizes (typos, hostile input) before any arithmetic uses them.
Size = Annotated[int, Field(gt=0, le=1 << 20)]
HeadCount = Annotated[int, Field(gt=0, le=1 << 14)]
Width = Annotated[int, Field(gt=0, le=1 << 22)]
Vocab = Annotated[int, Field(gt=0, le=1 << 24)]
ExpertCount = Annotated[int, Field(gt=0, le=1 << 16)]
NonNegativeWidth = Annotated[int, Field(ge=0, le=1 << 22)]

Role = Literal["attention", "mixer", "linear", "ffn", "norm", "embedding", "head", "pooler"]


def canonical_dtype(value: str | None) -> str | None:
    """A stored-format spec's canonical name; an unknown one is a validation error."""
    if value is None:
        return None
    try:
        return dtype(value).name
    except UnknownDTypeError as exc:
        raise ValueError(str(exc)) from None


class LayerSpecs(BaseModel):
    """Specs every class accepts; subclasses add their own, their traits and their ops."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    class_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    supported_parallelism: ClassVar[tuple[str, ...]] = ()
    role: ClassVar[Role]
    per_block: ClassVar[bool | None] = True
    kernels: ClassVar[int] = 4
    efficiency_class: ClassVar[Literal["dense", "moe"]] = "dense"
    short_name: ClassVar[str] = ""
    label: ClassVar[str] = ""

    layer_idx: Annotated[int, Field(ge=0, le=1 << 20)] | None = Field(
        default=None, description="Index of the first layer this entry describes (metadata)."
    )
    parameter_count: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="Parameters of ONE instance (metadata); validation checks it is exact.",
    )
    weight_dtype: str | None = Field(
        default=None,
        description="Stored format of this layer's weights in the checkpoint (bf16, fp8, "
        "mxfp4, nvfp4, int4, ...); absent means the model's default (bf16).",
    )

    layer_indices: tuple[Annotated[int, Field(ge=0, le=1 << 20, strict=True)], ...] | None = Field(
        default=None,
        strict=False,  # a JSON list; its items stay strict integers
        max_length=100_000,
        description="The blocks (0-based) this entry's instances sit in (metadata). Hybrid and "
        "NAS models, whose blocks differ in kind, list them so validation can take a per-block "
        "census.",
    )

    @field_validator("weight_dtype")
    @classmethod
    def _known_dtype(cls, value: str | None) -> str | None:
        return canonical_dtype(value)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy without the memoised ops (``update`` may change what they derive from)."""
        copied = super().model_copy(update=update, deep=deep)
        for key in [k for k in copied.__dict__ if k.startswith(_OPS_MEMO)]:
            del copied.__dict__[key]
        return copied

    @property
    def is_windowed(self) -> bool:
        """Attention limited to a sliding window or a local chunk (its KV stops growing)."""
        core = self.attention_core()
        return core is not None and (core.window is not None or core.chunk is not None)

    def block_slot(self) -> str | None:
        """Which slot of a block an instance fills: ``mixer`` (attention, linear attention,
        SSM), ``ffn``, or None (norms, embedding, head). The per-block census counts these."""
        if self.role in ("attention", "mixer"):
            return "mixer"
        return "ffn" if self.role == "ffn" else None

    def state_elements_per_sequence(self) -> int:
        """Fixed recurrent + conv state one sequence holds (linear attention, SSM); else 0."""
        return sum(op.state_elements for op in self.ops() if isinstance(op, RecurrentCore))

    @classmethod
    def required_specs(cls) -> list[str]:
        return [name for name, field in cls.model_fields.items() if field.is_required()]

    @classmethod
    def optional_specs(cls) -> list[str]:
        return [name for name, field in cls.model_fields.items() if not field.is_required()]

    def ops(self) -> tuple[Op, ...]:
        """The primitive ops of ONE instance (see :mod:`infercast.specs.ops`)."""
        raise NotImplementedError

    def problems(self) -> list[tuple[str, str]]:
        """``(spec field, message)`` for specs that contradict each other (none by default)."""
        return []

    def is_per_block(self, count: int) -> bool:
        """Whether an entry of ``count`` instances sits in the blocks (see ``per_block``)."""
        return self.per_block if self.per_block is not None else count > 1

    def parameter_count_per_instance(self) -> int:
        return count_params(self.ops())

    def routed_expert_parameters(self) -> int:
        """Parameters of routed experts (only MoE layers have any)."""
        return count_routed(self.ops())

    def active_parameters(self) -> int:
        """Parameters one token uses: routed experts count top_k/num_experts of theirs."""
        return count_active(self.ops())

    def matmul_params_per_token(self) -> int:
        return count_matmul(self.ops())

    def kv_cache_elements_per_token(self) -> int:
        return sum(op.kv_elements_per_token for op in self.ops() if isinstance(op, AttentionCore))

    def attention_core(self) -> AttentionCore | None:
        """The attention op of this class, if it has one."""
        return next((op for op in self.ops() if isinstance(op, AttentionCore)), None)


LAYER_CLASSES: dict[str, type[LayerSpecs]] = {}
"""Every registered class by its ``class_name``, in registration order."""

_C = TypeVar("_C", bound=type[LayerSpecs])


def layer_class(cls: _C) -> _C:
    """Register a layer-spec class (decorator); its ``class_name`` must be new."""
    if not cls.class_name or cls.class_name in LAYER_CLASSES:
        raise ValueError(f"layer class {cls.__name__}: missing or duplicate class_name")
    if not cls.short_name:
        raise ValueError(f"layer class {cls.__name__}: missing short_name (tables print it)")
    if not getattr(cls.ops, "memoised", False):
        cls.ops = _memoised(cls.ops)  # type: ignore[method-assign,assignment]
    LAYER_CLASSES[cls.class_name] = cls
    return cls


_OPS_MEMO = "_ops_of_"
"""Prefix of the instance-dict key holding a class's ops: not a field, so pydantic's equality,
hashing, repr and dumps ignore it."""


def _memoised(ops: Callable[[Any], tuple[Op, ...]]) -> Callable[[Any], tuple[Op, ...]]:
    """``ops`` computed once per instance: the specs are frozen, the ops a pure function of
    them (a tuple of frozen records), and an estimate asks for them dozens of times (cost
    models, plan validation, the MoE and attention look-ups). The key is per function, so a
    subclass's ``ops`` calling ``super().ops()`` keeps both."""
    key = f"{_OPS_MEMO}{ops.__qualname__}"

    @functools.wraps(ops)
    def cached(self: Any) -> tuple[Op, ...]:
        memo = self.__dict__
        value = memo.get(key)
        if value is None:
            value = memo[key] = ops(self)
        return value

    cached.memoised = True  # type: ignore[attr-defined]
    return cached

"""Per-layer cost models: one per layer class, built once per estimate and queried per step."""

from __future__ import annotations

from typing import Any, Protocol

from infercast.dtypes import DType
from infercast.errors import InvalidInputError
from infercast.layers.attention import AttentionCost, LatentAttentionCost
from infercast.layers.base import CostContext, LayerCost, Price, StepShape, StepTerms
from infercast.layers.edges import EmbeddingCost, NormCost, OutputCost, PoolerCost
from infercast.layers.engine import Gemm, PlacedOps, op_kinds
from infercast.layers.ffn import MLPCost, MoECost, expected_experts_touched
from infercast.layers.recurrent import RecurrentMixerCost
from infercast.layers.sparse_attention import SparseAttentionCost
from infercast.specs.classes.base import LayerSpecs
from infercast.specs.schema import ModelSpec

__all__ = [
    "CostContext",
    "CostModel",
    "Gemm",
    "LayerCost",
    "PlacedOps",
    "Price",
    "StepShape",
    "StepTerms",
    "cost_model_class",
    "cost_models",
    "expected_experts_touched",
]


class CostModel(Protocol):
    matmul_dtype: DType | None

    def stored_weight_bytes(self) -> float: ...
    def kv_bytes_per_token(self) -> float: ...
    def kv_window(self) -> int | None: ...
    def activation_peak_bytes(self, tokens: float) -> float: ...
    def step_cost(self, shape: StepShape) -> LayerCost: ...
    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms: ...


_BY_KIND: tuple[tuple[str, Any], ...] = (
    ("attention:sparse", SparseAttentionCost),
    ("recurrent", RecurrentMixerCost),
    ("attention:gqa", AttentionCost),
    ("attention:mla", LatentAttentionCost),
    ("router", MoECost),
    ("logits", OutputCost),
    ("pooled", PoolerCost),
    ("linear", MLPCost),
    ("lookup", EmbeddingCost),
    ("norm", NormCost),
)
"""Which cost model a layer gets, by what its ops contain (first match wins)."""


_CHOSEN: dict[int, tuple[tuple[Any, ...], Any]] = {}
"""The cost model chosen per ops tuple (memoised per layer spec, so its identity is stable;
the entry keeps it alive): a plan search builds the cost models of thousands of plans of one
spec."""


def cost_model_class(specs: LayerSpecs) -> Any:
    """The cost model of a layer class, chosen from its ops (never its name)."""
    ops = specs.ops()
    hit = _CHOSEN.get(id(ops))
    if hit is not None and hit[0] is ops:
        return hit[1]
    kinds = op_kinds(ops)
    for kind, model in _BY_KIND:
        if kind in kinds:
            if len(_CHOSEN) >= 1 << 12:
                _CHOSEN.clear()
            _CHOSEN[id(ops)] = (ops, model)
            return model
    raise InvalidInputError(
        f"layer class {specs.class_name}: no cost model for ops {sorted(kinds) or 'none'}"
    )


def cost_models(spec: ModelSpec, ctx: CostContext) -> list[tuple[Any, CostModel]]:
    """(layer type, its cost model) for every entry of the spec, in order."""
    embedding = spec.layers_with("embedding")
    embedding_dtype = embedding[0].layer_specs.weight_dtype if embedding else None
    models: list[tuple[Any, CostModel]] = []
    for lt in spec.layer_types:
        builder = cost_model_class(lt.layer_specs)
        if builder is OutputCost:
            model: CostModel = OutputCost(lt.layer_specs, ctx, embedding_dtype)  # type: ignore[arg-type]
        else:
            model = builder(lt.layer_specs, ctx)
        models.append((lt, model))
    return models

"""Per-layer cost models: one per layer class, built once per estimate and queried per step."""

from __future__ import annotations

from typing import Any, Protocol

from infercast.layers.attention import AttentionCost, LatentAttentionCost
from infercast.layers.base import CostContext, LayerCost, StepShape
from infercast.layers.edges import EmbeddingCost, NormCost, OutputCost, PoolerCost
from infercast.layers.ffn import MLPCost, MoECost, expected_experts_touched
from infercast.layers.recurrent import RecurrentMixerCost
from infercast.layers.sparse_attention import SparseAttentionCost
from infercast.specs.schema import ModelSpec

__all__ = [
    "CostContext",
    "CostModel",
    "LayerCost",
    "StepShape",
    "cost_models",
    "expected_experts_touched",
]


class CostModel(Protocol):
    def stored_weight_bytes(self) -> float: ...
    def kv_bytes_per_token(self) -> float: ...
    def kv_window(self) -> int | None: ...
    def activation_peak_bytes(self, tokens: float) -> float: ...
    def step_cost(self, shape: StepShape) -> LayerCost: ...


_BUILDERS: dict[str, Any] = {
    "AttentionLayer": AttentionCost,
    "GroupedQueryAttentionLayer": AttentionCost,
    "SlidingWindowAttentionLayer": AttentionCost,
    "MultiHeadLatentAttentionLayer": LatentAttentionCost,
    "ChunkedLocalAttentionLayer": AttentionCost,
    "DeepSeekSparseAttentionLayer": SparseAttentionCost,
    "GatedDeltaNetLayer": RecurrentMixerCost,
    "Mamba2Layer": RecurrentMixerCost,
    "MLPLayer": MLPCost,
    "GatedMLPLayer": MLPCost,
    "MoELayer": MoECost,
    "NormLayer": NormCost,
    "EmbeddingLayer": EmbeddingCost,
    "PoolerLayer": PoolerCost,
}


def cost_models(spec: ModelSpec, ctx: CostContext) -> list[tuple[Any, CostModel]]:
    """(layer type, its cost model) for every entry of the spec, in order."""
    embedding = spec.layers_of("EmbeddingLayer")
    embedding_dtype = embedding[0].layer_specs.weight_dtype if embedding else None
    models: list[tuple[Any, CostModel]] = []
    for lt in spec.layer_types:
        if lt.layer_class == "OutputLayer":
            model: CostModel = OutputCost(lt.layer_specs, ctx, embedding_dtype)
        else:
            model = _BUILDERS[lt.layer_class](lt.layer_specs, ctx)
        models.append((lt, model))
    return models

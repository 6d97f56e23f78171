"""The library of layer classes a model spec's ``layer_types[].class`` may name.

The classes live in :mod:`infercast.specs.classes` (one module per family of classes, each
registered with ``@layer_class``); this module re-exports them and the registry. Each class is
a pydantic model of its ``specs``: required specs are fields without a default, optional specs
have documented defaults, and every class declares its traits, the parallelism it supports and
its primitive ops (:mod:`infercast.specs.ops`), from which its parameters are counted (per
instance; a ``layer_types`` entry multiplies by ``count``), so ``total_params`` of a spec is
always derived, never typed in.

Counting conventions (they match Hugging Face transformers' modules):
- every weight and bias is counted once per instance; norms count their weight (and bias);
- a tied LM head counts 0 parameters (its matrix is the embedding's) but still costs a matmul;
- ``matmul_params_per_token`` is the number of weight elements one token multiplies through
  (2 FLOPs each): embeddings' look-up, norms, biases and sinks are excluded; routers, the LM
  head and only the top-k routed experts are included;
- ``kv_cache_elements_per_token`` is per instance at full context (sliding windows are applied by
  the cost model, not here); MLA caches the compressed latent plus the shared rope key.
"""

from __future__ import annotations

from infercast.specs.classes import LAYER_CLASSES, PARALLELISM_KINDS, LayerSpecs, classes_with
from infercast.specs.classes.attention import (
    AttentionLayerSpecs,
    GroupedQueryAttentionLayerSpecs,
    SlidingWindowAttentionLayerSpecs,
    _AttentionSpecs,
)
from infercast.specs.classes.edges import (
    EmbeddingLayerSpecs,
    NormLayerSpecs,
    OutputLayerSpecs,
    PoolerLayerSpecs,
)
from infercast.specs.classes.latent import MultiHeadLatentAttentionLayerSpecs
from infercast.specs.classes.mlp import GatedMLPLayerSpecs, MLPLayerSpecs
from infercast.specs.classes.moe import MoELayerSpecs

__all__ = [
    "ATTENTION_CLASSES",
    "FFN_CLASSES",
    "LAYER_CLASSES",
    "PARALLELISM_KINDS",
    "AttentionLayerSpecs",
    "EmbeddingLayerSpecs",
    "GatedMLPLayerSpecs",
    "GroupedQueryAttentionLayerSpecs",
    "LayerSpecs",
    "MLPLayerSpecs",
    "MoELayerSpecs",
    "MultiHeadLatentAttentionLayerSpecs",
    "NormLayerSpecs",
    "OutputLayerSpecs",
    "PoolerLayerSpecs",
    "SlidingWindowAttentionLayerSpecs",
    "_AttentionSpecs",
    "classes_with",
]

ATTENTION_CLASSES = classes_with("attention")
FFN_CLASSES = classes_with("ffn")

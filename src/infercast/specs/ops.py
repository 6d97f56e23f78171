"""The primitive operations a layer class is made of, and the one parameter-counting formula.

A layer-spec class declares its ops (:meth:`LayerSpecs.ops`); everything else is derived from
them: the parameter counts here (per instance, as checkpoints store them), and in
:mod:`infercast.layers.engine` the per-GPU weights, GEMM shapes, tensor-parallel reductions and
plan validity. Adding a layer class built from existing ops therefore needs no cost code.

Conventions (they match Hugging Face transformers' modules):
- a :class:`Linear` counts ``in × out`` weights (× ``experts``) plus ``out`` biases per matrix;
  a ``tied`` one owns no weight (the embedding's) but still multiplies;
- ``matmul`` weights are those a token multiplies through: routed experts count ``top_k`` of
  their ``experts``; a look-up (:class:`Embedding`), norms, biases and loose parameters none;
  a Linear on one row per sequence (``rows="sequence"``, the pooler) none either.

Sharding of a Linear (``shard``):
- ``col``: output features split ``tp`` ways (by whole ``heads`` when given; K/V heads are
  replicated one per GPU when ``tp`` exceeds them), biases split with them;
- ``row``: input features split ``tp`` ways, biases replicated, partial sums reduced over
  ``tp`` (all-reduce, or reduce-scatter + all-gather under sequence parallelism);
- ``vocab``: a vocabulary-parallel matrix (LM head, embedding): rows split ``tp`` ways, no
  divisibility rule (engines pad the vocabulary);
- ``expert``: ``experts`` whole matrices placed ``ep`` ways, each sliced ``moe_tp`` ways
  along ``expert_split``;
- ``replicated``: a full copy on every GPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AttentionCore",
    "Embedding",
    "Linear",
    "Norm",
    "Op",
    "Param",
    "RecurrentCore",
    "Router",
    "count_active",
    "count_matmul",
    "count_params",
    "count_routed",
]

Shard = Literal["col", "row", "replicated", "vocab", "expert"]
FormatRole = Literal["dense", "expert", "router", "own", "shared"]
"""Which format an op's weights are stored in: ``dense`` (the dense-weights override, else the
layer's checkpoint format), ``expert`` (the experts override, else the layer's), ``router``
(always the checkpoint's 16-bit format: engines never quantize gates), ``own`` (the layer's
checkpoint format; quantizers skip embeddings, heads and norms), ``shared`` (shared experts:
the dense override, else the layer's ``shared_expert_weight_dtype``, else its format)."""
Rows = Literal["token", "logit", "sequence"]


@dataclass(frozen=True)
class Linear:
    """A matrix multiply ``[rows, in] × [in, out]`` with optional bias."""

    name: str
    in_features: int
    out_features: int
    shard: Shard = "replicated"
    bias: bool = False
    fmt: FormatRole = "dense"
    heads: int | None = None
    """Column/row shard by whole heads (the sharded side is ``heads × head width``)."""
    replicable: bool = False
    """Whole heads replicated one per GPU when ``tp`` exceeds ``heads`` (K/V projections)."""
    experts: int = 1
    top_k: int = 1
    expert_split: Literal["out", "in"] = "out"
    """Which side of each expert ``moe_tp`` slices (gate/up: ``out``; down: ``in``)."""
    """Of ``experts`` matrices, how many one token multiplies through (``shard="expert"``)."""
    tied: bool = False
    rows: Rows = "token"
    split_label: str = ""
    """How a divisibility problem names the sharded size, e.g. ``"{n} attention heads are"``."""

    @property
    def weight_params(self) -> int:
        return 0 if self.tied else self.experts * self.in_features * self.out_features

    @property
    def bias_params(self) -> int:
        return self.experts * self.out_features if self.bias else 0

    @property
    def params(self) -> int:
        return self.weight_params + self.bias_params

    @property
    def matmul_params(self) -> int:
        if self.rows == "sequence":
            return 0
        return min(self.top_k, self.experts) * self.in_features * self.out_features


@dataclass(frozen=True)
class Embedding:
    """A look-up table (no matmul), vocabulary-parallel over ``tp``."""

    name: str
    rows: int
    width: int
    fmt: FormatRole = "own"

    @property
    def params(self) -> int:
        return self.rows * self.width

    matmul_params = 0


@dataclass(frozen=True)
class Norm:
    """LayerNorm (``bias``) or RMSNorm over ``width``; replicated, no FLOPs counted."""

    name: str
    width: int
    bias: bool = False
    fmt: FormatRole = "own"
    shard: Shard = "replicated"

    @property
    def params(self) -> int:
        return self.width * (2 if self.bias else 1)

    matmul_params = 0


@dataclass(frozen=True)
class Param:
    """Loose parameters (attention sinks: one per head), sharded like ``shard``."""

    name: str
    count: int
    shard: Shard = "replicated"
    fmt: FormatRole = "dense"

    @property
    def params(self) -> int:
        return self.count

    matmul_params = 0


@dataclass(frozen=True)
class Router:
    """Top-k routing of tokens over ``experts`` (its gate matrix is a replicated Linear)."""

    experts: int
    top_k: int
    name: str = "router"
    params = 0
    matmul_params = 0


@dataclass(frozen=True)
class AttentionCore:
    """The score/value products of attention and the KV cache they read.

    ``kind``: ``"gqa"`` (MHA is ``kv_heads == heads``) or ``"mla"`` (latent attention: the cache
    holds ``latent + rope`` elements per token, decode runs weight-absorbed). ``window`` caps the
    positions a token attends to (sliding window); ``chunk`` limits it to the token's own
    ``chunk``-token chunk (Llama 4); ``causal`` false means an encoder (no cache). A GQA value
    head of ``v_head_dim`` (0 = ``head_dim``) may differ from the key's (MiMo-V2). ``index_dim``
    and ``index_heads`` are DeepSeek Sparse Attention's lightning indexer (its key is cached per
    token) and ``top_k`` the keys each query then attends to.
    """

    kind: Literal["gqa", "mla"]
    heads: int
    kv_heads: int
    head_dim: int
    window: int | None = None
    causal: bool = True
    latent: int = 0
    rope_dim: int = 0
    v_head_dim: int = 0
    chunk: int | None = None
    index_heads: int = 0
    index_dim: int = 0
    top_k: int | None = None
    name: str = "attention"
    params = 0
    matmul_params = 0

    @property
    def value_dim(self) -> int:
        return self.v_head_dim or self.head_dim

    @property
    def kv_elements_per_token(self) -> int:
        """Cached elements one token adds (full context, whole model width)."""
        if not self.causal:
            return 0
        if self.kind == "mla":
            return self.latent + self.rope_dim + self.index_dim
        return self.kv_heads * (self.head_dim + self.value_dim)


@dataclass(frozen=True)
class RecurrentCore:
    """The recurrence of a linear-attention or SSM mixer and the state it keeps per sequence.

    ``kind``: ``"gated_delta"`` (Gated DeltaNet: per value head a ``key_dim × value_dim``
    state) or ``"ssd"`` (Mamba-2: per head a ``value_dim (head_dim) × key_dim (state_size)``
    state). ``conv_channels`` inputs of the causal convolution keep their last
    ``conv_kernel − 1`` values. ``chunk`` is the prefill scan's chunk length.
    """

    kind: Literal["gated_delta", "ssd"]
    heads: int
    key_dim: int
    value_dim: int
    conv_channels: int
    conv_kernel: int
    chunk: int
    name: str = "recurrence"
    params = 0
    matmul_params = 0

    @property
    def recurrent_elements(self) -> int:
        return self.heads * self.key_dim * self.value_dim

    @property
    def conv_elements(self) -> int:
        return (self.conv_kernel - 1) * self.conv_channels

    @property
    def state_elements(self) -> int:
        return self.recurrent_elements + self.conv_elements


Op = Linear | Embedding | Norm | Param | Router | AttentionCore | RecurrentCore


def count_params(ops: tuple[Op, ...]) -> int:
    """Parameters of one instance: every op's weights and biases, counted once."""
    return sum(op.params for op in ops)


def count_matmul(ops: tuple[Op, ...]) -> int:
    """Weight elements one token multiplies through (2 FLOPs each)."""
    return sum(op.matmul_params for op in ops)


def count_routed(ops: tuple[Op, ...]) -> int:
    """Parameters of routed experts (all of them)."""
    return sum(op.params for op in ops if isinstance(op, Linear) and op.shard == "expert")


def count_active(ops: tuple[Op, ...]) -> int:
    """Parameters one token uses: routed experts count ``top_k`` of their ``experts``."""
    total = 0
    for op in ops:
        if isinstance(op, Linear) and op.shard == "expert":
            total += op.params * min(op.top_k, op.experts) // op.experts
        else:
            total += op.params
    return total

"""The layer classes around the blocks: norms, embeddings, the LM head and the pooler."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from infercast.specs.classes.base import LayerSpecs, Role, Size, Vocab, layer_class
from infercast.specs.ops import Embedding, Linear, Norm, Op

__all__ = ["EmbeddingLayerSpecs", "NormLayerSpecs", "OutputLayerSpecs", "PoolerLayerSpecs"]


@layer_class
class NormLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "NormLayer"
    description: ClassVar[str] = "LayerNorm (has_bias) or RMSNorm; replicated on every GPU."
    supported_parallelism: ClassVar[tuple[str, ...]] = ()
    role: ClassVar[Role] = "norm"
    per_block: ClassVar[bool | None] = None  # a lone norm (count 1) is the final norm
    kernel_overhead: ClassVar[bool] = False  # fused into neighbouring kernels
    short_name: ClassVar[str] = "Norm"

    hidden_size: Size
    has_bias: bool

    def ops(self) -> tuple[Op, ...]:
        return (Norm("weight", self.hidden_size, self.has_bias),)


@layer_class
class EmbeddingLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "EmbeddingLayer"
    description: ClassVar[str] = (
        "Token embeddings (a look-up, no matmul); optional learned absolute positions and "
        "token types (BERT)."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel",)
    role: ClassVar[Role] = "embedding"
    per_block: ClassVar[bool | None] = False
    kernel_overhead: ClassVar[bool] = False
    short_name: ClassVar[str] = "Embedding"

    vocab_size: Vocab
    hidden_size: Size
    max_position_embeddings: Annotated[int, Field(ge=0, le=1 << 24)] = Field(
        default=0, description="Learned absolute position table rows (0 = none, e.g. RoPE)."
    )
    type_vocab_size: Annotated[int, Field(ge=0, le=1 << 10)] = Field(
        default=0, description="Token-type (segment) table rows (BERT)."
    )

    def ops(self) -> tuple[Op, ...]:
        tables = (
            ("word_embeddings", self.vocab_size),
            ("position_embeddings", self.max_position_embeddings),
            ("token_type_embeddings", self.type_vocab_size),
        )
        return tuple(Embedding(name, rows, self.hidden_size) for name, rows in tables if rows)


@layer_class
class OutputLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "OutputLayer"
    description: ClassVar[str] = (
        "LM head projecting hidden states to vocabulary logits; when tied it reuses the "
        "embedding matrix (0 own parameters) but still costs its matmul."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel",)
    role: ClassVar[Role] = "head"
    per_block: ClassVar[bool | None] = False
    short_name: ClassVar[str] = "Output"

    vocab_size: Vocab
    hidden_size: Size
    tied: bool = Field(default=False, description="Weights shared with the EmbeddingLayer.")
    has_bias: bool = False

    def ops(self) -> tuple[Op, ...]:
        return (
            Linear(
                "lm_head",
                self.hidden_size,
                self.vocab_size,
                "vocab",
                self.has_bias,
                fmt="own",
                tied=self.tied,
                rows="logit",
            ),
        )


@layer_class
class PoolerLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "PoolerLayer"
    description: ClassVar[str] = (
        "Encoder pooler (BERT): dense hidden→hidden with bias and tanh on the first token of "
        "each sequence."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ()
    role: ClassVar[Role] = "pooler"
    per_block: ClassVar[bool | None] = False
    kernel_overhead: ClassVar[bool] = False
    short_name: ClassVar[str] = "Pooler"

    hidden_size: Size

    def ops(self) -> tuple[Op, ...]:
        # One row per sequence (its first token), so no matmul weights per token.
        h = self.hidden_size
        return (Linear("dense", h, h, bias=True, fmt="own", rows="sequence"),)

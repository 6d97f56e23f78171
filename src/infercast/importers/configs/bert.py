"""BERT encoders (``bert``), counted as transformers' ``BertModel`` (encoder + pooler).

Unlike the decoders: bidirectional (non-causal) multi-head attention, so no decode phase and no
KV cache; biases on every Linear; post-LayerNorms **with bias** (2 per block plus the
embeddings' LayerNorm); a 2-projection GELU MLP; embeddings with learned absolute positions
(``max_position_embeddings`` rows) and token types (``type_vocab_size`` rows); and a pooler
(dense hidden→hidden + tanh on the first token). Task heads (MLM, classification) are not part
of ``BertModel`` and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercast.importers.configs.base import (
    MAX_HEADS,
    MAX_INTERMEDIATE,
    MAX_LAYERS,
    MAX_VOCAB,
    MAX_WINDOW,
    ConfigReader,
    LayerPart,
)
from infercast.importers.configs.registry import family
from infercast.specs.classes.attention import AttentionLayerSpecs
from infercast.specs.classes.edges import EmbeddingLayerSpecs, NormLayerSpecs, PoolerLayerSpecs
from infercast.specs.classes.mlp import MLPLayerSpecs

__all__ = ["BertConfig"]


@family("bert")
@dataclass(frozen=True)
class BertConfig:
    """BertModel hyperparameters that change parameter counts or FLOPs."""

    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int

    model_type = "bert"

    @classmethod
    def from_hf(cls, reader: ConfigReader) -> BertConfig:
        kind = reader.text("position_embedding_type", "absolute")
        if kind != "absolute":
            raise reader.error(
                "position_embedding_type",
                f"{kind!r} adds relative-distance tables infercast does not model "
                "(only 'absolute')",
            )
        if reader.flag("is_decoder", False) or reader.flag("add_cross_attention", False):
            raise reader.error("is_decoder", "BERT as a decoder is not supported (encoder only)")
        hidden = reader.integer("hidden_size")
        heads = reader.integer("num_attention_heads", maximum=MAX_HEADS)
        if hidden % heads:
            raise reader.error(
                "num_attention_heads",
                f"hidden_size {hidden} is not a multiple of num_attention_heads {heads}",
            )
        return cls(
            vocab_size=reader.integer("vocab_size", maximum=MAX_VOCAB),
            hidden_size=hidden,
            num_layers=reader.integer("num_hidden_layers", maximum=MAX_LAYERS),
            num_heads=heads,
            intermediate_size=reader.integer("intermediate_size", maximum=MAX_INTERMEDIATE),
            max_position_embeddings=reader.integer(
                "max_position_embeddings", 512, maximum=MAX_WINDOW
            ),
            type_vocab_size=reader.integer("type_vocab_size", 2, minimum=0, maximum=1 << 10),
        )

    def layer_parts(self) -> list[LayerPart]:
        h = self.hidden_size
        norm = LayerPart("norm", NormLayerSpecs, {"hidden_size": h, "has_bias": True})
        attention: dict[str, Any] = {
            "hidden_size": h,
            "num_heads": self.num_heads,
            "head_dim": h // self.num_heads,
            "qkv_bias": True,
            "o_bias": True,
            "causal": False,
        }
        mlp = {"hidden_size": h, "intermediate_size": self.intermediate_size, "has_bias": True}
        parts = [
            LayerPart(
                "embedding",
                EmbeddingLayerSpecs,
                {
                    "vocab_size": self.vocab_size,
                    "hidden_size": h,
                    "max_position_embeddings": self.max_position_embeddings,
                    "type_vocab_size": self.type_vocab_size,
                },
                None,
                ("embeddings.word_embeddings",),
            ),
            norm,
        ]
        for i in range(self.num_layers):
            layer = f"encoder.layer.{i}"
            parts += [
                LayerPart(
                    "attention",
                    AttentionLayerSpecs,
                    attention,
                    i,
                    tuple(f"{layer}.attention.self.{p}" for p in ("query", "key", "value")),
                ),
                LayerPart(
                    "feedforward",
                    MLPLayerSpecs,
                    mlp,
                    i,
                    (f"{layer}.intermediate.dense", f"{layer}.output.dense"),
                ),
                norm,
                norm,
            ]
        return [
            *parts,
            LayerPart("pooler", PoolerLayerSpecs, {"hidden_size": h}, None, ("pooler.dense",)),
        ]

    def notes(self) -> list[str]:
        return ["Counted as BertModel (encoder + pooler); task heads are not included."]

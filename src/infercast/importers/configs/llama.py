"""Llama-family dense decoders: llama, mistral, qwen2, qwen3 (and the shared base of others).

The same block — pre-norm attention + pre-norm gated MLP, RMSNorm, RoPE — underlies most open
decoders; the families differ only in a handful of fields that change the arithmetic (biases,
QK-norm, head_dim, tied embeddings, which layers use a sliding window). Those are all fields of
:class:`LlamaFamilyConfig`, so MoE, Gemma and Phi-3 configs reuse it by composition (see the
seed's ``Qwen3MoeConfig``) instead of copying dense fields.

Field rules follow Hugging Face transformers' ``configuration_*.py``/``modeling_*.py`` of each
family (defaults included), so a config.json means here what it means there.
"""

from __future__ import annotations

from collections.abc import Callable
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
    check_heads,
    layer_windows,
)
from infercast.importers.configs.registry import GGUFArchitecture, GGUFKey, family
from infercast.specs.classes.attention import (
    AttentionLayerSpecs,
    ChunkedLocalAttentionLayerSpecs,
    GroupedQueryAttentionLayerSpecs,
    SlidingWindowAttentionLayerSpecs,
)
from infercast.specs.classes.base import LayerSpecs
from infercast.specs.classes.edges import EmbeddingLayerSpecs, NormLayerSpecs, OutputLayerSpecs
from infercast.specs.classes.mlp import GatedMLPLayerSpecs

__all__ = ["LLAMA_FAMILY_TYPES", "LlamaFamilyConfig"]

LLAMA_FAMILY_TYPES = ("llama", "mistral", "qwen2", "qwen3")


_HEAD_DIM = GGUFKey("head_dim", "attention.key_length")
_FFN = GGUFKey("intermediate_size", "feed_forward_length", required=True)
_QKV_BIAS = GGUFKey("attention_bias", tensor="blk.0.attn_q.bias")


@family(
    *LLAMA_FAMILY_TYPES,
    gguf=(
        GGUFArchitecture(
            "llama",
            "llama",
            (_HEAD_DIM, _QKV_BIAS, GGUFKey("mlp_bias", tensor="blk.0.ffn_up.bias"), _FFN),
        ),
        GGUFArchitecture("qwen2", "qwen2", (_HEAD_DIM, _FFN)),
        GGUFArchitecture("qwen3", "qwen3", (_HEAD_DIM, _QKV_BIAS, _FFN)),
    ),
)
@dataclass(frozen=True)
class LlamaFamilyConfig:
    """Dense decoder hyperparameters that change parameter counts, FLOPs or the KV cache."""

    model_type: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    """Inner width of the gated MLP (for MoE wrappers: the expert width, as the seed says)."""
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    tie_word_embeddings: bool = False
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False
    sliding_windows: tuple[int | None, ...] = ()
    """Window per layer (None = full attention); empty means every layer is full attention."""
    norms_per_block: int = 2
    fused_projections: bool = False
    """Phi-3 style ``qkv_proj``/``gate_up_proj`` (same counts; matters for module names)."""
    rope_theta: float | None = None
    max_position_embeddings: int | None = None
    attention_options: tuple[tuple[str, Any], ...] = ()
    """Further attention specs every layer shares (``qk_norm_scope``, ``output_gate``, …)."""
    chunked_layers: tuple[int, ...] = ()
    """Layers attending within ``attention_chunk_size`` chunks (Llama 4's RoPE layers)."""
    attention_chunk_size: int | None = None

    # ---- construction from config.json ----

    @classmethod
    def from_hf(cls, reader: ConfigReader) -> LlamaFamilyConfig:
        """Dispatch on ``model_type`` to the family's own field rules."""
        builders = {
            "llama": cls.llama_from_hf,
            "mistral": cls.mistral_from_hf,
            "qwen2": cls.qwen2_from_hf,
            "qwen3": cls.qwen3_from_hf,
        }
        builder = builders.get(reader.model_type)
        if builder is None:
            raise reader.error("model_type", f"not a Llama-family type ({reader.model_type!r})")
        return builder(reader)

    @classmethod
    def read_common(
        cls,
        reader: ConfigReader,
        *,
        tie_default: bool = False,
        head_dim_default: int | None = None,
        **overrides: Any,
    ) -> LlamaFamilyConfig:
        """Fields every family names the same way; family rules come in as ``overrides``.

        An ``intermediate_size`` override replaces the field (MoE configs whose dense width is
        optional), so the field is only required when no override is given.
        """
        hidden = reader.integer("hidden_size")
        heads = reader.integer("num_attention_heads", maximum=MAX_HEADS)
        kv_heads = reader.integer("num_key_value_heads", heads, maximum=MAX_HEADS)
        check_heads(reader, heads, kv_heads)
        head_dim = reader.opt_integer("head_dim") or head_dim_default
        if head_dim is None:
            if hidden % heads:
                raise reader.error(
                    "head_dim",
                    f"is missing and hidden_size {hidden} is not a multiple of "
                    f"num_attention_heads {heads}",
                )
            head_dim = hidden // heads
        fields: dict[str, Any] = {
            "model_type": reader.model_type,
            "vocab_size": reader.integer("vocab_size", maximum=MAX_VOCAB),
            "hidden_size": hidden,
            "intermediate_size": overrides.pop("intermediate_size", None)
            or reader.integer("intermediate_size", maximum=MAX_INTERMEDIATE),
            "num_layers": reader.integer("num_hidden_layers", maximum=MAX_LAYERS),
            "num_heads": heads,
            "num_kv_heads": kv_heads,
            "head_dim": head_dim,
            "tie_word_embeddings": reader.flag("tie_word_embeddings", tie_default),
            "rope_theta": reader.number("rope_theta"),
            "max_position_embeddings": reader.opt_integer(
                "max_position_embeddings", maximum=MAX_WINDOW
            ),
        }
        fields.update(overrides)
        return cls(**fields)

    @staticmethod
    def attention_bias(reader: ConfigReader, default: bool = False) -> dict[str, bool]:
        """``attention_bias`` puts a bias on q, k, v and o (Llama, Qwen3, Gemma, gpt-oss)."""
        bias = reader.flag("attention_bias", default)
        return {"qkv_bias": bias, "o_bias": bias}

    @staticmethod
    def all_layers_window(reader: ConfigReader, num_layers: int) -> tuple[int | None, ...]:
        """Mistral/Mixtral/Phi-3: a non-null ``sliding_window`` applies to every layer."""
        window = reader.opt_integer("sliding_window", maximum=MAX_WINDOW)
        default = [window is not None] * num_layers
        return layer_windows(reader, num_layers, window, default)

    @staticmethod
    def qwen_windows(reader: ConfigReader, num_layers: int) -> tuple[int | None, ...]:
        """Qwen2/Qwen3: with ``use_sliding_window``, layers from ``max_window_layers`` on slide."""
        use = reader.flag("use_sliding_window", False)
        window = reader.opt_integer("sliding_window", maximum=MAX_WINDOW)
        first = reader.integer("max_window_layers", 28, minimum=0, maximum=MAX_LAYERS)
        if not use or window is None:
            # transformers drops the window then, whatever layer_types says: all layers full.
            layer_windows(reader, num_layers, window or 1, None)  # still validate layer_types
            return (None,) * num_layers
        default = [i >= first for i in range(num_layers)]
        return layer_windows(reader, num_layers, window, default)

    @classmethod
    def llama_from_hf(cls, reader: ConfigReader) -> LlamaFamilyConfig:
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        return cls.read_common(
            reader,
            **cls.attention_bias(reader),
            mlp_bias=reader.flag("mlp_bias", False),
            sliding_windows=layer_windows(reader, layers, None, None),
        )

    @classmethod
    def mistral_from_hf(cls, reader: ConfigReader) -> LlamaFamilyConfig:
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        return cls.read_common(reader, sliding_windows=cls.all_layers_window(reader, layers))

    @classmethod
    def qwen2_from_hf(cls, reader: ConfigReader) -> LlamaFamilyConfig:
        """Qwen2 hard-codes biases on q, k and v (not o)."""
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        return cls.read_common(
            reader, qkv_bias=True, sliding_windows=cls.qwen_windows(reader, layers)
        )

    @classmethod
    def qwen3_from_hf(
        cls, reader: ConfigReader, head_dim_default: int | None = 128, **overrides: Any
    ) -> LlamaFamilyConfig:
        """Qwen3: QK-norm on, ``attention_bias`` on all four projections, head_dim 128 default."""
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        return cls.read_common(
            reader,
            head_dim_default=head_dim_default,
            **overrides,
            **cls.attention_bias(reader),
            qk_norm=True,
            sliding_windows=cls.qwen_windows(reader, layers),
        )

    # ---- layer parts ----

    def window(self, i: int) -> int | None:
        return self.sliding_windows[i] if self.sliding_windows else None

    def attention_part(self, i: int) -> LayerPart:
        window = self.window(i)
        specs: dict[str, Any] = {
            "hidden_size": self.hidden_size,
            "num_heads": self.num_heads,
            "head_dim": self.head_dim,
        }
        cls: type[LayerSpecs]
        if i in self.chunked_layers:
            cls, name = ChunkedLocalAttentionLayerSpecs, "chunked_attention"
            specs["num_kv_heads"] = self.num_kv_heads
            specs["attention_chunk_size"] = self.attention_chunk_size
        elif window is not None:
            cls, name = SlidingWindowAttentionLayerSpecs, "sliding_attention"
            specs["num_kv_heads"] = self.num_kv_heads
            specs["sliding_window"] = window
        elif self.num_kv_heads == self.num_heads:
            cls, name = AttentionLayerSpecs, "attention"
        else:
            cls, name = GroupedQueryAttentionLayerSpecs, "attention"
            specs["num_kv_heads"] = self.num_kv_heads
        specs.update(qkv_bias=self.qkv_bias, o_bias=self.o_bias, qk_norm=self.qk_norm)
        specs.update(self.attention_options)
        prefix = f"model.layers.{i}.self_attn"
        projections = (
            ("qkv_proj", "o_proj")
            if self.fused_projections
            else ("q_proj", "k_proj", "v_proj", "o_proj")
        )
        return LayerPart(name, cls, specs, i, tuple(f"{prefix}.{p}" for p in projections))

    def dense_ffn_part(self, i: int, intermediate_size: int | None = None) -> LayerPart:
        specs = {
            "hidden_size": self.hidden_size,
            "intermediate_size": intermediate_size or self.intermediate_size,
            "has_bias": self.mlp_bias,
        }
        projections = (
            ("gate_up_proj", "down_proj")
            if self.fused_projections
            else ("gate_proj", "up_proj", "down_proj")
        )
        modules = tuple(f"model.layers.{i}.mlp.{p}" for p in projections)
        return LayerPart("feedforward", GatedMLPLayerSpecs, specs, i, modules)

    def norm_part(self, i: int | None = None) -> LayerPart:
        return LayerPart(
            "norm", NormLayerSpecs, {"hidden_size": self.hidden_size, "has_bias": False}, i
        )

    def head_parts(self) -> list[LayerPart]:
        """Final norm, embedding and LM head (tied: 0 own parameters, still a matmul)."""
        embedding = {"vocab_size": self.vocab_size, "hidden_size": self.hidden_size}
        head: dict[str, Any] = {**embedding, "tied": self.tie_word_embeddings}
        return [
            self.norm_part(),
            LayerPart("embedding", EmbeddingLayerSpecs, embedding, None, ("model.embed_tokens",)),
            LayerPart("lm_head", OutputLayerSpecs, head, None, ("lm_head",)),
        ]

    def assemble(
        self,
        ffn: Callable[[int], LayerPart | None],
        mixer: Callable[[int], LayerPart | None] | None = None,
        norms: Callable[[int], int] | None = None,
    ) -> list[LayerPart]:
        """The shared block builder: block ``i`` holds ``mixer(i)`` (default: this config's
        attention), ``ffn(i)`` (``None``: a block without one) and ``norms(i)`` norms (default
        ``norms_per_block``); then the final norm, embedding and LM head."""
        parts: list[LayerPart] = []
        for i in range(self.num_layers):
            block = (mixer(i) if mixer is not None else self.attention_part(i), ffn(i))
            parts += [p for p in block if p is not None]
            parts += [self.norm_part(i)] * (norms(i) if norms is not None else self.norms_per_block)
        return parts + self.head_parts()

    def layer_parts(self) -> list[LayerPart]:
        return self.assemble(self.dense_ffn_part)

    def notes(self) -> list[str]:
        return []

"""DeepSeek-V2/V3 and Kimi K2 (``deepseek_v2``, ``deepseek_v3``, ``kimi_k2``): MLA + DeepSeekMoE.

Why this is not a Llama-family block:
- attention is multi-head latent attention: queries through a ``q_lora_rank`` bottleneck (null →
  a plain ``q_proj``, as in V2-Lite), keys/values through a ``kv_lora_rank`` latent plus a shared
  ``qk_rope_head_dim`` rope key; the KV cache holds only latent + rope key;
- FFNs: the first ``first_k_dense_replace`` layers (and those off the ``moe_layer_freq`` grid)
  are dense gated MLPs of ``intermediate_size``; the rest are MoE with ``n_routed_experts`` of
  ``moe_intermediate_size``, ``num_experts_per_tok`` per token and ``n_shared_experts``
  always-on experts (one MLP of ``n_shared_experts × moe_intermediate_size``, same count);
- ``topk_method: noaux_tc`` (V3, K2) adds a per-expert score-correction bias to the router;
- the multi-token-prediction layer (``num_nextn_predict_layers``) is not part of the model
  transformers builds and is not counted;
- DeepSeek-V3.2 (``deepseek_v32``) and GLM-5 (``glm_moe_dsa``) add DeepSeek Sparse Attention:
  a lightning indexer of ``index_n_heads`` heads of ``index_head_dim`` (query from the
  ``q_lora_rank`` latent, one shared key from the hidden state with a LayerNorm, per-head weights
  from the hidden state) that picks the ``index_topk`` keys each query attends to; its key is
  cached per token. GLM-4.7-Flash (``glm4_moe_lite``) is this MLA + MoE layout without it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from infercast.errors import InvalidInputError
from infercast.importers.configs.base import (
    MAX_EXPERTS,
    MAX_HEADS,
    MAX_INTERMEDIATE,
    MAX_LAYERS,
    MAX_VOCAB,
    ConfigReader,
    LayerPart,
)
from infercast.importers.configs.moe import moe_part
from infercast.importers.configs.registry import GGUFArchitecture, family
from infercast.specs.classes.base import LayerSpecs
from infercast.specs.classes.edges import EmbeddingLayerSpecs, NormLayerSpecs, OutputLayerSpecs
from infercast.specs.classes.hybrid import DeepSeekSparseAttentionLayerSpecs
from infercast.specs.classes.latent import MultiHeadLatentAttentionLayerSpecs
from infercast.specs.classes.mlp import GatedMLPLayerSpecs

__all__ = ["DeepseekV3Config"]

_DEFAULT_TOPK_METHOD = {
    "deepseek_v2": "greedy",
    "deepseek_v3": "noaux_tc",
    "kimi_k2": "noaux_tc",
    "deepseek_v32": "noaux_tc",
    "glm4_moe_lite": "noaux_tc",
    "glm_moe_dsa": "noaux_tc",
}
SPARSE_ATTENTION_TYPES = ("deepseek_v32", "glm_moe_dsa")
"""Families whose MLA carries DeepSeek Sparse Attention's lightning indexer."""


def gguf_fields(keys: Any) -> dict[str, Any]:
    """The config.json fields of a ``deepseek2`` GGUF (MLA sizes, experts, V2 vs V3)."""
    rope = keys.get("rope.dimension_count", required=True)
    # Newer conversions split kv_b and keep the per-head MLA sizes in *_mla keys.
    key_length = keys.get("attention.key_length_mla") or keys.get(
        "attention.key_length", required=True
    )
    value_length = keys.get("attention.value_length_mla") or keys.get(
        "attention.value_length", required=True
    )
    if not isinstance(key_length, int) or not isinstance(rope, int) or key_length <= rope:
        raise InvalidInputError(
            f"{keys.meta.source}: GGUF key {keys.key('attention.key_length')!r} "
            f"({key_length!r}) must exceed {keys.key('rope.dimension_count')!r} ({rope!r}): "
            "it is nope + rope"
        )
    dense = keys.get("leading_dense_block_count") or 0
    noaux = keys.tensor(f"blk.{dense}.exp_probs_b.bias") or keys.get("expert_gating_func") == 2
    return {
        "model_type": "deepseek_v3" if noaux else "deepseek_v2",
        "q_lora_rank": keys.get("attention.q_lora_rank") or None,
        "kv_lora_rank": keys.get("attention.kv_lora_rank", required=True),
        "qk_rope_head_dim": rope,
        "qk_nope_head_dim": key_length - rope,
        "v_head_dim": value_length,
        "intermediate_size": keys.get("feed_forward_length", required=True),
        "moe_intermediate_size": keys.get("expert_feed_forward_length", required=True),
        "n_routed_experts": keys.get("expert_count", required=True),
        "num_experts_per_tok": keys.get("expert_used_count", required=True),
        "n_shared_experts": keys.get("expert_shared_count") or 0,
        "first_k_dense_replace": dense,
        "norm_topk_prob": bool(keys.get("expert_weights_norm")),
        "topk_method": "noaux_tc" if noaux else "greedy",
    }


@family(
    "deepseek_v2",
    "deepseek_v3",
    "kimi_k2",
    *SPARSE_ATTENTION_TYPES,
    "glm4_moe_lite",
    gguf=(GGUFArchitecture("deepseek2", "deepseek_v3", extra=gguf_fields),),
)
@dataclass(frozen=True)
class DeepseekV3Config:
    """MLA attention, dense-then-MoE FFNs, shared experts (DeepSeek-V2/V3/R1, Kimi K2)."""

    model_type: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    q_lora_rank: int
    """0 = no query LoRA (a plain q_proj)."""
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    intermediate_size: int
    moe_intermediate_size: int
    n_routed_experts: int
    num_experts_per_tok: int
    n_shared_experts: int
    first_k_dense_replace: int
    moe_layer_freq: int
    norm_topk_prob: bool
    topk_method: str
    tie_word_embeddings: bool = False
    num_nextn_predict_layers: int = 0
    scoring_func: str = "softmax"
    """Router scores: ``sigmoid`` (V3, K2, V3.2, GLM) or ``softmax`` (V2); no count changes."""
    index_n_heads: int = 0
    """0 = no sparse-attention indexer (plain MLA)."""
    index_head_dim: int = 0
    index_topk: int = 0

    @classmethod
    def from_hf(cls, reader: ConfigReader) -> DeepseekV3Config:
        if reader.flag("attention_bias", False):
            raise reader.error(
                "attention_bias", "biased MLA projections are not supported by infercast"
            )
        if reader.flag("mlp_bias", False):
            raise reader.error("mlp_bias", "biased DeepSeek MLPs are not supported by infercast")
        experts = reader.integer("n_routed_experts", maximum=MAX_EXPERTS)
        top_k = reader.integer("num_experts_per_tok", maximum=MAX_EXPERTS)
        if top_k > experts:
            raise reader.error(
                "num_experts_per_tok", f"top-k {top_k} exceeds n_routed_experts {experts}"
            )
        topk_method = reader.text("topk_method", _DEFAULT_TOPK_METHOD[reader.model_type])
        sparse = reader.model_type in SPARSE_ATTENTION_TYPES
        default_scoring = "softmax" if reader.model_type == "deepseek_v2" else "sigmoid"
        scoring = reader.text("scoring_func", default_scoring)
        if scoring not in ("sigmoid", "softmax"):
            raise reader.error("scoring_func", f"{scoring!r} is not 'sigmoid' or 'softmax'")
        if not sparse and reader.has("index_topk"):
            # A DeepSeek-V3.2 config relabelled: MLA without its indexer would be silently
            # wrong (its parameters and cached keys missing, attention costed as dense).
            raise reader.error(
                "index_topk",
                f"DeepSeek Sparse Attention fields in a {reader.model_type} config; its "
                f"model_type is one of {', '.join(SPARSE_ATTENTION_TYPES)}",
            )
        indexer = {
            "index_n_heads": reader.integer("index_n_heads", maximum=MAX_HEADS) if sparse else 0,
            "index_head_dim": reader.integer("index_head_dim") if sparse else 0,
            "index_topk": reader.integer("index_topk", maximum=1 << 24) if sparse else 0,
        }
        return cls(
            scoring_func=scoring,
            **indexer,
            model_type=reader.model_type,
            vocab_size=reader.integer("vocab_size", maximum=MAX_VOCAB),
            hidden_size=reader.integer("hidden_size"),
            num_layers=reader.integer("num_hidden_layers", maximum=MAX_LAYERS),
            num_heads=reader.integer("num_attention_heads", maximum=MAX_HEADS),
            q_lora_rank=reader.opt_integer("q_lora_rank", maximum=MAX_INTERMEDIATE) or 0,
            kv_lora_rank=reader.integer("kv_lora_rank", maximum=MAX_INTERMEDIATE),
            qk_nope_head_dim=reader.integer("qk_nope_head_dim"),
            qk_rope_head_dim=reader.integer("qk_rope_head_dim"),
            v_head_dim=reader.integer("v_head_dim"),
            intermediate_size=reader.integer("intermediate_size", maximum=MAX_INTERMEDIATE),
            moe_intermediate_size=reader.integer("moe_intermediate_size", maximum=MAX_INTERMEDIATE),
            n_routed_experts=experts,
            num_experts_per_tok=top_k,
            n_shared_experts=reader.integer("n_shared_experts", 0, minimum=0, maximum=1 << 10),
            first_k_dense_replace=reader.integer(
                "first_k_dense_replace", 0, minimum=0, maximum=MAX_LAYERS
            ),
            moe_layer_freq=reader.integer("moe_layer_freq", 1, maximum=MAX_LAYERS),
            norm_topk_prob=reader.flag("norm_topk_prob", reader.model_type != "deepseek_v2"),
            topk_method=topk_method,
            tie_word_embeddings=reader.flag("tie_word_embeddings", False),
            num_nextn_predict_layers=reader.integer(
                "num_nextn_predict_layers", 0, minimum=0, maximum=MAX_LAYERS
            ),
        )

    @property
    def is_truly_sparse(self) -> bool:
        return 0 < self.num_experts_per_tok < self.n_routed_experts

    def is_moe_layer(self, i: int) -> bool:
        return i >= self.first_k_dense_replace and i % self.moe_layer_freq == 0

    def attention_part(self, i: int) -> LayerPart:
        specs = {
            "hidden_size": self.hidden_size,
            "num_heads": self.num_heads,
            "q_lora_rank": self.q_lora_rank,
            "kv_lora_rank": self.kv_lora_rank,
            "qk_nope_head_dim": self.qk_nope_head_dim,
            "qk_rope_head_dim": self.qk_rope_head_dim,
            "v_head_dim": self.v_head_dim,
        }
        prefix = f"model.layers.{i}.self_attn"
        q = ("q_a_proj", "q_b_proj") if self.q_lora_rank else ("q_proj",)
        names = ("kv_b_proj", *q, "kv_a_proj_with_mqa", "o_proj")
        spec_class: type[LayerSpecs] = MultiHeadLatentAttentionLayerSpecs
        if self.index_n_heads:
            spec_class = DeepSeekSparseAttentionLayerSpecs
            specs.update(
                index_n_heads=self.index_n_heads,
                index_head_dim=self.index_head_dim,
                index_topk=self.index_topk,
            )
        return LayerPart(
            "attention",
            spec_class,
            specs,
            i,
            tuple(f"{prefix}.{n}" for n in names),
        )

    def ffn_part(self, i: int) -> LayerPart:
        mlp = f"model.layers.{i}.mlp"
        if not self.is_moe_layer(i):
            specs: dict[str, Any] = {
                "hidden_size": self.hidden_size,
                "intermediate_size": self.intermediate_size,
            }
            modules = tuple(f"{mlp}.{p}" for p in ("gate_proj", "up_proj", "down_proj"))
            return LayerPart("feedforward", GatedMLPLayerSpecs, specs, i, modules)
        part = moe_part(
            i,
            self.hidden_size,
            self.n_routed_experts,
            self.num_experts_per_tok,
            self.moe_intermediate_size,
            tuple(f"{mlp}.experts.0.{p}" for p in ("gate_proj", "up_proj", "down_proj")),
            num_shared_experts=self.n_shared_experts,
            norm_topk_prob=self.norm_topk_prob,
            router_score_correction_bias=self.topk_method == "noaux_tc",
            router_scoring=self.scoring_func,
        )
        if self.n_shared_experts:
            shared = (f"{mlp}.shared_experts.gate_proj",)
            part = replace(part, spec_modules=(("shared_expert_weight_dtype", shared),))
        return part

    def layer_parts(self) -> list[LayerPart]:
        norm = LayerPart(
            "norm", NormLayerSpecs, {"hidden_size": self.hidden_size, "has_bias": False}
        )
        parts: list[LayerPart] = []
        for i in range(self.num_layers):
            parts += [self.attention_part(i), self.ffn_part(i), norm, norm]
        embedding = {"vocab_size": self.vocab_size, "hidden_size": self.hidden_size}
        return [
            *parts,
            norm,
            LayerPart("embedding", EmbeddingLayerSpecs, embedding, None, ("model.embed_tokens",)),
            LayerPart(
                "lm_head",
                OutputLayerSpecs,
                {**embedding, "tied": self.tie_word_embeddings},
                None,
                ("lm_head",),
            ),
        ]

    def notes(self) -> list[str]:
        if self.num_nextn_predict_layers:
            return [
                f"The {self.num_nextn_predict_layers} multi-token-prediction layer(s) "
                "(num_nextn_predict_layers) are not counted: transformers does not build them."
            ]
        return []

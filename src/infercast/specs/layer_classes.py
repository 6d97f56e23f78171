"""The library of layer classes a model spec's ``layer_types[].class`` may name.

Each class is a pydantic model of its ``specs``: required specs are fields without a default,
optional specs have documented defaults, and every class declares the parallelism it supports.
Each class counts its own parameters (per instance; a ``layer_types`` entry multiplies by
``count``), so ``total_params`` of a spec is always derived, never typed in.

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

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from infercast.dtypes import UnknownDTypeError, dtype

__all__ = [
    "ATTENTION_CLASSES",
    "FFN_CLASSES",
    "LAYER_CLASSES",
    "MIXER_CLASSES",
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
    "register_layer_class",
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


def canonical_dtype(value: str | None) -> str | None:
    """A stored-format spec's canonical name; an unknown one is a validation error."""
    if value is None:
        return None
    try:
        return dtype(value).name
    except UnknownDTypeError as exc:
        raise ValueError(str(exc)) from None


class LayerSpecs(BaseModel):
    """Specs every class accepts; subclasses add their own."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    class_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    supported_parallelism: ClassVar[tuple[str, ...]] = ()

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
        "census and pipeline stages keep the interleaving.",
    )

    role: ClassVar[str] = "other"
    """'attention' (softmax, caches K/V per token), 'mixer' (linear attention / SSM: a fixed
    per-sequence state), 'ffn', or 'other' (norms, embeddings, heads): what a block holds."""

    @field_validator("weight_dtype")
    @classmethod
    def _known_dtype(cls, value: str | None) -> str | None:
        return canonical_dtype(value)

    @property
    def is_windowed(self) -> bool:
        """Attention limited to a sliding window or a local chunk (KV stops growing)."""
        return False

    def state_elements_per_sequence(self) -> int:
        """Fixed recurrent/conv state one sequence holds (linear attention, SSM); 0 otherwise."""
        return 0

    @classmethod
    def required_specs(cls) -> list[str]:
        return [name for name, field in cls.model_fields.items() if field.is_required()]

    @classmethod
    def optional_specs(cls) -> list[str]:
        return [name for name, field in cls.model_fields.items() if not field.is_required()]

    def parameter_count_per_instance(self) -> int:
        raise NotImplementedError

    def routed_expert_parameters(self) -> int:
        """Parameters of routed experts (only MoE layers have any)."""
        return 0

    def active_parameters(self) -> int:
        """Parameters one token uses: routed experts count top_k/num_experts of theirs."""
        return self.parameter_count_per_instance()

    def matmul_params_per_token(self) -> int:
        return 0

    def kv_cache_elements_per_token(self) -> int:
        return 0


class _AttentionSpecs(LayerSpecs):
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel", "context_parallel")
    role: ClassVar[str] = "attention"

    hidden_size: Size
    num_heads: HeadCount
    head_dim: Size = Field(description="Per-head width; may differ from hidden_size/num_heads.")
    v_head_dim: NonNegativeWidth = Field(
        default=0, description="Per-head width of values (MiMo-V2: 128 beside 192); 0 = head_dim."
    )
    qkv_bias: bool = Field(default=False, description="Q, K and V projections carry biases.")
    o_bias: bool = Field(default=False, description="The output projection carries a bias.")
    qk_norm: bool = Field(
        default=False, description="RMSNorm over head_dim on queries and keys (Qwen3, Gemma 3)."
    )
    qk_norm_scope: Literal["head", "projection"] = Field(
        default="head",
        description="With qk_norm: 'head' normalises each head over head_dim (weights 2·head_dim);"
        " 'projection' normalises the whole q and k projections (OLMo 2, MiniMax-M2: weights "
        "heads·head_dim + kv_heads·head_dim).",
    )
    output_gate: bool = Field(
        default=False,
        description="Gated softmax attention (Qwen3-Next, Qwen3.5): q_proj also emits a "
        "sigmoid gate per output element (heads·v_head_dim more rows).",
    )
    attention_sinks: bool = Field(
        default=False, description="One learned sink logit per head (gpt-oss)."
    )
    causal: bool = Field(
        default=True,
        description="Causal (decoder) attention; false for bidirectional encoders (BERT).",
    )

    @property
    def kv_heads(self) -> int:
        return self.num_heads

    @property
    def value_dim(self) -> int:
        return self.v_head_dim or self.head_dim

    def _q_rows(self) -> int:
        """Output rows of q_proj: queries, plus the output gate's rows when gated."""
        gate = self.num_heads * self.value_dim if self.output_gate else 0
        return self.num_heads * self.head_dim + gate

    def _projection_params(self) -> int:
        kv = self.kv_heads * (self.head_dim + self.value_dim)
        o = self.num_heads * self.value_dim
        return self.hidden_size * (self._q_rows() + kv + o)

    def qk_norm_params(self) -> int:
        if not self.qk_norm:
            return 0
        if self.qk_norm_scope == "projection":
            return (self.num_heads + self.kv_heads) * self.head_dim
        return 2 * self.head_dim

    def parameter_count_per_instance(self) -> int:
        params = self._projection_params()
        if self.qkv_bias:
            params += self._q_rows() + self.kv_heads * (self.head_dim + self.value_dim)
        if self.o_bias:
            params += self.hidden_size
        params += self.qk_norm_params()
        if self.attention_sinks:
            params += self.num_heads
        return params

    def matmul_params_per_token(self) -> int:
        return self._projection_params()

    def kv_cache_elements_per_token(self) -> int:
        return self.kv_heads * (self.head_dim + self.value_dim) if self.causal else 0


class AttentionLayerSpecs(_AttentionSpecs):
    class_name: ClassVar[str] = "AttentionLayer"
    description: ClassVar[str] = "Vanilla multi-head attention (MHA): as many KV heads as heads."


class GroupedQueryAttentionLayerSpecs(_AttentionSpecs):
    class_name: ClassVar[str] = "GroupedQueryAttentionLayer"
    description: ClassVar[str] = "Grouped-query attention (GQA): num_kv_heads shared K/V heads."

    num_kv_heads: HeadCount

    @property
    def kv_heads(self) -> int:
        return self.num_kv_heads


class SlidingWindowAttentionLayerSpecs(GroupedQueryAttentionLayerSpecs):
    class_name: ClassVar[str] = "SlidingWindowAttentionLayer"
    description: ClassVar[str] = (
        "GQA that attends to the last sliding_window tokens only (Mistral, Gemma 2/3 local "
        "layers, gpt-oss): its KV cache stops growing at the window."
    )

    sliding_window: Annotated[int, Field(gt=0, le=1 << 27)]

    @property
    def is_windowed(self) -> bool:
        return True


class MultiHeadLatentAttentionLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "MultiHeadLatentAttentionLayer"
    description: ClassVar[str] = (
        "Multi-head latent attention (DeepSeek-V2/V3, Kimi K2): K/V compressed to a "
        "kv_lora_rank latent plus a shared rope key, which is all the KV cache holds."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = (
        "tensor_parallel",
        "context_parallel",
        "data_parallel",
    )
    role: ClassVar[str] = "attention"

    hidden_size: Size
    num_heads: HeadCount
    q_lora_rank: NonNegativeWidth = Field(
        description="Rank of the query down-projection; 0 means a plain q_proj (V2-Lite)."
    )
    kv_lora_rank: Size
    qk_nope_head_dim: Size
    qk_rope_head_dim: Size
    v_head_dim: Size
    causal: bool = True

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim

    def matmul_params_per_token(self) -> int:
        h, n = self.hidden_size, self.num_heads
        if self.q_lora_rank:
            q = h * self.q_lora_rank + self.q_lora_rank * n * self.qk_head_dim
        else:
            q = h * n * self.qk_head_dim
        kv_a = h * (self.kv_lora_rank + self.qk_rope_head_dim)
        kv_b = self.kv_lora_rank * n * (self.qk_nope_head_dim + self.v_head_dim)
        o = n * self.v_head_dim * h
        return q + kv_a + kv_b + o

    def parameter_count_per_instance(self) -> int:
        norms = self.kv_lora_rank + (self.q_lora_rank if self.q_lora_rank else 0)
        return self.matmul_params_per_token() + norms

    def kv_cache_elements_per_token(self) -> int:
        return self.kv_lora_rank + self.qk_rope_head_dim


class MLPLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "MLPLayer"
    description: ClassVar[str] = "Standard 2-projection MLP (up, activation, down): GPT-2, BERT."
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel", "sequence_parallel")
    role: ClassVar[str] = "ffn"

    hidden_size: Size
    intermediate_size: Width
    has_bias: bool = Field(default=False, description="Both projections carry biases.")

    _projections: ClassVar[int] = 2

    def matmul_params_per_token(self) -> int:
        return self._projections * self.hidden_size * self.intermediate_size

    def parameter_count_per_instance(self) -> int:
        params = self.matmul_params_per_token()
        if self.has_bias:
            params += (self._projections - 1) * self.intermediate_size + self.hidden_size
        return params


class GatedMLPLayerSpecs(MLPLayerSpecs):
    class_name: ClassVar[str] = "GatedMLPLayer"
    description: ClassVar[str] = "3-projection gated MLP (gate, up, down; SwiGLU/GeGLU): Llama."

    _projections: ClassVar[int] = 3


class MoELayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "MoELayer"
    description: ClassVar[str] = (
        "Mixture-of-Experts FFN: a router picks num_experts_per_tok of num_experts gated "
        "experts per token; optional always-on shared experts (DeepSeek, Qwen2-MoE)."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel", "expert_parallel")
    role: ClassVar[str] = "ffn"

    hidden_size: Size
    num_experts: ExpertCount
    num_experts_per_tok: ExpertCount = Field(description="Top-k experts each token uses.")
    expert_intermediate_size: Width = Field(description="Inner width of one routed expert.")
    num_shared_experts: Annotated[int, Field(ge=0, le=1 << 10)] = 0
    shared_expert_intermediate_size: NonNegativeWidth = Field(
        default=0, description="Inner width of ONE shared expert; 0 = expert_intermediate_size."
    )
    shared_expert_gate: bool = Field(
        default=False, description="A sigmoid gate Linear(hidden, 1) on the shared expert."
    )
    norm_topk_prob: bool = Field(
        default=True, description="Router weights renormalised over the chosen top-k."
    )
    router_bias: bool = Field(default=False, description="The router Linear has a bias.")
    router_score_correction_bias: bool = Field(
        default=False,
        description="Per-expert selection bias (DeepSeek-V3 noaux_tc). transformers registers "
        "it as a buffer, not a parameter, so it is not counted (E values per layer).",
    )
    expert_bias: bool = Field(default=False, description="Expert projections carry biases.")
    expert_gated: bool = Field(
        default=True,
        description="Experts (and shared experts) are gated 3-projection MLPs; false for "
        "2-projection up/down experts (Nemotron-H's squared-ReLU experts).",
    )
    router_scoring: Literal["softmax", "sigmoid"] = Field(
        default="softmax",
        description="Router score function (sigmoid: DeepSeek-V3, GLM-4.5, MiniMax-M2, "
        "Llama 4); changes no count or cost.",
    )
    shared_expert_weight_dtype: str | None = Field(
        default=None,
        description="Stored format of the shared experts when it differs from weight_dtype "
        "(Kimi-K2.5: routed experts int4, shared experts bf16); absent = weight_dtype.",
    )

    @field_validator("shared_expert_weight_dtype")
    @classmethod
    def _known_shared_dtype(cls, value: str | None) -> str | None:
        return canonical_dtype(value)

    @property
    def projections(self) -> int:
        return 3 if self.expert_gated else 2

    @property
    def is_truly_sparse(self) -> bool:
        """Top-k strictly between 0 and num_experts: otherwise a dense FFN plus dispatch."""
        return 0 < self.num_experts_per_tok < self.num_experts

    @property
    def shared_width(self) -> int:
        return self.shared_expert_intermediate_size or self.expert_intermediate_size

    def params_per_expert(self) -> int:
        h, i, p = self.hidden_size, self.expert_intermediate_size, self.projections
        return p * h * i + (((p - 1) * i + h) if self.expert_bias else 0)

    def routed_expert_parameters(self) -> int:
        return self.num_experts * self.params_per_expert()

    def shared_expert_parameters(self) -> int:
        return self.num_shared_experts * self.projections * self.hidden_size * self.shared_width

    def router_parameters(self) -> int:
        params = self.hidden_size * self.num_experts
        if self.router_bias:
            params += self.num_experts
        if self.shared_expert_gate and self.num_shared_experts:
            params += self.hidden_size
        return params

    def parameter_count_per_instance(self) -> int:
        return (
            self.routed_expert_parameters()
            + self.shared_expert_parameters()
            + self.router_parameters()
        )

    def active_parameters(self) -> int:
        return (
            self.parameter_count_per_instance()
            - self.routed_expert_parameters()
            + self.num_experts_per_tok * self.params_per_expert()
        )

    def matmul_params_per_token(self) -> int:
        h = self.hidden_size
        routed = self.num_experts_per_tok * self.projections * h * self.expert_intermediate_size
        gate = h if (self.shared_expert_gate and self.num_shared_experts) else 0
        return h * self.num_experts + gate + routed + self.shared_expert_parameters()


class NormLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "NormLayer"
    description: ClassVar[str] = "LayerNorm (has_bias) or RMSNorm; replicated on every GPU."
    supported_parallelism: ClassVar[tuple[str, ...]] = ()

    hidden_size: Size
    has_bias: bool

    def parameter_count_per_instance(self) -> int:
        return self.hidden_size * (2 if self.has_bias else 1)


class EmbeddingLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "EmbeddingLayer"
    description: ClassVar[str] = (
        "Token embeddings (a look-up, no matmul); optional learned absolute positions and "
        "token types (BERT)."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel",)

    vocab_size: Vocab
    hidden_size: Size
    max_position_embeddings: Annotated[int, Field(ge=0, le=1 << 24)] = Field(
        default=0, description="Learned absolute position table rows (0 = none, e.g. RoPE)."
    )
    type_vocab_size: Annotated[int, Field(ge=0, le=1 << 10)] = Field(
        default=0, description="Token-type (segment) table rows (BERT)."
    )

    def parameter_count_per_instance(self) -> int:
        rows = self.vocab_size + self.max_position_embeddings + self.type_vocab_size
        return rows * self.hidden_size


class OutputLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "OutputLayer"
    description: ClassVar[str] = (
        "LM head projecting hidden states to vocabulary logits; when tied it reuses the "
        "embedding matrix (0 own parameters) but still costs its matmul."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel",)

    vocab_size: Vocab
    hidden_size: Size
    tied: bool = Field(default=False, description="Weights shared with the EmbeddingLayer.")
    has_bias: bool = False

    def matmul_params_per_token(self) -> int:
        return self.vocab_size * self.hidden_size

    def parameter_count_per_instance(self) -> int:
        own = 0 if self.tied else self.vocab_size * self.hidden_size
        return own + (self.vocab_size if self.has_bias else 0)


class PoolerLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "PoolerLayer"
    description: ClassVar[str] = (
        "Encoder pooler (BERT): dense hidden→hidden with bias and tanh on the first token of "
        "each sequence."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ()

    hidden_size: Size

    def parameter_count_per_instance(self) -> int:
        return self.hidden_size * self.hidden_size + self.hidden_size

    def matmul_params_per_token(self) -> int:
        # Runs on one token per sequence, not per token; the cost model accounts for that.
        return 0


LAYER_CLASSES: dict[str, type[LayerSpecs]] = {}
"""Every layer class by name; modules with more classes add theirs through
:func:`register_layer_class` (``infercast.specs`` imports them all)."""
ATTENTION_CLASSES: set[str] = set()
"""Softmax attention classes (role 'attention': per-token KV, ``num_heads``, ``causal``)."""
MIXER_CLASSES: set[str] = set()
"""Token mixers with a fixed per-sequence state instead of a KV cache (role 'mixer')."""
FFN_CLASSES: set[str] = set()


def register_layer_class(cls: type[LayerSpecs]) -> type[LayerSpecs]:
    """Add a class to the library under its ``class_name`` and its role's set."""
    LAYER_CLASSES[cls.class_name] = cls
    roles = {"attention": ATTENTION_CLASSES, "mixer": MIXER_CLASSES, "ffn": FFN_CLASSES}
    if cls.role in roles:
        roles[cls.role].add(cls.class_name)
    return cls


for _cls in (
    AttentionLayerSpecs,
    GroupedQueryAttentionLayerSpecs,
    SlidingWindowAttentionLayerSpecs,
    MultiHeadLatentAttentionLayerSpecs,
    MLPLayerSpecs,
    GatedMLPLayerSpecs,
    MoELayerSpecs,
    NormLayerSpecs,
    EmbeddingLayerSpecs,
    OutputLayerSpecs,
    PoolerLayerSpecs,
):
    register_layer_class(_cls)

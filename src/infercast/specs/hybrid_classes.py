"""Layer classes of the 2025–26 families: chunked and sparse attention, linear attention, SSM.

- ``ChunkedLocalAttentionLayer`` (Llama 4): GQA whose tokens attend only within their own
  ``attention_chunk_size``-token chunk (8192), so at most one chunk of K/V is ever needed.
- ``DeepSeekSparseAttentionLayer`` (DeepSeek-V3.2, GLM-5): MLA plus a *lightning indexer* that
  scores every cached token with ``index_n_heads`` small heads and keeps the ``index_topk``
  best; MLA then attends to those only. The indexer's key (``index_head_dim``) is cached per
  token beside the latent.
- ``GatedDeltaNetLayer`` (Qwen3-Next, Qwen3.5): linear attention with a gated delta rule. It
  caches no per-token K/V, only a fixed per-sequence state: one ``key_dim × value_dim`` matrix
  per value head plus the last ``conv_kernel_size − 1`` inputs of its causal convolution.
- ``Mamba2Layer`` (Nemotron-H): the SSD mixer; per sequence a ``head_dim × state_size`` state
  per head plus the convolution's last inputs.

Parameter counts follow transformers' modules (``modeling_qwen3_next``, ``modeling_nemotron_h``,
``modeling_llama4``, DeepSeek-V3.2's indexer); the figures of ``../shared/hf-configs-next``'s
EXPECTED.json check them. State elements are counted per layer instance; the memory plan puts
them beside the KV cache.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from infercast.specs.layer_classes import (
    GroupedQueryAttentionLayerSpecs,
    HeadCount,
    LayerSpecs,
    MultiHeadLatentAttentionLayerSpecs,
    Size,
    register_layer_class,
)

__all__ = [
    "ChunkedLocalAttentionLayerSpecs",
    "DeepSeekSparseAttentionLayerSpecs",
    "GatedDeltaNetLayerSpecs",
    "Mamba2LayerSpecs",
]

Kernel = Annotated[int, Field(gt=0, le=64)]


@register_layer_class
class ChunkedLocalAttentionLayerSpecs(GroupedQueryAttentionLayerSpecs):
    class_name: ClassVar[str] = "ChunkedLocalAttentionLayer"
    description: ClassVar[str] = (
        "GQA within fixed chunks (Llama 4's RoPE layers, 8192 tokens): a token attends to the "
        "earlier tokens of its own chunk only, so the cache a step needs stops at one chunk."
    )

    attention_chunk_size: Annotated[int, Field(gt=0, le=1 << 27)]

    @property
    def is_windowed(self) -> bool:
        return True


@register_layer_class
class DeepSeekSparseAttentionLayerSpecs(MultiHeadLatentAttentionLayerSpecs):
    class_name: ClassVar[str] = "DeepSeekSparseAttentionLayer"
    description: ClassVar[str] = (
        "DeepSeek Sparse Attention: MLA plus a lightning indexer (index_n_heads heads of "
        "index_head_dim over the query latent) that picks the index_topk cached tokens each "
        "query attends to; the indexer key is cached per token beside MLA's latent."
    )

    index_n_heads: HeadCount
    index_head_dim: Size
    index_topk: Annotated[int, Field(gt=0, le=1 << 24)]

    def indexer_matmul_params(self) -> int:
        """wq_b (query latent → heads·dim), wk (hidden → dim), weights_proj (hidden → heads)."""
        q_in = self.q_lora_rank or self.hidden_size
        n, d, h = self.index_n_heads, self.index_head_dim, self.hidden_size
        return q_in * n * d + h * d + h * n

    def matmul_params_per_token(self) -> int:
        return super().matmul_params_per_token() + self.indexer_matmul_params()

    def parameter_count_per_instance(self) -> int:
        # MLA's count already takes the indexer's matmuls from matmul_params_per_token; add
        # the indexer key's LayerNorm (weight and bias over index_head_dim).
        return super().parameter_count_per_instance() + 2 * self.index_head_dim

    def kv_cache_elements_per_token(self) -> int:
        return super().kv_cache_elements_per_token() + self.index_head_dim


@register_layer_class
class GatedDeltaNetLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "GatedDeltaNetLayer"
    description: ClassVar[str] = (
        "Gated DeltaNet linear attention (Qwen3-Next, Qwen3.5): per value head a "
        "key_head_dim × value_head_dim state updated by a gated delta rule; a causal depthwise "
        "convolution over q, k and v; output through a gated RMSNorm. No per-token KV cache."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel",)
    role: ClassVar[str] = "mixer"

    hidden_size: Size
    num_key_heads: HeadCount
    num_value_heads: HeadCount
    key_head_dim: Size
    value_head_dim: Size
    conv_kernel_size: Kernel
    chunk_size: Annotated[int, Field(gt=0, le=1 << 16)] = Field(
        default=64, description="Chunk length of the prefill's chunked scan (cost only)."
    )

    @property
    def key_dim(self) -> int:
        return self.num_key_heads * self.key_head_dim

    @property
    def value_dim(self) -> int:
        return self.num_value_heads * self.value_head_dim

    @property
    def conv_channels(self) -> int:
        """q, k and v go through the convolution (not the z gate)."""
        return 2 * self.key_dim + self.value_dim

    def matmul_params_per_token(self) -> int:
        h = self.hidden_size
        # in_proj: q, k, v, the z output gate, and the b (beta) and a (decay) heads; out_proj.
        in_proj = h * (2 * self.key_dim + 2 * self.value_dim + 2 * self.num_value_heads)
        return in_proj + self.value_dim * h

    def parameter_count_per_instance(self) -> int:
        conv = self.conv_channels * self.conv_kernel_size  # depthwise, no bias
        per_head = 2 * self.num_value_heads  # dt_bias and A_log
        return self.matmul_params_per_token() + conv + per_head + self.value_head_dim

    def state_elements_per_sequence(self) -> int:
        recurrent = self.num_value_heads * self.key_head_dim * self.value_head_dim
        return recurrent + (self.conv_kernel_size - 1) * self.conv_channels


@register_layer_class
class Mamba2LayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "Mamba2Layer"
    description: ClassVar[str] = (
        "Mamba-2 (SSD) mixer (Nemotron-H): in_proj to x, z, B, C and dt; a causal depthwise "
        "convolution over x, B and C; a state_size state per head_dim channel of each head, "
        "B and C shared by the heads of each of n_groups groups; gated RMSNorm; out_proj."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel",)
    role: ClassVar[str] = "mixer"

    hidden_size: Size
    num_heads: HeadCount
    head_dim: Size
    state_size: Size
    n_groups: HeadCount
    conv_kernel_size: Kernel
    has_bias: bool = Field(default=False, description="in_proj and out_proj carry biases.")
    conv_bias: bool = Field(default=True, description="The convolution carries a bias.")
    chunk_size: Annotated[int, Field(gt=0, le=1 << 16)] = Field(
        default=256, description="SSD chunk length of the prefill scan (cost only)."
    )

    @property
    def inner(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def conv_channels(self) -> int:
        return self.inner + 2 * self.n_groups * self.state_size

    def matmul_params_per_token(self) -> int:
        in_proj = self.hidden_size * (self.inner + self.conv_channels + self.num_heads)
        return in_proj + self.inner * self.hidden_size

    def parameter_count_per_instance(self) -> int:
        params = self.matmul_params_per_token()
        if self.has_bias:
            params += self.inner + self.conv_channels + self.num_heads + self.hidden_size
        params += self.conv_channels * self.conv_kernel_size
        if self.conv_bias:
            params += self.conv_channels
        return params + 3 * self.num_heads + self.inner  # dt_bias, A_log, D; the gated norm

    def state_elements_per_sequence(self) -> int:
        ssm = self.num_heads * self.head_dim * self.state_size
        return ssm + (self.conv_kernel_size - 1) * self.conv_channels

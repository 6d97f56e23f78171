"""Layer classes of the 2025–26 families: sparse attention, linear attention and SSM mixers.

- ``DeepSeekSparseAttentionLayer`` (DeepSeek-V3.2, GLM-5): MLA plus a *lightning indexer* that
  scores every cached token with ``index_n_heads`` small heads and keeps the ``index_topk``
  best; MLA then attends to those only. The indexer's key (``index_head_dim``) is cached per
  token beside the latent.
- ``GatedDeltaNetLayer`` (Qwen3-Next, Qwen3.5): linear attention with a gated delta rule. It
  caches no per-token K/V, only a fixed per-sequence state: one ``key_head_dim ×
  value_head_dim`` matrix per value head plus the last ``conv_kernel_size − 1`` inputs of its
  causal convolution.
- ``Mamba2Layer`` (Nemotron-H): the SSD mixer; per sequence a ``head_dim × state_size`` state
  per head plus the convolution's last inputs.

Parameter counts follow transformers' modules (``modeling_qwen3_next``, ``modeling_nemotron_h``,
DeepSeek-V3.2's indexer); ``../shared/hf-configs-next``'s EXPECTED.json checks them. Mixers'
heads, projections and convolution channels split over TP by heads.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, field_validator

from infercast.specs.classes.base import (
    HeadCount,
    LayerSpecs,
    Role,
    Size,
    canonical_dtype,
    layer_class,
)
from infercast.specs.classes.latent import MultiHeadLatentAttentionLayerSpecs
from infercast.specs.ops import AttentionCore, Linear, Norm, Op, Param, RecurrentCore

__all__ = ["DeepSeekSparseAttentionLayerSpecs", "GatedDeltaNetLayerSpecs", "Mamba2LayerSpecs"]

Kernel = Annotated[int, Field(gt=0, le=64)]
Chunk = Annotated[int, Field(gt=0, le=1 << 16)]
HEADS = "{n} heads are"
KEY_HEADS = "{n} key heads are"


@layer_class
class DeepSeekSparseAttentionLayerSpecs(MultiHeadLatentAttentionLayerSpecs):
    class_name: ClassVar[str] = "DeepSeekSparseAttentionLayer"
    description: ClassVar[str] = (
        "DeepSeek Sparse Attention: MLA plus a lightning indexer (index_n_heads heads of "
        "index_head_dim over the query latent) that picks the index_topk cached tokens each "
        "query attends to; the indexer key is cached per token beside MLA's latent."
    )
    short_name: ClassVar[str] = "DSA attention"
    label: ClassVar[str] = "DeepSeek sparse MLA"

    index_n_heads: HeadCount
    index_head_dim: Size
    index_topk: Annotated[int, Field(gt=0, le=1 << 24)]

    def ops(self) -> tuple[Op, ...]:
        """MLA's ops with the indexer's (wq_b from the query latent, wk and weights_proj from
        the hidden state, a LayerNorm on the key), all small and replicated on every TP rank."""
        mla = super().ops()
        h, n, d = self.hidden_size, self.index_n_heads, self.index_head_dim
        indexer: list[Op] = [
            Linear("indexer.wq_b", self.q_lora_rank or h, n * d),
            Linear("indexer.wk", h, d),
            Norm("indexer.k_norm", d, bias=True, fmt="dense"),
            Linear("indexer.weights_proj", h, n),
        ]
        core = mla[-1]
        assert isinstance(core, AttentionCore)
        sparse = AttentionCore(
            "mla",
            core.heads,
            core.kv_heads,
            core.head_dim,
            causal=core.causal,
            latent=core.latent,
            rope_dim=core.rope_dim,
            v_head_dim=core.v_head_dim,
            index_heads=n,
            index_dim=d,
            top_k=self.index_topk,
        )
        return (*mla[:-1], *indexer, sparse)


class _RecurrentMixerSpecs(LayerSpecs):
    """What linear-attention and SSM mixers share: role, TP by heads, the state's format."""

    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel",)
    role: ClassVar[Role] = "mixer"

    state_dtype: str | None = Field(
        default=None,
        description="Format the engine keeps the recurrent state in (Nemotron-H and Qwen3.5 ask "
        "for fp32: mamba_ssm_cache_dtype / mamba_ssm_dtype); absent = the activation format. "
        "The convolution state stays in the activation format.",
    )

    @field_validator("state_dtype")
    @classmethod
    def _known_state_dtype(cls, value: str | None) -> str | None:
        return canonical_dtype(value)


@layer_class
class GatedDeltaNetLayerSpecs(_RecurrentMixerSpecs):
    class_name: ClassVar[str] = "GatedDeltaNetLayer"
    description: ClassVar[str] = (
        "Gated DeltaNet linear attention (Qwen3-Next, Qwen3.5): per value head a "
        "key_head_dim × value_head_dim state updated by a gated delta rule; a causal depthwise "
        "convolution over q, k and v; output through a gated RMSNorm. No per-token KV cache."
    )
    short_name: ClassVar[str] = "Gated DeltaNet"
    label: ClassVar[str] = "Gated DeltaNet linear attention"

    hidden_size: Size
    num_key_heads: HeadCount
    num_value_heads: HeadCount
    key_head_dim: Size
    value_head_dim: Size
    conv_kernel_size: Kernel
    chunk_size: Chunk = Field(
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

    def problems(self) -> list[tuple[str, str]]:
        if self.num_value_heads % self.num_key_heads:
            return [
                (
                    "num_value_heads",
                    f"{self.num_value_heads} is not a multiple of num_key_heads "
                    f"{self.num_key_heads}",
                )
            ]
        return []

    def ops(self) -> tuple[Op, ...]:
        h, nk, nv = self.hidden_size, self.num_key_heads, self.num_value_heads
        # in_proj: q and k (split by key heads); v, the z output gate, and b (beta) and a
        # (decay) per value head (split by value heads) — one fused matrix in checkpoints.
        return (
            Linear("in_proj_qk", h, 2 * self.key_dim, "col", heads=nk, split_label=KEY_HEADS),
            Linear(
                "in_proj_vzba", h, 2 * self.value_dim + 2 * nv, "col", heads=nv, split_label=HEADS
            ),
            Param("conv1d", self.conv_channels * self.conv_kernel_size, "col"),
            Param("dt_bias_A_log", 2 * nv, "col"),
            Norm("norm", self.value_head_dim, fmt="dense"),
            Linear("out_proj", self.value_dim, h, "row", heads=nv, split_label=HEADS),
            RecurrentCore(
                "gated_delta",
                nv,
                self.key_head_dim,
                self.value_head_dim,
                self.conv_channels,
                self.conv_kernel_size,
                self.chunk_size,
            ),
        )


@layer_class
class Mamba2LayerSpecs(_RecurrentMixerSpecs):
    class_name: ClassVar[str] = "Mamba2Layer"
    description: ClassVar[str] = (
        "Mamba-2 (SSD) mixer (Nemotron-H): in_proj to x, z, B, C and dt; a causal depthwise "
        "convolution over x, B and C; a state_size state per head_dim channel of each head, "
        "B and C shared by the heads of each of n_groups groups; gated RMSNorm; out_proj."
    )
    short_name: ClassVar[str] = "Mamba-2"
    label: ClassVar[str] = "Mamba-2 SSM"

    hidden_size: Size
    num_heads: HeadCount
    head_dim: Size
    state_size: Size
    n_groups: HeadCount
    conv_kernel_size: Kernel
    has_bias: bool = Field(default=False, description="in_proj and out_proj carry biases.")
    conv_bias: bool = Field(default=True, description="The convolution carries a bias.")
    chunk_size: Chunk = Field(
        default=256, description="SSD chunk length of the prefill scan (cost only)."
    )

    @property
    def inner(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def conv_channels(self) -> int:
        return self.inner + 2 * self.n_groups * self.state_size

    def problems(self) -> list[tuple[str, str]]:
        if self.num_heads % self.n_groups:
            return [
                ("n_groups", f"num_heads {self.num_heads} is not a multiple of {self.n_groups}")
            ]
        return []

    def ops(self) -> tuple[Op, ...]:
        h, n = self.hidden_size, self.num_heads
        conv = self.conv_channels * (self.conv_kernel_size + (1 if self.conv_bias else 0))
        return (
            Linear(
                "in_proj",
                h,
                self.inner + self.conv_channels + n,
                "col",
                self.has_bias,
                heads=n,
                split_label=HEADS,
            ),
            Param("conv1d", conv, "col"),
            Param("dt_bias_A_log_D", 3 * n, "col"),
            Norm("norm", self.inner, fmt="dense", shard="col"),
            Linear("out_proj", self.inner, h, "row", self.has_bias, heads=n, split_label=HEADS),
            RecurrentCore(
                "ssd",
                n,
                self.state_size,
                self.head_dim,
                self.conv_channels,
                self.conv_kernel_size,
                self.chunk_size,
            ),
        )

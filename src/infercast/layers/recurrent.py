"""Cost models of token mixers with a fixed per-sequence state: Gated DeltaNet and Mamba-2.

Neither caches per-token K/V. Each sequence owns a state (per head a ``key × value`` matrix for
Gated DeltaNet, ``head_dim × state_size`` for Mamba-2) plus the last ``conv_kernel − 1`` inputs
of the causal convolution, held in the activation format (bf16) beside the KV cache.

Tensor parallelism splits heads (and the in/out projections, column/row-parallel) ``tp`` ways,
with one all-reduce of the output, as vLLM does; the state of a head lives on its GPU.

FLOPs per token and head, besides the projections' ``2·params``:
- decode (recurrent update): Gated DeltaNet decays the state, reads ``Sᵀk``, adds the rank-1
  delta correction and reads ``Sᵀq``: ``7·dk·dv``; Mamba-2 updates ``h = dA·h + dt·B xᵀ`` and
  reads ``C·h``: ``5·N·hd``; plus the convolution's ``2·kernel`` per channel;
- prefill (chunked scan, chunk ``C``): within a chunk causal products over ``C/2`` mean earlier
  positions — ``C·(2·dk + dv)`` for DeltaNet (scores, the WY/UT transform and values),
  ``C·(N + hd)`` for SSD — and across chunks the state read and update, ``4·dk·dv``
  (``4·N·hd``); (Yang et al., "Gated Delta Networks", 2024, §3; Dao & Gu, "Transformers are
  SSMs", 2024, §6).
Bytes: decode reads and writes each decoding sequence's state once per step; a prefill chunk
reads and writes its sequence's state once (the scan keeps chunk states on chip).
"""

from __future__ import annotations

from infercast.dtypes import DType, dtype
from infercast.layers.base import CostContext, LayerCost, StepShape, tp_reduce
from infercast.specs.hybrid_classes import GatedDeltaNetLayerSpecs, Mamba2LayerSpecs

__all__ = ["RecurrentMixerCost"]


def _weight_dtype(name: str | None, ctx: CostContext) -> DType:
    if ctx.weight_dtype is not None:
        return ctx.weight_dtype
    return dtype(name) if name else ctx.default_dtype


class RecurrentMixerCost:
    """Gated DeltaNet or Mamba-2 on one GPU under a plan."""

    def __init__(self, specs: GatedDeltaNetLayerSpecs | Mamba2LayerSpecs, ctx: CostContext):
        tp = ctx.plan.tp
        self.specs = specs
        self.ctx = ctx
        self.wdtype = _weight_dtype(specs.weight_dtype, ctx)
        if isinstance(specs, GatedDeltaNetLayerSpecs):
            heads, dk, dv = specs.num_value_heads, specs.key_head_dim, specs.value_head_dim
            self.decode_flops_per_head = 7 * dk * dv
            self.prefill_flops_per_head = specs.chunk_size * (2 * dk + dv) + 4 * dk * dv
            self.io_width = 2 * specs.key_dim + 2 * specs.value_dim + 2 * heads
        else:
            heads, n, hd = specs.num_heads, specs.state_size, specs.head_dim
            self.decode_flops_per_head = 5 * n * hd
            self.prefill_flops_per_head = specs.chunk_size * (n + hd) + 4 * n * hd
            self.io_width = specs.inner + specs.conv_channels + heads
        self.heads = heads / tp
        self.conv_flops = 2 * specs.conv_kernel_size * specs.conv_channels / tp
        self.matmul_params = specs.matmul_params_per_token() / tp
        self.stored_params = specs.parameter_count_per_instance() / tp
        self.state_dtype = ctx.activation_dtype
        self.state_bytes = self.state_dtype.nbytes(specs.state_elements_per_sequence() / tp)

    def stored_weight_bytes(self) -> float:
        return self.wdtype.nbytes(self.stored_params)

    def kv_bytes_per_token(self) -> float:
        return 0.0

    def kv_window(self) -> int | None:
        return None

    def state_bytes_per_sequence(self) -> float:
        """Recurrent + conv state of one sequence on this GPU (its heads' share)."""
        return self.state_bytes

    def activation_peak_bytes(self, tokens: float) -> float:
        width = self.specs.hidden_size + self.io_width / self.ctx.plan.tp
        return self.ctx.activation_dtype.nbytes(tokens * width)

    def step_cost(self, shape: StepShape) -> LayerCost:
        ctx, plan, act = self.ctx, self.ctx.plan, self.ctx.activation_dtype
        tokens = ctx.local_tokens(shape)
        spread = ctx.token_ranks
        prefill = shape.prefill_tokens / spread
        decode = shape.decode_seqs / ctx.sequence_ranks
        scan = self.heads * (
            prefill * self.prefill_flops_per_head + decode * self.decode_flops_per_head
        )
        sequences = shape.prefill_seqs / spread + decode
        h = self.specs.hidden_size
        cost = LayerCost(
            matmul_flops=2 * tokens * self.matmul_params,
            matmul_dtype=self.wdtype,
            attention_flops=scan + tokens * self.conv_flops,
            weight_bytes=self.stored_weight_bytes(),
            kv_bytes=2 * sequences * self.state_bytes,
            activation_bytes=act.nbytes(tokens * (2 * h + 2 * self.io_width / plan.tp)),
        )
        tp_reduce(cost.collectives, plan.tp, act.nbytes(tokens * h), plan.sp)
        return cost

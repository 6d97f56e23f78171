"""Cost models of token mixers with a fixed per-sequence state: Gated DeltaNet and Mamba-2.

Neither caches per-token K/V. Each sequence owns a state (per head a ``key × value`` matrix for
Gated DeltaNet, ``head_dim × state_size`` for Mamba-2) plus the last ``conv_kernel − 1`` inputs
of the causal convolution, beside the KV cache: the recurrent state in the layer's
``state_dtype`` (fp32 where the config asks for it, as vLLM honours ``mamba_ssm_cache_dtype``),
else the activation format; the convolution state in the activation format.

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

from infercast.dtypes import dtype
from infercast.layers.base import CostContext, Price, StepShape, StepTerms
from infercast.layers.engine import TokenLinearsCost
from infercast.specs.classes.hybrid import GatedDeltaNetLayerSpecs, Mamba2LayerSpecs
from infercast.specs.ops import RecurrentCore

__all__ = ["RecurrentMixerCost"]


class RecurrentMixerCost(TokenLinearsCost):
    """Gated DeltaNet or Mamba-2 on one GPU under a plan."""

    def __init__(self, specs: GatedDeltaNetLayerSpecs | Mamba2LayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        tp = ctx.plan.tp
        self.wdtype = self.placed.formats["dense"]
        core = next(op for op in self.placed.ops if isinstance(op, RecurrentCore))
        dk, dv, c = core.key_dim, core.value_dim, core.chunk
        if core.kind == "gated_delta":
            self.decode_flops_per_head = 7 * dk * dv
            self.prefill_flops_per_head = c * (2 * dk + dv) + 4 * dk * dv
        else:  # SSD: key_dim is the state size, value_dim the head dim
            self.decode_flops_per_head = 5 * dk * dv
            self.prefill_flops_per_head = c * (dk + dv) + 4 * dk * dv
        self.io_width = sum(op.out_features for op in self.placed.linears if op.shard == "col")
        self.heads = core.heads / tp
        self.conv_flops = 2 * core.conv_kernel * core.conv_channels / tp
        state_fmt = dtype(specs.state_dtype) if specs.state_dtype else ctx.activation_dtype
        self.state_bytes = state_fmt.nbytes(core.recurrent_elements / tp) + (
            ctx.activation_dtype.nbytes(core.conv_elements / tp)
        )
        self.matmul_dtype = self.wdtype
        self.weight_bytes = self.stored_weight_bytes()
        self.activation_width = 2 * specs.hidden_size + 2 * self.io_width / tp
        self.act_bpe = ctx.activation_dtype.bytes_per_element

    def _gemm_rows(self, shape: StepShape) -> dict[str, float]:
        return {"token": self.ctx.local_tokens(shape)}

    def state_bytes_per_sequence(self) -> float:
        """Recurrent + conv state of one sequence on this GPU (its heads' share)."""
        return self.state_bytes

    def activation_peak_bytes(self, tokens: float) -> float:
        width = self.specs.hidden_size + self.io_width / self.ctx.plan.tp
        return self.ctx.activation_dtype.nbytes(tokens * width)

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        ctx = self.ctx
        pre = ctx.prefill_ranks(shape)  # the busiest rank holds a whole chunk
        prefill = shape.prefill_tokens / pre
        decode = shape.decode_seqs / ctx.sequence_ranks
        scan = self.heads * (
            prefill * self.prefill_flops_per_head + decode * self.decode_flops_per_head
        )
        sequences = shape.prefill_seqs / pre + decode
        return (
            2 * tokens * self.matmul_timed,
            scan + tokens * self.conv_flops,
            self.weight_bytes,
            2 * sequences * self.state_bytes,
            tokens * self.activation_width * self.act_bpe,
            self.placed.reduce_partial_sums(price, 0.0, tokens),
        )

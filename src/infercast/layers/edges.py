"""Cost models of the layers around the blocks: norms, embeddings, the LM head, the pooler.

Norms are replicated and purely memory-bound (no FLOPs are counted for them): with sequence
parallelism each TP rank normalises ``1/tp`` of the tokens, so their activation bytes and peak
live activations divide by ``tp``. The embedding is a row gather (vocab-parallel
over ``tp``, hence one all-reduce). The LM head runs only on the rows that need logits — the
last token of each prefill and every decode token — split over the vocabulary ``tp`` ways, with
the logits gathered in fp32 for sampling. A tied head reads the embedding matrix. Under
sequence parallelism the embedding's all-reduce is a reduce-scatter + all-gather. Rows and
tokens per GPU follow the placement rule of :mod:`infercast.layers.base`.
"""

from __future__ import annotations

from infercast.dtypes import dtype
from infercast.layers.base import CostContext, Price, StepShape, StepTerms, tp_reduce
from infercast.layers.engine import OpsCost
from infercast.layers.k_loop import dense_k_loop_efficiency
from infercast.specs.classes.edges import (
    EmbeddingLayerSpecs,
    NormLayerSpecs,
    OutputLayerSpecs,
    PoolerLayerSpecs,
)

__all__ = ["EmbeddingCost", "NormCost", "OutputCost", "PoolerCost"]

_FP32 = dtype("fp32")
_FP32_BPE = _FP32.bytes_per_element


class NormCost(OpsCost):
    specs: NormLayerSpecs

    def __init__(self, specs: NormLayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        self.split = ctx.plan.tp if ctx.plan.sp else 1  # sequence parallel: 1/tp of the tokens
        self.hidden_size = specs.hidden_size
        self.weight_bytes = self.stored_weight_bytes()
        self.act_bpe = ctx.activation_dtype.bytes_per_element

    def activation_peak_bytes(self, tokens: float) -> float:
        """Input and output of ``tokens`` (÷ tp under sequence parallelism)."""
        return self.ctx.activation_dtype.nbytes(2 * tokens * self.specs.hidden_size / self.split)

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        activations = 2 * tokens * self.hidden_size / self.split * self.act_bpe
        return 0.0, 0.0, self.weight_bytes, 0.0, activations, 0.0


class EmbeddingCost(OpsCost):
    specs: EmbeddingLayerSpecs

    def __init__(self, specs: EmbeddingLayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        self.wdtype = self.placed.formats["own"]
        self.hidden_size = specs.hidden_size
        self.act_bpe = ctx.activation_dtype.bytes_per_element
        self.weight_bpe = self.wdtype.bytes_per_element  # wdtype.nbytes(n) = n · this

    def activation_peak_bytes(self, tokens: float) -> float:
        return self.ctx.activation_dtype.nbytes(tokens * self.specs.hidden_size)

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        plan = self.ctx.plan
        elements = tokens * self.hidden_size
        activations = elements * self.act_bpe
        comm = tp_reduce(price, 0.0, plan.tp, activations, plan.sp)
        # Weights: only the gathered rows.
        return 0.0, 0.0, elements * self.weight_bpe, 0.0, activations, comm


class OutputCost(OpsCost):
    specs: OutputLayerSpecs

    def __init__(self, specs: OutputLayerSpecs, ctx: CostContext, embedding_dtype: str | None):
        tied = dtype(embedding_dtype) if embedding_dtype else ctx.default_dtype
        super().__init__(specs, ctx, tied)
        (head,) = self.placed.linears
        self.wdtype = self.placed.format_of(head)
        self.vocab_slice = self.placed.local_out(head)
        self.matmul_dtype = self.wdtype
        self.hidden_size, self.vocab_size = specs.hidden_size, specs.vocab_size
        self.weight_bytes = self.wdtype.nbytes(self.vocab_slice * specs.hidden_size)
        self.act_bpe = ctx.activation_dtype.bytes_per_element
        run_bytes = ctx.run_format_bytes(self.wdtype)
        self.timed = 1.0 / dense_k_loop_efficiency(specs.hidden_size, run_bytes)
        """Timed work per useful FLOP of the head (:mod:`.k_loop`: its depth is the hidden)."""

    def activation_peak_bytes(self, tokens: float) -> float:
        return _FP32.nbytes(tokens * self.vocab_slice)

    def _logit_rows(self, shape: StepShape) -> float:
        """Rows the head multiplies on a request's home rank: one per prompt, one per decode."""
        return self.ctx.local_prompts(shape) + shape.decode_seqs / self.ctx.sequence_ranks

    def useful_matmul_flops(self, shape: StepShape, tokens: float) -> float:
        return 2 * self._logit_rows(shape) * self.vocab_slice * self.hidden_size

    def _gemm_rows(self, shape: StepShape) -> dict[str, float]:
        return {"logit": self._logit_rows(shape)}

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        tp = self.ctx.plan.tp
        rows = self._logit_rows(shape)
        h = self.hidden_size
        comm = 0.0
        if tp > 1:
            comm += price("all_gather", tp, rows * self.vocab_size * _FP32_BPE)
        return (
            2 * rows * self.vocab_slice * h * self.timed,
            0.0,
            self.weight_bytes,
            0.0,
            rows * self.vocab_slice * _FP32_BPE + rows * h * self.act_bpe,
            comm,
        )


class PoolerCost(OpsCost):
    specs: PoolerLayerSpecs

    def __init__(self, specs: PoolerLayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        self.wdtype = self.placed.formats["own"]
        self.matmul_dtype = self.wdtype
        self.hidden_size = specs.hidden_size
        self.weight_bytes = self.stored_weight_bytes()
        self.act_bpe = ctx.activation_dtype.bytes_per_element
        run_bytes = ctx.run_format_bytes(self.wdtype)
        self.timed = 1.0 / dense_k_loop_efficiency(specs.hidden_size, run_bytes)  # .k_loop

    def activation_peak_bytes(self, tokens: float) -> float:
        return 0.0

    def useful_matmul_flops(self, shape: StepShape, tokens: float) -> float:
        h = self.hidden_size
        return 2 * self.ctx.local_prompts(shape) * h * h

    def _gemm_rows(self, shape: StepShape) -> dict[str, float]:
        return {"sequence": self.ctx.local_prompts(shape)}

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        rows = self.ctx.local_prompts(shape)  # the first token of each sequence
        h = self.hidden_size
        activations = 2 * rows * h * self.act_bpe
        return 2 * rows * h * h * self.timed, 0.0, self.weight_bytes, 0.0, activations, 0.0

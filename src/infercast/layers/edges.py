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
from infercast.layers.base import CostContext, LayerCost, StepShape, tp_reduce
from infercast.layers.engine import OpsCost
from infercast.parallel import Collective
from infercast.specs.classes.edges import (
    EmbeddingLayerSpecs,
    NormLayerSpecs,
    OutputLayerSpecs,
    PoolerLayerSpecs,
)

__all__ = ["EmbeddingCost", "NormCost", "OutputCost", "PoolerCost"]

_FP32 = dtype("fp32")


class NormCost(OpsCost):
    specs: NormLayerSpecs

    def __init__(self, specs: NormLayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        self.split = ctx.plan.tp if ctx.plan.sp else 1  # sequence parallel: 1/tp of the tokens

    def activation_peak_bytes(self, tokens: float) -> float:
        """Input and output of ``tokens`` (÷ tp under sequence parallelism)."""
        return self.ctx.activation_dtype.nbytes(2 * tokens * self.specs.hidden_size / self.split)

    def step_cost(self, shape: StepShape) -> LayerCost:
        tokens = self.ctx.local_tokens(shape)
        return LayerCost(
            weight_bytes=self.stored_weight_bytes(),
            activation_bytes=self.activation_peak_bytes(tokens),
        )


class EmbeddingCost(OpsCost):
    specs: EmbeddingLayerSpecs

    def __init__(self, specs: EmbeddingLayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        self.wdtype = self.placed.formats["own"]

    def activation_peak_bytes(self, tokens: float) -> float:
        return self.ctx.activation_dtype.nbytes(tokens * self.specs.hidden_size)

    def step_cost(self, shape: StepShape) -> LayerCost:
        plan, act = self.ctx.plan, self.ctx.activation_dtype
        tokens = self.ctx.local_tokens(shape)
        h = self.specs.hidden_size
        cost = LayerCost(
            weight_bytes=self.wdtype.nbytes(tokens * h),  # only the gathered rows
            activation_bytes=act.nbytes(tokens * h),
        )
        tp_reduce(cost.collectives, plan.tp, act.nbytes(tokens * h), plan.sp)
        return cost


class OutputCost(OpsCost):
    specs: OutputLayerSpecs

    def __init__(self, specs: OutputLayerSpecs, ctx: CostContext, embedding_dtype: str | None):
        tied = dtype(embedding_dtype) if embedding_dtype else ctx.default_dtype
        super().__init__(specs, ctx, tied)
        (head,) = self.placed.linears
        self.wdtype = self.placed.format_of(head)
        self.vocab_slice = self.placed.local_out(head)

    def activation_peak_bytes(self, tokens: float) -> float:
        return _FP32.nbytes(tokens * self.vocab_slice)

    def _gemm_rows(self, shape: StepShape) -> dict[str, float]:
        return {"logit": shape.logit_rows / self.ctx.sequence_ranks}

    def step_cost(self, shape: StepShape) -> LayerCost:
        plan = self.ctx.plan
        rows = shape.logit_rows / self.ctx.sequence_ranks  # on each request's home rank
        h = self.specs.hidden_size
        cost = LayerCost(
            matmul_flops=2 * rows * self.vocab_slice * h,
            matmul_dtype=self.wdtype,
            weight_bytes=self.wdtype.nbytes(self.vocab_slice * h),
            activation_bytes=_FP32.nbytes(rows * self.vocab_slice)
            + self.ctx.activation_dtype.nbytes(rows * h),
        )
        if plan.tp > 1:
            cost.collectives.append(
                Collective("all_gather", plan.tp, _FP32.nbytes(rows * self.specs.vocab_size))
            )
        return cost


class PoolerCost(OpsCost):
    specs: PoolerLayerSpecs

    def __init__(self, specs: PoolerLayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        self.wdtype = self.placed.formats["own"]

    def activation_peak_bytes(self, tokens: float) -> float:
        return 0.0

    def _gemm_rows(self, shape: StepShape) -> dict[str, float]:
        return {"sequence": shape.prefill_seqs / self.ctx.sequence_ranks}

    def step_cost(self, shape: StepShape) -> LayerCost:
        rows = shape.prefill_seqs / self.ctx.sequence_ranks  # the first token of each sequence
        h = self.specs.hidden_size
        return LayerCost(
            matmul_flops=2 * rows * h * h,
            matmul_dtype=self.wdtype,
            weight_bytes=self.stored_weight_bytes(),
            activation_bytes=self.ctx.activation_dtype.nbytes(2 * rows * h),
        )

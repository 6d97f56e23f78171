"""Cost model of DeepSeek Sparse Attention (DeepSeek-V3.2, GLM-5): MLA over top-k keys plus
the lightning indexer over the whole context.

Per query token the indexer scores every cached token: ``index_n_heads`` dot products of
``index_head_dim`` plus a weighted ReLU sum, ``(2·index_head_dim + 2)·index_n_heads`` FLOPs per
cached position (DeepSeek-V3.2 report, §2.1). MLA itself then attends to at most
``index_topk`` positions, so its score FLOPs are those of MLA with each token's context capped
at top-k (the same arithmetic as a sliding window of top-k: a prefill token at position ``p``
attends ``min(p, k)``). Bytes: decode reads every cached indexer key of its sequence and the
latent of top-k positions; a prefill chunk reads the cached indexer keys and latents once; every
new token writes both. The indexer's projections are small and replicated on every TP rank.
"""

from __future__ import annotations

from infercast.layers.attention import LatentAttentionCost, _windowed_prefill
from infercast.layers.base import CostContext, Price, StepShape, StepTerms
from infercast.specs.classes.hybrid import DeepSeekSparseAttentionLayerSpecs

__all__ = ["SparseAttentionCost"]


class SparseAttentionCost(LatentAttentionCost):
    """MLA with a lightning indexer selecting ``index_topk`` keys per query."""

    def __init__(self, specs: DeepSeekSparseAttentionLayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)  # the indexer's Linears are among the placed ops
        self.sparse = specs
        self.index_token_bytes = ctx.kv_dtype.nbytes(specs.index_head_dim)
        self.index_flops_per_position = (2 * specs.index_head_dim + 2) * specs.index_n_heads
        self.index_topk = specs.index_topk

    def kv_bytes_per_token(self) -> float:
        """Latent + rope key + indexer key of one token (÷ cp)."""
        return (self.kv_token_bytes + self.index_token_bytes) / self.ctx.plan.cp

    def _capped(self, shape: StepShape) -> StepShape:
        """The step as MLA sees it: each query attends to at most ``index_topk`` keys."""
        k = self.index_topk
        return StepShape(
            prefill_tokens=shape.prefill_tokens,
            prefill_seqs=shape.prefill_seqs,
            prefill_context=_windowed_prefill(shape.prefill_context, shape.prefill_chunk, k),
            prefill_chunk=shape.prefill_chunk,
            decode_seqs=shape.decode_seqs,
            decode_context=min(shape.decode_context, k),
        )

    def useful_matmul_flops(self, shape: StepShape, tokens: float) -> float:
        return super().useful_matmul_flops(self._capped(shape), tokens)

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        capped = self._capped(shape)
        matmul, attention, weights, kv, activations, comm = super().step_terms(
            capped, tokens, price
        )
        spread = self.ctx.token_ranks
        pre = self.ctx.prefill_ranks(shape)
        cached = max(0.0, shape.prefill_context - (shape.prefill_chunk + 1) / 2)
        capped_cached = max(0.0, capped.prefill_context - (capped.prefill_chunk + 1) / 2)
        positions = (
            shape.prefill_tokens * shape.prefill_context / pre
            + shape.decode_seqs * shape.decode_context / spread
        )
        attention += positions * self.index_flops_per_position
        prefill_reads = shape.prefill_seqs / pre * cached
        kv += (
            shape.decode_seqs / spread * shape.decode_context * self.index_token_bytes
            + prefill_reads * self.index_token_bytes
            + shape.prefill_seqs / pre * (cached - capped_cached) * self.kv_token_bytes
            + (shape.prefill_tokens / pre + shape.decode_seqs / spread) * self.index_token_bytes
        )
        return matmul, attention, weights, kv, activations, comm

"""Cost models of attention: MHA, GQA, sliding-window GQA and multi-head latent attention.

Tensor parallelism splits query heads ``tp`` ways and KV heads too — or replicates one KV head
per GPU when ``tp`` exceeds them, as vLLM/SGLang/TensorRT-LLM do; DP attention splits the
sequences ``dp`` ways. The output projection's partial sums are all-reduced over ``tp``.
MLA (DeepSeek) keeps the down-projections replicated and splits the per-head up-projections;
its cache is the ``kv_lora_rank`` latent plus the rope key, identical on every TP rank, and
decode runs in the weight-absorbed form (multi-query attention over the latent).

Work per GPU follows the placement rule of :mod:`infercast.layers.base`: the KV of the
requests spreads over ``R_tok`` DP ranks, decode-token projections over ``R_seq``, and a step's
prompt work over ``CostContext.prefill_ranks`` (``R_tok``, or fewer while its chunks cannot
fill them: the busiest rank holds a whole chunk).
With sequence parallelism the output projection's all-reduce is a reduce-scatter + all-gather.

Context parallelism (``cp > 1``, ring attention), per attention layer and GPU:

- prefill: a sequence chunk of ``S`` tokens after ``P`` cached ones is split over the ``cp``
  ranks of its CP group; each rank projects ``S/cp`` tokens (matmul FLOPs ÷ ``cp``) and
  attends its queries to the whole causal context (load-balanced causal blocks: the mean
  context per query is that of the chunk, so score FLOPs are ``4·d·heads·(S/cp)·ctx``). The
  K/V of the ``P + S`` positions are held ``1/cp`` per rank and circulate around the ring:
  ``cp − 1`` steps of ``(P+S)/cp`` tokens' K/V each, one all-gather of the ``(P+S)`` tokens'
  K/V per chunk (wire bytes ``(cp−1)/cp · (P+S) · kv_bytes_per_token``). Charged like every
  collective (not overlapped): an upper bound, ring attention hides part of it behind the
  block computations. Received blocks are counted as communication, not as HBM KV reads.
- KV cache: each rank keeps ``1/cp`` of a sequence's tokens, so :meth:`kv_bytes_per_token`
  (per GPU, per token of a sequence) is the full figure ÷ ``cp``.
- decode: every rank of the group attends the new token's query to its KV shard; the queries
  are all-gathered over ``cp`` (``heads·d`` activations per query) and the partial outputs
  with their log-sum-exp (``heads·(d+1)`` fp32 per query) reduce-scattered back to the home
  rank — the LSE combine. Score FLOPs and KV reads per GPU are ``D/R_tok · ctx``: the same as
  without ``cp`` once enough requests fill the ranks, ``1/cp`` of it for a lone request.
"""

from __future__ import annotations

from infercast.dtypes import dtype
from infercast.layers.base import CostContext, Price, StepShape, StepTerms
from infercast.layers.engine import TokenLinearsCost
from infercast.layers.k_loop import dense_k_loop_efficiency
from infercast.specs.classes.attention import _AttentionSpecs
from infercast.specs.classes.latent import MultiHeadLatentAttentionLayerSpecs

__all__ = ["AttentionCost", "LatentAttentionCost"]

_FP32 = dtype("fp32")


def _chunk_positions(n: float, chunk: int) -> float:
    """Σ over positions 1..n of the positions each attends to within its chunk
    (``(p − 1) mod chunk + 1``): whole chunks give ``chunk(chunk+1)/2`` each."""
    whole, rest = divmod(max(n, 0.0), chunk)
    return whole * chunk * (chunk + 1) / 2 + rest * (rest + 1) / 2


def _chunked_mean(cached: float, tokens: float, chunk: int) -> float:
    """Mean positions tokens ``cached+1 .. cached+tokens`` attend to under chunked local
    attention (Llama 4): each sees only the earlier tokens of its own ``chunk``-token chunk.
    For decode (``cached`` 0, ``tokens`` the context) it is the mean over the sequence so far,
    ``(chunk+1)/2`` once the context spans many chunks."""
    if tokens <= 0:
        return 0.0
    return (_chunk_positions(cached + tokens, chunk) - _chunk_positions(cached, chunk)) / tokens


def _capped(context: float, window: int | None) -> float:
    return min(context, window) if window else context


def _windowed_prefill(context: float, chunk: float, window: int | None) -> float:
    """Mean positions a prefill token attends to when each token sees at most ``window``.

    A chunk of ``S`` tokens after ``P`` cached ones (``context = P + (S+1)/2``): token ``i``
    (1..S) sees ``min(P + i, W)`` positions, so the mean is
    ``(m·P + m(m+1)/2 + (S − m)·W) / S`` with ``m = W − P`` tokens still inside the window
    — capping each token's positions, not the mean (which would overcount by up to a third).
    """
    if not window or chunk <= 0:
        return _capped(context, window)
    cached = max(0.0, context - (chunk + 1) / 2)
    if cached + chunk <= window:
        return context
    if cached + 1 >= window:
        return float(window)
    m = window - cached
    return (m * cached + m * (m + 1) / 2 + (chunk - m) * window) / chunk


class AttentionCost(TokenLinearsCost):
    """MHA, GQA and sliding-window GQA."""

    specs: _AttentionSpecs

    def __init__(self, specs: _AttentionSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        plan = ctx.plan
        core = specs.attention_core()
        assert core is not None
        self.wdtype = self.placed.formats["dense"]
        self.heads = core.heads / plan.tp
        self.kv_heads = plan.kv_heads_per_gpu(core.kv_heads)
        self.window = core.window
        self.chunk = core.chunk
        d, dv = core.head_dim, core.value_dim
        self.qk_v_dim = d + dv  # score (QKᵀ) and value (PV) widths of one head
        self.kv_elements_per_token = self.kv_heads * (d + dv) if core.causal else 0
        self.kv_token_bytes = ctx.kv_dtype.nbytes(self.kv_elements_per_token)
        """Cached K/V of one token on a GPU holding that token (the whole of it at cp = 1)."""
        # K/V passed around the CP ring per token: the cache's format; an encoder's in the
        # activation format (it caches nothing).
        self.ring_token_bytes = (
            self.kv_token_bytes
            if specs.causal
            else ctx.activation_dtype.nbytes(self.kv_heads * (d + dv))
        )
        self.q_width = self.heads * d
        self.combine_width = self.heads * (dv + 1)  # partial output + its log-sum-exp
        # Per-step constants of step_terms, in the order its products are evaluated.
        self.matmul_dtype = self.wdtype
        self.cp = plan.cp
        self.causal = specs.causal
        self.score_factor = 2 * self.qk_v_dim * self.heads
        self.weight_bytes = self.stored_weight_bytes()
        self.activation_width = 2 * specs.hidden_size + 2 * (2 * self.heads + 2 * self.kv_heads) * d
        self.act_bpe = ctx.activation_dtype.bytes_per_element
        self.cp_bytes = (
            self.ring_token_bytes,
            ctx.activation_dtype.nbytes(self.q_width),
            _FP32.nbytes(self.combine_width),
        )

    def _gemm_rows(self, shape: StepShape) -> dict[str, float]:
        return {"token": self.ctx.local_tokens(shape)}

    def kv_bytes_per_token(self) -> float:
        """Per GPU, per cached token of a sequence held by this GPU's DP rank (÷ cp: each of
        the sequence's cp ranks keeps 1/cp of its tokens)."""
        return self.kv_token_bytes / self.ctx.plan.cp

    def kv_window(self) -> int | None:
        """Most tokens of a sequence the layer ever needs cached: the window, or one chunk."""
        return self.window or self.chunk

    def activation_peak_bytes(self, tokens: float) -> float:
        d = self.specs.head_dim
        width = self.specs.hidden_size + (2 * self.heads + 2 * self.kv_heads) * d
        return self.ctx.activation_dtype.nbytes(tokens * width)

    def _attended(self, shape: StepShape) -> tuple[float, float, float]:
        """Mean positions a prefill and a decode token attend to, and the cached positions a
        prefill chunk reads (sliding window or local chunk applied)."""
        cached = shape.prefill_context - (shape.prefill_chunk + 1) / 2
        if not cached > 0.0:  # max(0.0, ·)
            cached = 0.0
        if not self.causal:
            return shape.prefill_chunk, 0.0, 0.0
        if not (self.window or self.chunk):  # full causal attention: nothing capped
            return shape.prefill_context, shape.decode_context, cached
        if self.chunk:
            pre = _chunked_mean(cached, shape.prefill_chunk, self.chunk)
            dec = _chunked_mean(0.0, shape.decode_context, self.chunk)
            return pre, dec, cached % self.chunk
        pre = _windowed_prefill(shape.prefill_context, shape.prefill_chunk, self.window)
        return pre, _capped(shape.decode_context, self.window), _capped(cached, self.window)

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        ctx = self.ctx
        spread = ctx.token_ranks  # R_tok: ranks the prefill tokens and the KV cache span
        pre = ctx.prefill_ranks(shape)  # R_tok, or fewer: the busiest rank holds a whole chunk
        pre_ctx, dec_ctx, cached = self._attended(shape)
        # Decode: D/R_tok · ctx attended positions per GPU (cp·D/R_tok KV shards of ctx/cp).
        score_flops = self.score_factor * (
            shape.prefill_tokens / pre * pre_ctx + shape.decode_seqs / spread * dec_ctx
        )
        kv_token = self.kv_token_bytes
        kv_read = shape.decode_seqs / spread * dec_ctx * kv_token
        # A prefill chunk reads what is cached before it once (flash-attention tiles) and
        # writes its own keys/values; a sliding window needs at most the last ``window`` of
        # the cached positions, a local chunk only those of its own chunk.
        kv_read += shape.prefill_seqs / pre * cached * kv_token
        kv_write = (shape.prefill_tokens / pre + shape.decode_seqs / spread) * kv_token
        comm = self.placed.reduce_partial_sums(price, 0.0, tokens)
        if self.cp > 1:
            comm = _context_parallel(
                price, comm, self.cp, shape, (pre, spread), cached, self.cp_bytes
            )
        return (
            2 * tokens * self.matmul_timed,
            score_flops,
            self.weight_bytes,
            kv_read + kv_write,
            tokens * self.activation_width * self.act_bpe,
            comm,
        )


def _context_parallel(
    price: Price,
    comm: float,
    cp: int,
    shape: StepShape,
    spread: tuple[float, float],
    cached: float,
    cp_bytes: tuple[float, float, float],
) -> float:
    """``comm`` plus the collectives context parallelism adds to one attention layer (module
    docstring).

    Prefill: the step holds ``prefill_tokens / prefill_chunk`` sequence chunks; a CP group
    carries ``cp / R_tok`` of them, and per chunk the ring all-gathers the K/V of its
    ``cached + chunk`` positions. Decode: ``cp·D / R_tok`` queries per GPU are all-gathered
    (``query_bytes`` each) and their partial results reduce-scattered (``combine_bytes``);
    ``cp_bytes``: (``ring_token_bytes``, ``query_bytes``, ``combine_bytes``); ``spread``: the
    ranks the prompt work and the decode work divide by (``prefill_ranks``, ``R_tok``)."""
    ring_token_bytes, query_bytes, combine_bytes = cp_bytes
    prefill_spread, decode_spread = spread
    if shape.prefill_tokens > 0 and shape.prefill_chunk > 0:
        chunks = shape.prefill_tokens / shape.prefill_chunk * cp / prefill_spread
        ring = chunks * (cached + shape.prefill_chunk) * ring_token_bytes
        comm += price("all_gather", cp, ring)
    if shape.decode_seqs > 0:
        queries = shape.decode_seqs * cp / decode_spread
        comm += price("all_gather", cp, queries * query_bytes)
        comm += price("reduce_scatter", cp, queries * combine_bytes)
    return comm


class LatentAttentionCost(TokenLinearsCost):
    """Multi-head latent attention (DeepSeek-V2/V3, Kimi K2)."""

    specs: MultiHeadLatentAttentionLayerSpecs

    def __init__(self, specs: MultiHeadLatentAttentionLayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        plan = ctx.plan
        self.wdtype = self.placed.formats["dense"]
        self.heads = specs.num_heads / plan.tp
        self.kv_elements_per_token = specs.kv_lora_rank + specs.qk_rope_head_dim
        self.kv_token_bytes = ctx.kv_dtype.nbytes(self.kv_elements_per_token)
        # Absorbed decode: a query is (latent + rope) per head, a partial output the latent.
        self.query_bytes = ctx.activation_dtype.nbytes(
            self.heads * (specs.kv_lora_rank + specs.qk_rope_head_dim)
        )
        self.combine_bytes = _FP32.nbytes(self.heads * (specs.kv_lora_rank + 1))
        # Per-step constants of step_terms, in the order its products are evaluated.
        self.matmul_dtype = self.wdtype
        self.cp = plan.cp
        self.hidden_size = specs.hidden_size
        self.kv_lora_rank = specs.kv_lora_rank
        self.prefill_width = specs.qk_head_dim + specs.v_head_dim
        self.decode_width = 2 * specs.kv_lora_rank + specs.qk_rope_head_dim
        self.up_width = specs.qk_nope_head_dim + specs.v_head_dim
        run_bytes = ctx.run_format_bytes(self.wdtype)
        self.up_timed = 1.0 / dense_k_loop_efficiency(specs.kv_lora_rank, run_bytes)
        """The latent up-projection's timed work per useful FLOP: its depth is the latent."""
        self.weight_bytes = self.stored_weight_bytes()
        self.act_bpe = ctx.activation_dtype.bytes_per_element
        self.cp_bytes = (self.kv_token_bytes, self.query_bytes, self.combine_bytes)

    def _gemm_rows(self, shape: StepShape) -> dict[str, float]:
        return {"token": self.ctx.local_tokens(shape)}

    def kv_bytes_per_token(self) -> float:
        """The latent of one token (÷ cp: a sequence's tokens are split over its cp ranks)."""
        return self.kv_token_bytes / self.ctx.plan.cp

    def kv_window(self) -> int | None:
        return None

    def activation_peak_bytes(self, tokens: float) -> float:
        s = self.specs
        width = s.hidden_size + self.heads * (s.qk_head_dim + s.v_head_dim) * 2
        return self.ctx.activation_dtype.nbytes(tokens * width)

    def _up_projection(self, shape: StepShape, pre: float, cached: float) -> float:
        """The non-absorbed prefill's up-projection of the cached latents, per unit of its
        output width: a chunk after ``cached`` tokens first up-projects their latents
        (kv_b_proj on those rows; vLLM's MLA backend and SGLang's forward_normal do this for
        chunked prefill); ``pre``: the ranks the step's prompts span."""
        return 2 * (shape.prefill_seqs / pre * cached) * self.kv_lora_rank * self.heads

    def useful_matmul_flops(self, shape: StepShape, tokens: float) -> float:
        cached = max(0.0, shape.prefill_context - (shape.prefill_chunk + 1) / 2)
        up = self._up_projection(shape, self.ctx.prefill_ranks(shape), cached) * self.up_width
        return super().useful_matmul_flops(shape, tokens) + up

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        ctx = self.ctx
        spread = ctx.token_ranks
        pre = ctx.prefill_ranks(shape)
        # Prefill: naive form, per head QK over (nope+rope) and PV over v dims.
        prefill = shape.prefill_tokens / pre * shape.prefill_context
        prefill_flops = 2 * self.heads * prefill * self.prefill_width
        # Decode: absorbed form, per head QK over (latent+rope) and PV over the latent.
        decode = shape.decode_seqs / spread * shape.decode_context
        decode_flops = 2 * self.heads * decode * self.decode_width
        kv_token = self.kv_token_bytes
        cached = max(0.0, shape.prefill_context - (shape.prefill_chunk + 1) / 2)
        written = shape.prefill_tokens / pre + shape.decode_seqs / spread
        kv = (decode + shape.prefill_seqs / pre * cached + written) * kv_token
        # The non-absorbed prefill needs per-head K (nope) and V of every cached position
        # (:meth:`_up_projection`), timed at the latent's K-loop efficiency.
        up_flops = self._up_projection(shape, pre, cached) * (self.up_width * self.up_timed)
        comm = self.placed.reduce_partial_sums(price, 0.0, tokens)
        if self.cp > 1:
            comm = _context_parallel(
                price, comm, self.cp, shape, (pre, spread), cached, self.cp_bytes
            )
        return (
            2 * tokens * self.matmul_timed + up_flops,
            prefill_flops + decode_flops,
            self.weight_bytes,
            kv,
            tokens * 4 * self.hidden_size * self.act_bpe,
            comm,
        )

"""Shared records of the per-layer cost models.

A cost model answers, for ONE instance of a layer type on ONE GPU under a plan, what one engine
step costs: FLOPs, bytes read/written from HBM (weights, KV cache, activations) and the
collectives it issues. A step is described by :class:`StepShape` (prefill tokens and decode
sequences of the whole replica); a ``layer_types`` entry's ``count`` multiplies one instance's
cost, so a 126-layer model is costed as fast as a 2-layer one.

Conventions: matmul FLOPs are the useful 2·M·N·K (the time is charged for each matmul at its
K-loop efficiency, :mod:`.k_loop`, and a grouped expert GEMM's for its rows padded to the
kernel's M tile, :mod:`.grouped_gemm`; reported FLOPs are not);
attention-score FLOPs (QKᵀ and PV, 2·2·d per head per
attended position) are counted over the positions a causal mask really lets a token see
(a prefill chunk of S tokens after P cached ones attends to P + (S+1)/2 positions on average:
"causal-halved"); sliding windows cap each token's positions at the window (a chunk
from scratch of S ≥ W tokens attends to W − (W² − W)/(2S) positions on average, not W).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from infercast.dtypes import COMPUTE_CLASS_BYTES, DType, run_compute_class
from infercast.parallel import Collective, ParallelPlan

__all__ = ["CostContext", "LayerCost", "Price", "StepShape", "StepTerms", "tp_reduce"]

Price = Callable[[str, int, float], float]
"""What a cost model is told a collective ``(kind, group size, bytes)`` costs: its seconds on
the solver's path (:class:`infercast.parallel.CollectiveTimer`), or 0 from a recorder that
keeps the :class:`~infercast.parallel.Collective` for a :class:`LayerCost`."""

StepTerms = tuple[float, float, float, float, float, float]
"""One instance's step as plain floats: (matmul FLOPs, attention FLOPs, weight bytes, KV bytes,
activation bytes, collective seconds summed in the order the layer issues them)."""


def tp_reduce(price: Price, comm: float, tp: int, nbytes: float, sp: bool) -> float:
    """``comm`` plus the reduction of a row-parallel layer's partial sums over the TP group.

    Without sequence parallelism an all-reduce of the ``nbytes`` buffer (ring: ``2(n−1)/n``
    of it sent per GPU); with it a reduce-scatter into the token-split region plus the
    all-gather out of it before the next column-parallel matmul, both of the same buffer:
    ``(n−1)/n + (n−1)/n`` — the same bytes, two collectives.
    """
    if tp <= 1:
        return comm
    if sp:
        comm += price("reduce_scatter", tp, nbytes)
        return comm + price("all_gather", tp, nbytes)
    return comm + price("all_reduce", tp, nbytes)


class StepShape(NamedTuple):
    """What one engine step processes, for the whole replica (all DP ranks together).

    A named tuple rather than a frozen dataclass: the solver builds and hashes one per step
    time it asks for, and a tuple is built, hashed and read in C (same fields, same
    equality and hash as the frozen dataclass it replaces)."""

    prefill_tokens: float = 0.0
    prefill_seqs: float = 0.0
    """Sequences the prefill tokens belong to (each yields one logit row)."""
    prefill_context: float = 0.0
    """Mean positions a prefill token attends to (causal: cached + (chunk+1)/2)."""
    prefill_chunk: float = 0.0
    """Tokens of one sequence in this step (for non-causal attention and KV reads)."""
    decode_seqs: float = 0.0
    decode_context: float = 0.0
    """Mean KV length a decoding sequence attends to."""

    @property
    def tokens(self) -> float:
        return self.prefill_tokens + self.decode_seqs

    @property
    def logit_rows(self) -> float:
        return self.prefill_seqs + self.decode_seqs


@dataclass(frozen=True)
class CostContext:
    """The plan and the formats each role uses, resolved for one estimate."""

    plan: ParallelPlan
    weight_dtype: DType | None
    """Dense weights override (None: each layer's checkpoint format)."""
    moe_dtype: DType | None
    """Expert weights override (None: the checkpoint's)."""
    kv_dtype: DType
    activation_dtype: DType
    default_dtype: DType
    """Format of a layer whose spec names none (the checkpoint's torch dtype, bf16)."""
    attention_dtype: DType | None = None
    """Attention projections override (None: the checkpoint's, or ``weight_dtype`` when that is
    an 8- or 16-bit format; a 4-bit ``weight_dtype`` never reaches attention: ModelOpt's
    NVFP4 recipe and gpt-oss's MXFP4 keep attention unquantized)."""
    expert_skew: float = 1.0
    """Routing skew of the busiest EP rank's excess over the mean (1: uniform routing; > 1 hot
    experts; EPLB's redundant experts bring it toward 1). See :mod:`infercast.layers.routing`."""
    concurrency: float | None = None
    """Requests the engine holds at once, when known: caps the DP ranks a step's work can
    occupy (see the module docstring). ``None``: enough to keep every DP rank busy."""
    tensor_classes: frozenset[str] = frozenset()
    """Tensor-core formats the part runs natively (its ``peak_flops`` keys); empty: every
    format's own. Decides the format a matmul really runs at, which sets its K-loop constant
    (:mod:`.k_loop`)."""
    token_ranks: int = field(init=False, repr=False, compare=False)
    """``R_tok = min(dp, cp·C)``: ranks the prefill tokens and the KV of the requests span."""
    sequence_ranks: int = field(init=False, repr=False, compare=False)
    """``R_seq = min(dp, C)``: ranks holding the requests' homes."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "token_ranks", self.plan.token_ranks(self.concurrency))
        object.__setattr__(self, "sequence_ranks", self.plan.sequence_ranks(self.concurrency))

    def run_format_bytes(self, fmt: DType) -> float:
        """Bytes per element of the tensor-core format a matmul with ``fmt`` weights runs at
        on this part: its ``compute_class`` where native, else its fallback (mxfp4 weights on
        Hopper dequantise to bf16), else bf16."""
        run = fmt.compute_class
        if self.tensor_classes:
            run = run_compute_class(run, fmt.fallback_compute_class, self.tensor_classes)
        return COMPUTE_CLASS_BYTES[run]

    def local_tokens(self, shape: StepShape) -> float:
        """Tokens whose projections / MLP the busiest GPU computes in this step.

        DP ranks run a step in lockstep (the MoE gather / the next all-reduce waits for all),
        so the busiest rank counts. A prompt chunk is not split over DP ranks (only over the
        ``cp`` ranks of context parallelism): the prompts of a step are dealt round-robin
        (SGLang's DP controller default, ``--load-balance-method round_robin``), so the
        busiest rank holds the even share or at least one whole chunk, whichever is larger.
        Decode sequences are dealt the same way and balance.
        """
        return (
            shape.prefill_tokens / self.prefill_ranks(shape)
            + shape.decode_seqs / self.sequence_ranks
        )

    def prefill_ranks(self, shape: StepShape) -> float:
        """The ranks a step's prompt work is divided by on the busiest one (:meth:`local_tokens`):
        ``R_tok`` when the step holds chunks enough for every rank, else ``cp·P/chunk`` (a rank
        holds a whole chunk, split only over its ``cp`` group). Every per-token and per-prompt
        prefill term of a layer divides by this, so a lone prompt costs a DP rank the same
        however many ranks the other requests occupy."""
        ranks = float(self.token_ranks)
        if ranks > 1.0 and shape.prefill_tokens > 0:
            chunk = min(shape.prefill_tokens, shape.prefill_chunk or shape.prefill_tokens)
            whole = self.plan.cp * shape.prefill_tokens / chunk
            if whole < ranks:
                return whole
        return ranks

    def local_prompts(self, shape: StepShape) -> float:
        """Prompts of this step whose first token the busiest home rank produces: the even
        share over ``R_seq`` ranks or one whole prompt, whichever is larger (a prompt is
        not split over DP ranks, as in :meth:`local_tokens`), so a lone prompt costs the
        same LM head rows however many ranks the load spans."""
        share = shape.prefill_seqs / self.sequence_ranks
        if self.sequence_ranks > 1:
            whole = shape.prefill_seqs if shape.prefill_seqs < 1.0 else 1.0  # min(seqs, 1)
            share = max(share, whole)
        return share


@dataclass
class LayerCost:
    """One instance of a layer type, one GPU, one step."""

    matmul_flops: float = 0.0
    """Useful ``2·M·N·K`` (what reports count)."""
    matmul_dtype: DType | None = None
    """Weight format of the matmuls (decides which peak they run at)."""
    attention_flops: float = 0.0
    """Score/value products; run at the activation format's peak."""
    weight_bytes: float = 0.0
    kv_bytes: float = 0.0
    activation_bytes: float = 0.0
    collectives: list[Collective] = field(default_factory=list)
    timed_matmul_flops: float | None = None
    """The matmul work the time is charged for where it differs from ``matmul_flops``:
    every matmul at its K-loop efficiency (:mod:`.k_loop`), grouped expert GEMMs on their padded
    rows (:mod:`.grouped_gemm`)."""

    @property
    def matmul_work(self) -> float:
        """FLOPs the timer divides by the matmul rate."""
        return self.matmul_flops if self.timed_matmul_flops is None else self.timed_matmul_flops

    @property
    def flops(self) -> float:
        return self.matmul_flops + self.attention_flops

    @property
    def memory_bytes(self) -> float:
        return self.weight_bytes + self.kv_bytes + self.activation_bytes

    @property
    def communication_bytes(self) -> float:
        return sum(c.wire_bytes() for c in self.collectives)

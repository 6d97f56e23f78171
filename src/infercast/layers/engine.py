"""The cost engine: a layer's declared ops placed on one GPU under a plan, in their formats.

Every cost model (:mod:`.attention`, :mod:`.ffn`, :mod:`.edges`) reads a layer through
:class:`PlacedOps` instead of re-deriving its shapes: per-GPU parameters and stored bytes
(:func:`infercast.parallel.shards.local_params`), the matmul weights a token multiplies
through, the GEMM shapes ``(M, N, K, format)`` of a step, and the row-parallel reduction. Which
cost model a layer gets is decided by its ops too (:func:`cost_model_for`), never by its class
name: a new layer class made of existing ops is costed without new code here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercast.dtypes import DType, dtype
from infercast.layers.base import CostContext, LayerCost, Price, StepShape, StepTerms, tp_reduce
from infercast.layers.k_loop import DENSE_K0_BYTES, timed_weights
from infercast.parallel import Collective
from infercast.parallel.shards import local_features, local_params
from infercast.specs.classes.base import LayerSpecs
from infercast.specs.ops import AttentionCore, Embedding, Linear, Norm, Op, RecurrentCore, Router

__all__ = ["Gemm", "OpsCost", "PlacedOps", "TokenLinearsCost", "op_kinds", "spec_field"]


@dataclass(frozen=True)
class Gemm:
    """One matrix multiply on one GPU: ``[M, K] × [K, N]`` with weights in ``fmt``.

    Expert GEMMs are grouped: ``M`` is the token-expert pairs landing on this GPU, ``N``/``K``
    one expert's slice. ``flops`` is the useful ``2·M·N·K``; the time of a grouped expert GEMM
    is charged for its rows padded to the kernel's M tile (:mod:`.grouped_gemm`)."""

    name: str
    m: float
    n: float
    k: float
    fmt: DType

    @property
    def flops(self) -> float:
        return 2.0 * self.m * self.n * self.k


def spec_field(specs: LayerSpecs, name: str, default: Any) -> Any:
    """A spec field of the layer, ``default`` where its class has no such field: asked of the
    class's fields, because a missing attribute on a pydantic model costs an exception (and
    cost models are built once per estimate; ``__pydantic_fields__`` is the dict
    ``model_fields`` returns, without the property's indirection)."""
    return getattr(specs, name) if name in type(specs).__pydantic_fields__ else default


def op_kinds(ops: tuple[Op, ...]) -> frozenset[str]:
    """What a layer is made of, for choosing its cost model: ``attention:gqa``,
    ``attention:mla``, ``router``, ``logits``, ``pooled``, ``lookup``, ``norm``, ``linear``."""
    kinds: set[str] = set()
    for op in ops:
        if isinstance(op, AttentionCore):
            kinds.add("attention:sparse" if op.index_heads else f"attention:{op.kind}")
        elif isinstance(op, RecurrentCore):
            kinds.add("recurrent")
        elif isinstance(op, Router):
            kinds.add("router")
        elif isinstance(op, Linear):
            kinds.add({"logit": "logits", "sequence": "pooled"}.get(op.rows, "linear"))
        elif isinstance(op, Embedding):
            kinds.add("lookup")
        elif isinstance(op, Norm):
            kinds.add("norm")
    return frozenset(kinds)


def _attention_format(ctx: CostContext, own: DType) -> DType:
    """Attention's projections: the user's ``attention_dtype``; else ``weight_dtype`` unless it
    is a 4-bit GEMM format (ModelOpt's NVFP4 recipe and gpt-oss's MXFP4 keep attention
    unquantized); else the checkpoint's own format."""
    if ctx.attention_dtype is not None:
        return ctx.attention_dtype
    if ctx.weight_dtype is not None and ctx.weight_dtype.bits > 4:
        return ctx.weight_dtype
    return own


class PlacedOps:
    """ONE instance's ops on one GPU of ``ctx.plan``, each in the format of its role.

    ``tied_format``: the format of the matrix a tied Linear shares (the embedding's)."""

    def __init__(self, specs: LayerSpecs, ctx: CostContext, tied_format: DType | None = None):
        self.specs, self.ctx = specs, ctx
        self.ops = specs.ops()
        own = dtype(specs.weight_dtype) if specs.weight_dtype else ctx.default_dtype
        dense = ctx.weight_dtype or own
        if any(isinstance(op, AttentionCore) for op in self.ops):
            dense = _attention_format(ctx, own)
        self.formats: dict[str, DType] = {
            "dense": dense,
            "expert": ctx.moe_dtype or own,
            "router": ctx.default_dtype,
            "own": own,
        }
        # Shared experts: dense weights, stored as the layer says unless a sub-part format is
        # given (Kimi-K2.5: int4 routed experts beside bf16 shared experts).
        shared = spec_field(specs, "shared_expert_weight_dtype", None)
        self.formats["shared"] = ctx.weight_dtype or (dtype(shared) if shared else own)
        self.tied_format = tied_format or own
        self.linears = [op for op in self.ops if isinstance(op, Linear)]
        self._stored_bytes: float | None = None
        self._row_outputs = [op.out_features for op in self.linears if op.shard == "row"]
        self._tp, self._sp = ctx.plan.tp, ctx.plan.sp
        self._act_bpe = ctx.activation_dtype.bytes_per_element

    def format_of(self, op: Op) -> DType:
        if isinstance(op, Linear) and op.tied:
            return self.tied_format
        return self.formats[getattr(op, "fmt", "own")]

    def local_params(self, op: Op) -> float:
        return local_params(op, self.ctx.plan)

    def stored_weight_bytes(self) -> float:
        """Bytes of this instance's weights on one GPU (every op, in its format; computed once:
        every step reads them)."""
        if self._stored_bytes is None:
            self._stored_bytes = sum(
                self.format_of(op).nbytes(self.local_params(op)) for op in self.ops
            )
        return self._stored_bytes

    def stored_params(self, fmt_role: str) -> float:
        """Per-GPU parameters of the ops stored in one format role (experts: all local ones)."""
        return sum(self.local_params(op) for op in self.ops if getattr(op, "fmt", "") == fmt_role)

    def matmul_weights(self, rows: str = "token", experts: bool = False) -> float:
        """Weight elements on this GPU one row multiplies through: the non-expert Linears on
        ``rows`` (``token``/``logit``/``sequence``), or one expert's slice (``experts``)."""
        total = 0.0
        for op in self.linears:
            if (op.shard == "expert") != experts or (not experts and op.rows != rows):
                continue
            k, n = local_features(op, self.ctx.plan)
            total += k * n
        return total

    def timed_matmul_weights(self, rows: str = "token") -> float:
        """:meth:`matmul_weights` of the non-expert Linears on ``rows`` with each matrix
        divided by its dense K-loop efficiency in the format it runs at (:mod:`.k_loop`):
        ``2 · rows · this`` is the work their time is charged for."""
        plan, ctx = self.ctx.plan, self.ctx
        return timed_weights(
            (
                *local_features(op, plan),
                DENSE_K0_BYTES / ctx.run_format_bytes(self.format_of(op)),
            )
            for op in self.linears
            if op.shard != "expert" and op.rows == rows
        )

    def local_out(self, op: Linear) -> float:
        return local_features(op, self.ctx.plan)[1]

    def gemms(self, rows: dict[str, float]) -> list[Gemm]:
        """GEMM shapes of one step: ``rows`` maps ``token``/``logit``/``sequence``/``expert``
        to the M of the Linears on those rows (``expert``: token-expert pairs on this GPU)."""
        out = []
        for op in self.linears:
            kind = "expert" if op.shard == "expert" else op.rows
            m = rows.get(kind, 0.0)
            if m > 0:
                k, n = local_features(op, self.ctx.plan)
                out.append(Gemm(op.name, m, n, k, self.format_of(op)))
        return out

    def reduce_partial_sums(self, price: Price, comm: float, tokens: float) -> float:
        """``comm`` plus the TP reduction of each row-parallel Linear's output for ``tokens``
        rows: an all-reduce, or reduce-scatter + all-gather under sequence parallelism."""
        tp = self._tp
        if tp <= 1:
            return comm
        per_element = self._act_bpe
        if self._sp:
            for width in self._row_outputs:
                comm = tp_reduce(price, comm, tp, tokens * width * per_element, True)
            return comm
        for width in self._row_outputs:  # tp_reduce's all-reduce, without the call
            comm += price("all_reduce", tp, tokens * width * per_element)
        return comm


class OpsCost:
    """Base of the cost models: ONE instance's ops placed on a GPU (``self.placed``), their
    stored bytes, and the GEMMs (M, N, K, format) of a step from the rows each kind of Linear
    multiplies (``_gemm_rows``; their FLOPs sum to the step's ``matmul_flops``). A layer with
    a KV cache overrides ``kv_bytes_per_token`` and ``kv_window``."""

    specs: Any
    matmul_dtype: DType | None = None
    """Weight format of the layer's matmuls (decides which peak they run at)."""

    def __init__(self, specs: LayerSpecs, ctx: CostContext, tied_format: DType | None = None):
        self.specs, self.ctx = specs, ctx
        self.placed = PlacedOps(specs, ctx, tied_format)

    def stored_weight_bytes(self) -> float:
        return self.placed.stored_weight_bytes()

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        """One instance's step as plain floats, its collectives priced by ``price`` (the
        solver's path: no records built); ``tokens``: ``ctx.local_tokens(shape)``, the same
        for every layer of the step, so the timer computes it once."""
        raise NotImplementedError

    def step_cost(self, shape: StepShape) -> LayerCost:
        """One instance's step as a record, with the collectives it issues (reports, tests):
        :meth:`step_terms` with a price that records each collective."""
        collectives: list[Collective] = []

        def record(kind: Any, group_size: int, nbytes: float) -> float:
            collectives.append(Collective(kind, group_size, nbytes))
            return 0.0

        tokens = self.ctx.local_tokens(shape)
        matmul, attention, weights, kv, activations, _ = self.step_terms(shape, tokens, record)
        useful = self.useful_matmul_flops(shape, tokens)
        return LayerCost(
            matmul_flops=matmul if useful is None else useful,
            timed_matmul_flops=None if useful is None else matmul,
            matmul_dtype=self.matmul_dtype,
            attention_flops=attention,
            weight_bytes=weights,
            kv_bytes=kv,
            activation_bytes=activations,
            collectives=collectives,
        )

    def useful_matmul_flops(self, shape: StepShape, tokens: float) -> float | None:
        """The step's useful ``2·M·N·K`` where it differs from the work :meth:`step_terms`
        times (grouped expert GEMMs pad rows, :mod:`.grouped_gemm`); ``None``: the same."""
        return None

    def kv_bytes_per_token(self) -> float:
        return 0.0

    def kv_window(self) -> int | None:
        return None

    def _gemm_rows(self, shape: StepShape) -> dict[str, float]:
        return {}

    def gemms(self, shape: StepShape) -> list[Gemm]:
        """The GEMMs (M, N, K, format) one instance runs on one GPU in this step."""
        return self.placed.gemms(self._gemm_rows(shape))


class TokenLinearsCost(OpsCost):
    """A cost model whose Linears all multiply the step's tokens (attention projections, MLPs,
    recurrent mixers): their weights one token multiplies through (``matmul_params``, the
    useful ``2·tokens·this`` a report counts) and the same at the dense K-loop efficiency
    (``matmul_timed``, what the step is charged for; :mod:`.k_loop`)."""

    def __init__(self, specs: LayerSpecs, ctx: CostContext, tied_format: DType | None = None):
        super().__init__(specs, ctx, tied_format)
        self.matmul_params = self.placed.matmul_weights()
        self.matmul_timed = self.placed.timed_matmul_weights()

    def useful_matmul_flops(self, shape: StepShape, tokens: float) -> float:
        return 2 * tokens * self.matmul_params

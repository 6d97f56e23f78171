"""Stage 2 of an estimate — admit: how many requests the engine holds at once, and the memory.

One rule for estimate, reconcile and calibration: the memory plan (:mod:`.memory`) at the
step the load implies, the largest concurrency whose KV cache fits, and what the engine admits
(KV capacity or its batch cap). Requests beyond that wait outside and their wait is in TTFT.

Placement under load (see :mod:`infercast.layers.base`): a request lives on one attention-DP
rank, or on ``cp`` of them with context parallelism. An estimate whose admitted requests ``C``
are fewer than ``dp`` re-times the deployment with ``C`` known, so a lone long prompt runs on
``min(dp, cp·C)`` ranks — which is what context parallelism buys. Memory is that of the
busiest GPU: its activations are those of ``step_tokens / min(dp, cp·C)`` tokens, and with
``cp > 1`` each GPU holds ``1/cp`` of the KV cache of ``cp·C / min(dp, cp·C)`` sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from infercast.deployment import Workload
from infercast.engines import Engine
from infercast.estimation.checks import check_context, context_limit
from infercast.estimation.memory import MemoryPlan, plan_memory
from infercast.estimation.resolve import Resolved
from infercast.estimation.timing import StepTimer
from infercast.parallel import ParallelPlan

__all__ = ["Admission", "admit", "loaded_timer"]


@dataclass(frozen=True)
class Admission:
    memory: MemoryPlan
    max_concurrency: int
    """Largest concurrency whose KV cache fits (0: no room for any)."""
    cap: int
    """Sequences the engine runs at once (the requested concurrency when nothing fits, so the
    timings assume the memory existed)."""
    timer: StepTimer
    """The step timer for the admitted load."""
    kv_sequences_per_gpu: float
    """Sequences whose KV (``1/cp`` of each) the busiest GPU holds."""

    @property
    def kv_bytes(self) -> float:
        return self.memory.kv_bytes(self.kv_sequences_per_gpu)

    @property
    def state_bytes(self) -> float:
        """Recurrent state (linear-attention / SSM layers) of the sequences held."""
        return self.memory.state_bytes(self.kv_sequences_per_gpu)


def _busiest_step_tokens(plan: ParallelPlan, step_tokens: float, concurrency: int) -> float:
    """``step_tokens`` scaled so that :func:`plan_memory`'s ``step_tokens / dp`` is what the
    busiest GPU holds: ``step_tokens / min(dp, cp·C)``."""
    return step_tokens * plan.dp / plan.token_ranks(concurrency)


def loaded_timer(resolved: Resolved, admitted: int) -> StepTimer:
    """The prepared timer when the admitted requests fill every DP rank's pipeline, else one
    whose cost models know the load (built once per estimate)."""
    if admitted >= resolved.plan.dp * resolved.plan.pp:
        return resolved.timer
    ctx = replace(resolved.ctx, concurrency=float(admitted))
    return StepTimer(resolved.spec, resolved.hardware, ctx, resolved.params)


def _kv_sequences_per_gpu(plan: ParallelPlan, admitted: float) -> float:
    """``cp·C / min(dp, cp·C)``."""
    if admitted <= 0:
        return 0.0
    return plan.cp * admitted / plan.token_ranks(admitted)


def held_context(engine: Engine, isl: int, osl: int) -> int:
    """Tokens of KV a sequence holds for admission: its whole ``isl + osl`` for an engine that
    reserves at admission (TensorRT-LLM's capacity scheduler); the mean over its life,
    ``isl + ⌈osl/2⌉``, for one that pages KV on demand (vLLM, SGLang): the engine's
    ``kv_on_demand``."""
    return isl + (osl + 1) // 2 if engine.kv_on_demand else isl + osl


def _seqs_cap(engine: Engine, mem: MemoryPlan, held: int, resolved: Resolved) -> int | None:
    """The running-request cap of an engine that sizes it from its KV pool (SGLang), from the
    pool's tokens on one GPU (its free memory over the KV bytes of one held token) and the
    model's context; ``None`` for an engine with a fixed cap."""
    if engine.running_requests_from_pool is None:
        return None
    per_token = mem.kv_bytes_per_sequence / held if held > 0 else 0.0
    free = max(mem.free_for_kv(), 0.0)
    pool_tokens = free / per_token if per_token > 0 else float(1 << 40)
    return engine.seqs_cap(pool_tokens, context_limit(resolved.spec))


def _plan_at(resolved: Resolved, isl: int, held: int, load: int) -> tuple[MemoryPlan, int, int]:
    """Memory plan, KV-limited concurrency and engine cap when ``load`` requests run: the
    step's activations and logit rows are those of the running requests only."""
    plan, engine = resolved.plan, resolved.params.framework
    mem = plan_memory(
        resolved.timer,
        held,
        _busiest_step_tokens(plan, engine.step_tokens(isl, load), load),
        min(load, engine.max_num_seqs),
    )
    # Each sequence's KV is split over cp GPUs: a GPU's room for per_gpu_seqs shards serves
    # per_gpu_seqs·dp/cp sequences over the replica.
    max_concurrency = min(mem.max_sequences_per_gpu() * plan.dp // plan.cp, 10**9)
    cap = load  # nothing fits: the timings assume the memory existed
    if max_concurrency:
        per_instance = _seqs_cap(engine, mem, held, resolved)
        cap = min(max_concurrency, engine.batch_cap(plan.dp, per_instance))
    return mem, max_concurrency, cap


_SETTLE_STEPS = 4
"""Rounds of re-planning an overloaded deployment at its admitted load (the activations shrink
when fewer requests run, so the KV room grows; two rounds settle the observed cases)."""


def admit(resolved: Resolved, workload: Workload) -> Admission:
    """The memory plan and the admitted load of ``workload`` (osl already as estimated).

    Requests beyond what the engine admits wait outside it and hold no GPU memory, so an
    overloaded deployment is planned at its admitted load: the largest load ``a ≤ C`` found
    whose own plan admits ``a``, starting from what the plan at ``C`` admits (always such a
    load, as fewer running requests never need more memory)."""
    plan = resolved.plan
    isl, osl, concurrency = workload.isl, workload.osl, workload.concurrency
    check_context(resolved.spec, isl, osl)
    held = held_context(resolved.params.framework, isl, osl)
    mem, max_concurrency, cap = _plan_at(resolved, isl, held, concurrency)
    load = min(concurrency, cap)
    if max_concurrency and load < concurrency:
        mem, max_concurrency, cap = _plan_at(resolved, isl, held, load)
        for _ in range(_SETTLE_STEPS):
            more = min(concurrency, cap)
            if more <= load:
                break
            trial = _plan_at(resolved, isl, held, more)
            if trial[2] < more:  # planned at ``more``, it admits fewer: keep ``load``
                break
            load, (mem, max_concurrency, cap) = more, trial
    timer = loaded_timer(resolved, max(1, min(concurrency, cap)))
    seqs = _kv_sequences_per_gpu(plan, min(concurrency, cap))
    return Admission(mem, max_concurrency, cap, timer, seqs)

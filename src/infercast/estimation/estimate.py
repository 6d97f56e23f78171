"""``infercast.estimate``: one deployment → what a closed-loop benchmark would measure.

Resolves ids, formats and parameters, validates the plan against the model, then combines the
memory plan (:mod:`.memory`), the step timer (:mod:`.timing`) and the closed-loop steady state
(:mod:`.serving`) into an :class:`~infercast.estimation.result.EstimateResult`.

Placement under load (see :mod:`infercast.layers.base`): a request lives on one attention-DP
rank, or on ``cp`` of them with context parallelism. :func:`prepare` builds the cost models for
a load that fills every DP rank; an estimate whose admitted requests ``C`` are fewer than ``dp``
re-times the deployment with ``C`` known, so a lone long prompt runs on ``min(dp, cp·C)``
ranks — which is what context parallelism buys. Memory is that of the busiest GPU: its
activations are those of ``step_tokens / min(dp, cp·C)`` tokens, and with ``cp > 1`` each GPU
holds ``1/cp`` of the KV cache of ``cp·C / min(dp, cp·C)`` sequences.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from infercast.dtypes import DType, UnknownDTypeError, dtype
from infercast.errors import InvalidInputError
from infercast.estimation.checks import check_load
from infercast.estimation.memory import MemoryPlan, plan_memory
from infercast.estimation.params import ModelParams, resolve_params
from infercast.estimation.result import (
    DTypeChoice,
    EstimateRequest,
    EstimateResult,
    LayerBreakdown,
    LayerPhaseCost,
    MemoryBreakdown,
    PhaseSummary,
    PlanSummary,
)
from infercast.estimation.serving import ServingPoint, solve_closed_loop
from infercast.estimation.timing import LayerTiming, StepTimer, StepTiming
from infercast.estimation.verdict import serving_verdict
from infercast.hardware import Hardware, get_hardware
from infercast.layers import CostContext, StepShape
from infercast.parallel import ParallelPlan
from infercast.specs.registry import Registry, default_registry
from infercast.specs.schema import ModelSpec

__all__ = ["Deployment", "estimate", "estimate_request", "prepare"]

_GB = 1e9


def _format(name: str | None, role: str) -> DType | None:
    if name is None:
        return None
    try:
        return dtype(name)
    except UnknownDTypeError as exc:
        raise InvalidInputError(f"{role}: {exc}") from None


def _checkpoint_default(spec: ModelSpec) -> DType:
    """The format of layers whose spec names none: bf16 (what checkpoints store)."""
    return dtype("bf16")


def _moe_checkpoint_dtype(spec: ModelSpec) -> str | None:
    for lt in spec.moe_entries:
        if lt.layer_specs.weight_dtype:
            return str(lt.layer_specs.weight_dtype)
    return None


def _dense_checkpoint_dtype(spec: ModelSpec) -> str:
    """The stored format of the first attention or dense FFN entry that names one."""
    moe = {id(lt) for lt in spec.moe_entries}
    for lt in spec.layer_types:
        role = lt.layer_specs.role
        if role in ("attention", "ffn") and id(lt) not in moe and lt.layer_specs.weight_dtype:
            return str(lt.layer_specs.weight_dtype)
    return "bf16"


@dataclass
class Deployment:
    """Everything resolved for one estimate (shared by estimate, layers and the API)."""

    spec: ModelSpec
    hardware: Hardware
    plan: ParallelPlan
    ctx: CostContext
    params: ModelParams
    timer: StepTimer
    notes: list[str]
    dtypes: DTypeChoice


def _resolve_model(model: str | ModelSpec, registry: Registry | None) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    if not isinstance(model, str) or not model.strip():
        raise InvalidInputError("model: give a model id (model_id or Hugging Face id)")
    return (registry or default_registry()).get(model)


def prepare(
    model: str | ModelSpec,
    hardware: str | Hardware,
    *,
    gpus: int | None = None,
    tp: int = 1,
    dp: int = 1,
    pp: int = 1,
    ep: int = 1,
    moe_tp: int | None = None,
    weight_dtype: str | None = None,
    moe_dtype: str | None = None,
    kv_dtype: str | None = None,
    framework: str | None = None,
    registry: Registry | None = None,
    calibration: dict[str, Any] | None = None,
    sp: bool = False,
    cp: int = 1,
) -> Deployment:
    """Resolve and validate one deployment.

    ``sp``: Megatron-style sequence parallelism within the TP group (TP all-reduces become
    reduce-scatter + all-gather, norms work on ``1/tp`` of the tokens; a no-op at ``tp = 1``).
    ``cp``: context parallelism — a sequence spread over ``cp`` of the ``dp`` attention-DP
    ranks (ring attention; ``cp`` must divide ``dp``; ``gpus = tp × dp × pp`` unchanged).
    """
    spec = _resolve_model(model, registry)
    hw = hardware if isinstance(hardware, Hardware) else get_hardware(hardware)
    plan = ParallelPlan.build(
        tp=tp, dp=dp, pp=pp, ep=ep, moe_tp=moe_tp, gpus=gpus, cp=cp, sequence_parallel=sp
    )
    plan.validate_for(spec)
    weights = _format(weight_dtype, "weight_dtype")
    experts = _format(moe_dtype, "moe_dtype")
    if experts is not None and not spec.is_moe:
        raise InvalidInputError(f"moe_dtype: {spec.hf_model_id} has no MoE layers")
    if experts is None and spec.is_moe:
        experts = weights  # weight_dtype sets every weight; moe_dtype overrides the experts
    kv = _format(kv_dtype, "kv_dtype") or dtype("bf16")
    if kv.name in ("int4", "mxfp4", "nvfp4"):
        raise InvalidInputError(
            f"kv_dtype: {kv.name} KV caches are not supported (use bf16 or fp8)"
        )
    activation = dtype("bf16")
    ctx = CostContext(plan, weights, experts, kv, activation, _checkpoint_default(spec))
    params, notes = resolve_params(hw, framework, calibration)
    timer = StepTimer(spec, hw, ctx, params)
    moe_used = (
        (experts.name if experts else _moe_checkpoint_dtype(spec) or "bf16")
        if spec.is_moe
        else None
    )
    choice = DTypeChoice(
        weight_dtype=weights.name if weights else _dense_checkpoint_dtype(spec),
        moe_dtype=moe_used,
        kv_dtype=kv.name,
        activation_dtype=activation.name,
    )
    for role, name in (("dense weights", choice.weight_dtype), ("experts", moe_used)):
        if name:
            fmt = dtype(name)
            used = timer.compute_class_used(fmt)
            if used != fmt.compute_class:
                notes.append(
                    f"{role} in {name}: {hw.id} has no {fmt.compute_class} tensor cores, "
                    f"matmuls run weight-only at {used}"
                )
    if plan.kv_replicated(_min_kv_heads(spec)):
        notes.append(f"tp={plan.tp} exceeds the KV heads: each GPU holds a replicated KV head")
    if plan.sequence_parallel and plan.tp == 1:
        notes.append(
            "sp: sequence parallelism splits activations over the TP group; at tp=1 it "
            "changes nothing"
        )
    elif plan.sp:
        notes.append(
            f"sequence parallelism over tp={plan.tp}: each TP all-reduce runs as a "
            "reduce-scatter + all-gather (same bytes); norms and their activations work on "
            f"1/{plan.tp} of the tokens"
        )
    if plan.cp > 1:
        notes.append(
            f"context parallelism cp={plan.cp}: a sequence is spread over {plan.cp} of the "
            f"{plan.dp} DP ranks (ring attention; the K/V ring is charged without overlap), "
            f"each holding 1/{plan.cp} of its KV cache; decode combines the partial softmax "
            f"results across the {plan.cp} ranks"
        )
    return Deployment(spec, hw, plan, ctx, params, timer, notes, choice)


def _min_kv_heads(spec: ModelSpec) -> int:
    cores = [lt.layer_specs.attention_core() for lt in spec.layer_types]
    known = [core.kv_heads for core in cores if core is not None]
    return min(known) if known else 10**9


def _phase_cost(t: LayerTiming) -> LayerPhaseCost:
    c = t.cost
    n = t.count
    return LayerPhaseCost(
        flops_per_gpu=c.flops * n,
        weight_bytes_per_gpu=c.weight_bytes * n,
        kv_bytes_per_gpu=c.kv_bytes * n,
        activation_bytes_per_gpu=c.activation_bytes * n,
        communication_bytes_per_gpu=c.communication_bytes * n,
        compute_ms=t.compute_s * 1e3,
        memory_ms=t.memory_s * 1e3,
        communication_ms=t.communication_s * 1e3,
        time_ms=t.time_s * 1e3,
        bound=t.bound,  # type: ignore[arg-type]
    )


def _phase_summary(step: StepTiming, tokens: float) -> PhaseSummary:
    flops = sum(t.cost.flops * t.count for t in step.layers)
    memory = sum(t.cost.memory_bytes * t.count for t in step.layers)
    comm = sum(t.cost.communication_bytes * t.count for t in step.layers)
    return PhaseSummary(
        time_ms=step.time_s * 1e3,
        flops_per_gpu=flops,
        memory_bytes_per_gpu=memory,
        communication_bytes_per_gpu=comm,
        bottleneck=step.bottleneck,  # type: ignore[arg-type]
        batch_tokens=round(tokens),
    )


def _fit_reason(mem: MemoryPlan, kv_bytes: float, fits: bool, seqs: float, cp: int = 1) -> str:
    held = f"{seqs:g} sequences" if cp == 1 else f"1/{cp} of {seqs:g} sequences"
    parts = (
        f"weights {mem.weights_bytes / _GB:.1f} GB + KV {kv_bytes / _GB:.1f} GB "
        f"({held}) + activations {mem.activations_bytes / _GB:.1f} GB + reserve "
        f"{mem.reserve_bytes / _GB:.1f} GB = "
        f"{(mem.weights_bytes + kv_bytes + mem.activations_bytes + mem.reserve_bytes) / _GB:.1f} GB"
    )
    cap = f"{mem.capacity_bytes / _GB:.0f} GB"
    if fits:
        return f"fits: {parts} ≤ {cap} per GPU"
    if mem.weights_bytes > mem.capacity_bytes:
        weights_gb = mem.weights_bytes / _GB
        return f"does not fit: the weights alone ({weights_gb:.1f} GB) exceed {cap} per GPU"
    if mem.free_for_kv() <= 0:
        return (
            f"does not fit: weights, activations and reserve leave no room for a KV cache in {cap}"
        )
    return f"does not fit: {parts} > {cap} per GPU"


def _efficiency_note(dep: Deployment) -> str:
    eff = dep.params.efficiency
    moe = f", MoE GEMMs {eff.moe_compute:.2f}" if dep.spec.is_moe else ""
    return (
        f"efficiencies: {dep.params.source}; compute {eff.compute:.2f}{moe}, "
        f"HBM {eff.memory_bandwidth:.2f}, collectives {eff.collective:.2f} (fractions of peak); "
        f"overheads {eff.step_overhead_s * 1e3:.2f} ms per step, "
        f"{eff.layer_overhead_s * 1e6:.1f} us per layer, "
        f"{eff.request_overhead_s * 1e3:.1f} ms per request; "
        f"arrival burstiness {dep.params.burstiness:.2f}"
    )


def estimate_request(
    request: EstimateRequest,
    *,
    registry: Registry | None = None,
    calibration: dict[str, Any] | None = None,
) -> EstimateResult:
    dep = prepare(
        request.model,
        request.hardware,
        gpus=request.gpus,
        tp=request.tp,
        dp=request.dp,
        pp=request.pp,
        ep=request.ep,
        moe_tp=request.moe_tp,
        weight_dtype=request.weight_dtype,
        moe_dtype=request.moe_dtype,
        kv_dtype=request.kv_dtype,
        framework=request.framework,
        registry=registry,
        calibration=calibration,
        sp=request.sp,
        cp=request.cp,
    )
    return _estimate(dep, request.isl, request.osl, request.concurrency)


def _busiest_step_tokens(plan: ParallelPlan, step_tokens: float, concurrency: int) -> float:
    """``step_tokens`` scaled so that :func:`plan_memory`'s ``step_tokens / dp`` is what the
    busiest GPU holds: ``step_tokens / min(dp, cp·C)``."""
    return step_tokens * plan.dp / plan.token_ranks(concurrency)


def _loaded_timer(dep: Deployment, admitted: int) -> StepTimer:
    """The step timer for ``admitted`` requests in flight: the prepared one when they fill
    every DP rank, else one whose cost models know the load (built once per estimate)."""
    if admitted >= dep.plan.dp:
        return dep.timer
    ctx = replace(dep.ctx, concurrency=float(admitted))
    return StepTimer(dep.spec, dep.hardware, ctx, dep.params)


def _kv_sequences_per_gpu(plan: ParallelPlan, admitted: float) -> float:
    """Sequences whose KV (``1/cp`` of each) the busiest GPU holds: ``cp·C / min(dp, cp·C)``."""
    if admitted <= 0:
        return 0.0
    return plan.cp * admitted / plan.token_ranks(admitted)


def _admission(
    dep: Deployment, isl: int, osl: int, concurrency: int
) -> tuple[MemoryPlan, int, int]:
    """Memory plan, the largest concurrency whose KV cache fits, and how many sequences the
    engine admits at once (KV capacity or its batch cap) — one rule for estimate and reconcile.
    """
    plan = dep.plan
    budget = dep.params.framework.max_num_batched_tokens
    # A step holds a full token budget once prompts queue; a lone request one chunk of its
    # prompt (chunked prefill: at most the budget, however long the prompt).
    step_tokens = float(budget if concurrency > 1 else min(isl, budget))
    mem = plan_memory(
        dep.timer,
        isl + osl,
        _busiest_step_tokens(plan, step_tokens, concurrency),
        min(concurrency, dep.params.framework.max_num_seqs),
    )
    # Each sequence's KV is split over cp GPUs: a GPU's room for per_gpu_seqs shards serves
    # per_gpu_seqs·dp/cp sequences over the replica.
    max_concurrency = min(mem.max_sequences_per_gpu() * plan.dp // plan.cp, 10**9)
    cap = min(max_concurrency, dep.params.framework.max_num_seqs * plan.dp)
    return mem, max_concurrency, cap


def _estimate(dep: Deployment, isl: int, osl: int, concurrency: int) -> EstimateResult:
    spec, plan = dep.spec, dep.plan
    check_load(spec, isl, osl)
    notes = list(dep.notes)
    encoder = spec.is_encoder_only
    if encoder and osl > 0:
        notes.append(f"{spec.hf_model_id} is an encoder: no decode phase, osl ignored")
        osl = 0
    budget = dep.params.framework.max_num_batched_tokens
    mem, max_concurrency, cap = _admission(dep, isl, osl, concurrency)
    if max_concurrency == 0:
        notes.append("no room for the KV cache: timings assume the memory existed")
        cap = concurrency
    elif concurrency > cap:
        notes.append(
            f"only {cap} of the {concurrency} requests fit in the engine at once "
            f"({'KV-cache capacity' if cap == max_concurrency else 'batch cap'}); the rest queue "
            "and their wait is in TTFT"
        )
    admitted = max(1, min(concurrency, cap))
    timer = _loaded_timer(dep, admitted)
    point = solve_closed_loop(timer, isl, max(osl, 1), concurrency, budget, cap)
    seqs_per_gpu = _kv_sequences_per_gpu(plan, min(concurrency, cap))
    kv_bytes = mem.kv_bytes(seqs_per_gpu)
    total = mem.weights_bytes + kv_bytes + mem.activations_bytes + mem.reserve_bytes
    fits = total <= mem.capacity_bytes
    gpus = plan.gpus
    x = point.requests_per_s
    fit_reason = _fit_reason(mem, kv_bytes, fits, seqs_per_gpu, plan.cp)
    verdict = serving_verdict(
        fits=fits,
        fit_reason=fit_reason,
        concurrency=concurrency,
        max_concurrency=max_concurrency,
        engine_cap=dep.params.framework.max_num_seqs * plan.dp,
        requests_per_s=x,
    )
    tpot_ms = None if encoder else point.tpot_s * 1e3
    out_tokens = 0 if encoder else osl
    ttft_ms = point.ttft_s * 1e3
    e2e_ms = ttft_ms + (max(osl - 1, 0) * point.tpot_s * 1e3 if not encoder else 0.0)
    prefill_chunk = float(min(isl, budget))
    prefill_shape = StepShape(
        prefill_tokens=prefill_chunk,
        prefill_seqs=prefill_chunk / isl,
        prefill_context=(isl + 1) / 2.0,
        prefill_chunk=prefill_chunk,
    )
    prefill_step = timer.step_time(prefill_shape, detail=True)
    decode_step = None
    if not encoder:
        decode_step = timer.step_time(
            StepShape(decode_seqs=max(point.decode_seqs, 1.0), decode_context=isl + osl / 2.0),
            detail=True,
        )
    layers = []
    decode_layers = decode_step.layers if decode_step else [None] * len(prefill_step.layers)
    for pre, dec in zip(prefill_step.layers, decode_layers, strict=True):
        layers.append(
            LayerBreakdown(
                name=pre.name,
                layer_class=pre.layer_class,
                count=pre.count,
                weight_dtype=pre.cost.matmul_dtype.name if pre.cost.matmul_dtype else None,
                prefill=_phase_cost(pre),
                decode=_phase_cost(dec) if dec is not None else None,
            )
        )
    bottleneck = {"prefill": prefill_step.bottleneck}
    if decode_step is not None:
        bottleneck["decode"] = decode_step.bottleneck
    notes.append(_efficiency_note(dep))
    return EstimateResult(
        model_id=spec.model_id,
        hardware_id=dep.hardware.id,
        framework=dep.params.framework.name,
        plan=PlanSummary(
            gpus=gpus,
            tp=plan.tp,
            dp=plan.dp,
            pp=plan.pp,
            moe_tp=plan.moe_tp,
            ep=plan.ep,
            sp=plan.sp,
            cp=plan.cp,
            kv_heads_replicated=plan.kv_replicated(_min_kv_heads(spec)),
        ),
        dtypes=dep.dtypes,
        isl=isl,
        osl=osl,
        concurrency=concurrency,
        ttft_ms=ttft_ms,
        tpot_ms=tpot_ms,
        e2e_latency_ms=e2e_ms,
        output_tokens_per_s_per_gpu=x * out_tokens / gpus,
        total_tokens_per_s_per_gpu=x * (isl + out_tokens) / gpus,
        tokens_per_s_per_user=(1e3 / tpot_ms) if tpot_ms else 0.0,
        requests_per_s=x,
        memory_per_gpu_bytes=total,
        memory=MemoryBreakdown(
            weights_bytes=mem.weights_bytes,
            kv_cache_bytes=kv_bytes,
            activations_bytes=mem.activations_bytes,
            reserve_bytes=mem.reserve_bytes,
            total_bytes=total,
            capacity_bytes=mem.capacity_bytes,
        ),
        fits=fits,
        fit_reason=fit_reason,
        max_concurrency=max_concurrency,
        admitted_concurrency=verdict.admitted_concurrency,
        verdict=verdict.state,
        verdict_reason=verdict.reason,
        queue_wait_ms=verdict.queue_wait_ms,
        bottleneck=bottleneck,  # type: ignore[arg-type]
        prefill=_phase_summary(prefill_step, prefill_chunk),
        decode=_phase_summary(decode_step, point.decode_seqs) if decode_step else None,
        layers=layers,
        notes=notes,
    )


def estimate(
    model: str | ModelSpec,
    hardware: str | Hardware,
    gpus: int | None = None,
    tp: int = 1,
    dp: int = 1,
    pp: int = 1,
    ep: int = 1,
    moe_tp: int | None = None,
    weight_dtype: str | None = None,
    moe_dtype: str | None = None,
    kv_dtype: str | None = None,
    framework: str | None = None,
    *,
    isl: int,
    osl: int,
    concurrency: int,
    models_dirs: Iterable[str | Path] | None = None,
    sp: bool = False,
    cp: int = 1,
) -> EstimateResult:
    """Predict TTFT, TPOT, throughput and memory of serving ``model`` on ``hardware``.

    ``sp`` (sequence parallelism in the TP group) and ``cp`` (context parallelism over ``cp`` of
    the ``dp`` ranks, for long prefills) are described in :func:`prepare`.
    """
    for name, value, low in (("isl", isl, 1), ("osl", osl, 0), ("concurrency", concurrency, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InvalidInputError(f"{name} must be an integer ≥ {low}, got {value!r}")
    registry = Registry.load(models_dirs) if models_dirs else None
    dep = prepare(
        model,
        hardware,
        gpus=gpus,
        tp=tp,
        dp=dp,
        pp=pp,
        ep=ep,
        moe_tp=moe_tp,
        weight_dtype=weight_dtype,
        moe_dtype=moe_dtype,
        kv_dtype=kv_dtype,
        framework=framework,
        registry=registry,
        sp=sp,
        cp=cp,
    )
    return _estimate(dep, isl, osl, concurrency)


def serving_point(dep: Deployment, isl: int, osl: int, concurrency: int) -> ServingPoint:
    """The raw steady state (for calibration, which needs no result object)."""
    budget = dep.params.framework.max_num_batched_tokens
    _, max_concurrency, cap = _admission(dep, isl, osl, concurrency)
    if max_concurrency == 0:
        cap = concurrency
    timer = _loaded_timer(dep, max(1, min(concurrency, cap)))
    return solve_closed_loop(timer, isl, max(osl, 1), concurrency, budget, cap)

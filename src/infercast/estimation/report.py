"""Stage 4 of an estimate — report: the serving metrics, the fit verdict and the result.

:func:`metrics` is the one definition of what a serving point means to a benchmark (TTFT,
TPOT, latency, throughput per GPU), used by estimate, reconcile and calibration alike;
:func:`fit_verdict` says whether a deployment fits, queues or does not fit, what limits it
and by how much (clients render it; ``fit_reason`` is the same in words).
"""

from __future__ import annotations

from dataclasses import dataclass

from infercast.deployment import Workload
from infercast.dtypes import dtype
from infercast.estimation.admit import Admission
from infercast.estimation.memory import MemoryPlan
from infercast.estimation.plan_checks import unsupported_reasons
from infercast.estimation.resolve import Resolved, min_kv_heads
from infercast.estimation.result import (
    DTypeChoice,
    EstimateResult,
    FitVerdict,
    LayerBreakdown,
    LayerPhaseCost,
    MemoryBreakdown,
    PhaseSummary,
    PlanSummary,
)
from infercast.estimation.serving import ServingPoint
from infercast.estimation.timing import LayerTiming, StepTiming
from infercast.layers import StepShape
from infercast.parallel import ParallelPlan

__all__ = ["ServingMetrics", "build_result", "fit_verdict", "metrics"]

_GB = 1e9


@dataclass(frozen=True)
class ServingMetrics:
    """What a closed-loop benchmark of a serving point measures."""

    ttft_ms: float
    tpot_ms: float | None
    """None for an encoder (no decode phase)."""
    e2e_latency_ms: float
    output_tokens_per_s_per_gpu: float
    total_tokens_per_s_per_gpu: float
    tokens_per_s_per_user: float
    requests_per_s: float


def metrics(
    point: ServingPoint, workload: Workload, gpus: int, encoder: bool = False
) -> ServingMetrics:
    """Benchmark figures of ``point``: an encoder produces no output tokens and has no TPOT."""
    x = point.requests_per_s
    osl = 0 if encoder else workload.osl
    tpot_ms = None if encoder else point.tpot_s * 1e3
    ttft_ms = point.ttft_s * 1e3
    e2e_ms = ttft_ms + (max(osl - 1, 0) * point.tpot_s * 1e3 if not encoder else 0.0)
    return ServingMetrics(
        ttft_ms=ttft_ms,
        tpot_ms=tpot_ms,
        e2e_latency_ms=e2e_ms,
        output_tokens_per_s_per_gpu=x * osl / gpus,
        total_tokens_per_s_per_gpu=x * (workload.isl + osl) / gpus,
        tokens_per_s_per_user=(1e3 / tpot_ms) if tpot_ms else 0.0,
        requests_per_s=x,
    )


def _phase_cost(t: LayerTiming) -> LayerPhaseCost:
    c, n = t.cost, t.count
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
        bound=t.bound,
    )


def _phase_summary(step: StepTiming, tokens: float) -> PhaseSummary:
    return PhaseSummary(
        time_ms=step.time_s * 1e3,
        flops_per_gpu=sum(t.cost.flops * t.count for t in step.layers),
        memory_bytes_per_gpu=sum(t.cost.memory_bytes * t.count for t in step.layers),
        communication_bytes_per_gpu=sum(t.cost.communication_bytes * t.count for t in step.layers),
        bottleneck=step.bottleneck,
        batch_tokens=round(tokens),
    )


def _num(value: float) -> str:
    """Three significant figures, as the web page prints numbers."""
    if abs(value) >= 1e5:
        return f"{round(value):,}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{float(f'{value:.3g}'):g}"


def _smaller_formats(dtypes: DTypeChoice | None) -> tuple[str, str]:
    """The weight and KV formats worth suggesting, given those in use: a smaller format than
    the widest weights (fp8 below 16 bits, a 4-bit format below 8) and an fp8 KV cache only
    when the cache is wider; ``""`` where nothing smaller is worth saying."""
    if dtypes is None:
        return "lower-precision weights (e.g. fp8)", "an fp8 KV cache"
    widest = max(dtype(d).bits for d in (dtypes.weight_dtype, dtypes.moe_dtype) if d)
    weights = (
        "fp8 weights" if widest > 8 else "4-bit weights (e.g. nvfp4 or mxfp4)" if widest > 4 else ""
    )
    kv = "an fp8 KV cache" if dtype(dtypes.kv_dtype).bits > 8 else ""
    return weights, kv


def _options(*choices: str) -> str:
    """'a, b or c' of the non-empty choices."""
    kept = [c for c in choices if c]
    return kept[0] if len(kept) == 1 else f"{', '.join(kept[:-1])} or {kept[-1]}"


def _advice(
    admission: Admission, concurrency: int, over_bytes: float, dtypes: DTypeChoice | None = None
) -> list[str]:
    """What to change when a plan does not fit, from the largest overflowing part; formats
    are suggested only when smaller than those in use."""
    mem = admission.memory
    weights, kv = _smaller_formats(dtypes)
    lines = [f"Over by {_num(over_bytes / _GB)} GB per GPU."] if over_bytes > 0 else []
    if mem.weights_bytes > mem.capacity_bytes - mem.reserve_bytes:
        change = _options(
            "spread the weights over more GPUs (raise TP or PP)",
            f"use {weights}" if weights else "",
            "pick an accelerator with more memory",
        )
        lines.append(f"{change[0].upper()}{change[1:]}.")
    elif admission.max_concurrency <= 0:
        change = _options(
            "add GPUs (raise TP or PP)",
            f"use {weights}" if weights else "",
            f"use {kv}" if kv else "",
            "shorten the sequences",
        )
        lines.append(f"Not even one request of this length fits next to the weights: {change}.")
    elif admission.max_concurrency < concurrency:
        change = _options(
            "lower the concurrency or the sequence lengths", f"use {kv}" if kv else "", "add GPUs"
        )
        lines.append(f"At most {admission.max_concurrency} concurrent requests fit: {change}.")
    else:
        change = _options(
            "lower the concurrency or sequence lengths", f"use {kv}" if kv else "", "add GPUs"
        )
        lines.append(f"{change[0].upper()}{change[1:]}.")
    return lines


def _sentence(reason: str) -> str:
    """``fit_reason`` without its ``fits:`` / ``does not fit:`` prefix, as a sentence."""
    text = reason.strip()
    for prefix in ("fits:", "does not fit:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def plan_line(hardware_id: str, plan: ParallelPlan, moe: bool) -> str:
    """'h100 × 8 · TP2 DP4 PP1 EP8 CP2 SP': hardware, GPUs and every degree in use."""
    text = f"{hardware_id} × {plan.gpus} · TP{plan.tp} DP{plan.dp} PP{plan.pp}"
    text += f" EP{plan.ep}" if moe else ""
    text += f" CP{plan.cp}" if plan.cp > 1 else ""
    return text + (" SP" if plan.sp else "")


def _duration(ms: float) -> str:
    """A wait as people read it: milliseconds below 10 s, then seconds, then minutes (a
    queue of 640,426 ms is 10.7 min)."""
    if ms < 10_000:
        return f"{ms:,.0f} ms"
    if ms < 600_000:
        return f"{ms / 1e3:,.1f} s"
    return f"{ms / 60e3:,.1f} min"


def _queue_advice(admission: Admission, concurrency: int, limit: str, wait_ms: float) -> list[str]:
    """The wait queueing causes and what to change (the 'queues' verdict's advice)."""
    admitted, waiting = admission.cap, concurrency - admission.cap
    if limit == "kv_cache":
        held = f"the KV cache holds {admission.max_concurrency:,} sequences"
        change = (
            "add GPUs (higher tp or dp), use an 8-bit KV cache (kv_dtype fp8), use smaller "
            "weight formats, or shorten isl + osl"
        )
    else:
        held = f"the engine batches at most {admission.cap:,} sequences"
        change = "raise the engine's max_num_seqs or add DP ranks"
    return [
        f"Only {admitted:,} of {concurrency:,} requests run at once ({held}); the other "
        f"{waiting:,} wait about {_duration(wait_ms)} each for a slot (included in TTFT).",
        f"To serve {concurrency:,} at once: {change}.",
    ]


def fit_verdict(
    admission: Admission,
    concurrency: int,
    reason: str = "",
    requests_per_s: float = 0.0,
    dtypes: DTypeChoice | None = None,
) -> FitVerdict:
    """Fits / queues / does not fit, the limiting part, by how much and what to change.

    A queued request waits, by Little's law in the closed loop, ``queued / requests_per_s``
    seconds for a slot: ``concurrency`` requests cycle at ``requests_per_s``, of which
    ``admission.cap`` are in service."""
    mem, kv = admission.memory, admission.kv_bytes + admission.state_bytes
    total = mem.weights_bytes + kv + mem.activations_bytes + mem.reserve_bytes
    detail = _sentence(reason) if reason else ""
    if total > mem.capacity_bytes:
        if mem.weights_bytes > mem.capacity_bytes:
            limit = "weights"
        elif mem.free_for_kv() <= 0:
            limit = "no_kv_room"
        else:
            limit = "memory"
        return FitVerdict(
            status="does_not_fit",
            limit=limit,
            excess_bytes=total - mem.capacity_bytes,
            queued_requests=0,
            detail=detail,
            advice=_advice(admission, concurrency, total - mem.capacity_bytes, dtypes),
        )
    if admission.max_concurrency and concurrency > admission.cap:
        limit = "kv_cache" if admission.cap == admission.max_concurrency else "batch_cap"
        queued = concurrency - admission.cap
        wait_ms = 1e3 * queued / requests_per_s if requests_per_s > 0 else 0.0
        return FitVerdict(
            status="queues",
            limit=limit,
            excess_bytes=0.0,
            queued_requests=queued,
            queue_wait_ms=wait_ms,
            detail=detail,
            advice=_queue_advice(admission, concurrency, limit, wait_ms),
        )
    return FitVerdict(status="fits", limit=None, excess_bytes=0.0, queued_requests=0, detail=detail)


def fit_reason(
    mem: MemoryPlan, kv_bytes: float, fits: bool, seqs: float, cp: int = 1, state: float = 0.0
) -> str:
    """The memory sum in words (``fit_reason``); ``state``: the sequences' recurrent state."""
    noun = "sequence" if seqs == 1 else "sequences"
    held = f"{seqs:g} {noun}" if cp == 1 else f"1/{cp} of {seqs:g} {noun}"
    total = mem.weights_bytes + kv_bytes + state + mem.activations_bytes + mem.reserve_bytes
    state_part = f" + state {state / _GB:.1f} GB" if state else ""
    parts = (
        f"weights {mem.weights_bytes / _GB:.1f} GB + KV {kv_bytes / _GB:.1f} GB "
        f"({held}){state_part} + activations {mem.activations_bytes / _GB:.1f} GB + reserve "
        f"{mem.reserve_bytes / _GB:.1f} GB = {total / _GB:.1f} GB"
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


def efficiency_note(resolved: Resolved) -> str:
    eff = resolved.params.efficiency
    moe = f", MoE GEMMs {eff.moe_compute:.2f}" if resolved.spec.is_moe else ""
    return (
        f"efficiencies: {resolved.params.source}; compute {eff.compute:.2f}{moe}, "
        f"HBM {eff.memory_bandwidth:.2f}, collectives {eff.collective:.2f} (fractions of peak; "
        "the GEMM ones at large K: depth K runs at K/(K + K0) of it); "
        f"overheads {eff.step_overhead_s * 1e3:.2f} ms per step, "
        f"{eff.kernel_gap_s * 1e6:.1f} us per kernel in graphs, "
        f"{eff.eager_launch_s * 1e6:.1f} us per eager launch, "
        f"{eff.collective_latency_s * 1e6:.1f} us per collective, "
        f"{eff.request_overhead_s * 1e3:.1f} ms per request; "
        f"arrival burstiness {resolved.params.burstiness:.2f}"
    )


def _layers(prefill: StepTiming, decode: StepTiming | None) -> list[LayerBreakdown]:
    decode_layers = decode.layers if decode else [None] * len(prefill.layers)
    return [
        LayerBreakdown(
            name=pre.name,
            layer_class=pre.layer_class,
            count=pre.count,
            weight_dtype=pre.cost.matmul_dtype.name if pre.cost.matmul_dtype else None,
            prefill=_phase_cost(pre),
            decode=_phase_cost(dec) if dec is not None else None,
        )
        for pre, dec in zip(prefill.layers, decode_layers, strict=True)
    ]


def build_result(
    resolved: Resolved,
    workload: Workload,
    admission: Admission,
    point: ServingPoint,
    notes: list[str],
) -> EstimateResult:
    """The result of one estimate (``workload.osl`` as estimated: 0 for an encoder)."""
    spec, plan, timer = resolved.spec, resolved.plan, admission.timer
    encoder = spec.is_encoder_only
    isl, osl = workload.isl, workload.osl
    budget = resolved.params.framework.max_num_batched_tokens
    mem, kv_bytes, state = admission.memory, admission.kv_bytes, admission.state_bytes
    total = mem.weights_bytes + kv_bytes + state + mem.activations_bytes + mem.reserve_bytes
    fits = total <= mem.capacity_bytes
    figures = metrics(point, workload, plan.gpus, encoder)
    reason = fit_reason(mem, kv_bytes, fits, admission.kv_sequences_per_gpu, plan.cp, state)
    prefill_chunk = float(min(isl, budget))
    prefill_step = timer.step_time(
        StepShape(
            prefill_tokens=prefill_chunk,
            prefill_seqs=prefill_chunk / isl,
            prefill_context=(isl + 1) / 2.0,
            prefill_chunk=prefill_chunk,
        ),
        detail=True,
    )
    decode_step = None
    if not encoder:
        decode_step = timer.step_time(
            StepShape(decode_seqs=max(point.decode_seqs, 1.0), decode_context=isl + osl / 2.0),
            detail=True,
        )
    bottleneck = {"prefill": prefill_step.bottleneck}
    if decode_step is not None:
        bottleneck["decode"] = decode_step.bottleneck
    return EstimateResult(
        model_id=spec.model_id,
        hardware_id=resolved.hardware.id,
        framework=resolved.params.framework.name,
        plan=PlanSummary(
            gpus=plan.gpus,
            tp=plan.tp,
            dp=plan.dp,
            pp=plan.pp,
            moe_tp=plan.moe_tp,
            ep=plan.ep,
            sp=plan.sp,
            cp=plan.cp,
            kv_heads_replicated=plan.kv_replicated(min_kv_heads(spec)),
            label=plan.describe(spec.is_moe),
            line=plan_line(resolved.hardware.id, plan, spec.is_moe),
        ),
        dtypes=resolved.dtypes,
        isl=isl,
        osl=osl,
        concurrency=workload.concurrency,
        ttft_ms=figures.ttft_ms,
        tpot_ms=figures.tpot_ms,
        e2e_latency_ms=figures.e2e_latency_ms,
        output_tokens_per_s_per_gpu=figures.output_tokens_per_s_per_gpu,
        total_tokens_per_s_per_gpu=figures.total_tokens_per_s_per_gpu,
        tokens_per_s_per_user=figures.tokens_per_s_per_user,
        requests_per_s=figures.requests_per_s,
        memory_per_gpu_bytes=total,
        memory=MemoryBreakdown(
            weights_bytes=mem.weights_bytes,
            kv_cache_bytes=kv_bytes,
            state_bytes=state,
            activations_bytes=mem.activations_bytes,
            reserve_bytes=mem.reserve_bytes,
            total_bytes=total,
            capacity_bytes=mem.capacity_bytes,
        ),
        fits=fits,
        fit_reason=reason,
        fit=fit_verdict(
            admission, workload.concurrency, reason, figures.requests_per_s, resolved.dtypes
        ),
        max_concurrency=admission.max_concurrency,
        admitted_concurrency=max(0, min(workload.concurrency, admission.cap))
        if admission.max_concurrency
        else 0,
        bottleneck=bottleneck,
        prefill=_phase_summary(prefill_step, prefill_chunk),
        decode=_phase_summary(decode_step, point.decode_seqs) if decode_step else None,
        layers=_layers(prefill_step, decode_step),
        notes=notes,
        unsupported=unsupported_reasons(resolved.spec, resolved.plan, resolved.hardware),
    )

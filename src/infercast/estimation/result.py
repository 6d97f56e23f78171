"""Typed results of a serving estimate — the contract shared by the Python API, the CLI's
``--json``, and ``POST /estimate``. Every field states its unit; conventions are in
docs/PERFORMANCE_MODEL.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from infercast.deployment import FIELDS, DeploymentField

__all__ = [
    "Bottleneck",
    "DTypeChoice",
    "EstimateRequest",
    "EstimateResult",
    "FitVerdict",
    "LayerBreakdown",
    "LayerPhaseCost",
    "MemoryBreakdown",
    "PhaseSummary",
    "PlanSummary",
]

Bottleneck = Literal["compute", "memory", "communication", "overhead"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def request_field(f: DeploymentField) -> tuple[Any, Any]:
    bounds: dict[str, Any] = {k: v for k, v in (("ge", f.ge), ("le", f.le)) if v is not None}
    if f.required:
        return f.annotation, Field(description=f.description, **bounds)
    return f.annotation, Field(default=f.default, description=f.description, **bounds)


_RequestFields: Any = create_model(  # type: ignore[call-overload]
    "_RequestFields", __base__=_Model, **{f.name: request_field(f) for f in FIELDS}
)


class EstimateRequest(_RequestFields):
    """Arguments of ``infercast.estimate`` (and the JSON body of ``POST /estimate``): the fields
    of :data:`infercast.deployment.FIELDS`. Strict: ``"isl": true`` or ``"isl": "1024"`` is an
    error, not 1 or 1024."""

    model_config = ConfigDict(extra="forbid", strict=True)


class PlanSummary(_Model):
    gpus: int = Field(description="GPUs of one replica = tp × dp × pp.")
    tp: int
    dp: int
    pp: int
    moe_tp: int
    ep: int
    sp: bool = Field(
        default=False,
        description="Sequence parallelism in effect (asked for and tp > 1).",
    )
    cp: int = Field(
        default=1, description="Context-parallel degree (a sequence spread over cp DP ranks)."
    )
    kv_heads_replicated: bool = Field(
        description="True when tp exceeds the KV heads and each GPU holds a replicated KV head."
    )
    label: str = Field(
        default="", description="The plan in one label, e.g. 'TP4×DP2 (MoE TP1×EP8) CP2 SP'."
    )
    line: str = Field(
        default="",
        description="Hardware, GPUs and degrees in one line, e.g. 'h100 × 8 · TP2 DP4 PP1 "
        "EP8 CP2 SP' (EP for MoE models only), for display.",
    )


class FitVerdict(_Model):
    """Whether the deployment fits, in fields a client renders (``fit_reason`` says it in
    words)."""

    status: Literal["fits", "queues", "does_not_fit"] = Field(
        description="fits; queues (fits, but only part of the requests run at once, the rest "
        "wait and their wait is in TTFT); does_not_fit (memory per GPU exceeds capacity)."
    )
    limit: Literal["weights", "no_kv_room", "memory", "kv_cache", "batch_cap"] | None = Field(
        description="What limits it: the weights alone exceed capacity; weights, activations "
        "and reserve leave no room for a KV cache; the total exceeds capacity; the KV cache "
        "holds fewer requests than asked; the engine's batch cap. None when it fits."
    )
    excess_bytes: float = Field(description="Memory per GPU beyond capacity (bytes; 0 if fits).")
    queued_requests: int = Field(description="Requests waiting outside the engine (0 if none).")
    queue_wait_ms: float = Field(
        default=0.0,
        description="Mean wait of a request for a slot (ms, part of TTFT): queued_requests / "
        "requests_per_s by Little's law in the closed loop; 0 unless the status is 'queues'.",
    )
    detail: str = Field(
        default="", description="The memory sum behind the verdict, one sentence (no prefix)."
    )
    advice: list[str] = Field(
        default_factory=list,
        description="What to change when it does not fit: how much it is over, then the "
        "changes that address the limiting part (empty when it fits).",
    )


class DTypeChoice(_Model):
    weight_dtype: str = Field(description="Dense weight format used.")
    moe_dtype: str | None = Field(description="Expert weight format used (None: dense model).")
    kv_dtype: str = Field(description="KV-cache format used.")
    activation_dtype: str = Field(description="Activation format (bf16 unless stated).")


class MemoryBreakdown(_Model):
    weights_bytes: float = Field(description="Weights resident on one GPU (bytes, decimal).")
    kv_cache_bytes: float = Field(description="KV cache on one GPU at this load (bytes).")
    state_bytes: float = Field(
        default=0.0,
        description="Fixed per-sequence recurrent + conv state of linear-attention / SSM layers "
        "on one GPU at this load (bytes); 0 for models without such layers.",
    )
    activations_bytes: float = Field(description="Peak live activations on one GPU (bytes).")
    reserve_bytes: float = Field(
        description="Runtime reserve on one GPU: CUDA context, graphs, allocator slack (bytes)."
    )
    total_bytes: float = Field(description="Sum of the five above (bytes).")
    capacity_bytes: float = Field(description="HBM capacity of one GPU (bytes).")


class LayerPhaseCost(_Model):
    flops_per_gpu: float = Field(
        description=(
            "Useful FLOPs on one GPU for one step (2·M·N·K per matmul, causal-halved attention "
            "scores). compute_ms is charged for the timed work instead: each matmul at its "
            "K-loop efficiency, 2·M·N·(K + K0) with K0 = 800 (dense) or 550 (grouped experts) "
            "bytes of K per row (elements: ÷ the bytes of the format the part runs, e.g. 400 "
            "for bf16), and a MoE layer's grouped GEMMs on their rows padded to the M tile."
        )
    )
    weight_bytes_per_gpu: float = Field(description="Weight bytes read from HBM per step.")
    kv_bytes_per_gpu: float = Field(description="KV-cache bytes read+written per step.")
    activation_bytes_per_gpu: float = Field(description="Activation bytes moved per step.")
    communication_bytes_per_gpu: float = Field(description="Bytes each GPU sends per step.")
    compute_ms: float = Field(description="Compute time at achievable peak (ms).")
    memory_ms: float = Field(description="HBM time at achievable bandwidth (ms).")
    communication_ms: float = Field(description="Collective time (ms).")
    time_ms: float = Field(description="Time charged to this layer type per step (ms).")
    bound: Bottleneck


class LayerBreakdown(_Model):
    name: str = Field(description="layer_types[].name")
    layer_class: str = Field(description="layer_types[].class")
    count: int = Field(description="Instances on one pipeline stage × stages (all of them).")
    weight_dtype: str | None = Field(
        default=None,
        description="Format its matmul weights are stored in (experts' for an MoE layer; None "
        "for layers without matmuls, e.g. norms).",
    )
    prefill: LayerPhaseCost = Field(description="All instances, one prefill step of `isl`.")
    decode: LayerPhaseCost | None = Field(
        description="All instances, one decode step of the whole batch (None for encoders)."
    )


class PhaseSummary(_Model):
    time_ms: float = Field(description="Time of one step of this phase (ms).")
    flops_per_gpu: float = Field(
        description="Useful FLOPs on one GPU for one step, summed over the layers (2·M·N·K)."
    )
    memory_bytes_per_gpu: float = Field(description="HBM bytes read+written per step.")
    communication_bytes_per_gpu: float
    bottleneck: Bottleneck
    batch_tokens: int = Field(description="Tokens processed per step in this phase.")


class EstimateResult(_Model):
    """The main result: what a closed-loop benchmark of this deployment would measure."""

    model_id: str
    hardware_id: str
    framework: str = Field(description="Efficiency parameter set used ('generic' if none).")
    plan: PlanSummary
    dtypes: DTypeChoice
    isl: int
    osl: int
    concurrency: int
    ttft_ms: float = Field(description="Mean time to first token (ms), queueing included.")
    tpot_ms: float | None = Field(
        description="Mean time per output token after the first (ms); None for encoders."
    )
    e2e_latency_ms: float = Field(description="Mean request latency = TTFT + (osl−1)·TPOT (ms).")
    output_tokens_per_s_per_gpu: float = Field(description="Generated tokens/s per GPU.")
    total_tokens_per_s_per_gpu: float = Field(description="(Input + output) tokens/s per GPU.")
    tokens_per_s_per_user: float = Field(description="1000 / TPOT: decode speed one user sees.")
    requests_per_s: float = Field(description="Completed requests per second (whole replica).")
    memory_per_gpu_bytes: float = Field(description="Total memory needed per GPU (bytes).")
    memory: MemoryBreakdown
    fits: bool = Field(description="Whether memory_per_gpu_bytes ≤ capacity.")
    fit_reason: str = Field(description="Why it fits or not, in words.")
    fit: FitVerdict | None = Field(
        default=None, description="The fit verdict as fields (status, limit, by how much)."
    )
    max_concurrency: int = Field(
        description="Largest concurrency whose KV cache fits beside the weights (0: none)."
    )
    admitted_concurrency: int = Field(
        default=0,
        description="Requests the KV cache and the engine admit at once: min(concurrency, "
        "max_concurrency, engine batch cap × dp). Below concurrency the rest queue (fit.status "
        "'queues').",
    )
    bottleneck: dict[str, Bottleneck] = Field(
        description="Dominant cost per phase: keys 'prefill' and 'decode'."
    )
    prefill: PhaseSummary
    decode: PhaseSummary | None
    layers: list[LayerBreakdown]
    notes: list[str] = Field(description="Assumptions and fallbacks used for this estimate.")
    unsupported: list[str] = Field(
        default_factory=list,
        description="Why the serving engines would not run this plan as given (empty: they "
        "would). Such a plan is still costed, but its figures describe no real deployment.",
    )

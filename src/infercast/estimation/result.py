"""Typed results of a serving estimate — the contract shared by the Python API, the CLI's
``--json``, and ``POST /estimate``. Every field states its unit; conventions are in the README.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Bottleneck",
    "DTypeChoice",
    "EstimateRequest",
    "EstimateResult",
    "LayerBreakdown",
    "LayerPhaseCost",
    "MemoryBreakdown",
    "PhaseSummary",
    "PlanSummary",
]

Bottleneck = Literal["compute", "memory", "communication", "overhead"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EstimateRequest(_Model):
    """Arguments of ``infercast.estimate`` (and the JSON body of ``POST /estimate``).

    Strict: ``"isl": true`` or ``"isl": "1024"`` is an error, not 1 or 1024."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str = Field(description="Model id (model_id or Hugging Face id) in the registry.")
    hardware: str = Field(description="Hardware id from the catalog, e.g. 'h100', 'b200'.")
    gpus: int | None = Field(
        default=None,
        ge=1,
        le=4096,
        description="GPUs serving one replica; defaults to tp × dp × pp. Must equal it if given.",
    )
    tp: int = Field(default=1, ge=1, le=1024, description="Attention tensor-parallel degree.")
    dp: int = Field(default=1, ge=1, le=1024, description="Attention data-parallel degree.")
    pp: int = Field(default=1, ge=1, le=256, description="Pipeline-parallel stages.")
    ep: int = Field(
        default=1, ge=1, le=1024, description="MoE expert-parallel degree (moe_tp × ep = tp × dp)."
    )
    moe_tp: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        description="MoE tensor-parallel degree; defaults to tp × dp / ep.",
    )
    weight_dtype: str | None = Field(
        default=None,
        description="Format of dense (non-expert) weights; defaults to the checkpoint's.",
    )
    moe_dtype: str | None = Field(
        default=None, description="Format of MoE expert weights; defaults to the checkpoint's."
    )
    kv_dtype: str | None = Field(
        default=None, description="KV-cache format; defaults to the dense weights' 16-bit format."
    )
    framework: str | None = Field(
        default=None,
        description="Serving engine (vllm, sglang, trtllm); unknown or absent → generic "
        "efficiency parameters (said in `notes`).",
    )
    isl: int = Field(ge=1, le=10_000_000, description="Input (prompt) tokens per request.")
    osl: int = Field(ge=0, le=10_000_000, description="Output tokens per request.")
    concurrency: int = Field(
        ge=1, le=1_000_000, description="Requests in flight (closed-loop benchmark)."
    )
    sp: bool = Field(
        default=False,
        description="Sequence parallelism (Megatron-style, within the TP group): each TP "
        "all-reduce becomes a reduce-scatter + all-gather and norms work on 1/tp of the tokens. "
        "A no-op at tp = 1 (said in `notes`).",
    )
    cp: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="Context-parallel degree for long prefills (ring attention): a sequence is "
        "spread over cp of the dp attention-DP ranks, each holding 1/cp of its KV cache. Must "
        "divide dp; adds no GPUs (gpus = tp × dp × pp).",
    )


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


class DTypeChoice(_Model):
    weight_dtype: str = Field(description="Dense weight format used.")
    moe_dtype: str | None = Field(description="Expert weight format used (None: dense model).")
    kv_dtype: str = Field(description="KV-cache format used.")
    activation_dtype: str = Field(description="Activation format (bf16 unless stated).")


class MemoryBreakdown(_Model):
    weights_bytes: float = Field(description="Weights resident on one GPU (bytes, decimal).")
    kv_cache_bytes: float = Field(description="KV cache on one GPU at this load (bytes).")
    activations_bytes: float = Field(description="Peak live activations on one GPU (bytes).")
    reserve_bytes: float = Field(
        description="Runtime reserve on one GPU: CUDA context, graphs, allocator slack (bytes)."
    )
    total_bytes: float = Field(description="Sum of the four above (bytes).")
    capacity_bytes: float = Field(description="HBM capacity of one GPU (bytes).")


class LayerPhaseCost(_Model):
    flops_per_gpu: float = Field(description="FLOPs on one GPU for one step (2·M·N·K per matmul).")
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
    flops_per_gpu: float
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
    max_concurrency: int = Field(
        description="Largest concurrency whose KV cache fits beside the weights (0: none)."
    )
    admitted_concurrency: int = Field(
        description="Requests the KV cache and the engine admit at once: min(concurrency, "
        "max_concurrency, engine batch cap × dp). Below concurrency the rest queue."
    )
    verdict: Literal["fits", "queues", "does_not_fit"] = Field(
        description="'fits': memory fits and every request runs at once; 'queues': memory fits "
        "but only admitted_concurrency requests run at once, the rest wait; 'does_not_fit': "
        "memory does not fit."
    )
    verdict_reason: str = Field(description="The verdict in words: the limit and what to change.")
    queue_wait_ms: float = Field(
        description="Mean wait for a slot (ms, part of TTFT): (concurrency − admitted) / "
        "requests_per_s by Little's law; 0 unless the verdict is 'queues'."
    )
    bottleneck: dict[str, Bottleneck] = Field(
        description="Dominant cost per phase: keys 'prefill' and 'decode'."
    )
    prefill: PhaseSummary
    decode: PhaseSummary | None
    layers: list[LayerBreakdown]
    notes: list[str] = Field(description="Assumptions and fallbacks used for this estimate.")

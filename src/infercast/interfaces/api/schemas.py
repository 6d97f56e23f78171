"""Request and response bodies of the API that are not the estimation contract itself.

``POST /estimate`` takes ``EstimateRequest`` and returns ``EstimateResult`` unchanged (see
``infercast.estimation.result``); everything else the API says is defined here, each field with
its description and unit.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from infercast.deployment import FIELDS
from infercast.estimation.result import (
    Bottleneck,
    EstimateResult,
    LayerBreakdown,
    PhaseSummary,
    PlanSummary,
    request_field,
)

__all__ = [
    "DeploymentFieldInfo",
    "HealthResponse",
    "ImportResponse",
    "LayerClassInfo",
    "LayerMetricsResponse",
    "LayerTypeInfo",
    "LayersResponse",
    "MetricStats",
    "ModelSummary",
    "OptionsResponse",
    "PlanConstraints",
    "PlanShape",
    "ReconcileResponse",
    "ReconcileRow",
    "ReconcileSummary",
    "SweepRequest",
    "SweepResponse",
]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSummary(_Out):
    """One entry of ``GET /models``."""

    model_id: str = Field(description="Registry id: the HF id with '/' replaced by '_'.")
    hf_model_id: str = Field(description="Hugging Face id (org/name).")
    name: str = Field(description="Human-readable name.")
    total_params: int = Field(description="Every parameter counted once (count).")
    total_params_formatted: str = Field(description="total_params rounded, e.g. '70.6B'.")
    active_params: int = Field(
        description="Parameters one token uses: routed experts count top_k/num_experts (count)."
    )
    is_moe: bool = Field(description="Has at least one Mixture-of-Experts layer.")
    num_layers: int = Field(description="Transformer blocks (count).")
    source: Literal["built-in", "user", "imported"] = Field(
        description="built-in catalog, a user models directory, or imported this session "
        "(in memory only)."
    )


class HardwareSummary(_Out):
    """One entry of ``GET /hardware`` (``GET /hardware/{id}`` returns every figure)."""

    id: str = Field(description="Catalog id, e.g. 'h100'.")
    name: str = Field(description="Marketing name of the part.")
    vendor: str = Field(description="Vendor.")
    aliases: list[str] = Field(description="Other names accepted as the id.")
    memory_bytes: int = Field(description="Device memory capacity (bytes, decimal).")
    memory_bandwidth_bytes_per_s: float = Field(description="Peak memory bandwidth (bytes/s).")
    peak_flops: dict[str, float] = Field(
        description="Dense tensor-core peak by compute class (FLOP/s)."
    )
    scale_up_name: str = Field(description="Scale-up fabric, e.g. 'NVLink 4'.")
    scale_up_bandwidth_bytes_per_s: float = Field(
        description="Scale-up bandwidth per GPU per direction (bytes/s)."
    )
    scale_up_domain_size: int = Field(description="GPUs in one scale-up domain (count).")


class LayerClassInfo(_Out):
    """A layer class of the spec format and the parallelism it supports."""

    layer_class: str = Field(description="Class name as used in layer_types[].class.")
    description: str = Field(description="What the class models.")
    required_specs: list[str] = Field(description="Specs every entry of this class must give.")
    optional_specs: list[str] = Field(description="Specs with documented defaults.")
    supported_parallelism: list[str] = Field(
        description="Parallelism kinds this class supports (empty: replicated on every GPU)."
    )


class LayerTypeInfo(_Out):
    """One ``layer_types`` entry of a model with its available parallelism."""

    name: str = Field(description="layer_types[].name")
    layer_class: str = Field(description="layer_types[].class")
    count: int = Field(description="Instances in the model (count).")
    parameters: int = Field(description="Parameters of all instances (count).")
    supported_parallelism: list[str] = Field(
        description="Parallelism the class supports (empty: replicated)."
    )
    available_parallelism: list[str] = Field(
        description="Parallelism this entry may use: the entry's own list if the spec "
        "restricts it, else the class's."
    )
    description: str = Field(description="What the class models.")


class PlanShape(_Out):
    """One replica layout the estimator accepts at a given tp (some EP degree works there)."""

    dp: int = Field(description="Attention data-parallel degree.")
    pp: int = Field(description="Pipeline stages.")
    gpus: int = Field(description="GPUs of the replica, tp × dp × pp (count).")


class PlanConstraints(_Out):
    """The model's figures that decide which parallelism plans are valid."""

    num_layers: int = Field(description="Transformer blocks: pipeline stages ≤ this (count).")
    attention_heads: list[int] = Field(description="Query heads of each attention entry.")
    kv_heads: list[int] = Field(
        description="KV heads of each attention entry (MLA: 1, its shared latent)."
    )
    num_experts: int | None = Field(description="Routed experts per MoE layer (None: dense).")
    experts_per_token: int | None = Field(description="Top-k experts per token (None: dense).")
    valid_tp: list[int] = Field(
        description="Tensor-parallel degrees (≤ 1024) that divide every attention entry's "
        "heads and every MLP width, and are compatible with the KV heads (a multiple or "
        "divisor)."
    )
    valid_ep: list[int] = Field(
        description="Expert-parallel degrees that divide num_experts ([1] for dense models); "
        "ep must also divide tp × dp."
    )
    expert_intermediate_sizes: list[int] = Field(
        description="Inner width of one routed expert per MoE entry: moe_tp = tp × dp / ep "
        "must divide each (empty for dense models)."
    )
    valid_cp_by_dp: dict[str, list[int]] = Field(
        default_factory=dict,
        description="For each attention data-parallel degree dp (as a string key, up to 128), "
        "the context-parallel degrees the estimator accepts (cp divides dp; 1 only for a "
        "model without attention).",
    )
    plans_by_tp: dict[str, list[PlanShape]] = Field(
        default_factory=dict,
        description="For each valid tp (as a string key), every (dp, pp) the estimator accepts "
        "with the GPUs it implies (tp × dp ≤ 128 and tp × dp × pp ≤ 128 GPUs; pp ≤ the layers; "
        "for MoE, some listed EP degree works at tp × dp), ordered by dp then pp.",
    )
    sequence_parallel_tp: list[int] = Field(
        default_factory=list,
        description="The valid tp degrees at which sequence parallelism (sp) takes effect "
        "(it splits the TP group's work: a no-op at tp = 1).",
    )
    valid_ep_by_group: dict[str, list[int]] = Field(
        default_factory=dict,
        description="For each attention group size tp × dp (as a string key, up to "
        f"{128} GPUs), the expert-parallel degrees the estimator accepts there "
        "(ep divides the experts and tp × dp, moe_tp = tp × dp / ep divides each expert's "
        "width); an empty list: no degree works at that size. Empty for dense models (ep = 1).",
    )


class LayersResponse(_Out):
    """``GET /api/layers``: layer types of a model (or every class) and their parallelism."""

    model_id: str | None = Field(description="The model asked about (None: the class library).")
    is_moe: bool | None = Field(description="Whether the model has MoE layers (None: library).")
    layer_types: list[LayerTypeInfo] = Field(description="The model's entries (empty: library).")
    layer_classes: list[LayerClassInfo] = Field(
        description="Every layer class used (by the model, or in the library)."
    )
    parallelism_kinds: dict[str, str] = Field(description="Each parallelism kind, in words.")
    constraints: PlanConstraints | None = Field(
        description="What makes a plan valid for this model (None: library)."
    )


_SweepFields: Any = create_model(  # type: ignore[call-overload]
    "_SweepFields",
    __base__=_Out,
    **{f.name: request_field(f) for f in FIELDS if f.name != "concurrency"},
)


class SweepRequest(_SweepFields):
    """``POST /estimate/sweep``: one deployment (the fields of ``POST /estimate`` but
    ``concurrency``) at several concurrencies."""

    concurrencies: list[Annotated[int, Field(ge=1, le=1_000_000)]] = Field(
        min_length=1, max_length=64, description="Requests in flight, one estimate each."
    )


class SweepResponse(_Out):
    """``POST /estimate/sweep``: the estimates, in the order of ``concurrencies``."""

    results: list[EstimateResult] = Field(description="One estimate per concurrency.")


class DeploymentFieldInfo(_Out):
    """One field of a deployment (``infercast.deployment.FIELDS``), for forms."""

    name: str = Field(description="Field name, as in POST /estimate.")
    part: str = Field(description="model, hardware, plan, formats, framework or workload.")
    type: str = Field(description="integer, string or boolean.")
    required: bool = Field(description="Whether the body must give it.")
    default: int | str | bool | None = Field(description="Default when not given.")
    minimum: int | None = Field(description="Smallest accepted value (integers).")
    maximum: int | None = Field(description="Largest accepted value (integers).")
    description: str = Field(description="What the field means, with its unit.")


class OptionsResponse(_Out):
    """``GET /api/options``: the choices the estimator accepts."""

    dtypes: list[str] = Field(description="Every known format.")
    formats: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Formats each role accepts: keys weight_dtype, moe_dtype, kv_dtype.",
    )
    deployment_fields: list[DeploymentFieldInfo] = Field(
        default_factory=list, description="The fields of a deployment (POST /estimate's body)."
    )
    frameworks: list[str] = Field(description="Serving engines with their own efficiencies.")
    concurrency_sweep: list[int] = Field(
        description="Concurrencies the web app sweeps for its throughput curve (requests)."
    )


class LayerMetricsResponse(_Out):
    """``POST /layers/metrics``: cost of every layer type for one prefill and one decode step."""

    model_id: str = Field(description="Model estimated.")
    hardware_id: str = Field(description="Hardware estimated.")
    plan: PlanSummary = Field(description="The parallelism plan used.")
    isl: int = Field(description="Input tokens per request.")
    osl: int = Field(description="Output tokens per request.")
    concurrency: int = Field(description="Requests in flight.")
    prefill: PhaseSummary = Field(description="Whole prefill step (all layers).")
    decode: PhaseSummary | None = Field(description="Whole decode step (None for encoders).")
    bottleneck: dict[str, Bottleneck] = Field(description="Dominant cost per phase.")
    layers: list[LayerBreakdown] = Field(description="Per layer type: prefill and decode costs.")


class ImportResponse(_Out):
    """``POST /import``: the spec built from an uploaded config.json or GGUF header."""

    model_id: str = Field(description="Id of the imported spec.")
    hf_model_id: str = Field(description="Hugging Face id of the imported spec.")
    source_format: Literal["config.json", "gguf", "spec"] = Field(
        description="What the upload was: a Hugging Face config.json, a GGUF header, or a "
        "spec already in the infercast model spec (v1) format."
    )
    saved: bool = Field(description="Whether the spec was written to the user models directory.")
    saved_as: str | None = Field(
        description="File name written (in the first user models directory), if saved."
    )
    warnings: list[str] = Field(description="Importer notes: assumptions and ignored fields.")
    spec: dict[str, Any] = Field(description="The spec as infercast model spec (v1) JSON.")


class ReconcileRow(_Out):
    """One benchmark row with the model's prediction and its error."""

    line: int = Field(description="Line of the row in the uploaded CSV (the header is line 1).")
    model: str = Field(description="Model id of the row.")
    hardware: str = Field(description="Hardware id of the row.")
    framework: str | None = Field(description="Serving engine of the row.")
    isl: int | None = Field(description="Input tokens per request.")
    osl: int | None = Field(description="Output tokens per request.")
    concurrency: int | None = Field(description="Requests in flight.")
    measured: dict[str, float | None] = Field(
        description="Measured figures by metric: ttft_ms and tpot_ms in ms, "
        "output/total_tokens_per_s_per_gpu in tokens/s per GPU (None: blank in the CSV)."
    )
    predicted: dict[str, float | None] = Field(
        description="Predicted figures, same metrics and units (None: not predicted)."
    )
    ape_pct: dict[str, float | None] = Field(
        description="Absolute percentage error |predicted − measured| / measured × 100 (%) "
        "per metric; None when either side is missing."
    )
    error: str = Field(description="Why the row could not be predicted; empty when it was.")


class MetricStats(_Out):
    """Absolute percentage errors of one metric over some rows."""

    n: int = Field(description="Rows with both a measurement and a prediction (count).")
    median_ape_pct: float | None = Field(default=None, description="Median APE (%).")
    mean_ape_pct: float | None = Field(default=None, description="Mean APE (%).")


class ReconcileSummary(_Out):
    """Error statistics, as ``infercast reconcile`` reports them."""

    rows: int = Field(description="Data rows read (count).")
    predicted: int = Field(description="Rows predicted (count).")
    failed: int = Field(description="Rows that could not be predicted (count).")
    overall: dict[str, MetricStats] = Field(description="Per metric, over every row.")
    by: dict[str, dict[str, dict[str, MetricStats]]] = Field(
        description="Per grouping (model, hardware, framework, model_hardware), per group "
        "value, per metric."
    )


class ReconcileResponse(_Out):
    """``POST /reconcile``: per-row predictions with error, and a summary."""

    summary: ReconcileSummary = Field(description="Error statistics.")
    rows: list[ReconcileRow] = Field(description="Every data row, in file order.")


class HealthResponse(_Out):
    """``GET /health``."""

    status: Literal["ok"] = Field(description="Always 'ok' when the process answers.")
    version: str = Field(description="infercast package version.")
    models: int = Field(description="Models known (count).")
    hardware: int = Field(description="Hardware parts known (count).")
    problems: list[str] = Field(
        description="Skipped user model files, each as 'file name: problem' (no directories)."
    )

"""The OpenAPI document: every field of every schema carries a description with its unit.

Most descriptions come from the models' own ``Field(description=...)``. A few models the API
returns unchanged (the estimation result, the hardware spec) leave some fields undescribed;
they are filled in here — only where the model says nothing, so a description added at the
source always wins.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

__all__ = ["FIELD_DESCRIPTIONS", "FIELD_UNITS", "install_openapi", "undocumented_fields"]

_PHASE = "'compute', 'memory', 'communication' or 'overhead'"

FIELD_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "EstimateResult": {
        "model_id": "Registry id of the model estimated (the HF id with '/' → '_').",
        "hardware_id": "Catalog id of the accelerator estimated, e.g. 'h100'.",
        "plan": "The parallelism plan used (degrees are counts of GPUs).",
        "dtypes": "Number formats used for weights, experts, KV cache and activations.",
        "isl": "Input (prompt) tokens per request (tokens).",
        "osl": "Output tokens per request (tokens).",
        "concurrency": "Requests in flight, the closed-loop load (requests).",
        "memory": "Memory needed on one GPU, by part (bytes, decimal).",
        "prefill": "One prefill step of `isl` tokens through every layer (ms, FLOPs, bytes).",
        "decode": "One decode step of the whole batch (ms, FLOPs, bytes); None for encoders.",
        "layers": "Per layer type: the cost of one prefill and one decode step.",
    },
    "PlanSummary": {
        "tp": "Attention tensor-parallel degree (GPUs).",
        "dp": "Attention data-parallel degree (GPUs).",
        "pp": "Pipeline-parallel stages (GPUs per replica along the pipeline).",
        "moe_tp": "Tensor-parallel degree inside each expert = tp × dp / ep (GPUs).",
        "ep": "Expert-parallel degree: GPUs the routed experts are spread over (1: dense).",
    },
    "PhaseSummary": {
        "flops_per_gpu": "FLOPs on one GPU for one step of this phase (FLOP).",
        "communication_bytes_per_gpu": "Bytes each GPU sends in collectives per step (bytes).",
        "bottleneck": f"Dominant cost of the step: {_PHASE}.",
    },
    "LayerPhaseCost": {
        "bound": f"Which cost dominates this layer type's time: {_PHASE}.",
    },
    "Hardware": {
        "name": "Marketing name of the part.",
        "vendor": "Vendor of the part.",
        "scale_up": "Scale-up fabric (NVLink, Infinity Fabric, PCIe): bandwidth in bytes/s "
        "per GPU per direction, domain size in GPUs.",
        "scale_out": "Scale-out network between scale-up domains: bandwidth in bytes/s per "
        "GPU per direction.",
        "efficiency": "Achievable fractions of the peaks (0–1) and fixed overheads used by the "
        "performance model.",
        "sources": "Where each figure comes from (datasheets, whitepapers).",
        "notes": "Free-text remarks on the part and its figures.",
    },
    "Source": {
        "figure": "Dotted path of the figure cited, e.g. 'peak_flops.bf16'; a parent path "
        "covers every figure under it.",
    },
}


FIELD_UNITS: dict[str, dict[str, str]] = {
    "Hardware": {"memory_bandwidth_bytes_per_s": "bytes/s"},
}
"""Units appended to a source description that does not state its own."""


PLAN_RULES = (
    "Plan rules the server enforces (422 naming the field otherwise): gpus, when given, equals "
    "tp × dp × pp; moe_tp × ep = tp × dp (moe_tp defaults to tp × dp / ep, so ep divides "
    "tp × dp); cp divides dp; tp divides the attention heads and moe_tp the expert width of the "
    "model; osl ≥ 1 for a decoder; isl + osl within the model's context (max_context_tokens); "
    "moe_dtype only on an MoE model. An unknown framework is a 404 naming the known engines."
)


def _id_patterns() -> dict[str, str]:
    """The id shapes ``state.validate_*_id`` enforce, as anchored JSON-schema patterns."""
    from .state import HARDWARE_ID_PATTERN, MODEL_ID_PATTERN

    return {
        "model_id": f"^{MODEL_ID_PATTERN}$",
        "model": f"^{MODEL_ID_PATTERN}$",
        "hardware_id": f"^{HARDWARE_ID_PATTERN}$",
        "hardware": f"^{HARDWARE_ID_PATTERN}$",
    }


def _document_rules(schema: dict[str, Any]) -> None:
    """Put the id patterns and plan rules the server checks by hand into the document."""
    patterns = _id_patterns()
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []):
                if param.get("name") in patterns and param.get("in") in ("path", "query"):
                    param.setdefault("schema", {})["pattern"] = patterns[param["name"]]
    components = schema.get("components", {}).get("schemas", {})
    for name in _REQUESTS_WITH_IDS:
        request = components.get(name)
        if not request:
            continue
        for field in ("model", "hardware"):
            prop = request.get("properties", {}).get(field)
            if prop is not None:
                _set_pattern(prop, patterns[field])
        if name in _REQUESTS_WITH_PLANS:
            request["description"] = f"{request.get('description', '').strip()} {PLAN_RULES}"


_REQUESTS_WITH_IDS = ("EstimateRequest", "SweepRequest", "SearchRequest", "LaunchRequest")
"""Request bodies whose ``model`` / ``hardware`` the server checks against the id patterns."""
_REQUESTS_WITH_PLANS = ("EstimateRequest", "SweepRequest", "LaunchRequest")
"""Request bodies that carry one plan, checked by the plan rules."""


def _set_pattern(prop: dict[str, Any], pattern: str) -> None:
    """The pattern on every string the property can be: itself, a list's items, or the
    string branch of an optional (``anyOf`` with null)."""
    if prop.get("type") == "string":
        prop["pattern"] = pattern
    elif prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        _set_pattern(prop["items"], pattern)
    for branch in prop.get("anyOf", []):
        _set_pattern(branch, pattern)


def _fill(schema: dict[str, Any]) -> None:
    _document_rules(schema)
    components = schema.get("components", {}).get("schemas", {})
    for name, fields in FIELD_DESCRIPTIONS.items():
        props = components.get(name, {}).get("properties", {})
        for field, text in fields.items():
            if field in props and not props[field].get("description"):
                props[field]["description"] = text
    for name, fields in FIELD_UNITS.items():
        props = components.get(name, {}).get("properties", {})
        for field, unit in fields.items():
            text = str(props.get(field, {}).get("description", ""))
            if field in props and unit not in text:
                props[field]["description"] = f"{text.rstrip('.')} ({unit})." if text else unit


def undocumented_fields(schema: dict[str, Any]) -> list[str]:
    """``Schema.field`` for every property of every component without a description."""
    missing = []
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        for field, prop in (component.get("properties") or {}).items():
            if not str(prop.get("description", "")).strip():
                missing.append(f"{name}.{field}")
    return missing


def install_openapi(app: FastAPI) -> None:
    """Wrap ``app.openapi`` so the (cached) document has the descriptions above."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _fill(build())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]

"""Stage 1 of an estimate — resolve: ids → objects, formats → DTypes, the plan checked against
the model, the engine's and efficiency parameters chosen, the cost models built.

The result, :class:`Resolved`, is everything the later stages (admit → solve → report) need;
its ``notes`` say what was assumed (fallback formats, replicated KV heads, SP/CP effects).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from infercast.deployment import Deployment
from infercast.dtypes import DType, UnknownDTypeError, dtype
from infercast.engines import Engine
from infercast.errors import InvalidInputError
from infercast.estimation.params import ModelParams, resolve_params
from infercast.estimation.result import DTypeChoice
from infercast.estimation.timing import StepTimer
from infercast.hardware import Hardware, get_hardware
from infercast.layers import CostContext
from infercast.parallel import ParallelPlan
from infercast.specs.registry import Registry, default_registry
from infercast.specs.schema import ModelSpec

__all__ = [
    "CHECKPOINT_DEFAULT",
    "Resolved",
    "dense_checkpoint_dtype",
    "min_kv_heads",
    "resolve",
    "valid_formats",
]

CHECKPOINT_DEFAULT = "bf16"
"""The format of layers whose spec names none (what checkpoints store)."""
_UNSUPPORTED_KV = ("int4", "mxfp4", "nvfp4")


def valid_formats() -> dict[str, list[str]]:
    """The formats each role accepts: any known format for weights and experts; for the KV
    cache those engines store it in (not the 4-bit weight formats)."""
    from infercast.dtypes import dtype_names

    names = list(dtype_names())
    return {
        "weight_dtype": names,
        "moe_dtype": names,
        "kv_dtype": [n for n in names if n not in _UNSUPPORTED_KV],
        "attention_dtype": names,
    }


@dataclass
class Resolved:
    """One deployment, resolved (shared by estimate, calibration, reconcile and the API)."""

    spec: ModelSpec
    hardware: Hardware
    plan: ParallelPlan
    ctx: CostContext
    params: ModelParams
    timer: StepTimer
    notes: list[str]
    dtypes: DTypeChoice


def _format(name: str | None, role: str) -> DType | None:
    if name is None:
        return None
    try:
        return dtype(name)
    except UnknownDTypeError as exc:
        raise InvalidInputError(f"{role}: {exc}") from None


def _moe_checkpoint_dtype(spec: ModelSpec) -> str | None:
    for lt in spec.moe_entries:
        if lt.layer_specs.weight_dtype:
            return str(lt.layer_specs.weight_dtype)
    return None


def dense_checkpoint_dtype(spec: ModelSpec) -> str:
    """The stored format of the first attention or dense FFN entry that names one."""
    moe = {id(lt) for lt in spec.moe_entries}
    for lt in spec.layer_types:
        role = lt.layer_specs.role
        if role in ("attention", "ffn") and id(lt) not in moe and lt.layer_specs.weight_dtype:
            return str(lt.layer_specs.weight_dtype)
    return CHECKPOINT_DEFAULT


def min_kv_heads(spec: ModelSpec) -> int:
    """The fewest KV heads of any attention layer (10⁹ when the model has none)."""
    cores = [lt.layer_specs.attention_core() for lt in spec.layer_types]
    known = [core.kv_heads for core in cores if core is not None]
    return min(known) if known else 10**9


@dataclass
class _SpecFacts:
    """What resolve derives from a model spec alone, whatever the plan (a search resolves
    hundreds of plans of one spec: these walks over its layers are made once)."""

    is_moe: bool
    moe_checkpoint: str | None
    dense_checkpoint: str
    min_kv_heads: int
    valid_plans: set[ParallelPlan] = field(default_factory=set)


_FACTS: dict[int, tuple[weakref.ref[ModelSpec], _SpecFacts]] = {}


def _facts(spec: ModelSpec) -> _SpecFacts:
    """The facts of ``spec`` (memoised per spec object, dropped with it)."""
    hit = _FACTS.get(id(spec))
    if hit is not None and hit[0]() is spec:
        return hit[1]
    key = id(spec)
    facts = _SpecFacts(
        spec.is_moe, _moe_checkpoint_dtype(spec), dense_checkpoint_dtype(spec), min_kv_heads(spec)
    )
    _FACTS[key] = (weakref.ref(spec, lambda _: _FACTS.pop(key, None)), facts)
    return facts


def _model(model: str | ModelSpec, registry: Registry | None) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    if not isinstance(model, str) or not model.strip():
        raise InvalidInputError("model: give a model id (model_id or Hugging Face id)")
    return (registry or default_registry()).get(model)


def _plan_notes(plan: ParallelPlan, spec: ModelSpec) -> list[str]:
    notes = []
    if plan.kv_replicated(_facts(spec).min_kv_heads):
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
    return notes


def _kv_format(
    given: DType | None,
    spec: ModelSpec,
    weights: DType | None,
    facts: _SpecFacts,
    engine: Engine,
) -> tuple[DType, str | None]:
    """The KV-cache format and the note saying why, when it is not the one given: the
    checkpoint's own (a ModelOpt checkpoint ships fp8 KV scales), else — for dense weights
    served in an 8- or 4-bit format the checkpoint does not carry — the format of the quantized
    checkpoint the engine's toolkit makes (TensorRT-LLM's ModelOpt: fp8), else bf16."""
    if given is not None:
        kv, note = given, None
    elif spec.kv_cache_dtype:
        kv = dtype(spec.kv_cache_dtype)
        note = (
            f"KV cache in {kv.name}: the checkpoint's quantization_config ships {kv.name} KV "
            "scales and the engines use them when no kv_dtype is given"
        )
    elif weights is not None and (
        toolkit_kv := engine.kv_for_weights(weights.name, facts.dense_checkpoint)
    ):
        kv = dtype(toolkit_kv)
        note = (
            f"KV cache in {kv.name}: {engine.display_name} serves {weights.name} weights from "
            f"a checkpoint its quantization toolkit makes, which stores the KV cache in "
            f"{kv.name} by default (set kv_dtype to change it)"
        )
    else:
        kv, note = dtype(CHECKPOINT_DEFAULT), None
    if kv.name in _UNSUPPORTED_KV:
        raise InvalidInputError(
            f"kv_dtype: {kv.name} KV caches are not supported (use bf16 or fp8)"
        )
    return kv, note


def resolve(
    deployment: Deployment,
    *,
    registry: Registry | None = None,
    calibration: dict[str, Any] | None = None,
) -> Resolved:
    """Resolve and validate one deployment (its workload is not needed here)."""
    spec = _model(deployment.model, registry)
    hw = deployment.hardware
    hw = hw if isinstance(hw, Hardware) else get_hardware(hw)
    plan = deployment.plan
    facts = _facts(spec)
    if plan not in facts.valid_plans:
        plan.validate_for(spec)
        facts.valid_plans.add(plan)
    formats = deployment.formats
    weights = _format(formats.weight_dtype, "weight_dtype")
    experts = _format(formats.moe_dtype, "moe_dtype")
    if experts is not None and not facts.is_moe:
        raise InvalidInputError(f"moe_dtype: {spec.hf_model_id} has no MoE layers")
    if experts is None and facts.is_moe:
        experts = weights  # weight_dtype sets every weight; moe_dtype overrides the experts
    moe_used = (
        (experts.name if experts else facts.moe_checkpoint or CHECKPOINT_DEFAULT)
        if facts.is_moe
        else None
    )
    params, notes = resolve_params(hw, deployment.framework, calibration, moe_used)
    kv, kv_note = _kv_format(
        _format(formats.kv_dtype, "kv_dtype"), spec, weights, facts, params.framework
    )
    activation = dtype("bf16")
    attention = _format(formats.attention_dtype, "attention_dtype")
    ctx = CostContext(
        plan,
        weights,
        experts,
        kv,
        activation,
        dtype(CHECKPOINT_DEFAULT),
        attention,
        tensor_classes=frozenset(hw.peak_flops),
    )
    if kv_note:
        notes.append(kv_note)
    if weights is not None and weights.bits <= 4 and attention is None:
        notes.append(
            f"weight_dtype {weights.name} applies to the MLP GEMMs only: attention keeps its "
            "checkpoint format, as 4-bit recipes (ModelOpt NVFP4, MXFP4) leave it unquantized "
            "(set attention_dtype to change it)"
        )
    timer = StepTimer(spec, hw, ctx, params)
    choice = DTypeChoice(
        weight_dtype=weights.name if weights else facts.dense_checkpoint,
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
    notes += _plan_notes(plan, spec)
    return Resolved(spec, hw, plan, ctx, params, timer, notes, choice)

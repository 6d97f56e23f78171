"""``infercast.estimate``: one deployment → what a closed-loop benchmark would measure.

A short pipeline, one module per stage: resolve (:mod:`.resolve`: ids, formats, the plan
checked against the model, parameters, cost models) → admit (:mod:`.admit`: memory and the
load the engine holds) → solve (:mod:`.serving`: the closed-loop steady state) → report
(:mod:`.report`: metrics, fit verdict, the :class:`~infercast.estimation.result.EstimateResult`).
The deployment itself is an :class:`infercast.deployment.Deployment`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infercast.deployment import Deployment, Workload
from infercast.estimation.admit import admit
from infercast.estimation.checks import check_load
from infercast.estimation.report import build_result, efficiency_note
from infercast.estimation.resolve import Resolved, resolve
from infercast.estimation.result import EstimateRequest, EstimateResult
from infercast.estimation.serving import ServingPoint, solve
from infercast.hardware import Hardware
from infercast.specs.registry import Registry
from infercast.specs.schema import ModelSpec

__all__ = ["Resolved", "estimate", "estimate_request", "prepare", "run", "serving_point"]


def run(
    deployment: Deployment,
    *,
    registry: Registry | None = None,
    calibration: dict[str, Any] | None = None,
) -> EstimateResult:
    """Estimate a deployment (its ``workload`` is required)."""
    workload = deployment.workload
    if workload is None:
        raise ValueError("run(): the deployment needs a workload (isl, osl, concurrency)")
    resolved = resolve(deployment, registry=registry, calibration=calibration)
    return _estimate(resolved, workload)


def _estimate(resolved: Resolved, workload: Workload) -> EstimateResult:
    spec = resolved.spec
    check_load(spec, workload.isl, workload.osl)
    notes = list(resolved.notes)
    if spec.is_encoder_only and workload.osl > 0:
        notes.append(f"{spec.hf_model_id} is an encoder: no decode phase, osl ignored")
        workload = Workload(workload.isl, 0, workload.concurrency)
    admission = admit(resolved, workload)
    concurrency = workload.concurrency
    if admission.max_concurrency == 0:
        notes.append("no room for the KV cache: timings assume the memory existed")
    elif concurrency > admission.cap:
        limit = "KV-cache capacity" if admission.cap == admission.max_concurrency else "batch cap"
        notes.append(
            f"only {admission.cap} of the {concurrency} requests fit in the engine at once "
            f"({limit}); the rest queue and their wait is in TTFT"
        )
    budget = resolved.params.framework.pipeline_budget(resolved.plan.pp)
    point = solve(admission.timer, budget, workload.isl, workload.osl, concurrency, admission.cap)
    notes.append(efficiency_note(resolved))
    return build_result(resolved, workload, admission, point, notes)


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
    attention_dtype: str | None = None,
) -> EstimateResult:
    """Predict TTFT, TPOT, throughput and memory of serving ``model`` on ``hardware``.

    The arguments are the fields of :data:`infercast.deployment.FIELDS` (their meaning, units
    and bounds are there); ``models_dirs`` adds user spec directories to the catalog.
    """
    fields = dict(locals())
    dirs = fields.pop("models_dirs")
    deployment = Deployment.of(**fields)  # the workload is checked first
    return run(deployment, registry=Registry.load(dirs) if dirs else None)


def estimate_request(
    request: EstimateRequest,
    *,
    registry: Registry | None = None,
    calibration: dict[str, Any] | None = None,
) -> EstimateResult:
    """The API body form of :func:`estimate`."""
    deployment = Deployment.of(**request.model_dump())
    return run(deployment, registry=registry, calibration=calibration)


def prepare(
    model: str | ModelSpec,
    hardware: str | Hardware,
    *,
    registry: Registry | None = None,
    calibration: dict[str, Any] | None = None,
    **plan_and_formats: Any,
) -> Resolved:
    """Resolve a deployment without a workload (fields of :data:`infercast.deployment.FIELDS`:
    ``tp``, ``dp``, ``pp``, ``ep``, ``moe_tp``, ``gpus``, ``sp``, ``cp``, the formats and
    ``framework``)."""
    deployment = Deployment.of(model=model, hardware=hardware, **plan_and_formats)
    return resolve(deployment, registry=registry, calibration=calibration)


def serving_point(resolved: Resolved, isl: int, osl: int, concurrency: int) -> ServingPoint:
    """The raw steady state (for calibration and reconcile, which need no result object)."""
    admission = admit(resolved, Workload(isl, osl, concurrency))
    budget = resolved.params.framework.pipeline_budget(resolved.plan.pp)
    return solve(admission.timer, budget, isl, osl, concurrency, admission.cap)

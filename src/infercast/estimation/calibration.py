"""Fit the few physical efficiency parameters on measured serving benchmarks.

Per hardware and serving framework with enough rows (and per hardware over all its frameworks,
the fallback for engines without data) we fit eight numbers, each with a physical meaning and
bounds: achievable fraction of peak compute on dense GEMMs and on MoE expert GEMMs, of HBM
bandwidth and of link bandwidth, the fixed per-step, per-layer and per-request overheads, and
the arrival burstiness of the closed loop. Never anything
per row: the model must predict models and hardware it never saw.

Objective: robust least squares (soft-L1) on log ratios predicted/measured of TPOT, TTFT and
output throughput, plus a weak prior toward the physical defaults (``PRIOR_WEIGHT``): every
row counts by its relative error and outliers (the noisy TTFTs of some sources) pull less.
Repeated measurements of one configuration are averaged first.
Parameters a set's data cannot see (``moe_compute`` without MoE rows, ``collective`` without
multi-GPU rows) are not fitted and keep their physical defaults.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from infercast.deployment import Workload
from infercast.errors import InfercastError, InvalidInputError
from infercast.estimation.estimate import Resolved, serving_point
from infercast.estimation.params import DEFAULT_BURSTINESS, canonical_framework
from infercast.estimation.reconcile import BenchmarkRow, _deployment_key, _prepare_row
from infercast.estimation.report import metrics
from infercast.estimation.timing import StepTimer
from infercast.specs.registry import Registry, default_registry

__all__ = ["PARAMETERS", "CalibrationCase", "fit_calibration"]

# name, lower, upper, initial (= the prior's centre). The upper bounds are physical: dense
# GEMMs in cuBLAS/hipBLASLt do not exceed ~90 % of the dense datasheet peak, streaming reads
# ~95 % of HBM bandwidth.
PARAMETERS: tuple[tuple[str, float, float, float], ...] = (
    ("compute", 0.2, 0.9, 0.7),
    ("memory_bandwidth", 0.3, 0.95, 0.8),
    ("collective", 0.05, 1.0, 0.6),
    ("step_overhead_s", 0.0, 0.02, 0.002),
    ("layer_overhead_s", 0.0, 2e-4, 1e-5),
    ("moe_compute", 0.1, 0.9, 0.45),
    ("request_overhead_s", 0.0, 0.1, 0.01),
    ("burstiness", 0.0, 0.5, DEFAULT_BURSTINESS),
)
PRIOR_WEIGHT = 0.1
"""Weak prior toward the physical defaults: per parameter, a residual of ``PRIOR_WEIGHT ·
√cases · (x − initial) / (upper − lower)``. A parameter the data pins down barely notices it;
one the data hardly sees (compute on a decode-heavy MoE set) stays near its default instead of
drifting to a bound on noise."""
MIN_ROWS_PER_SET = 15
TTFT_WEIGHT = 1.0


@dataclass
class CalibrationCase:
    """One distinct configuration with its (averaged) measurements."""

    deployment: Resolved
    isl: int
    osl: int
    concurrency: int
    measured: dict[str, float]
    hardware: str
    framework: str


def _cases(rows: list[BenchmarkRow], registry: Registry) -> tuple[list[CalibrationCase], list[str]]:
    grouped: dict[tuple[Any, ...], list[BenchmarkRow]] = defaultdict(list)
    for row in rows:
        key = (*_deployment_key(row), row.text("isl"), row.text("osl"), row.text("concurrency"))
        grouped[key].append(row)
    deployments: dict[tuple[Any, ...], Resolved | str] = {}
    cases, skipped = [], []
    for members in grouped.values():
        first = members[0]
        key = _deployment_key(first)
        if key not in deployments:
            try:
                deployments[key] = _prepare_row(first, registry, {"sets": {}})
            except InfercastError as exc:
                deployments[key] = str(exc)
        dep = deployments[key]
        if isinstance(dep, str):
            skipped.append(f"line {first.line}: {dep}")
            continue
        measured = {}
        for metric in ("tpot_ms", "ttft_ms", "output_tokens_per_s_per_gpu"):
            values = [v for r in members if (v := r.measured(metric)) is not None]
            if values:
                measured[metric] = float(np.mean(values))
        try:
            isl, osl, conc = (
                first.integer("isl"),
                first.integer("osl"),
                first.integer("concurrency"),
            )
        except InfercastError as exc:
            skipped.append(f"line {first.line}: {exc}")
            continue
        if not measured or isl < 1 or osl < 2 or conc < 1:
            skipped.append(f"line {first.line}: nothing to fit")
            continue
        cases.append(
            CalibrationCase(
                dep,
                isl,
                osl,
                conc,
                measured,
                dep.hardware.id,
                canonical_framework(first.text("framework")) or "generic",
            )
        )
    return cases, skipped


def _with_parameters(dep: Resolved, values: dict[str, float]) -> Resolved:
    figures = {k: v for k, v in values.items() if k != "burstiness"}
    efficiency = dep.params.efficiency.model_copy(update=figures)
    params = replace(dep.params, efficiency=efficiency, burstiness=values["burstiness"])
    timer = StepTimer(dep.spec, dep.hardware, dep.ctx, params)
    return replace(dep, params=params, timer=timer)


def _residuals(cases: list[CalibrationCase], values: dict[str, float]) -> np.ndarray:
    out: list[float] = []
    cache: dict[int, Resolved] = {}
    for case in cases:
        ident = id(case.deployment)
        if ident not in cache:
            cache[ident] = _with_parameters(case.deployment, values)
        point = serving_point(cache[ident], case.isl, case.osl, case.concurrency)
        workload = Workload(case.isl, case.osl, case.concurrency)
        figures = metrics(point, workload, case.deployment.plan.gpus)
        predicted = {
            "tpot_ms": figures.tpot_ms,
            "ttft_ms": figures.ttft_ms,
            "output_tokens_per_s_per_gpu": figures.output_tokens_per_s_per_gpu,
        }
        for metric, measured in case.measured.items():
            weight = TTFT_WEIGHT if metric == "ttft_ms" else 1.0
            value = max(predicted[metric] or 0.0, 1e-9)
            out.append(weight * math.log(value / measured))
    return np.asarray(out)


def _observable(cases: list[CalibrationCase]) -> set[str]:
    """The parameters this set's data can move: no MoE rows, no MoE GEMM efficiency; single-GPU
    rows only, no collective efficiency. The others keep the catalog's physical defaults (a fit
    would let them drift to a bound on noise)."""
    names = {p[0] for p in PARAMETERS}
    if not any(c.deployment.spec.is_moe for c in cases):
        names.discard("moe_compute")
    if all(c.deployment.plan.gpus == 1 for c in cases):
        names.discard("collective")
    return names


def _fit_set(
    cases: list[CalibrationCase], max_evaluations: int, tick: Callable[[], None] | None
) -> tuple[dict[str, float], float]:
    observable = _observable(cases)
    free = [p for p in PARAMETERS if p[0] in observable]
    names = [p[0] for p in free]
    lower = np.array([p[1] for p in free])
    upper = np.array([p[2] for p in free])
    x0 = np.array([p[3] for p in free])
    scale = upper - lower

    def values_of(x: np.ndarray) -> dict[str, float]:
        # Parameters left out keep each deployment's catalog default (and are left out of the
        # written set, so estimates fall back to the same defaults).
        return dict(zip(names, (float(v) for v in x), strict=True))

    prior = PRIOR_WEIGHT * math.sqrt(len(cases)) / scale

    def fun(x: np.ndarray) -> np.ndarray:
        if tick:
            tick()
        return np.concatenate([_residuals(cases, values_of(x)), prior * (x - x0)])

    result = least_squares(
        fun,
        x0,
        bounds=(lower, upper),
        x_scale=scale,
        loss="soft_l1",
        f_scale=0.15,
        diff_step=2e-2,  # wide enough to see through the step cache's rounding
        max_nfev=max_evaluations,
    )
    values = values_of(result.x)
    median_error = float(np.median(np.abs(np.expm1(_residuals(cases, values)))))
    return values, median_error


def fit_calibration(
    rows: list[BenchmarkRow],
    *,
    registry: Registry | None = None,
    max_evaluations: int = 40,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Fit every (hardware, framework) set with enough data, and one per hardware over all."""
    cases, skipped = _cases(rows, registry or default_registry())
    if not cases:
        raise InvalidInputError("no row of the CSV can be used for calibration")
    groups: dict[str, list[CalibrationCase]] = defaultdict(list)
    for case in cases:
        groups[f"{case.hardware}/{case.framework}"].append(case)
        groups[f"{case.hardware}/*"].append(case)
    sets: dict[str, Any] = {}
    todo = [(k, v) for k, v in sorted(groups.items()) if len(v) >= MIN_ROWS_PER_SET]
    # A hardware measured under one framework only: its 'hw/*' set is that framework's set.
    aliases = {
        k: f"{k[:-2]}/{members[0].framework}"
        for k, members in todo
        if k.endswith("/*") and len({c.framework for c in members}) == 1
    }
    todo = [(k, v) for k, v in todo if k not in aliases]
    for done, (key, members) in enumerate(todo):
        counter = [0]

        def tick(key: str = key, counter: list[int] = counter, done: int = done) -> None:
            counter[0] += 1
            if progress:
                progress(key, done, len(todo))

        values, median_error = _fit_set(members, max_evaluations, tick)
        sets[key] = {
            **{
                k: round(v, 6) if k != "layer_overhead_s" else round(v, 9)
                for k, v in values.items()
            },
            "rows": len(members),
            "median_abs_error_pct": round(100 * median_error, 2),
        }
    for alias, key in aliases.items():
        if key in sets:
            sets[alias] = dict(sets[key])
    sets = dict(sorted(sets.items()))
    return {
        "about": "Efficiency parameters fitted by `infercast calibrate` (robust least squares on "
        "log(predicted/measured) of TPOT, TTFT and output tokens/s/GPU). Keys are "
        "'hardware/framework'; 'hardware/*' is the fit over all frameworks of that hardware.",
        "sets": sets,
        "skipped": skipped[:50],
    }

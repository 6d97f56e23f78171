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
from infercast.estimation.pool import POOL_KEY, pool_info, pool_needed
from infercast.estimation.reconcile import BenchmarkRow, _deployment_key, _prepare_row
from infercast.estimation.report import metrics
from infercast.estimation.timing import StepTimer
from infercast.hardware import Efficiency
from infercast.specs.registry import Registry, default_registry

__all__ = ["PARAMETERS", "CalibrationCase", "fit_calibration"]

# name, lower, upper, initial (the prior's centre where no parent set exists). The bounds are
# physical and tight, so a parameter cannot absorb what the model lacks:
# - dense GEMMs in cuBLAS/hipBLASLt do not exceed ~90 % of the dense datasheet peak;
# - streaming HBM reads reach 75-92 % of peak (STREAM-like kernels on H100/H200/B200/MI300X;
#   decode weight reads in vLLM/SGLang sit in that band);
# - NCCL/RCCL bus bandwidth on NVLink/xGMI reaches 60-85 % of the link peak for the MB-sized
#   messages of prefill (nccl-tests all_reduce_perf busbw);
# - a collective call costs 8-20 µs at small sizes (launch + handshake; nccl-tests latency at
#   8 B-64 KB inside an 8-GPU node), so the link efficiency never stands in for latency.
PARAMETERS: tuple[tuple[str, float, float, float], ...] = (
    ("compute", 0.3, 0.9, 0.7),
    ("memory_bandwidth", 0.75, 0.92, 0.8),
    ("collective", 0.6, 0.85, 0.7),
    ("collective_latency_s", 8e-6, 2e-5, 1e-5),
    ("step_overhead_s", 0.0, 0.02, 0.002),
    ("kernel_gap_s", 5e-7, 1.2e-5, 1.5e-6),
    ("eager_launch_s", 3e-6, 2e-5, 6e-6),
    ("moe_compute", 0.1, 0.9, 0.45),
    ("request_overhead_s", 0.0, 0.1, 0.01),
    ("burstiness", 0.0, 0.5, DEFAULT_BURSTINESS),
)
PRIOR_WEIGHT = 0.1
"""Weak prior of a generation set toward the catalog's physical defaults: per parameter, a
residual of ``PRIOR_WEIGHT · √cases · (x − centre) / (upper − lower)``. A parameter the data
pins down barely notices it; one the data hardly sees stays near its default instead of drifting
to a bound on noise."""
POOLING_WEIGHT = 0.3
"""Partial pooling: a hardware set shrinks toward its generation's fit, a (hardware, framework)
set toward its hardware's fit, with this weight (same form as ``PRIOR_WEIGHT``, stronger)."""
ENGINE_PARAMETERS = ("request_overhead_s", "burstiness")
"""Parameters of the server and benchmark harness, fitted per engine inside a set that holds
several (``name@engine``), written under the set's ``by_framework``."""
MIN_CASES_PER_ARCHITECTURE = 5
"""A set leaves its parent only with at least two model architectures of this many distinct
configurations each: one model's rows cannot tell the hardware's efficiency from what the cost
model gets wrong about that model."""
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


def _for_framework(values: dict[str, float], framework: str) -> dict[str, float]:
    """The values one engine's rows see: the set's, with that engine's own ``name@engine``."""
    own = {k.split("@")[0]: v for k, v in values.items() if k.endswith(f"@{framework}")}
    return {**{k: v for k, v in values.items() if "@" not in k}, **own}


def _residuals(cases: list[CalibrationCase], values: dict[str, float]) -> np.ndarray:
    out: list[float] = []
    cache: dict[int, Resolved] = {}
    for case in cases:
        ident = id(case.deployment)
        if ident not in cache:
            cache[ident] = _with_parameters(case.deployment, _for_framework(values, case.framework))
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
    rows only, no collective efficiency or latency. The others keep the parent's (or the
    catalog's) values: a fit would let them drift to a bound on noise."""
    names = {p[0] for p in PARAMETERS}
    if not any(c.deployment.spec.is_moe for c in cases):
        names.discard("moe_compute")
    if all(c.deployment.plan.gpus == 1 for c in cases):
        names -= {"collective", "collective_latency_s"}
    return names


def architecture(case: CalibrationCase) -> tuple[Any, ...]:
    """A model's structure (its layer classes and counts, width): what "two architectures"
    counts. Structural, never the model's name."""
    spec = case.deployment.spec
    return (spec.hidden_size, tuple((lt.layer_class, lt.count) for lt in spec.layer_types))


def _eligible(cases: list[CalibrationCase]) -> str | None:
    """Why this set may not leave its parent (None: it may)."""
    if len(cases) < MIN_ROWS_PER_SET:
        return f"{len(cases)} configurations (< {MIN_ROWS_PER_SET})"
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    for case in cases:
        counts[architecture(case)] += 1
    enough = sum(1 for n in counts.values() if n >= MIN_CASES_PER_ARCHITECTURE)
    if enough < 2:
        return (
            f"measurements of {enough} model architecture(s) with ≥ "
            f"{MIN_CASES_PER_ARCHITECTURE} configurations (needs 2)"
        )
    return None


def _catalog_centre(cases: list[CalibrationCase]) -> dict[str, float]:
    """The physical defaults of the set's hardware (a generation's parts share their catalog
    efficiencies); the schema's where the parts differ (a pool over several vendors)."""
    own = {c.deployment.hardware.efficiency for c in cases}
    eff = own.pop() if len(own) == 1 else Efficiency()
    centre = {p[0]: float(getattr(eff, p[0], p[3])) for p in PARAMETERS}
    centre["burstiness"] = DEFAULT_BURSTINESS
    return centre


def _fit_set(
    cases: list[CalibrationCase],
    centre: dict[str, float],
    weight: float,
    max_evaluations: int,
    tick: Callable[[], None] | None,
) -> tuple[dict[str, float], float, list[str]]:
    """Fit the observable parameters, shrunk toward ``centre`` with ``weight``; the others keep
    ``centre``. Returns all values, the median error over the set's rows, the fitted names."""
    observable = _observable(cases)
    free = [p for p in PARAMETERS if p[0] in observable]
    frameworks = sorted({c.framework for c in cases})
    if len(frameworks) > 1:
        # The server and harness parameters belong to each engine, not to the part: one
        # copy per engine measured (the aiconfigurator TRT-LLM/SGLang TTFTs carry ~100 ms that
        # InferenceMAX's vLLM runs do not).
        free = [p for p in free if p[0] not in ENGINE_PARAMETERS] + [
            (f"{p[0]}@{fw}", *p[1:]) for fw in frameworks for p in free if p[0] in ENGINE_PARAMETERS
        ]
    names = [p[0] for p in free]
    lower = np.array([p[1] for p in free])
    upper = np.array([p[2] for p in free])
    x0 = np.clip(np.array([centre.get(n, centre[n.split("@")[0]]) for n in names]), lower, upper)
    scale = upper - lower
    fixed = {k: v for k, v in centre.items() if k.split("@")[0] not in observable}

    def values_of(x: np.ndarray) -> dict[str, float]:
        return {**fixed, **dict(zip(names, (float(v) for v in x), strict=True))}

    prior = weight * math.sqrt(len(cases)) / scale

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
    return values, median_error, names


def _rounded(value: float) -> float:
    return round(value, 6) if value >= 1e-3 else round(value, 9)


def generation_key(generation: str) -> str:
    """The key of a generation's pooled set in ``calibration.json``."""
    return f"generation:{generation}"


def _hierarchy(cases: list[CalibrationCase]) -> dict[str, tuple[str | None, list[CalibrationCase]]]:
    """Every set key → (its parent's key, its cases), parents before children: generation,
    then hardware (all frameworks), then (hardware, framework); last the pool over every case
    (no parent: the generations do not shrink toward it, it is their fallback)."""
    tree: dict[str, tuple[str | None, list[CalibrationCase]]] = {}
    for level in range(3):
        for case in cases:
            gen = generation_key(case.deployment.hardware.generation or case.hardware)
            key, parent = (
                (gen, None),
                (f"{case.hardware}/*", gen),
                (f"{case.hardware}/{case.framework}", f"{case.hardware}/*"),
            )[level]
            tree.setdefault(key, (parent, []))[1].append(case)
    tree[POOL_KEY] = (None, cases)
    return tree


def fit_calibration(
    rows: list[BenchmarkRow],
    *,
    registry: Registry | None = None,
    max_evaluations: int = 40,
    progress: Callable[[str, int, int], None] | None = None,
    only: set[str] | None = None,
) -> dict[str, Any]:
    """Fit the pooled hierarchy of sets: generation → hardware → (hardware, framework), and
    the pool over every row (:mod:`infercast.estimation.pool`), the generations' fallback.

    ``only``: fit just these set keys (a set's parents must be among them; cross-validation
    asks for the resolution path of the rows it predicts, which is closed under parents; the
    pool only where a generation asked for got no set).

    A set is fitted only with enough configurations of at least two model architectures;
    otherwise it is not written and estimates use its parent. Each set shrinks toward its
    parent (partial pooling); a set with exactly its parent's rows is its parent's copy.
    """
    cases, skipped = _cases(rows, registry or default_registry())
    if not cases:
        raise InvalidInputError("no row of the CSV can be used for calibration")
    tree = _hierarchy(cases)
    sets: dict[str, Any] = {}
    unfitted: dict[str, str] = {}
    for done, (key, (parent, members)) in enumerate(tree.items()):
        if only is not None and key not in only:
            continue
        if key == POOL_KEY and not pool_needed(only, sets):
            continue
        frameworks = sorted({c.framework for c in members})
        info: dict[str, Any] = {"rows": len(members), "frameworks": frameworks}
        # The expert formats moe_compute was measured on (estimates say when theirs is not
        # among them): this set's MoE rows, or its parent's, whose moe_compute it keeps.
        experts = sorted({f for c in members if (f := c.deployment.dtypes.moe_dtype)})
        if not experts and parent in sets:
            experts = sets[parent].get("moe_formats", [])
        if experts:
            info["moe_formats"] = experts
        twin = parent  # a set with exactly these rows: this one is its copy
        if key == POOL_KEY:
            hardware = [c.deployment.hardware for c in members]
            info.update(pool_info((h.vendor for h in hardware), (h.id for h in hardware)))
            generations = [k for k in tree if k.startswith("generation:")]
            twin = generations[0] if len(generations) == 1 else None
        if twin in sets and len(tree[twin][1]) == len(members):
            sets[key] = {**sets[twin], **info, "same_rows_as": twin}
            continue
        reason = _eligible(members)
        if reason:
            fallback = parent or (POOL_KEY if key.startswith("generation:") else None)
            unfitted[key] = reason + (f": estimates use {fallback}" if fallback else "")
            continue
        if parent in sets:
            centre = {p[0]: sets[parent][p[0]] for p in PARAMETERS if p[0] in sets[parent]}
            centre = {**_catalog_centre(members), **centre}
            for fw, own in sets[parent].get("by_framework", {}).items():
                centre.update({f"{k}@{fw}": v for k, v in own.items()})
            if len(frameworks) == 1 and f"request_overhead_s@{frameworks[0]}" in centre:
                centre.update(_for_framework(centre, frameworks[0]))
            weight = POOLING_WEIGHT
        else:
            centre, weight = _catalog_centre(members), PRIOR_WEIGHT

        def tick(key: str = key, done: int = done) -> None:
            if progress:
                progress(key, done, len(tree))

        values, median_error, fitted = _fit_set(members, centre, weight, max_evaluations, tick)
        by_framework = {
            fw: {k: _rounded(values[f"{k}@{fw}"]) for k in ENGINE_PARAMETERS}
            for fw in frameworks
            if f"{ENGINE_PARAMETERS[0]}@{fw}" in values
        }
        plain = {k: v for k, v in values.items() if "@" not in k}
        for k in ENGINE_PARAMETERS:  # the set's own value: the mean over its engines
            if by_framework:
                plain[k] = float(np.mean([own[k] for own in by_framework.values()]))
        sets[key] = {
            **{k: _rounded(v) for k, v in plain.items()},
            **({"by_framework": by_framework} if by_framework else {}),
            **info,
            "fitted": fitted,
            "pooled_toward": parent or "catalog defaults",
            "median_abs_error_pct": round(100 * median_error, 2),
        }
    return {
        "about": "Efficiency parameters fitted by `infercast calibrate` (robust least squares on "
        "log(predicted/measured) of TPOT, TTFT and output tokens/s/GPU), pooled "
        "generation → hardware → (hardware, framework). Keys are 'hardware/framework'; "
        "'hardware/*' is the fit over all frameworks of that hardware; 'generation:NAME' the fit "
        "over all parts of an architecture generation; 'pool' the fit over every row, used by a "
        "part whose generation has no set (of a vendor listed in its 'vendors').",
        "sets": dict(sorted(sets.items())),
        "unfitted": dict(sorted(unfitted.items())),
        "skipped": skipped[:50],
    }

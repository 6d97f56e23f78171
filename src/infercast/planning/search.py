"""``infercast.search``: the best plans for a model under an SLA, and the Pareto front.

Every valid plan of the space (:mod:`.space`) whose weights may fit its GPUs (a floor on them
rules the others out unevaluated, :mod:`.fit`) is prepared once (its cost models built once),
checked for memory and probed at concurrency 1 (which classifies it), and its largest
SLA-meeting concurrency solved by bisection (:mod:`.concurrency`) — unless bounds prove it
can enter neither the top plans nor the Pareto front (:mod:`.prune`, :mod:`.ceiling`); with
``users`` the replicas follow. The plans are ranked by the
objective, and the top ones are re-estimated with ``estimate`` itself so that a returned
plan's figures are exactly what ``infercast estimate`` says of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from pydantic import ValidationError

from infercast.dtypes import UnknownDTypeError, dtype
from infercast.errors import InvalidInputError, UnknownIdError
from infercast.hardware import get_hardware
from infercast.planning import adapter
from infercast.planning.adapter import Probe
from infercast.planning.adapter import Resolved as Deployment
from infercast.planning.evaluate import Outcome, solve_plans
from infercast.planning.fit import WeightFloor
from infercast.planning.pareto import Front
from infercast.planning.prices import resolve_prices, usd_per_million_tokens
from infercast.planning.result import (
    ParetoPoint,
    PlanResult,
    SearchRequest,
    SearchResult,
)
from infercast.planning.sla import Rejections, Sla
from infercast.planning.space import Candidate, candidates
from infercast.specs.registry import Registry, default_registry
from infercast.specs.schema import ModelSpec

__all__ = ["DEFAULT_MAX_GPUS", "run_search", "search", "validation_message"]

DEFAULT_MAX_GPUS = 8


@dataclass
class _Feasible:
    cand: Candidate
    outcome: Outcome

    @property
    def best(self) -> Probe:
        assert self.outcome.best is not None
        return self.outcome.best

    @property
    def final(self) -> Probe:
        assert self.outcome.final is not None
        return self.outcome.final

    @property
    def total_gpus(self) -> int:
        return self.outcome.replicas * self.cand.gpus


def validation_message(exc: ValidationError) -> str:
    """One line naming every invalid search field and why."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "request"
        parts.append(f"{where}: {err['msg']}")
    return "invalid search: " + "; ".join(parts)


def search(model: str | ModelSpec, hardware: str | list[str], **options: Any) -> SearchResult:
    """Search every plan of ``model`` on ``hardware`` (see :class:`SearchRequest` for options).

    ``registry`` (a :class:`Registry`) may be passed to search models outside the catalog;
    ``model`` may also be a :class:`ModelSpec`; ``workers`` forks that many processes to
    solve the plans (same result); ``prune=False`` bisects every feasible plan to its end
    (same result, more probes: for checking the pruning of :mod:`.prune`);
    ``skip_unfit=False`` evaluates the plans whose weights alone cannot fit too (the same plans
    found when no bound stops the search, more evaluated: for checking :mod:`.fit`).
    """
    registry = options.pop("registry", None)
    workers = options.pop("workers", 1)
    prune = options.pop("prune", True)
    skip_unfit = options.pop("skip_unfit", True)
    hw = [hardware] if isinstance(hardware, str) else list(hardware)
    model_id = model.model_id if isinstance(model, ModelSpec) else model
    try:
        request = SearchRequest(model=model_id, hardware=hw, **options)
    except ValidationError as exc:
        raise InvalidInputError(validation_message(exc)) from None
    spec = model if isinstance(model, ModelSpec) else None
    return run_search(
        request, registry, spec=spec, workers=workers, prune=prune, skip_unfit=skip_unfit
    )


def _formats(
    spec: ModelSpec, req: SearchRequest
) -> list[tuple[str | None, str | None, str | None]]:
    for role, names in (
        ("weight_dtypes", req.weight_dtypes),
        ("moe_dtypes", req.moe_dtypes),
        ("kv_dtypes", req.kv_dtypes),
    ):
        for name in names:
            try:
                dtype(name)
            except UnknownDTypeError as exc:
                raise InvalidInputError(f"{role}: {exc}") from None
    if req.moe_dtypes and not spec.is_moe:
        raise InvalidInputError(f"moe_dtypes: {spec.hf_model_id} has no MoE layers")
    weights: list[str | None] = list(dict.fromkeys(req.weight_dtypes)) or [None]
    moes: list[str | None] = list(dict.fromkeys(req.moe_dtypes)) or [None]
    kvs: list[str | None] = list(dict.fromkeys(req.kv_dtypes)) or [None]
    return [(w, m, k) for w in weights for m in moes for k in kvs]


def _hardware_ids(names: list[str]) -> tuple[list[str], list[str]]:
    """The catalog id of each name, each part once in the order first named (``h100``,
    ``H100-SXM`` and ``h100`` are one part, searched once), and a note per part named more
    than once."""
    named: dict[str, list[str]] = {}
    for name in names:
        named.setdefault(get_hardware(name).id, []).append(name)
    notes = [
        f"hardware: {', '.join(given)} name the same part ({hw_id}): searched once"
        for hw_id, given in named.items()
        if len(given) > 1
    ]
    return list(named), notes


def _given_prices(given: dict[str, float]) -> dict[str, float]:
    """``price_per_gpu_hour`` by catalog id (a key may be an alias, in any case); a key that
    names no part is kept as given, lower-cased, for the check that it is searched."""
    out: dict[str, float] = {}
    keys: dict[str, str] = {}
    for key, price in given.items():
        try:
            hw_id = get_hardware(key).id
        except UnknownIdError:
            hw_id = key.strip().lower()
        if hw_id in keys:
            raise InvalidInputError(
                f"price_per_gpu_hour: {keys[hw_id]!r} and {key!r} name the same part "
                f"({hw_id}): give one price"
            )
        keys[hw_id], out[hw_id] = key, price
    return out


def _gpu_counts(req: SearchRequest) -> tuple[list[int], list[str]]:
    if req.gpus is not None and req.max_gpus is not None:
        raise InvalidInputError("give gpus (exact) or max_gpus (a bound), not both")
    if req.gpus is not None:
        return [req.gpus], []
    if req.max_gpus is None:
        note = f"no gpus or max_gpus given: replicas of 1..{DEFAULT_MAX_GPUS} GPUs searched"
        return list(range(1, DEFAULT_MAX_GPUS + 1)), [note]
    return list(range(1, req.max_gpus + 1)), []


def describe(cand: Candidate, moe: bool) -> str:
    """``TP4×DP2×PP2 EP8 CP2 SP`` — the degrees that are not 1 (MoE split for MoE models)."""
    text = f"TP{cand.tp}" + "".join(
        f"×{name}{value}" for name, value in (("DP", cand.dp), ("PP", cand.pp)) if value > 1
    )
    if moe and (cand.ep > 1 or cand.moe_tp != cand.tp):
        text += f" MoE TP{cand.moe_tp}×EP{cand.ep}"
    if cand.cp > 1:
        text += f" CP{cand.cp}"
    if cand.sp and cand.tp > 1:
        text += " SP"
    return text


def _label(cand: Candidate, dep: Deployment) -> str:
    d = dep.dtypes
    fmt = d.weight_dtype + (f"/{d.moe_dtype}" if d.moe_dtype else "") + f" kv {d.kv_dtype}"
    moe = d.moe_dtype is not None  # resolve sets it for MoE models only (no walk of the spec)
    return f"{cand.hardware} {describe(cand, moe)} {fmt} {dep.params.framework.name}"


def _fields(cand: Candidate, o: Outcome, p: Probe, model: str, req: SearchRequest) -> dict:
    args = {"model": model, **cand.estimate_args(), "isl": req.isl, "osl": req.osl}
    args["concurrency"] = p.concurrency
    return {
        "hardware": cand.hardware,
        "gpus": cand.gpus,
        "tp": cand.tp,
        "dp": cand.dp,
        "pp": cand.pp,
        "ep": cand.ep,
        "moe_tp": cand.moe_tp,
        "cp": cand.cp,
        "sp": cand.sp,
        "weight_dtype": o.weight_dtype,
        "moe_dtype": o.moe_dtype,
        "kv_dtype": o.kv_dtype,
        "framework": o.framework,
        "concurrency": p.concurrency,
        "ttft_ms": p.ttft_ms,
        "tpot_ms": p.tpot_ms,
        "output_tokens_per_s_per_gpu": p.output_tokens_per_s_per_gpu,
        "tokens_per_s_per_user": p.tokens_per_s_per_user,
        "label": f"{o.label} C={p.concurrency}",
        "estimate_args": args,
    }


def _rate_key(
    objective: str, prices: dict[str, tuple[float, str]]
) -> Callable[[str, int, float], tuple[float, ...]]:
    """The objective's sort key of a plan on ``hardware`` using ``total_gpus`` at ``rate``
    output tokens/s per GPU (lower is better; never better for a lower rate)."""

    def key(hardware: str, total_gpus: int, rate: float) -> tuple[float, ...]:
        if objective == "cost":
            return (usd_per_million_tokens(prices[hardware][0], rate), -rate)
        if objective == "gpus":
            return (total_gpus, -rate)
        return (-rate, total_gpus)

    return key


def _sort_key(
    objective: str, prices: dict[str, tuple[float, str]]
) -> Callable[[_Feasible], tuple[float, ...]]:
    by_rate = _rate_key(objective, prices)

    def key(f: _Feasible) -> tuple[float, ...]:
        return by_rate(f.cand.hardware, f.total_gpus, f.final.output_tokens_per_s_per_gpu)

    return key


class _Run:
    """The state of one search, fed the plans' outcomes in plan-space order: feasible plans,
    the Pareto front, the why-not summary."""

    def __init__(self, sla: Sla):
        self.rejections = Rejections(sla)
        self.feasible: list[_Feasible] = []
        self.pruned = 0  # feasible plans proven outside the top plans and the front
        self.front = Front()

    def record(self, cand: Candidate, o: Outcome) -> None:
        if o.shortfall_bytes is not None:
            self.rejections.memory(o.label, o.shortfall_bytes)
        elif o.best is None:
            assert o.first is not None
            self.rejections.latency(o.label, o.first)
        else:
            if o.pruned:
                self.pruned += 1
            else:
                self.feasible.append(_Feasible(cand, o))
            for p in o.passing:
                self.front.add(p, (cand, o))


def _tpot_limit(req: SearchRequest) -> float | None:
    """The tightest TPOT the SLA implies (a per-user speed R means TPOT ≤ 1000 / R)."""
    limits = [req.tpot_max_ms]
    if req.min_tokens_per_s_per_user:
        limits.append(1e3 / req.min_tokens_per_s_per_user)
    given = [x for x in limits if x is not None]
    return min(given) if given else None


def run_search(
    req: SearchRequest,
    registry: Registry | None = None,
    spec: ModelSpec | None = None,
    workers: int = 1,
    prune: bool = True,
    skip_unfit: bool = True,
) -> SearchResult:
    """The search of ``req``; ``workers > 1`` solves the plans in that many forked processes
    (see :mod:`.evaluate`: the same result, sooner on several cores); ``prune`` cuts short
    the bisections that cannot change the result (see :mod:`.prune`; not with ``users``);
    ``skip_unfit`` skips, unevaluated and uncounted by ``max_plans``, the plans whose weights
    alone cannot fit (see :mod:`.fit`)."""
    started = time.perf_counter()
    spec = spec or (registry or default_registry()).get(req.model)
    if spec.is_encoder_only:
        raise InvalidInputError(f"model: {spec.hf_model_id} is an encoder (no decode to plan)")
    hw_ids, notes = _hardware_ids(req.hardware)
    hardware = {h: get_hardware(h) for h in hw_ids}
    prices = resolve_prices(hw_ids, _given_prices(req.price_per_gpu_hour), req.example_prices)
    if req.objective == "cost":
        missing = [h for h in hw_ids if h not in prices]
        if missing:
            raise InvalidInputError(
                f"objective cost: no price for {', '.join(missing)} (give price_per_gpu_hour "
                "or use the example prices)"
            )
    counts, count_notes = _gpu_counts(req)
    notes += count_notes
    formats = _formats(spec, req)
    frameworks: list[str | None] = list(dict.fromkeys(req.frameworks)) or [None]
    for fw in frameworks:
        adapter.check_framework(fw)
    sla = Sla(req.ttft_max_ms, req.tpot_max_ms, req.min_tokens_per_s_per_user)
    space = candidates(spec, hw_ids, counts, req.isl, formats, frameworks)
    floor = WeightFloor(spec, hardware, req.isl, req.osl, _label) if skip_unfit else None
    if floor is not None:
        space = floor.keep(space)  # the plans that cannot hold their weights do not count
    plan_space = list(islice(space, req.max_plans + 1))
    truncated = len(plan_space) > req.max_plans
    plan_space = plan_space[: req.max_plans]
    rank = _rate_key(req.objective, prices) if prune and req.users is None else None
    outcomes, cut = solve_plans(
        spec, hardware, req, sla, _tpot_limit(req), plan_space, _label, started, workers, rank
    )
    run = _Run(sla)
    for o in outcomes:
        run.record(plan_space[o.index], o)
    if floor is not None:
        run.rejections.unfit(floor.skipped, floor.nearest())
    evaluated, probes = len(outcomes), sum(o.probes for o in outcomes)
    if truncated or cut:
        truncated = True
        notes.append(
            f"stopped after {evaluated} plans (max_plans {req.max_plans}, time_limit_s "
            f"{req.time_limit_s:g}): the plans and front cover those only"
        )
    feasible = run.feasible
    rejections = run.rejections
    feasible.sort(key=_sort_key(req.objective, prices))
    feasible_count = len(feasible) + run.pruned

    def result(f: _Feasible) -> PlanResult:
        dep = adapter.deploy(spec, hardware[f.cand.hardware], f.cand.plan_args())
        return _plan_result(f, dep, spec.model_id, req, prices)

    plans = [result(f) for f in feasible[: req.top]]
    per_hardware: dict[str, _Feasible] = {}
    for f in feasible:
        per_hardware.setdefault(f.cand.hardware, f)
    best_per_hardware = [result(f) for f in per_hardware.values()]
    front = [
        ParetoPoint(**_fields(cand, o, p, spec.model_id, req))
        for p, (cand, o) in run.front.ordered()
    ]
    if prices and any(src == "EXAMPLE price" for _, src in prices.values()):
        notes.append(
            "costs use EXAMPLE prices (illustrative placeholders, not quotes) for: "
            + ", ".join(h for h, (_, src) in prices.items() if src == "EXAMPLE price")
        )
    return SearchResult(
        plans=plans,
        best_per_hardware=best_per_hardware,
        pareto=front,
        evaluated=evaluated,
        skipped=floor.skipped if floor is not None else 0,
        feasible=feasible_count,
        probes=probes,
        rejected=rejections.summary(feasible_count),
        truncated=truncated,
        notes=notes,
    )


def _plan_result(
    f: _Feasible,
    dep: Deployment,
    model: str,
    req: SearchRequest,
    prices: dict[str, tuple[float, str]],
) -> PlanResult:
    est = adapter.full_estimate(dep, req.isl, req.osl, f.final.concurrency)
    fields = _fields(f.cand, f.outcome, f.final, model, req)
    fields.update(
        ttft_ms=est.ttft_ms,
        tpot_ms=est.tpot_ms,
        output_tokens_per_s_per_gpu=est.output_tokens_per_s_per_gpu,
        tokens_per_s_per_user=est.tokens_per_s_per_user,
    )
    priced: dict[str, Any] = {}
    if f.cand.hardware in prices:
        price, source = prices[f.cand.hardware]
        priced = {
            "usd_per_hour": price * f.total_gpus,
            "usd_per_million_output_tokens": usd_per_million_tokens(
                price, est.output_tokens_per_s_per_gpu
            ),
            "price_source": source,
        }
    return PlanResult(
        **fields,
        max_concurrency=f.best.concurrency,
        limited_by=f.outcome.limited_by,
        replicas=f.outcome.replicas,
        total_gpus=f.total_gpus,
        e2e_latency_ms=est.e2e_latency_ms,
        memory_per_gpu_bytes=est.memory_per_gpu_bytes,
        **priced,
    )

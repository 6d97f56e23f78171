"""Solving the plans of a search, in this process or in forked workers.

A plan's outcome depends only on its own deployment (and, through exact pruning, on nothing
that could change what the search returns), so plans may be solved in any order and in any
process. Outcomes carry the candidate's position in the plan space, and the search replays
them in that order, so a parallel search returns exactly what a serial one does; only
``probes`` may differ, as each process prunes (:mod:`.prune`) on the plans it has seen —
its own, and those the other workers have told it of so far (:mod:`.exchange`).

Each process works in two passes over its share:

1. every plan is resolved, checked for memory and probed at C = 1 — which classifies it
   (no room; no concurrency meets the SLA, with its nearest miss; feasible) and gives the
   front its fastest-per-user points;
2. the feasible plans are then solved best first (by their decode-only throughput
   :class:`~.ceiling.Ceiling`), so the top plans are found early and the others are mostly
   proven harmless from their ceiling alone — one probe instead of a bisection. The rest
   bisect from a rough guess (decode step times at the TPOT limit), bracketed below by C = 1.

Workers are forked (they inherit the loaded spec and catalogs: no re-import, no pickling of
cost models) and only when this process runs no other thread — a server's search, or any
caller with threads, is solved serially.
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from infercast.hardware import Hardware
from infercast.planning import adapter
from infercast.planning.adapter import Probe
from infercast.planning.ceiling import Ceiling
from infercast.planning.concurrency import largest_concurrency
from infercast.planning.exchange import Exchange
from infercast.planning.prune import SLACK, Pruner, Rank
from infercast.planning.result import SearchRequest
from infercast.planning.sla import Sla
from infercast.planning.space import Candidate
from infercast.specs.schema import ModelSpec

__all__ = ["MIN_PLANS_PER_WORKER", "Outcome", "solve_plans"]

MIN_PLANS_PER_WORKER = 128
"""Fewer plans than this per worker are solved serially: forking would cost more."""


@dataclass(frozen=True)
class Outcome:
    """What solving one plan found (picklable: no deployment inside)."""

    index: int
    label: str
    weight_dtype: str
    moe_dtype: str | None
    kv_dtype: str
    framework: str
    shortfall_bytes: float | None = None
    """Set when the plan does not fit: bytes per GPU missing for one sequence's KV."""
    first: Probe | None = None
    """The C = 1 probe of a plan no concurrency serves within the SLA."""
    best: Probe | None = None
    final: Probe | None = None
    replicas: int = 1
    limited_by: str = ""
    passing: tuple[Probe, ...] = ()
    probes: int = 0
    pruned: bool = False
    """Feasible, but provably outside the top plans and the front: bisection stopped early
    (``best`` and ``final`` are then a passing probe below ``C*``; see :mod:`.prune`)."""


@dataclass(frozen=True)
class _Job:
    spec: ModelSpec
    hardware: dict[str, Hardware]
    req: SearchRequest
    sla: Sla
    tpot_limit: float | None
    started: float
    label: Callable[[Candidate, Any], str]
    rank: Rank | None = None
    """The search's sort key, when plans may be pruned (not with ``users``)."""
    exchange: Exchange | None = None
    """How forked workers share what they have solved (None in one process)."""
    plans: tuple[tuple[int, Candidate], ...] = ()
    """The plans with their positions, for forked workers to take their share from (so only
    a share's number is sent to each, not its plans)."""


_JOB: _Job | None = None  # what forked workers inherit


def _per_replica(
    solved: Probe, users: int | None, evaluate: Callable[[int], Probe], sla: Sla
) -> tuple[Probe, int]:
    """The load each replica carries when ``users`` are spread over just enough replicas."""
    if users is None:
        return solved, 1
    replicas = -(-users // solved.concurrency)
    load = -(-users // replicas)
    if load == solved.concurrency:
        return solved, replicas
    p = evaluate(load)
    return (p, replicas) if sla.ok(p) else (solved, replicas)


@dataclass
class _Plan:
    """A feasible plan between the two passes: resolved, with its C = 1 probe."""

    index: int
    cand: Candidate
    dep: Any
    base: dict[str, Any]
    upper: int
    cap: int
    """What the engine holds (:func:`~infercast.planning.adapter.admission`)."""
    first: Probe
    calls: list[int]
    ceiling: Ceiling
    order: tuple[float, ...] = ()


def _evaluator(job: _Job, dep: Any, calls: list[int], cap: int) -> Callable[[int], Probe]:
    def evaluate(c: int) -> Probe:
        calls[0] += 1
        return adapter.probe(dep, job.req.isl, job.req.osl, c, cap)

    return evaluate


def _classify(job: _Job, index: int, cand: Candidate) -> Outcome | _Plan:
    """Pass 1: the outcome of a plan that does not fit or fails at C = 1, else the plan."""
    req = job.req
    dep = adapter.deploy_for_search(job.spec, job.hardware[cand.hardware], cand.plan_args())
    d = dep.dtypes
    base: dict[str, Any] = {
        "index": index,
        "label": job.label(cand, dep),
        "weight_dtype": d.weight_dtype,
        "moe_dtype": d.moe_dtype,
        "kv_dtype": d.kv_dtype,
        "framework": dep.params.framework.name,
    }
    cap, shortfall = adapter.admission(dep, req.isl, req.osl)
    if cap == 0:
        return Outcome(**base, shortfall_bytes=shortfall)
    upper = min(cap, req.users) if req.users else cap
    calls = [0]
    first = _evaluator(job, dep, calls, cap)(1)
    if not job.sla.ok(first):
        return Outcome(**base, first=first, probes=calls[0])
    step_s = adapter.decode_step_s(dep, req.isl, req.osl)
    ceiling = Ceiling(step_s, first, req.osl, cand.gpus, cand.dp, upper, job.tpot_limit, SLACK)
    return _Plan(index, cand, dep, base, upper, cap, first, calls, ceiling)


def _solve(job: _Job, plan: _Plan, pruner: Pruner | None) -> Outcome:
    """Pass 2: the plan's largest concurrency meeting the SLA, or its proof of harmlessness."""
    req, cand, first = job.req, plan.cand, plan.first
    evaluate = _evaluator(job, plan.dep, plan.calls, plan.cap)
    guess = None
    limit = job.tpot_limit
    if limit is not None:

        def guess() -> int:
            assert limit is not None
            return max(
                1, round(adapter.decode_seqs_at(plan.dep, req.isl, req.osl, limit, plan.upper))
            )

    stop = pruner.stop(cand.hardware, cand.gpus, plan.ceiling) if pruner else None
    solved = largest_concurrency(evaluate, job.sla, plan.upper, guess, True, stop, first)
    assert solved.best is not None  # C = 1 meets the SLA
    if pruner is not None:
        news = (cand.hardware, cand.gpus, None if solved.pruned else solved.best)
        pruner.seen(*news, tuple(solved.passing))
        if job.exchange is not None:
            job.exchange.publish((*news, tuple(solved.passing)))
    final, replicas = _per_replica(solved.best, req.users, evaluate, job.sla)
    limited = solved.limited_by
    if req.users and solved.best.concurrency == req.users:
        limited = "users"
    return Outcome(
        **plan.base,
        best=solved.best,
        final=final,
        replicas=replicas,
        limited_by=limited,
        passing=tuple(solved.passing),
        probes=plan.calls[0],
        pruned=solved.pruned,
    )


def _out_of_time(job: _Job) -> bool:
    return time.perf_counter() - job.started > job.req.time_limit_s


def _solve_share(share: list[tuple[int, Candidate]], me: int = 0) -> tuple[list[Outcome], bool]:
    job = _JOB
    assert job is not None
    exchange = job.exchange if job.rank is not None else None
    if exchange is not None:
        exchange.bind(me)
    out: list[Outcome] = []
    pruner = Pruner(job.rank, job.req.top) if job.rank is not None else None
    plans: list[_Plan] = []
    for index, cand in share:
        if _out_of_time(job):
            return out, True
        classified = _classify(job, index, cand)
        if isinstance(classified, _Plan):
            plans.append(classified)
        else:
            out.append(classified)
    if pruner is not None:
        rank = pruner.rank
        for plan in plans:
            pruner.probes([plan.first])
            plan.order = rank(plan.cand.hardware, plan.cand.gpus, plan.ceiling.peak())
        plans.sort(key=lambda p: p.order)  # stable: ties keep the plan-space order
        if exchange is not None:
            exchange.publish(("", 0, None, tuple(p.first for p in plans)))
    for plan in plans:
        if _out_of_time(job):
            return out, True
        if exchange is not None and pruner is not None:
            for news in exchange.drain():
                pruner.seen(*news)
        out.append(_solve(job, plan, pruner))
    return out, False


def _solve_nth(me: int, workers: int) -> tuple[list[Outcome], bool]:
    """Share ``me`` of ``workers`` (every ``workers``-th plan from the ``me``-th), in a forked
    worker: the plans are the inherited job's."""
    job = _JOB
    assert job is not None
    return _solve_share(list(job.plans[me::workers]), me)


def solve_plans(
    spec: ModelSpec,
    hardware: dict[str, Hardware],
    req: SearchRequest,
    sla: Sla,
    tpot_limit: float | None,
    plans: list[Candidate],
    label: Callable[[Candidate, Any], str],
    started: float,
    workers: int = 1,
    rank: Rank | None = None,
) -> tuple[list[Outcome], bool]:
    """Outcomes of ``plans`` in their order, and whether the time limit cut the search short;
    with ``rank`` (the search's sort key) bisections that cannot matter are cut short."""
    global _JOB
    indexed = list(enumerate(plans))
    _JOB = _Job(spec, hardware, req, sla, tpot_limit, started, label, rank)
    try:
        workers = min(workers, max(1, len(plans) // MIN_PLANS_PER_WORKER))
        if workers <= 1 or threading.active_count() > 1:
            outcomes, cut = _solve_share(indexed)
            return sorted(outcomes, key=lambda o: o.index), cut
        context = multiprocessing.get_context("fork")
        exchange = Exchange(workers)
        _JOB = replace(_JOB, exchange=exchange, plans=tuple(indexed))
        gc.freeze()  # the workers' collections then skip (and do not copy) the inherited heap
        try:
            with context.Pool(workers) as pool:
                parts = pool.starmap(_solve_nth, [(i, workers) for i in range(workers)])
        finally:
            gc.unfreeze()
            exchange.close()
        outcomes = sorted((o for part, _ in parts for o in part), key=lambda o: o.index)
        return outcomes, any(cut for _, cut in parts)
    finally:
        _JOB = None

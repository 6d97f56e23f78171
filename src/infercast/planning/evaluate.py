"""Solving the plans of a search, in this process or in forked workers.

A plan's outcome depends only on its own deployment and on the plans of the same layout before
it (formats and engines of one layout guess each other's concurrency), so the plan space is cut
into layout groups; the groups are independent and may be solved in any process. Outcomes carry
the candidate's position in the plan space, and the search replays them in that order, so a
parallel search returns exactly what a serial one does; only ``probes`` may differ, as each
process prunes bisections (:mod:`.prune`) on the plans it has solved itself.

Workers are forked (they inherit the loaded spec and catalogs: no re-import, no pickling of
cost models) and only when this process runs no other thread — a server's search, or any
caller with threads, is solved serially.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from infercast.hardware import Hardware
from infercast.planning import adapter
from infercast.planning.adapter import Probe
from infercast.planning.concurrency import largest_concurrency
from infercast.planning.prune import Pruner, Rank
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


def _solve_group(
    job: _Job, group: list[tuple[int, Candidate]], pruner: Pruner | None
) -> list[Outcome]:
    req, out = job.req, []
    guess: int | None = None
    for position, (index, cand) in enumerate(group):
        dep = adapter.deploy(job.spec, job.hardware[cand.hardware], cand.plan_args())
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
            out.append(Outcome(**base, shortfall_bytes=shortfall))
            continue
        upper = min(cap, req.users) if req.users else cap
        calls = [0]

        def evaluate(c: int, dep: Any = dep, calls: list[int] = calls) -> Probe:
            calls[0] += 1
            return adapter.probe(dep, req.isl, req.osl, c)

        rough = False
        if guess is None and job.tpot_limit is not None:
            seqs = adapter.decode_seqs_at(dep, req.isl, req.osl, job.tpot_limit, upper)
            guess, rough = max(1, round(seqs)), True
        last = position == len(group) - 1  # no sibling takes its C* as a guess
        stop = pruner.stop(cand.hardware, cand.gpus) if pruner and last else None
        solved = largest_concurrency(evaluate, job.sla, upper, guess, rough, stop)
        if solved.best is None:
            guess = 1
            out.append(Outcome(**base, first=solved.first, probes=calls[0]))
            continue
        guess = solved.best.concurrency
        if pruner is not None:
            pruner.seen(
                cand.hardware,
                cand.gpus,
                None if solved.pruned else solved.best,
                tuple(solved.passing),
            )
        final, replicas = _per_replica(solved.best, req.users, evaluate, job.sla)
        limited = solved.limited_by
        if req.users and solved.best.concurrency == req.users:
            limited = "users"
        out.append(
            Outcome(
                **base,
                best=solved.best,
                final=final,
                replicas=replicas,
                limited_by=limited,
                passing=tuple(solved.passing),
                probes=calls[0],
                pruned=solved.pruned,
            )
        )
    return out


def _solve_groups(groups: list[list[tuple[int, Candidate]]]) -> tuple[list[Outcome], bool]:
    job = _JOB
    assert job is not None
    out: list[Outcome] = []
    pruner = Pruner(job.rank, job.req.top) if job.rank is not None else None
    for group in groups:
        if time.perf_counter() - job.started > job.req.time_limit_s:
            return out, True
        out.extend(_solve_group(job, group, pruner))
    return out, False


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

    def layout(item: tuple[int, Candidate]) -> tuple[object, ...]:
        c = item[1]
        return (c.hardware, c.tp, c.dp, c.pp, c.ep, c.cp, c.sp)

    groups = [list(g) for _, g in groupby(indexed, key=layout)]
    _JOB = _Job(spec, hardware, req, sla, tpot_limit, started, label, rank)
    try:
        workers = min(workers, max(1, len(plans) // MIN_PLANS_PER_WORKER))
        if workers <= 1 or threading.active_count() > 1:
            return _solve_groups(groups)
        shares = [groups[i::workers] for i in range(workers)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_solve_groups, shares)
        outcomes = sorted((o for part, _ in parts for o in part), key=lambda o: o.index)
        return outcomes, any(cut for _, cut in parts)
    finally:
        _JOB = None

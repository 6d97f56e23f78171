"""Speed benchmark of the plan search (run on demand, not a test).

Two searches of the issue's targets, each timed warm (median of ``--runs`` after one warm-up
call, so imports and catalog loading are not counted) on one part:

* DeepSeek-R1 on up to 72 H200s: every TP × DP × PP × MoE TP × EP split, KV in bf16 and fp8
  with fp8 weights (the checkpoint's), concurrency solved by bisection under
  TTFT ≤ 2 s and TPOT ≤ 50 ms (target ≤ 1 s);
* Llama-3.3-70B on 1–16 H100s, KV bf16 and fp8, TTFT ≤ 1 s and TPOT ≤ 30 ms (target ≤ 0.3 s);
* DeepSeek-V3 on every part, 1–1024 GPUs, under ``POST /search``'s plan bound (3000 plans; its
  5 s time bound is lifted so that the plan bound decides): most of the smallest replicas cannot
  hold the 673 GB of weights. Skipped by the weight floor (:mod:`infercast.planning.fit`) they
  no longer use up the 3000 plans (target ≤ 5 s, the server's bound).

Printed per search: plans evaluated, plans skipped for their weights, feasible plans, memory
rejections (skipped ones included), closed-loop steady states solved ("probes"), median and
best wall time. The plans are solved by ``--workers`` forked processes (default: all cores,
as ``infercast search`` does).

Also printed: the CPU seconds of the timed runs (this process and its forked workers, median),
a steadier figure than wall time on a shared machine.

``--no-prune`` solves every feasible plan to its ``C*`` (no ceiling or bracket pruning; same
result, more probes) for a before/after comparison under the same load; ``--no-skip-unfit``
evaluates the plans whose weights cannot fit too (what the search did before the weight floor).

Usage: python benchmarks/bench_search.py [--runs 3] [--only r1|llama|v3] [--workers N]
       [--no-prune] [--no-skip-unfit]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from typing import Any

from infercast.hardware import hardware_ids
from infercast.interfaces.api.routes.search import API_MAX_PLANS
from infercast.planning import search

CASES: dict[str, tuple[dict[str, Any], float]] = {
    "r1": (
        {
            "model": "deepseek-ai/DeepSeek-R1",
            "hardware": "h200",
            "max_gpus": 72,
            "isl": 1024,
            "osl": 1024,
            "ttft_max_ms": 2000.0,
            "tpot_max_ms": 50.0,
            "kv_dtypes": ["bf16", "fp8"],
        },
        1.0,
    ),
    "llama": (
        {
            "model": "meta-llama/Llama-3.3-70B-Instruct",
            "hardware": "h100",
            "max_gpus": 16,
            "isl": 1024,
            "osl": 512,
            "ttft_max_ms": 1000.0,
            "tpot_max_ms": 30.0,
            "kv_dtypes": ["bf16", "fp8"],
        },
        0.3,
    ),
    "v3": (
        {
            "model": "deepseek-ai/DeepSeek-V3",
            "hardware": hardware_ids(),
            "max_gpus": 1024,
            "isl": 1024,
            "osl": 1024,
            "max_plans": API_MAX_PLANS,
            "time_limit_s": 600.0,
        },
        5.0,
    ),
}


def _cpu_s() -> float:
    """CPU seconds of this process and of its waited-for children (the forked workers)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def bench(
    name: str,
    options: dict[str, Any],
    target_s: float,
    runs: int,
    workers: int,
    prune: bool,
    skip_unfit: bool,
) -> None:
    search(**options, skip_unfit=skip_unfit)  # warm-up: catalog, calibration, imports
    times, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), _cpu_s()
        result = search(**options, workers=workers, prune=prune, skip_unfit=skip_unfit)
        times.append(time.perf_counter() - start)
        cpus.append(_cpu_s() - cpu)
    median = statistics.median(times)
    memory = sum(r.plans for r in result.rejected if r.constraint == "memory")
    print(
        f"{name:6s} plans evaluated {result.evaluated:5d}  skipped {result.skipped:5d}  "
        f"feasible {result.feasible:5d}  memory {memory:5d}  probes {result.probes:6d}  "
        f"truncated {result.truncated!s:5s}  median {median:7.3f} s  best {min(times):7.3f} s  "
        f"cpu {statistics.median(cpus):7.3f} s  workers {workers}  prune {prune}  "
        f"skip_unfit {skip_unfit}  target ≤ {target_s:g} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=sorted(CASES))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-prune", action="store_true")
    parser.add_argument("--no-skip-unfit", action="store_true")
    args = parser.parse_args()
    for name, (options, target) in CASES.items():
        if args.only in (None, name):
            prune, skip = not args.no_prune, not args.no_skip_unfit
            bench(name, options, target, args.runs, args.workers, prune, skip)


if __name__ == "__main__":
    main()

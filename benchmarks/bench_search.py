"""Speed benchmark of the plan search (run on demand, not a test).

Two searches of the issue's targets, each timed warm (median of ``--runs`` after one warm-up
call, so imports and catalog loading are not counted) on one part:

* DeepSeek-R1 on up to 72 H200s: every TP × DP × PP × MoE TP × EP split, KV in bf16 and fp8
  with fp8 weights (the checkpoint's), concurrency solved by bisection under
  TTFT ≤ 2 s and TPOT ≤ 50 ms (target ≤ 1 s);
* Llama-3.3-70B on 1–16 H100s, KV bf16 and fp8, TTFT ≤ 1 s and TPOT ≤ 30 ms (target ≤ 0.3 s).

Printed per search: plans evaluated, closed-loop steady states solved ("probes"), median and
best wall time. The plans are solved by ``--workers`` forked processes (default: all cores,
as ``infercast search`` does).

Also printed: the CPU seconds of the timed runs (this process and its forked workers, median),
a steadier figure than wall time on a shared machine.

``--no-prune`` solves every feasible plan to its ``C*`` (no ceiling or bracket pruning; same
result, more probes) for a before/after comparison under the same load.

Usage: python benchmarks/bench_search.py [--runs 3] [--only r1|llama] [--workers N] [--no-prune]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from typing import Any

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
}


def _cpu_s() -> float:
    """CPU seconds of this process and of its waited-for children (the forked workers)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def bench(
    name: str, options: dict[str, Any], target_s: float, runs: int, workers: int, prune: bool
) -> None:
    search(**options)  # warm-up: catalog, calibration, imports
    times, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), _cpu_s()
        result = search(**options, workers=workers, prune=prune)
        times.append(time.perf_counter() - start)
        cpus.append(_cpu_s() - cpu)
    median = statistics.median(times)
    print(
        f"{name:6s} plans evaluated {result.evaluated:5d}  feasible {result.feasible:5d}  "
        f"probes {result.probes:6d}  median {median:7.3f} s  best {min(times):7.3f} s  "
        f"cpu {statistics.median(cpus):7.3f} s  workers {workers}  prune {prune}  "
        f"target ≤ {target_s:g} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=sorted(CASES))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-prune", action="store_true")
    args = parser.parse_args()
    for name, (options, target) in CASES.items():
        if args.only in (None, name):
            bench(name, options, target, args.runs, args.workers, not args.no_prune)


if __name__ == "__main__":
    main()

"""Speed benchmark of the performance model (run on demand, not a test).

Measures what users wait for:

* one serving estimate (``infercast.estimate``) for a few representative deployments —
  cold (the first call in a fresh interpreter: imports, catalog and calibration loading) and
  warm (median / p90 over ``--runs`` calls once the registry is loaded, and the median CPU
  time of those calls), plus warm calls that load a fresh registry each time (what
  ``--models-dir`` costs);
* reconciling the whole shared serving-benchmark CSV (read + ``predict_rows`` + ``summarize``).

Usage: python benchmarks/bench_estimate.py [--runs 200] [--no-reconcile] [--no-cold]
Targets (issue 11): ≤ 2 ms median per warm estimate, ≤ 5 s to reconcile the shared CSV.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import infercast

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT.parent / "shared" / "benchmarks" / "serving-calibration.csv"
ESTIMATE_TARGET_MS = 2.0
RECONCILE_TARGET_S = 5.0

CONFIGS: dict[str, dict[str, Any]] = {
    "gpt-oss-120b h100 tp4": {
        "model": "openai/gpt-oss-120b",
        "hardware": "h100",
        "tp": 4,
        "framework": "vllm",
        "isl": 8192,
        "osl": 1024,
        "concurrency": 64,
    },
    "Llama-3.3-70B h200 tp8": {
        "model": "meta-llama/Llama-3.3-70B-Instruct",
        "hardware": "h200",
        "tp": 8,
        "framework": "vllm",
        "isl": 4096,
        "osl": 512,
        "concurrency": 32,
    },
    "Qwen3-30B-A3B h100 tp2 ep2": {
        "model": "Qwen/Qwen3-30B-A3B",
        "hardware": "h100",
        "tp": 2,
        "ep": 2,
        "framework": "sglang",
        "isl": 1024,
        "osl": 1024,
        "concurrency": 128,
    },
    "DeepSeek-V3 8×h200 tp8 ep8": {
        "model": "deepseek-ai/DeepSeek-V3",
        "hardware": "h200",
        "tp": 8,
        "ep": 8,
        "framework": "sglang",
        "isl": 1024,
        "osl": 1024,
        "concurrency": 64,
    },
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time_calls(kwargs: dict[str, Any], runs: int, cpu: list[float] | None = None) -> list[float]:
    """Wall ms of each call; ``cpu`` collects the process's CPU ms of each (what the call
    costs when other jobs share the cores: the wall figure also counts waiting for one)."""
    times = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        infercast.estimate(**kwargs)
        times.append((time.perf_counter() - start) * 1e3)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1e3)
    return times


def _cold_ms(kwargs: dict[str, Any]) -> tuple[float, float]:
    """(import ms, first-estimate ms) in a fresh interpreter: what a CLI call pays."""
    code = (
        "import json, sys, time\n"
        "t0 = time.perf_counter()\n"
        "import infercast\n"
        "from infercast.estimation import estimate as _m\n"
        "t1 = time.perf_counter()\n"
        "infercast.estimate(**json.loads(sys.argv[1]))\n"
        "t2 = time.perf_counter()\n"
        "print(json.dumps([(t1 - t0) * 1e3, (t2 - t1) * 1e3]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)],
        check=True,
        capture_output=True,
        text=True,
    )
    imported, first = json.loads(out.stdout)
    return float(imported), float(first)


def bench_estimates(runs: int, cold: bool) -> bool:
    """Print per-config timings; True when every warm median meets the target."""
    ok = True
    print(f"serving estimate, {runs} warm runs per config (ms)")
    header = f"{'config':30} {'median':>8} {'p90':>8} {'cpu':>6} {'fresh-reg':>10}"
    header += f" {'cold import':>12} {'cold 1st':>9}" if cold else ""
    print(header)
    with tempfile.TemporaryDirectory() as empty_dir:
        for name, kwargs in CONFIGS.items():
            infercast.estimate(**kwargs)  # warm-up: registry, catalog, calibration, caches
            cpu: list[float] = []
            warm = _time_calls(kwargs, runs, cpu)
            fresh = _time_calls({**kwargs, "models_dirs": [empty_dir]}, max(runs // 10, 5))
            median = statistics.median(warm)
            ok &= median <= ESTIMATE_TARGET_MS
            line = (
                f"{name:30} {median:8.2f} {_percentile(warm, 0.9):8.2f} "
                f"{statistics.median(cpu):6.2f} {statistics.median(fresh):10.2f}"
            )
            if cold:
                imported, first = _cold_ms(kwargs)
                line += f" {imported:12.0f} {first:9.1f}"
            print(line)
    print(
        f"target: median ≤ {ESTIMATE_TARGET_MS:g} ms per warm estimate -> "
        f"{'met' if ok else 'MISSED'}"
    )
    print(
        "cpu = median CPU ms of the warm calls (the process's own time: steadier than the wall "
        "median on a shared machine); fresh-reg = a new Registry per call (models_dirs given); "
        "cold = fresh interpreter: import time, then the first estimate (catalog, calibration "
        "and caches loaded)"
    )
    return ok


def bench_reconcile() -> bool:
    """Wall time of predicting and summarising every row of the shared CSV."""
    from infercast.estimation.reconcile import predict_rows, read_benchmark_csv, summarize

    if not CSV.is_file():
        print(f"reconcile: {CSV} not found, skipped")
        return True
    start = time.perf_counter()
    rows = read_benchmark_csv(CSV)
    read = time.perf_counter()
    predictions = predict_rows(rows)
    predicted = time.perf_counter()
    summary = summarize(predictions)
    done = time.perf_counter()
    total = done - start
    ok = total <= RECONCILE_TARGET_S
    print(
        f"reconcile {CSV.name}: {len(rows)} rows ({summary['failed']} failed) in {total:.2f} s "
        f"(read {read - start:.2f} s, predict {predicted - read:.2f} s, summarize "
        f"{done - predicted:.2f} s; {1e3 * (predicted - read) / max(len(rows), 1):.2f} ms/row)"
    )
    print(f"target: ≤ {RECONCILE_TARGET_S:g} s -> {'met' if ok else 'MISSED'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="warm estimates per config")
    parser.add_argument("--no-reconcile", action="store_true", help="skip the CSV reconcile")
    parser.add_argument("--no-cold", action="store_true", help="skip fresh-interpreter timings")
    args = parser.parse_args()
    if not 1 <= args.runs <= 100_000:
        parser.error("--runs must be between 1 and 100000")
    ok = bench_estimates(args.runs, cold=not args.no_cold)
    if not args.no_reconcile:
        print()
        ok &= bench_reconcile()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""``infercast sweep GRID.yaml``: plan searches over models × hardware × workloads × SLAs.

The grid file::

    models: [meta-llama/Llama-3.1-8B-Instruct, Qwen/Qwen3-32B]
    hardware: [h100, h200]
    workloads: [{isl: 1024, osl: 256}, {isl: 8192, osl: 1024}]
    slas:                       # optional; a missing name is made from the limits
      - {name: chat, ttft_max_ms: 1000, tpot_max_ms: 30}
      - {tpot_max_ms: 10}
    search: {max_gpus: 8, kv_dtypes: [bf16, fp8], top: 3}   # any other search option

Every combination is one search (one hardware id each, so hardware compares row by row); the
jobs run on all local cores (a process pool) or, with ``ray_address``, as Ray tasks on an
existing cluster (Ray does the distribution; nothing home-made). Each job returns its rows —
the top plans, or one row saying why no plan met the SLA — in grid order, so a local run and
a Ray run give identical tables.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infercast.errors import InvalidInputError
from infercast.planning.result import SearchRequest
from infercast.planning.search import run_search, validation_message
from infercast.planning.tables import PLAN_COLUMNS, plan_row

__all__ = ["SWEEP_COLUMNS", "load_grid", "run_sweep", "sweep_jobs", "write_table"]

_GRID_KEYS = {"models", "hardware", "workloads", "slas", "search"}
_SLA_KEYS = {"name", "ttft_max_ms", "tpot_max_ms", "min_tokens_per_s_per_user", "users"}
_WORKLOAD_KEYS = {"isl", "osl"}
SWEEP_COLUMNS = (
    "model",
    "isl",
    "osl",
    "sla",
    "rank",
    *PLAN_COLUMNS,
    "evaluated",
    "feasible",
    "why_not",
)


def load_grid(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: expected a mapping with models, hardware, workloads")
    return data


def _list(grid: dict[str, Any], key: str, required: bool = True) -> list[Any]:
    value = grid.get(key)
    if value is None and not required:
        return [{}]
    if not isinstance(value, list) or not value:
        raise InvalidInputError(f"grid: '{key}' must be a non-empty list")
    return value


def _entry(value: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError(f"grid: {where} must be a mapping, got {value!r}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidInputError(
            f"grid: {where} has unknown key(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(allowed))})"
        )
    return dict(value)


def _sla_name(sla: dict[str, Any]) -> str:
    if sla.get("name"):
        return str(sla["name"])
    parts = [f"{k}={sla[k]:g}" for k in sorted(sla) if k != "name"]
    return " ".join(parts) or "none"


def sweep_jobs(grid: dict[str, Any]) -> list[dict[str, Any]]:
    """Every search of the grid as a validated ``SearchRequest`` body plus its SLA name."""
    unknown = sorted(set(grid) - _GRID_KEYS)
    if unknown:
        raise InvalidInputError(
            f"grid: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_GRID_KEYS))})"
        )
    common = _entry(grid.get("search") or {}, set(SearchRequest.model_fields), "'search'")
    for key in ("model", "hardware", "isl", "osl"):
        if key in common:
            raise InvalidInputError(f"grid: 'search' cannot set {key} (use the grid's lists)")
    jobs = []
    models = _list(grid, "models")
    hardware = _list(grid, "hardware")
    workloads = [
        _entry(w, _WORKLOAD_KEYS, f"workloads[{i}]") for i, w in enumerate(_list(grid, "workloads"))
    ]
    slas = [_entry(s, _SLA_KEYS, f"slas[{i}]") for i, s in enumerate(_list(grid, "slas", False))]
    for model in models:
        for hw in hardware:
            for w_index, workload in enumerate(workloads):
                for sla in slas:
                    limits = {k: v for k, v in sla.items() if k != "name"}
                    body = {**common, **limits, **workload, "model": model, "hardware": [hw]}
                    try:
                        SearchRequest(**body)
                    except ValidationError as exc:
                        where = f"grid job (model {model}, hardware {hw}, workloads[{w_index}])"
                        raise InvalidInputError(f"{where}: {validation_message(exc)}") from None
                    jobs.append({"request": body, "sla": _sla_name(sla)})
    return jobs


def run_job(job: dict[str, Any]) -> list[dict[str, Any]]:
    """One search → its table rows (a top-level function: process pools and Ray pickle it)."""
    request = SearchRequest(**job["request"])
    result = run_search(request)
    base = {
        **dict.fromkeys(SWEEP_COLUMNS),
        "model": request.model,
        "isl": request.isl,
        "osl": request.osl,
        "sla": job["sla"],
        "evaluated": result.evaluated,
        "feasible": result.feasible,
        "why_not": " | ".join(r.nearest_miss for r in result.rejected),
    }
    if not result.plans:
        return [{**base, "hardware": request.hardware[0], "rank": None}]
    return [{**base, "rank": i, **plan_row(p)} for i, p in enumerate(result.plans, 1)]


def _local(jobs: list[dict[str, Any]], workers: int | None) -> list[list[dict[str, Any]]]:
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(jobs) <= 1:
        return [run_job(job) for job in jobs]
    # "spawn": safe whatever threads the parent runs (a server, a test harness).
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        min(workers, len(jobs)), mp_context=context
    ) as pool:
        return list(pool.map(run_job, jobs))


def _ray(jobs: list[dict[str, Any]], address: str) -> list[list[dict[str, Any]]]:
    try:
        import ray
    except ImportError:
        raise InvalidInputError("--ray needs Ray: pip install 'infercast[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        task = ray.remote(run_job)
        return list(ray.get([task.remote(job) for job in jobs]))
    finally:
        if started_here:
            ray.shutdown()


def run_sweep(
    grid: dict[str, Any], workers: int | None = None, ray_address: str | None = None
) -> list[dict[str, Any]]:
    """All rows of the grid, in grid order."""
    jobs = sweep_jobs(grid)
    chunks = _ray(jobs, ray_address) if ray_address else _local(jobs, workers)
    return [row for chunk in chunks for row in chunk]


def write_table(rows: list[dict[str, Any]], path: Path) -> None:
    """CSV, or Parquet when ``path`` ends in ``.parquet`` (needs pyarrow)."""
    if path.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise InvalidInputError(
                "Parquet output needs pyarrow (pip install pyarrow), or write .csv"
            ) from None
        columns = {c: [row.get(c) for row in rows] for c in SWEEP_COLUMNS}
        pq.write_table(pa.table(columns), path)
        return
    from infercast.planning.tables import csv_text

    path.write_text(csv_text(rows, SWEEP_COLUMNS), encoding="utf-8")

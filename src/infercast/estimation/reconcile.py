"""Predict every row of a serving-benchmark CSV and measure the error.

The CSV format is that of ``../shared/benchmarks/serving-calibration.csv`` (see its README).
A row that cannot be predicted (unknown model, invalid plan, …) keeps its reason in the
``error`` column and the run goes on. Errors are absolute percentage errors
``|predicted − measured| / measured``; summaries give their median and mean per metric,
overall and by model, hardware, framework and (model, hardware).
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infercast.deployment import FIELDS, Deployment, Workload
from infercast.errors import InfercastError, InvalidInputError
from infercast.estimation.estimate import serving_point
from infercast.estimation.report import metrics
from infercast.estimation.resolve import Resolved, resolve
from infercast.specs.registry import Registry, default_registry

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_CSV_ROWS",
    "METRICS",
    "BenchmarkRow",
    "Prediction",
    "predict_rows",
    "read_benchmark_csv",
    "summarize",
]

MAX_CSV_BYTES = 50 * 2**20
MAX_CSV_ROWS = 200_000

REQUIRED_COLUMNS = (
    "model",
    "hardware",
    "isl",
    "osl",
    "concurrency",
    "attention_tp",
)
METRICS = {
    "ttft_ms": "ttft_ms",
    "tpot_ms": "tpot_ms",
    "output_tokens_per_s_per_gpu": "output_tokens_per_s_per_gpu",
    "total_tokens_per_s_per_gpu": "total_tokens_per_s_per_gpu",
}
PREDICTED_COLUMNS = tuple(f"predicted_{m}" for m in METRICS)


@dataclass
class BenchmarkRow:
    line: int
    values: dict[str, str]

    def text(self, key: str) -> str:
        return (self.values.get(key) or "").strip()

    def integer(self, key: str, default: int | None = None) -> int:
        raw = self.text(key)
        if not raw:
            if default is None:
                raise InvalidInputError(f"column {key!r} is empty")
            return default
        try:
            value = float(raw)
        except ValueError:
            raise InvalidInputError(f"column {key!r}: {raw!r} is not a number") from None
        if not math.isfinite(value):
            raise InvalidInputError(f"column {key!r}: {raw!r} is not a finite number")
        if value != int(value) or value < 0:
            raise InvalidInputError(f"column {key!r}: {raw!r} is not a non-negative integer")
        return int(value)

    def measured(self, metric: str) -> float | None:
        """The measured value of ``metric``; None where the cell is empty or unusable (not a
        positive finite number; :meth:`unusable_measurements` names those)."""
        raw = self.text(metric)
        try:
            value = float(raw)
        except ValueError:
            return None
        return value if math.isfinite(value) and value > 0 else None

    def unusable_measurements(self) -> list[str]:
        """A message for each measured cell that is filled but cannot be scored: a silent skip
        would make a row look scored when it is not."""
        return [
            f"column {metric!r}: {self.text(metric)!r} is not a positive finite number"
            for metric in METRICS
            if self.text(metric) and self.measured(metric) is None
        ]


@dataclass
class Prediction:
    row: BenchmarkRow
    predicted: dict[str, float] = field(default_factory=dict)
    error: str = ""

    def ape(self, metric: str) -> float | None:
        if self.error:
            return None
        measured = self.row.measured(metric)
        predicted = self.predicted.get(metric)
        if measured is None or predicted is None:
            return None
        return abs(predicted - measured) / measured


def read_benchmark_csv(source: str | Path | bytes, name: str | None = None) -> list[BenchmarkRow]:
    """Parse and bound a benchmark CSV (path, or the bytes of an upload)."""
    if isinstance(source, bytes):
        label = name or "<upload>"
        if len(source) > MAX_CSV_BYTES:
            raise InvalidInputError(f"{label}: {len(source)} bytes exceeds {MAX_CSV_BYTES}")
        try:
            text = source.decode("utf-8-sig", errors="strict")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{label}: not UTF-8 text: {exc.reason}") from None
    else:
        path = Path(source)
        label = name or str(path)
        try:
            size = path.stat().st_size
            if size > MAX_CSV_BYTES:
                raise InvalidInputError(f"{label}: {size} bytes exceeds {MAX_CSV_BYTES}")
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InvalidInputError(f"{label}: cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{label}: not UTF-8 text: {exc.reason}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = reader.fieldnames or []
    except csv.Error as exc:  # a header field over the csv limit, a stray quote
        raise InvalidInputError(f"{label}: malformed CSV header: {exc}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InvalidInputError(f"{label}: missing column(s) {', '.join(missing)}")
    rows = []
    try:
        for i, values in enumerate(reader):
            if i >= MAX_CSV_ROWS:
                raise InvalidInputError(f"{label}: more than {MAX_CSV_ROWS} rows")
            rows.append(BenchmarkRow(line=i + 2, values={k: v for k, v in values.items() if k}))
    except csv.Error as exc:
        raise InvalidInputError(
            f"{label}: malformed CSV near line {reader.reader.line_num}: {exc}"
        ) from None
    return rows


def _deployment_key(row: BenchmarkRow) -> tuple[Any, ...]:
    keys = ("model", "hardware", "framework", "gemm_dtype", "moe_dtype", "kv_dtype")
    ints = ("gpus", "attention_tp", "attention_dp", "pp", "moe_tp", "moe_ep")
    return tuple(row.text(k) for k in keys) + tuple(row.text(k) for k in ints)


_COLUMNS = {f.csv: f for f in FIELDS if f.csv}
"""Benchmark-CSV column → deployment field (declared with the field)."""
_WORKLOAD = {"isl", "osl", "concurrency"}


def _row_fields(row: BenchmarkRow) -> dict[str, Any]:
    """The deployment fields of a row (workload excluded); an empty cell is the default, and
    ``0`` for ``gpus``/``moe_tp`` means unset."""
    fields: dict[str, Any] = {}
    for column, f in _COLUMNS.items():
        if f.name in _WORKLOAD or not row.text(column):
            continue
        if f.annotation in (str, str | None):
            fields[f.name] = row.text(column)
        else:
            fields[f.name] = row.integer(column) or (None if f.default is None else 0)
    return fields


def _prepare_row(
    row: BenchmarkRow, registry: Registry, calibration: dict[str, Any] | None
) -> Resolved:
    fields = _row_fields(row)
    spec = registry.get(fields.pop("model", ""))
    if not spec.is_moe:  # dense rows carry blank or 1/1 expert columns
        fields.pop("moe_tp", None)
        fields.pop("ep", None)
        fields.pop("moe_dtype", None)
    return resolve(Deployment.of(model=spec, **fields), registry=registry, calibration=calibration)


def predict_rows(
    rows: Iterable[BenchmarkRow],
    *,
    registry: Registry | None = None,
    calibration: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Prediction]:
    registry = registry or default_registry()
    deployments: dict[tuple[Any, ...], Resolved | InfercastError] = {}
    out = []
    for row in rows:
        prediction = Prediction(row)
        try:
            key = _deployment_key(row)
            if key not in deployments:
                try:
                    deployments[key] = _prepare_row(row, registry, calibration)
                except InfercastError as exc:
                    deployments[key] = exc
            dep = deployments[key]
            if isinstance(dep, InfercastError):
                raise dep
            isl, osl = row.integer("isl"), row.integer("osl")
            concurrency = row.integer("concurrency")
            if isl < 1 or concurrency < 1:
                raise InvalidInputError("isl and concurrency must be ≥ 1")
            point = serving_point(dep, isl, osl, concurrency)
            figures = metrics(
                point, Workload(isl, osl, concurrency), dep.plan.gpus, dep.spec.is_encoder_only
            )
            predicted = {metric: getattr(figures, metric) for metric in METRICS}
            prediction.predicted = {k: v for k, v in predicted.items() if v is not None}
            if problems := row.unusable_measurements():
                prediction.error = "; ".join(problems) + " (the row is not scored)"
        except InfercastError as exc:
            prediction.error = str(exc).replace("\n", " ")
        out.append(prediction)
        if progress:
            progress(1)
    return out


def _stats(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median_ape_pct": 100 * statistics.median(values),
        "mean_ape_pct": 100 * statistics.fmean(values),
    }


def summarize(predictions: list[Prediction]) -> dict[str, Any]:
    """Median / mean APE per metric: overall and grouped."""
    groupings: dict[str, Callable[[BenchmarkRow], str]] = {
        "model": lambda r: r.text("model"),
        "hardware": lambda r: r.text("hardware"),
        "framework": lambda r: r.text("framework") or "(none)",
        "model_hardware": lambda r: f"{r.text('model')} @ {r.text('hardware')}",
    }
    summary: dict[str, Any] = {
        "rows": len(predictions),
        "predicted": sum(1 for p in predictions if not p.error),
        "failed": sum(1 for p in predictions if p.error),
        "overall": {},
        "by": {g: {} for g in groupings},
    }
    for metric in METRICS:
        errors = [e for p in predictions if (e := p.ape(metric)) is not None]
        summary["overall"][metric] = _stats(errors)
        for group, key in groupings.items():
            buckets: dict[str, list[float]] = defaultdict(list)
            for p in predictions:
                e = p.ape(metric)
                if e is not None:
                    buckets[key(p.row)].append(e)
            for name, values in sorted(buckets.items()):
                summary["by"][group].setdefault(name, {})[metric] = _stats(values)
    return summary


def output_rows(predictions: list[Prediction]) -> tuple[list[str], list[dict[str, str]]]:
    """The input columns plus predicted_* and error, ready for csv.DictWriter."""
    columns: list[str] = []
    for p in predictions:
        for k in p.row.values:
            if k not in columns:
                columns.append(k)
    columns += [*PREDICTED_COLUMNS, "error"]
    rows = []
    for p in predictions:
        out = dict(p.row.values)
        for metric in METRICS:
            value = p.predicted.get(metric)
            out[f"predicted_{metric}"] = "" if value is None else f"{value:.6g}"
        out["error"] = p.error
        rows.append(out)
    return columns, rows

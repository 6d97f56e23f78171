"""``POST /reconcile``'s work: the same prediction and error logic as ``infercast reconcile``
(:mod:`infercast.estimation.reconcile`), bounded for an upload and shaped as JSON.

A row the model cannot run keeps its reason in ``error`` and the run goes on; errors are
absolute percentage errors, summarised by median and mean per metric, overall and by group.
"""

from __future__ import annotations

from infercast.errors import InvalidInputError
from infercast.estimation.reconcile import (
    METRICS,
    Prediction,
    predict_rows,
    read_benchmark_csv,
    summarize,
)
from infercast.specs import Registry

from .errors import ApiError, ErrorProblem
from .schemas import ReconcileResponse, ReconcileRow, ReconcileSummary
from .state import ApiState

__all__ = ["MAX_ROWS", "reconcile_upload"]

MAX_ROWS = 5_000
"""Rows per upload: the shared benchmark file has ~1,100; each row costs a few ms."""


def _file_problem(message: str, rule: str) -> ApiError:
    return ApiError(
        422,
        "invalid_input",
        f"file: {message}",
        [ErrorProblem(field="file", location="body", rule=rule, message=message)],
    )


def _registry(state: ApiState) -> Registry:
    """The registry plus this session's imported specs, so they can be reconciled too."""
    if not state.imported:
        return state.registry
    merged = Registry(user_dirs=list(state.registry.user_dirs))
    for spec, _ in state.models():
        merged.add(spec)
    return merged


def _optional_int(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _row(prediction: Prediction) -> ReconcileRow:
    row = prediction.row
    return ReconcileRow(
        line=row.line,
        model=row.text("model"),
        hardware=row.text("hardware"),
        framework=row.text("framework") or None,
        isl=_optional_int(row.text("isl")),
        osl=_optional_int(row.text("osl")),
        concurrency=_optional_int(row.text("concurrency")),
        measured={m: row.measured(m) for m in METRICS},
        predicted={m: prediction.predicted.get(m) for m in METRICS},
        ape_pct={m: (None if (e := prediction.ape(m)) is None else 100 * e) for m in METRICS},
        error=prediction.error[:500],
    )


def reconcile_upload(state: ApiState, data: bytes, name: str) -> ReconcileResponse:
    """Parse (422 on a bad file), bound, predict every row, summarise."""
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_problem(f"not UTF-8 text (byte {exc.start})", "utf8") from None
    try:
        rows = read_benchmark_csv(data, name=name)
    except InvalidInputError as exc:
        raise _file_problem(str(exc), "csv") from None
    if not rows:
        raise _file_problem("no data rows", "non_empty")
    if len(rows) > MAX_ROWS:
        raise _file_problem(f"{len(rows):,} data rows; the limit is {MAX_ROWS:,}", "max_rows")
    predictions = predict_rows(rows, registry=_registry(state))
    return ReconcileResponse(
        summary=ReconcileSummary.model_validate(summarize(predictions)),
        rows=[_row(p) for p in predictions],
    )

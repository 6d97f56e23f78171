"""Generalisation measured by the project itself: fit with a group left out, predict it.

``infercast calibrate CSV --cross-validate model|hardware|framework`` splits the rows by that
column; for each group it fits the calibration on every *other* row
(:func:`~infercast.estimation.calibration.fit_calibration`) and predicts the group's rows with
that fit (:func:`~infercast.estimation.reconcile.predict_rows`). The held-out medians are what a
user sees for a model, part or engine the shipped calibration never saw.

Each fold's fitted sets are kept in the result, so a fold's predictions can be re-checked
without refitting (``tests/test_accuracy.py`` does, against ``cross_validation.json``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from infercast.errors import InfercastError, InvalidInputError
from infercast.estimation.calibration import fit_calibration, generation_key
from infercast.estimation.params import canonical_framework
from infercast.estimation.pool import POOL_KEY
from infercast.estimation.reconcile import BenchmarkRow, Prediction, predict_rows, summarize
from infercast.hardware import get_hardware
from infercast.specs.registry import Registry

__all__ = ["GROUPINGS", "cross_validate", "fold_medians", "held_out_predictions"]

Grouping = Literal["model", "hardware", "framework"]
GROUPINGS: tuple[Grouping, ...] = ("model", "hardware", "framework")
_HEADLINE = ("tpot_ms", "ttft_ms", "output_tokens_per_s_per_gpu")


def _resolution_path(row: BenchmarkRow) -> tuple[str, ...]:
    """The set keys an estimate of ``row`` may use, most specific first."""
    hw = row.text("hardware")
    try:
        generation = get_hardware(hw).generation
    except InfercastError:
        generation = None
    fw = canonical_framework(row.text("framework")) or "generic"
    return (f"{hw}/{fw}", f"{hw}/*", generation_key(generation or hw), POOL_KEY)


def _group_of(row: BenchmarkRow, by: Grouping) -> str:
    value = row.text(by)
    return (canonical_framework(value) or "") if by == "framework" else value


def fold_medians(
    rows: list[BenchmarkRow], calibration: dict[str, Any], registry: Registry | None = None
) -> dict[str, Any]:
    """Median absolute % error of each headline metric over ``rows`` under ``calibration``."""
    return _medians(predict_rows(rows, registry=registry, calibration=calibration))


def held_out_predictions(
    rows: list[BenchmarkRow], result: dict[str, Any], registry: Registry | None = None
) -> list[Prediction]:
    """Each row predicted by the stored fit of the fold that held it out (``result`` as
    :func:`cross_validate` returns it): out-of-sample predictions of every row, re-checkable
    without refitting (the ranking measure of ``scripts/ranking_report.py`` uses them)."""
    out: list[Prediction] = []
    for name, fold in result["folds"].items():
        held_out = [r for r in rows if _group_of(r, result["by"]) == name]
        out += predict_rows(held_out, registry=registry, calibration={"sets": fold["sets"]})
    return out


def _medians(predictions: list[Prediction]) -> dict[str, Any]:
    summary = summarize(predictions)
    out: dict[str, Any] = {"rows": summary["rows"], "failed": summary["failed"]}
    for metric in _HEADLINE:
        stats = summary["overall"][metric]
        out[metric] = round(stats["median_ape_pct"], 2) if stats["n"] else None
    return out


def cross_validate(
    rows: list[BenchmarkRow],
    by: Grouping,
    *,
    registry: Registry | None = None,
    max_evaluations: int = 40,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Leave-one-group-out: per group, its medians under a fit that never saw it."""
    if by not in GROUPINGS:
        raise InvalidInputError(f"--cross-validate: {by!r} is not one of {', '.join(GROUPINGS)}")
    groups: dict[str, list[BenchmarkRow]] = {}
    for row in rows:
        groups.setdefault(_group_of(row, by), []).append(row)
    if len(groups) < 2:
        raise InvalidInputError(f"--cross-validate {by}: the CSV holds only one {by}")
    folds: dict[str, Any] = {}
    pooled: list[Prediction] = []
    for name, held_out in sorted(groups.items()):
        training = [r for r in rows if _group_of(r, by) != name]
        # Only the sets the held-out rows resolve to need fitting: their (hardware, framework),
        # hardware and generation sets (params.resolve_params' order), parents included, and
        # the pool, which fit_calibration fits only where a generation got no set.
        needed = {key for row in held_out for key in _resolution_path(row)}

        def tick(key: str, done: int, total: int, name: str = name) -> None:
            if progress:
                progress(f"without {name}: {key}", done, total)

        try:
            fitted = fit_calibration(
                training,
                registry=registry,
                max_evaluations=max_evaluations,
                progress=tick,
                only=needed,
            )
        except InvalidInputError:
            fitted = {"sets": {}}  # nothing left to fit: the catalog's defaults
        predictions = predict_rows(held_out, registry=registry, calibration=fitted)
        pooled.extend(predictions)
        folds[name] = {**_medians(predictions), "sets": fitted.get("sets", {})}
    return {"by": by, "folds": folds, "all_held_out": _medians(pooled)}

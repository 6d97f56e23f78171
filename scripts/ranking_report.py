"""Print the README's plan-ranking table (markdown): how often the plan ranked best under a TPOT
limit reaches ≥ 90 % of the best measured throughput (issue 11), in-sample and out-of-sample.

Usage: .venv/bin/python scripts/ranking_report.py   (or `make ranking`)
Reads ../shared/benchmarks/serving-calibration.csv, the shipped calibration.json and the folds'
stored fits in tests/data/cross_validation_{model,hardware}.json (`make cross-validate`).
Definitions: src/infercast/estimation/ranking.py and docs/PERFORMANCE_MODEL.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infercast.estimation.cross_validation import held_out_predictions
from infercast.estimation.ranking import cases, summarize_ranking
from infercast.estimation.reconcile import (
    BenchmarkRow,
    Prediction,
    predict_rows,
    read_benchmark_csv,
)

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT.parent / "shared" / "benchmarks" / "serving-calibration.csv"
DATA = ROOT / "tests" / "data"
FIXED_LIMITS_MS = (20.0, 35.0, 50.0, 100.0)
"""Common interactive TPOT service levels (50 → 10 tokens/s per user)."""
LIMITS: dict[str, Sequence[float] | None] = {
    "quartiles of each group's measured TPOT": None,
    f"fixed {', '.join(f'{v:g}' for v in FIXED_LIMITS_MS)} ms": FIXED_LIMITS_MS,
}


def predictions(rows: list[BenchmarkRow]) -> dict[str, list[Prediction]]:
    """In-sample (shipped calibration) and each leave-one-out fold's held-out predictions."""
    out = {"in-sample": predict_rows(rows)}
    for by in ("model", "hardware"):
        result = json.loads((DATA / f"cross_validation_{by}.json").read_text(encoding="utf-8"))
        out[f"held-out {by}"] = held_out_predictions(rows, result)
    return out


def tables(rows: list[BenchmarkRow]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per limit rule, per fit: summarize_ranking of its cases."""
    fits = predictions(rows)
    return {
        rule: {fit: summarize_ranking(cases(p, limits)) for fit, p in fits.items()}
        for rule, limits in LIMITS.items()
    }


def _pct(stats: dict[str, Any], key: str) -> str:
    return f"{stats[key]:.1f} %" if stats.get("cases") else "–"


def _lines(summary: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """(label, path into a summary) of each table line: overall, then by hardware, framework."""
    by = summary["by"]
    return [("**all**", ("overall",))] + [
        (name, ("by", group, name)) for group in ("hardware", "framework") for name in by[group]
    ]


def _at(summary: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        summary = summary[key]
    return summary


def main() -> None:
    for rule, fits in tables(read_benchmark_csv(CSV)).items():
        print(f"\nTPOT limits: {rule}\n")
        print("| cases of | cases | " + " | ".join(fits) + " | random | highest C |")
        print("|---|---|" + "---|" * (len(fits) + 2))
        for label, path in _lines(fits["in-sample"]):
            stats = _at(fits["in-sample"], path)
            cells = [_pct(_at(summary, path), "success_pct") for summary in fits.values()]
            cells += [_pct(stats, "random_pct"), _pct(stats, "max_concurrency_pct")]
            print(f"| {label} | {stats['cases']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

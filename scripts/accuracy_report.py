"""Print the README's Accuracy tables (markdown) from the shipped calibration and the stored
cross-validation results, so every figure there comes from one command.

Usage: .venv/bin/python scripts/accuracy_report.py
(reads ../shared/benchmarks/serving-calibration.csv, the shipped calibration.json and
tests/data/cross_validation_{model,hardware}.json written by `make cross-validate`).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path

from infercast.estimation.reconcile import predict_rows, read_benchmark_csv, summarize

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT.parent / "shared" / "benchmarks" / "serving-calibration.csv"
DATA = ROOT / "tests" / "data"
METRICS = ("ttft_ms", "tpot_ms", "output_tokens_per_s_per_gpu")


def _cell(stats: dict) -> str:
    if not stats or not stats.get("n"):
        return "–"
    return f"{stats['median_ape_pct']:.1f} / {stats['mean_ape_pct']:.1f}"


def repeat_spread(rows: list) -> dict[str, float]:
    """Per (model @ hardware): median over repeated configurations of max/min − 1 of TPOT."""
    keys = ("model", "hardware", "framework", "gemm_dtype", "attention_tp", "isl", "osl")
    groups: dict[tuple, list[float]] = defaultdict(list)
    for row in rows:
        key = (*(row.text(k) for k in keys), row.text("concurrency"))
        value = row.measured("tpot_ms")
        if value:
            groups[key].append(value)
    spread: dict[str, list[float]] = defaultdict(list)
    for key, values in groups.items():
        if len(values) > 1:
            spread[f"{key[0]} @ {key[1]}"].append(max(values) / min(values) - 1)
    return {k: 100 * statistics.median(v) for k, v in spread.items()}


def main() -> None:
    rows = read_benchmark_csv(CSV)
    summary = summarize(predict_rows(rows))
    spread = repeat_spread(rows)
    print("| | rows | TTFT | TPOT | output tok/s/GPU | TPOT spread of repeats |")
    print("|---|---|---|---|---|---|")
    overall = summary["overall"]
    print(
        f"| **all rows** | {summary['rows']:,} | "
        + " | ".join(f"**{_cell(overall[m])}**" for m in METRICS)
        + " | |"
    )
    for group, stats in summary["by"]["model_hardware"].items():
        n = stats["tpot_ms"]["n"]
        extra = f"{spread[group]:.0f} %" if group in spread else "–"
        print(
            f"| {group} | {n} | "
            + " | ".join(_cell(stats.get(m, {})) for m in METRICS)
            + f" | {extra} |"
        )
    for group, stats in summary["by"]["framework"].items():
        n = stats["tpot_ms"]["n"]
        print(
            f"| {group} rows | {n} | "
            + " | ".join(_cell(stats.get(m, {})) for m in METRICS)
            + " | |"
        )
    for by in ("model", "hardware"):
        path = DATA / f"cross_validation_{by}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        print()
        print(f"| held-out {by} | rows | TPOT | TTFT | output tok/s/GPU |")
        print("|---|---|---|---|---|")
        for name, fold in [
            *data["folds"].items(),
            (f"**all held-out rows** ({by})", data["all_held_out"]),
        ]:
            cells = [
                "–" if fold[m] is None else f"{fold[m]:.1f}"
                for m in ("tpot_ms", "ttft_ms", "output_tokens_per_s_per_gpu")
            ]
            print(f"| {name} | {fold['rows']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

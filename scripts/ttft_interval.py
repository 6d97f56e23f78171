"""Does a measurement's TTFT carry one inter-completion interval of the closed loop?

Why: the leave-one-model-out TTFT of Llama-3.1-8B-Instruct (README, Accuracy) is missed mostly
on its TensorRT-LLM H100 rows, whose TTFT at low concurrency grows with ``osl`` — the longer
the other requests run, the longer a new one waits for its first token — and *falls* as the
concurrency grows from 8 to 32. An engine holding ``C`` requests and prefilling a new one as
soon as it arrives cannot do that; a harness whose clock starts one completion before the
request reaches the engine does: its TTFT then holds the mean interval between completions,
``1/X`` (``X = C / (TTFT + (osl − 1)·TPOT)``, Little's law), which grows with the requests'
length and falls with ``C``.

This script fits, per (model, hardware, framework, tp) over the rows at ``C ≤ 32`` (where
queueing behind other prompts is small), ``TTFT = a + b·(1/X)`` by least squares and prints
``a``, ``b`` and ``R²``. ``b ≈ 1`` with a high ``R²`` says the rows carry the interval; ``b ≈ 0``
that they do not. Nothing here is fitted into the cost model: issue 11 requires TTFT never to
fall as ``C`` grows, so a term ``1/X`` has no place in it, and a group that carries it is a
property of how those rows were measured (the same source, engine and part measured
Qwen3-32B without it).

Usage:
    .venv/bin/python scripts/ttft_interval.py ../shared/benchmarks/serving-calibration.csv
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["LOW_CONCURRENCY", "completion_interval_s", "fit_interval", "groups", "main"]

LOW_CONCURRENCY = 32
"""Rows at or below this concurrency are fitted: there a prompt rarely waits behind others."""


def completion_interval_s(concurrency: int, ttft_s: float, tpot_s: float, osl: int) -> float:
    """Mean interval between completions of a closed loop of ``concurrency`` clients:
    ``1/X = (TTFT + (osl − 1)·TPOT) / C`` (Little's law)."""
    return (ttft_s + (osl - 1) * tpot_s) / concurrency


def fit_interval(points: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """Least squares of ``ttft = a + b·interval`` over ``(interval, ttft)`` points:
    ``(a, b, R²)``. Needs two distinct intervals."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    mean = statistics.fmean(ys)
    total = sum((y - mean) ** 2 for y in ys)
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1.0 - residual / total if total > 0 else 1.0
    return intercept, slope, r2


def groups(rows: Iterable[dict[str, str]]) -> dict[tuple[str, ...], list[tuple[float, float]]]:
    """``(interval_s, ttft_s)`` of each row at ``C ≤ 32``, per (model, hardware, framework, tp)."""
    out: dict[tuple[str, ...], list[tuple[float, float]]] = {}
    for row in rows:
        concurrency = int(row["concurrency"])
        if concurrency > LOW_CONCURRENCY:
            continue
        ttft_s, tpot_s = float(row["ttft_ms"]) / 1e3, float(row["tpot_ms"]) / 1e3
        interval = completion_interval_s(concurrency, ttft_s, tpot_s, int(row["osl"]))
        key = (row["model"], row["hardware"], row["framework"], row["attention_tp"] or "1")
        out.setdefault(key, []).append((interval, ttft_s))
    return out


def main(argv: list[str] | None = None) -> None:
    """Print each group's fit (groups with at least 5 rows and two distinct intervals)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    args = parser.parse_args(argv)
    with args.csv.open(encoding="utf-8") as handle:
        found = groups(csv.DictReader(handle))
    print("| model @ hardware, framework, TP | rows (C ≤ 32) | a (ms) | b | R² |")
    print("|---|---|---|---|---|")
    for key, points in sorted(found.items()):
        if len(points) < 5 or len({p[0] for p in points}) < 2:
            continue
        a, b, r2 = fit_interval(points)
        print(
            f"| {key[0]} @ {key[1]}, {key[2]}, TP{key[3]} | {len(points)} | {a * 1e3:.0f} "
            f"| {b:.2f} | {r2:.2f} |"
        )


if __name__ == "__main__":
    main()

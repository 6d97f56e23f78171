"""Flat rows of plans (CSV for the CLI's ``--csv``, the web page's download and sweeps) and the
text Pareto chart of the CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from infercast.planning.result import PlanFields

__all__ = ["PLAN_COLUMNS", "csv_text", "pareto_chart", "plan_row"]

PLAN_COLUMNS = (
    "hardware",
    "gpus",
    "tp",
    "dp",
    "pp",
    "ep",
    "moe_tp",
    "cp",
    "sp",
    "weight_dtype",
    "moe_dtype",
    "kv_dtype",
    "framework",
    "concurrency",
    "replicas",
    "total_gpus",
    "ttft_ms",
    "tpot_ms",
    "output_tokens_per_s_per_gpu",
    "tokens_per_s_per_user",
    "usd_per_hour",
    "usd_per_million_output_tokens",
)


def plan_row(plan: PlanFields) -> dict[str, Any]:
    data = plan.model_dump()
    return {c: data.get(c) for c in PLAN_COLUMNS}


def csv_text(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def pareto_chart(points: Sequence[PlanFields], width: int = 60, height: int = 14) -> str:
    """Scatter of output tokens/s per GPU (up) against tokens/s per user (right); points are
    numbered in the order of ``points`` (1-9, then letters). Points sharing a character cell
    show as ``+`` (a later one must not hide an earlier one), said under the chart."""
    if not points:
        return "(no plan meets the SLA: the front is empty)"
    xs = [p.tokens_per_s_per_user for p in points]
    ys = [p.output_tokens_per_s_per_gpu for p in points]
    x_hi, y_hi = max(xs) or 1.0, max(ys) or 1.0
    grid = [[" "] * width for _ in range(height)]
    marks = "123456789abcdefghijklmnopqrstuvwxyz"
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        col = min(width - 1, int(x / x_hi * (width - 1)))
        row = height - 1 - min(height - 1, int(y / y_hi * (height - 1)))
        mark = marks[i] if i < len(marks) else "*"
        grid[row][col] = mark if grid[row][col] == " " else "+"
    label = f"{y_hi:,.0f}"
    pad = len(label)
    lines = [f"{label if r == 0 else '':>{pad}} |" + "".join(g) for r, g in enumerate(grid)]
    lines.append(" " * pad + " +" + "-" * width)
    # The maximum's label ends under the last column, where the fastest point is drawn.
    x_label = f"{x_hi:,.0f}"
    lines.append(" " * pad + f"  0{'tokens/s per user':^{width - 1 - len(x_label)}}{x_label}")
    lines.insert(0, f"output tokens/s per GPU (max {y_hi:,.0f})")
    if any("+" in g for g in grid):
        lines.append(" " * pad + "  + = several points in one cell (see the list)")
    return "\n".join(lines)

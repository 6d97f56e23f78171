"""``infercast search``: table, why-not, Pareto chart, --json, --csv and one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import infercast
from infercast.interfaces.cli.app import app
from infercast.planning.tables import PLAN_COLUMNS

runner = CliRunner()
BASE = ["search", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--hardware", "h100"]
BASE += ["--isl", "1024", "--osl", "256", "--max-gpus", "2"]


def run(*args: str) -> Any:
    result = runner.invoke(app, [*BASE, *args], env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


def test_json_has_the_issue_fields_and_equals_estimate() -> None:
    result = run("--tpot-max-ms", "20", "--ttft-max-ms", "600", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"plans", "pareto", "evaluated", "rejected"}
    plan = data["plans"][0]
    for key in (
        "hardware", "gpus", "tp", "dp", "pp", "ep", "moe_tp", "weight_dtype", "moe_dtype",
        "kv_dtype", "framework", "concurrency", "replicas", "total_gpus", "ttft_ms", "tpot_ms",
        "output_tokens_per_s_per_gpu", "tokens_per_s_per_user",
    ):  # fmt: skip
        assert key in plan, key
    same = infercast.estimate(**plan["estimate_args"])
    assert plan["tpot_ms"] == same.tpot_ms and plan["ttft_ms"] == same.ttft_ms


def test_table_why_not_and_chart() -> None:
    result = run("--tpot-max-ms", "6", "--price-per-gpu-hour", "h100=2.5")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Top plans" in out and "$/M tok" in out
    assert "rejected tpot_max_ms:" in out and "the fastest reaches" in out
    assert "Pareto front" in out and "tokens/s per user" in out


def test_infeasible_says_so() -> None:
    result = run("--tpot-max-ms", "0.5")
    assert result.exit_code == 0
    assert "No plan meets the SLA" in result.output
    assert "no plan meets TPOT ≤ 0.5 ms" in result.output


def test_csv_file(tmp_path: Path) -> None:
    target = tmp_path / "plans.csv"
    result = run("--users", "500", "--objective", "gpus", "--csv", str(target), "--json")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.open()))
    data = json.loads(result.output)
    assert list(rows[0]) == list(PLAN_COLUMNS)
    assert [int(r["total_gpus"]) for r in rows] == [p["total_gpus"] for p in data["plans"]]
    for row in rows:
        assert int(row["replicas"]) * int(row["concurrency"]) >= 500


def test_errors_are_one_line_exit_2() -> None:
    for args, needle in (
        (["--max-gpus", "0"], "max_gpus"),
        (["--ttft-max-ms", "-3"], "ttft_max_ms"),
        (["--hardware", "h1000"], "unknown hardware"),
        (["--price-per-gpu-hour", "h100"], "HW=USD"),
        (["--objective", "cost"], "no price for h100"),
    ):
        result = run(*args)
        assert result.exit_code == 2, args
        assert needle in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1


def test_pareto_chart_marks_points_that_share_a_cell() -> None:
    """Three points, two in one character cell: the shared cell shows "+", not the last
    point's mark, and the chart says what "+" means. Width 11, height 3: x 0..10 columns."""
    from types import SimpleNamespace

    from infercast.planning.tables import pareto_chart

    pts = [
        SimpleNamespace(tokens_per_s_per_user=100.0, output_tokens_per_s_per_gpu=10.0),
        SimpleNamespace(tokens_per_s_per_user=100.0, output_tokens_per_s_per_gpu=9.0),
        SimpleNamespace(tokens_per_s_per_user=10.0, output_tokens_per_s_per_gpu=1000.0),
    ]
    lines = pareto_chart(pts, width=11, height=3).splitlines()  # type: ignore[arg-type]
    assert lines[1] == "1,000 | 3         "  # point 3: column int(10/100 · 10) = 1, top row
    assert lines[3] == "      |          +"  # points 1 and 2 both land in column 10, row 2
    assert lines[-1].strip() == "+ = several points in one cell (see the list)"
    solo = pareto_chart(pts[:1], width=11, height=3)
    assert "several points" not in solo and solo.splitlines()[1] == "10 |          1"

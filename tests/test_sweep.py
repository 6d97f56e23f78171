"""Sweeps: the grid format, the local process pool, and a local Ray instance giving the same
table as the local run."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infercast.errors import InvalidInputError
from infercast.interfaces.cli.app import app
from infercast.planning import search
from infercast.planning.sweep import SWEEP_COLUMNS, run_sweep, sweep_jobs

GRID: dict[str, Any] = {
    "models": ["meta-llama/Llama-3.1-8B-Instruct"],
    "hardware": ["h100", "h200"],
    "workloads": [{"isl": 1024, "osl": 256}],
    "slas": [{"name": "chat", "ttft_max_ms": 600, "tpot_max_ms": 20}, {"tpot_max_ms": 1}],
    "search": {"max_gpus": 2, "top": 2},
}


@pytest.fixture(scope="module")
def local_rows() -> list[dict[str, Any]]:
    return run_sweep(GRID, workers=2)


def test_grid_expands_to_every_combination() -> None:
    jobs = sweep_jobs(GRID)
    assert len(jobs) == 1 * 2 * 1 * 2
    assert [j["sla"] for j in jobs] == ["chat", "tpot_max_ms=1"] * 2
    assert jobs[0]["request"]["hardware"] == ["h100"] and jobs[0]["request"]["max_gpus"] == 2


def test_rows_are_the_searches(local_rows: list[dict[str, Any]]) -> None:
    expected = search(
        "meta-llama/Llama-3.1-8B-Instruct",
        "h100",
        isl=1024,
        osl=256,
        ttft_max_ms=600,
        tpot_max_ms=20,
        max_gpus=2,
        top=2,
    )
    chat = [r for r in local_rows if r["hardware"] == "h100" and r["sla"] == "chat"]
    assert [r["rank"] for r in chat] == [1, 2]
    assert [r["tpot_ms"] for r in chat] == [p.tpot_ms for p in expected.plans]
    impossible = [r for r in local_rows if r["sla"] == "tpot_max_ms=1"]
    assert len(impossible) == 2 and all(r["rank"] is None for r in impossible)
    assert all("no plan meets TPOT ≤ 1 ms" in r["why_not"] for r in impossible)


def test_pool_equals_in_process(local_rows: list[dict[str, Any]]) -> None:
    assert run_sweep(GRID, workers=1) == local_rows


def test_ray_local_instance_equals_the_local_run(local_rows: list[dict[str, Any]]) -> None:
    import ray  # the dev extra installs it: this test must run, not skip

    assert not ray.is_initialized()
    assert run_sweep(GRID, ray_address="local") == local_rows
    assert not ray.is_initialized()  # the sweep shut down the instance it started


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"modles": ["x"]}, "unknown key(s) modles"),
        ({"models": []}, "'models' must be a non-empty list"),
        ({"workloads": [{"isl": 10, "osl": 5, "qps": 3}]}, "workloads[0] has unknown key(s) qps"),
        ({"slas": [{"tpot_max_ms": -1}]}, "tpot_max_ms"),
        ({"search": {"isl": 5}}, "cannot set isl"),
        ({"search": {"max_gpus": 0}}, "max_gpus"),
    ],
)
def test_bad_grids(change: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        sweep_jobs({**GRID, **change})
    assert needle in str(info.value)


def test_cli_sweep_writes_csv(tmp_path: Path, local_rows: list[dict[str, Any]]) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        "models: [meta-llama/Llama-3.1-8B-Instruct]\nhardware: [h100, h200]\n"
        "workloads: [{isl: 1024, osl: 256}]\n"
        "slas: [{name: chat, ttft_max_ms: 600, tpot_max_ms: 20}, {tpot_max_ms: 1}]\n"
        "search: {max_gpus: 2, top: 2}\n"
    )
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(app, ["sweep", str(grid), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == list(SWEEP_COLUMNS)
    assert [float(r["tpot_ms"]) for r in rows if r["tpot_ms"]] == [
        r["tpot_ms"] for r in local_rows if r["tpot_ms"] is not None
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [\n")
    result = CliRunner().invoke(app, ["sweep", str(bad)])
    assert result.exit_code == 2 and "not valid YAML" in result.output


def test_parquet_output_and_the_error_without_pyarrow(
    tmp_path: Path, local_rows: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyarrow was no dependency of the test environment, so only the error branch ever ran:
    the Parquet writer itself was untested. pyarrow is a dev dependency now (extra
    ``infercast[parquet]``), and the error is checked with pyarrow hidden."""
    import pyarrow.parquet as pq

    from infercast.planning.sweep import write_table

    target = tmp_path / "rows.parquet"
    write_table(local_rows, target)
    table = pq.read_table(target)
    assert table.column_names == list(SWEEP_COLUMNS)
    assert table.column("tpot_ms").to_pylist() == [r["tpot_ms"] for r in local_rows]
    assert table.column("model").to_pylist() == [r["model"] for r in local_rows]
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow → ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(InvalidInputError, match="pyarrow"):
        write_table(local_rows, tmp_path / "again.parquet")


def test_sweep_help_names_the_ray_extra() -> None:
    """Rich markup would read ``[ray]`` as a style tag and print "needs infercast"."""
    result = CliRunner().invoke(app, ["sweep", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "needs infercast[ray]" in result.output

"""``infercast sweep GRID.yaml``: plan searches over a grid, on local cores or a Ray cluster.

The grid format is documented in :mod:`infercast.planning.sweep`. ``--out`` takes ``.csv``
or ``.parquet``; without it the CSV goes to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from infercast.errors import InfercastError
from infercast.interfaces.cli.common import err_console, fail

__all__ = ["register"]


def sweep_command(
    grid: Annotated[Path, typer.Argument(help="Grid file (YAML).", dir_okay=False)],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write .csv or .parquet here.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local processes (default: all cores).")
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="Run on the Ray cluster at ADDRESS (needs infercast\\[ray])."),
    ] = None,
) -> None:
    """Search every model × hardware × workload × SLA of a grid; one table of top plans."""
    from infercast.planning.sweep import SWEEP_COLUMNS, load_grid, run_sweep, write_table
    from infercast.planning.tables import csv_text

    if workers is not None and workers < 1:
        raise fail(f"--workers must be ≥ 1, got {workers}")
    _check_out(out)
    try:
        rows = run_sweep(load_grid(grid), workers=workers, ray_address=ray)
        if out is None:
            sys.stdout.write(csv_text(rows, SWEEP_COLUMNS))
            return
        write_table(rows, out)
    except InfercastError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"--out: cannot write {out}: {exc.strerror}") from None
    err_console.print(f"{len(rows)} rows written to {out}", highlight=False, markup=False)


def _check_out(out: Path | None) -> None:
    """Refuse an output the sweep cannot write before any search runs: ``plans.xlsx`` got CSV
    under that name, and a missing pyarrow was said only after the whole grid was solved."""
    if out is None:
        return
    if out.suffix not in (".csv", ".parquet"):
        raise fail(f"--out {out}: the file name must end in .csv or .parquet (got '{out.suffix}')")
    if out.suffix == ".parquet":
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:
            raise fail(f"--out {out}: Parquet needs pyarrow (pip install pyarrow); or write .csv")


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)

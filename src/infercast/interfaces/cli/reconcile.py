"""``infercast reconcile CSV``: predict every row of a serving-benchmark CSV and report the error.

The point is honesty about accuracy: median and mean absolute percentage error per metric,
overall and per model, hardware, framework and (model, hardware), so a reader sees where the
model is good and where it is not. A row that cannot be predicted never stops the run: its
reason goes to the ``error`` column of ``--output`` and the count of such rows is printed.
Progress goes to stderr, so ``--json`` output on stdout stays clean for pipes.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from infercast.errors import InfercastError
from infercast.interfaces.cli.common import (
    JsonOption,
    ModelsDirOption,
    console,
    err_console,
    fail,
)
from infercast.interfaces.cli.models import load_registry

__all__ = ["register", "write_csv"]

_METRIC_LABELS = {
    "ttft_ms": "TTFT",
    "tpot_ms": "TPOT",
    "output_tokens_per_s_per_gpu": "output tok/s/GPU",
    "total_tokens_per_s_per_gpu": "total tok/s/GPU",
}
_GROUP_TITLES = {
    "model": "By model",
    "hardware": "By hardware",
    "framework": "By framework",
    "model_hardware": "By model @ hardware",
}
_SHOWN_REASONS = 5

CsvArgument = Annotated[
    Path,
    typer.Argument(
        metavar="CSV",
        help="Serving-benchmark CSV (the format of ../shared/benchmarks/serving-calibration.csv).",
        dir_okay=False,
    ),
]


def progress_bar() -> Progress:
    """A progress bar on stderr that disappears when done (stdout stays for results)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    """Write the per-row predictions; an unwritable path is a one-line error, not a traceback."""
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    except OSError as exc:
        raise fail(f"{path}: cannot write: {exc.strerror or exc}") from None


def _cell(stats: dict[str, Any]) -> str:
    if not stats or not stats.get("n"):
        return "-"
    return f"{stats['median_ape_pct']:.1f}/{stats['mean_ape_pct']:.1f}"


def _overall_table(summary: dict[str, Any]) -> Table:
    table = Table(
        title="Absolute percentage error, all rows",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("metric", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    table.add_column("median %", justify="right", no_wrap=True)
    table.add_column("mean %", justify="right", no_wrap=True)
    for metric, label in _METRIC_LABELS.items():
        stats = summary["overall"].get(metric, {})
        if not stats.get("n"):
            table.add_row(label, "0", "-", "-")
            continue
        table.add_row(
            label,
            str(stats["n"]),
            f"{stats['median_ape_pct']:.1f}",
            f"{stats['mean_ape_pct']:.1f}",
        )
    return table


def _group_table(title: str, groups: dict[str, dict[str, Any]]) -> Table:
    """One row per group, "median/mean" per metric. Headers break at their space ("output"
    over "tok/s/GPU") so the figures set the metric columns' width. A group name (a model id,
    "model @ hardware") is never wrapped: split over lines it could not be copied (issue 8,
    item 11), so the table is printed as wide as it needs (:func:`_print_wide`)."""
    heading = f"{title}: median / mean absolute % error (rows with a measurement)"
    table = Table(
        title=heading,
        title_justify="left",
        min_width=len(heading),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("group", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    for label in _METRIC_LABELS.values():
        table.add_column(label.replace(" ", "\n"), justify="right", no_wrap=True)
    for name, metrics in groups.items():
        rows = max((m.get("n", 0) for m in metrics.values()), default=0)
        table.add_row(
            name, str(rows), *(_cell(metrics.get(metric, {})) for metric in _METRIC_LABELS)
        )
    return table


def _print_wide(table: Table) -> None:
    """Print ``table`` at its natural width when the terminal is narrower (as ``search``
    prints its plan table): a longer line beats a model id cut in two."""
    unbounded = console.options.update_width(10_000)
    needed = Measurement.get(console, unbounded, table).maximum
    Console(width=max(console.width, needed)).print(table)


def print_summary(summary: dict[str, Any]) -> None:
    """Overall error, then one table per grouping."""
    console.print(
        f"{summary['rows']:,} rows: {summary['predicted']:,} predicted, "
        f"{summary['failed']:,} could not be predicted",
        highlight=False,
        markup=False,
    )
    console.print(_overall_table(summary))
    for group, title in _GROUP_TITLES.items():
        groups = summary["by"].get(group, {})
        if groups:
            _print_wide(_group_table(title, groups))


def _report_failures(reasons: Counter[str], output: Path | None) -> None:
    total = sum(reasons.values())
    where = f"; each row's reason is in the error column of {output}" if output else ""
    err_console.print(
        Text.assemble((f"{total} row(s) could not be predicted", "yellow"), where),
        highlight=False,
        soft_wrap=True,
    )
    for reason, count in reasons.most_common(_SHOWN_REASONS):
        err_console.print(f"  {count} × {reason}", highlight=False, markup=False, soft_wrap=True)
    if len(reasons) > _SHOWN_REASONS:
        err_console.print(f"  … and {len(reasons) - _SHOWN_REASONS} other reason(s)")


def reconcile_command(
    csv_path: CsvArgument,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the input rows plus predicted_* columns and an error column here.",
            dir_okay=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    models_dir: ModelsDirOption = None,
) -> None:
    """Predict every row of a benchmark CSV; median / mean % error overall and per group."""
    from infercast.estimation.reconcile import (  # lazy: keeps `infercast --help` fast
        output_rows,
        predict_rows,
        read_benchmark_csv,
        summarize,
    )

    registry = load_registry(models_dir)
    try:
        rows = read_benchmark_csv(csv_path)
        with progress_bar() as bar:
            task = bar.add_task(f"predicting {csv_path.name}", total=len(rows))
            predictions = predict_rows(
                rows, registry=registry, progress=lambda n: bar.advance(task, n)
            )
        summary = summarize(predictions)
    except InfercastError as exc:
        raise fail(str(exc)) from None
    if output is not None:
        columns, out_rows = output_rows(predictions)
        write_csv(output, columns, out_rows)
        err_console.print(
            f"wrote {len(out_rows):,} rows to {output}", highlight=False, markup=False
        )
    reasons = Counter(p.error for p in predictions if p.error)
    if reasons:
        _report_failures(reasons, output)
    if json_output:
        typer.echo(json.dumps(summary, indent=2))
        return
    print_summary(summary)


def register(app: typer.Typer) -> None:
    """Add the ``reconcile`` command to the main app."""
    app.command("reconcile")(reconcile_command)

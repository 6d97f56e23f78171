"""``infercast calibrate CSV``: refit the physical efficiency parameters on measured benchmarks.

Writes the calibration file estimates read (by default the shipped
``infercast/estimation/calibration.json``; ``--output`` writes elsewhere, e.g. to try a fit
without changing what estimates use) and prints every fitted set. A full fit of the shared CSV
takes minutes, so progress is shown on stderr; ``--max-evaluations`` bounds the work per set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from infercast.errors import InfercastError
from infercast.interfaces.cli.common import JsonOption, ModelsDirOption, console, err_console, fail
from infercast.interfaces.cli.models import load_registry
from infercast.interfaces.cli.reconcile import CsvArgument, progress_bar

__all__ = ["default_output", "register", "write_calibration"]

# parameter, header, display scale (value / scale), format
_COLUMNS: tuple[tuple[str, str, float, str], ...] = (
    ("compute", "compute\n× peak", 1.0, ".3f"),
    ("memory_bandwidth", "HBM\n× peak", 1.0, ".3f"),
    ("collective", "links\n× peak", 1.0, ".3f"),
    ("step_overhead_s", "step\nms", 1e-3, ".3f"),
    ("collective_latency_s", "coll.\nus", 1e-6, ".1f"),
    ("kernel_gap_s", "kernel\ngap us", 1e-6, ".2f"),
    ("eager_launch_s", "eager\nus", 1e-6, ".1f"),
    ("moe_compute", "MoE\n× peak", 1.0, ".3f"),
    ("request_overhead_s", "request\nms", 1e-3, ".2f"),
    ("burstiness", "burst-\niness", 1.0, ".3f"),
)


def default_output() -> Path:
    """The calibration file shipped with the package (what estimates read by default)."""
    from infercast.estimation.params import _builtin_calibration_path

    return _builtin_calibration_path()


def write_calibration(path: Path, data: dict[str, Any]) -> None:
    """Write JSON (indent 2, sets sorted by key: diffs between fits stay readable)."""
    data = {**data, "sets": dict(sorted(data.get("sets", {}).items()))}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise fail(f"{path}: cannot write: {exc.strerror or exc}") from None


def sets_table(sets: dict[str, dict[str, Any]]) -> Table:
    """One row per fitted (hardware/framework) set with its parameters and median error."""
    table = Table(
        title="Fitted efficiency sets ('hardware/*' = all frameworks of that hardware)",
        caption="× peak = achievable fraction of dense peak compute / HBM / link bandwidth; "
        "configs = distinct configurations fitted (repeated measurements averaged); median "
        "error = median |predicted/measured − 1| over their TPOT, TTFT and output throughput; "
        "- = not observable in this data (no MoE rows / single-GPU only): catalog default kept.",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("set", no_wrap=True)
    table.add_column("configs", justify="right", no_wrap=True)
    for _, header, _, _ in _COLUMNS:
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("median\nerror %", justify="right", no_wrap=True)
    for key, values in sets.items():
        table.add_row(
            key,
            str(values.get("rows", "-")),
            *(
                format(values[name] / scale, fmt) if name in values else "-"
                for name, _, scale, fmt in _COLUMNS
            ),
            f"{values['median_abs_error_pct']:.1f}" if "median_abs_error_pct" in values else "-",
        )
    return table


def calibrate_command(
    csv_path: CsvArgument,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Calibration JSON to write (default: the shipped calibration.json that "
            "estimates use).",
            dir_okay=False,
        ),
    ] = None,
    max_evaluations: Annotated[
        int,
        typer.Option(
            "--max-evaluations",
            min=1,
            help="Most objective evaluations per fitted set (fewer: faster, rougher fit).",
        ),
    ] = 40,
    cross_validate: Annotated[
        str | None,
        typer.Option(
            "--cross-validate",
            help="model, hardware or framework: fit with each group left out and print that "
            "group's medians; never writes the shipped calibration (--output: the folds' "
            "figures and fitted sets as JSON).",
        ),
    ] = None,
    models_dir: ModelsDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Fit compute / HBM / link efficiencies, overheads and burstiness per hardware(/framework)."""
    from infercast.estimation.calibration import fit_calibration  # lazy: scipy is slow to load
    from infercast.estimation.reconcile import read_benchmark_csv

    registry = load_registry(models_dir)
    if cross_validate is not None:
        _cross_validate(csv_path, cross_validate, output, max_evaluations, registry, json_output)
        return
    target = output or default_output()
    try:
        rows = read_benchmark_csv(csv_path)
        with progress_bar() as bar:
            task = bar.add_task("preparing", total=None)
            evaluations = [0]

            def progress(key: str, done: int, total: int) -> None:
                evaluations[0] += 1
                bar.update(
                    task,
                    description=f"fitting {key} ({evaluations[0]} evaluations)",
                    completed=done,
                    total=total,
                )

            data = fit_calibration(
                rows, registry=registry, max_evaluations=max_evaluations, progress=progress
            )
    except InfercastError as exc:
        raise fail(str(exc)) from None
    write_calibration(target, data)
    sets = dict(sorted(data.get("sets", {}).items()))
    skipped = data.get("skipped", [])
    err_console.print(
        f"wrote {len(sets)} set(s) to {target}"
        + (
            f"; {len(skipped)}{'+' if len(skipped) >= 50 else ''} configuration(s) skipped"
            if skipped
            else ""
        ),
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    if not sets:
        err_console.print(
            "[yellow]warning:[/] no hardware/framework had enough distinct configurations to "
            "fit; estimates fall back to the catalog's default efficiencies",
            highlight=False,
            soft_wrap=True,
        )
    if json_output:
        typer.echo(json.dumps({**data, "sets": sets}, indent=2))
        return
    table = sets_table(sets)
    # Twelve numeric columns need ~130 characters; a pipe or narrow terminal must not cut them.
    wanted = Measurement.get(console, console.options.update(max_width=400), table).maximum
    wide = console if console.width >= wanted else Console(width=wanted, file=console.file)
    wide.print(table)
    for key, reason in data.get("unfitted", {}).items():
        console.print(
            f"  not fitted {key}: {reason}", highlight=False, markup=False, soft_wrap=True
        )
    for line in skipped[:5]:
        console.print(f"  skipped {line}", highlight=False, markup=False, soft_wrap=True)


def _cross_validate(
    csv_path: Path,
    by: str,
    output: Path | None,
    max_evaluations: int,
    registry: Any,
    json_output: bool,
) -> None:
    """Leave-one-group-out fits; the held-out medians as a table (or JSON)."""
    from infercast.estimation.cross_validation import GROUPINGS, cross_validate
    from infercast.estimation.reconcile import read_benchmark_csv

    if by not in GROUPINGS:
        raise fail(f"--cross-validate: {by!r} is not one of {', '.join(GROUPINGS)}")
    try:
        rows = read_benchmark_csv(csv_path)
        with progress_bar() as bar:
            task = bar.add_task("preparing", total=None)

            def progress(key: str, done: int, total: int) -> None:
                bar.update(task, description=f"fitting {key}", completed=done, total=total)

            data = cross_validate(
                rows, by, registry=registry, max_evaluations=max_evaluations, progress=progress
            )
    except InfercastError as exc:
        raise fail(str(exc)) from None
    if output is not None:
        try:
            output.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise fail(f"{output}: cannot write: {exc.strerror or exc}") from None
    if json_output:
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(title=f"Leave-one-{by}-out: medians of |error| on the held-out rows (%)")
    for header in (f"held-out {by}", "rows", "TPOT", "TTFT", "output tok/s/GPU"):
        table.add_column(header, justify="left" if header.startswith("held") else "right")

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    for name, fold in [*data["folds"].items(), ("all held-out rows", data["all_held_out"])]:
        table.add_row(
            name,
            str(fold["rows"]),
            cell(fold["tpot_ms"]),
            cell(fold["ttft_ms"]),
            cell(fold["output_tokens_per_s_per_gpu"]),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``calibrate`` command to the main app."""
    app.command("calibrate")(calibrate_command)

"""``infercast layers``: where the time goes, layer type by layer type, in both phases.

Takes exactly the deployment flags of ``infercast estimate`` (it runs the same estimate) and
shows the ``layers`` of the result: for one prefill step and one decode step, every layer
type's FLOPs, bytes and communication per GPU, the compute / memory / communication time they
imply and which one bounds the layer. ``--json`` prints the fields of the API's
``POST /layers/metrics`` plus the framework and formats used.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import typer
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from infercast.estimation.result import EstimateResult, LayerBreakdown, LayerPhaseCost
from infercast.interfaces.cli.common import console
from infercast.interfaces.cli.estimate import (
    deployment_command,
    print_header,
    print_notes,
)
from infercast.specs.classes import LAYER_CLASSES

__all__ = ["layers_json", "register"]

_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
_SHORT_BOUNDS = {"communication": "comm"}
_JSON_FIELDS = (
    "model_id",
    "hardware_id",
    "framework",
    "plan",
    "dtypes",
    "isl",
    "osl",
    "concurrency",
    "prefill",
    "decode",
    "bottleneck",
    "layers",
)


def si(value: float, unit: str) -> str:
    """Decimal SI prefix, 3 significant figures: '1.23 GB', '456 MFLOP' (magnitudes vary 1e6×)."""
    if value == 0:
        return "0"
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def short_class(layer_class: str) -> str:
    """'GQA attention', 'GatedMLP', 'MoE': full class names would push the table off screen."""
    cls = LAYER_CLASSES.get(layer_class)
    return cls.short_name if cls else layer_class


def _ms(value: float) -> str:
    if value == 0:
        return "0"
    return "<0.001" if value < 0.001 else f"{value:.3g}"


def layers_json(result: EstimateResult) -> dict[str, Any]:
    """The per-layer view of an estimate (``POST /layers/metrics``'s fields + framework, dtypes)."""
    return result.model_dump(mode="json", include=set(_JSON_FIELDS))


_BYTES_HEADERS = ("FLOPs", "weights", "KV", "activ.", "comm")
_TIME_HEADERS = ("compute\nms", "memory\nms", "comm\nms", "time\nms", "bound")


def _bytes_cells(cost: LayerPhaseCost) -> list[str]:
    return [
        si(cost.flops_per_gpu, ""),
        si(cost.weight_bytes_per_gpu, "B"),
        si(cost.kv_bytes_per_gpu, "B"),
        si(cost.activation_bytes_per_gpu, "B"),
        si(cost.communication_bytes_per_gpu, "B"),
    ]


def _time_cells(cost: LayerPhaseCost) -> list[str]:
    return [
        _ms(cost.compute_ms),
        _ms(cost.memory_ms),
        _ms(cost.communication_ms),
        _ms(cost.time_ms),
        _SHORT_BOUNDS.get(cost.bound, cost.bound),
    ]


def _table(title: str, caption: str, headers: tuple[str, ...], with_class: bool) -> Table:
    """A phase table. Title and caption are left-aligned and the table is at least as wide as
    its title: a centred caption wrapped to a narrow table read as a ragged column, and a
    title one word wider than the table lost that word to a line of its own."""
    table = Table(
        title=title,
        caption=caption,
        title_justify="left",
        caption_justify="left",
        min_width=len(title),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("layer", overflow="fold")
    if with_class:
        table.add_column("class", no_wrap=True)
        table.add_column("count", justify="right", no_wrap=True)
    for header in headers:
        table.add_column(header, justify="left" if header == "bound" else "right", no_wrap=True)
    return table


def phase_tables(
    result: EstimateResult, phase: Literal["prefill", "decode"], console: Console
) -> list[Table]:
    """The phase's layer types and the whole step: one table when the console is wide enough,
    else two (bytes, then times), so nothing is cut off; none when there is no such phase."""
    summary = result.prefill if phase == "prefill" else result.decode
    if summary is None:
        return []
    what = "prompt tokens" if phase == "prefill" else "sequences, one token each"
    title = f"{phase.capitalize()} step ({summary.batch_tokens:,} {what}), per GPU"
    costs = [
        (layer, layer.prefill if phase == "prefill" else layer.decode) for layer in result.layers
    ]
    layer_time = sum(cost.time_ms for _, cost in costs if cost is not None)
    caption = (
        f"{phase} step: {_ms(summary.time_ms)} ms = {_ms(layer_time)} ms in layers + "
        f"{_ms(max(summary.time_ms - layer_time, 0.0))} ms per-step overhead; "
        f"{si(summary.memory_bytes_per_gpu, 'B')} HBM traffic per GPU. Each row: all instances "
        "of the layer type; FLOPs and bytes per GPU per step (decimal prefixes); times in ms at "
        "achievable (calibrated) peaks; time = what the step is charged for the layer type."
    )
    step_bytes = [
        si(summary.flops_per_gpu, ""),
        "",
        "",
        "",
        si(summary.communication_bytes_per_gpu, "B"),
    ]
    step_times = [
        "",
        "",
        "",
        f"[bold]{_ms(summary.time_ms)}[/]",
        _SHORT_BOUNDS.get(summary.bottleneck, summary.bottleneck),
    ]
    wide = _fill(
        _table(title, caption, _BYTES_HEADERS + _TIME_HEADERS, True), costs, step_bytes, step_times
    )
    unbounded = console.options.update_width(10_000)
    if Measurement.get(console, unbounded, wide).maximum <= console.width:
        return [wide]
    return [
        _fill(_table(f"{title}: FLOPs and bytes", "", _BYTES_HEADERS, True), costs, step_bytes, []),
        _fill(_table(f"{title}: time", caption, _TIME_HEADERS, False), costs, [], step_times),
    ]


def _fill(
    table: Table,
    costs: list[tuple[LayerBreakdown, LayerPhaseCost | None]],
    step_bytes: list[str],
    step_times: list[str],
) -> Table:
    """Rows of every layer type, then the whole step; cells chosen by the table's headers."""
    headers = {str(column.header) for column in table.columns}
    with_class = "class" in headers
    with_bytes, with_times = "FLOPs" in headers, "bound" in headers
    for layer, cost in costs:
        if cost is None:
            continue
        lead = [layer.name, short_class(layer.layer_class), str(layer.count)]
        table.add_row(
            *(lead if with_class else lead[:1]),
            *(_bytes_cells(cost) if with_bytes else []),
            *(_time_cells(cost) if with_times else []),
        )
    table.add_section()
    table.add_row(
        "[bold]step[/]",
        *(["", ""] if with_class else []),
        *(step_bytes if with_bytes else []),
        *(step_times if with_times else []),
    )
    return table


def _show(result: EstimateResult, json_output: bool) -> None:
    if json_output:
        typer.echo(json.dumps(layers_json(result), indent=2))
        return
    print_header(result)
    for phase in ("prefill", "decode"):
        tables = phase_tables(result, phase, console)
        if not tables:
            console.print(
                f"{phase}: none ({result.model_id} is an encoder)", highlight=False, markup=False
            )
        for table in tables:
            console.print(table)
    print_notes(result.notes)


layers_command = deployment_command(
    _show, "Per-layer FLOPs, bytes, communication and time per GPU for prefill and decode."
)


def register(app: typer.Typer) -> None:
    """Add the ``layers`` command to the main app."""
    app.command("layers")(layers_command)

"""``infercast hardware list|show``: the accelerator catalog with units and sources.

Unknown ids become one error line and exit code 2 here (not only in ``app.main``) so the
behaviour is the same when the typer app is driven directly, e.g. by tests.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from infercast.errors import InfercastError
from infercast.hardware import EFFICIENCY_BOUNDS, Hardware, get_hardware, list_hardware
from infercast.hardware.registry import hardware_origin
from infercast.interfaces.cli.common import JsonOption, console, esc, fail

__all__ = ["register"]

hardware_app = typer.Typer(
    name="hardware",
    help="Accelerator catalog: memory, bandwidth, dense peak FLOP/s, interconnects, sources.",
    no_args_is_help=True,
)

_UNITS: dict[str, tuple[str, float]] = {
    "memory_bytes": ("GB", 1e9),
    "memory_bandwidth_bytes_per_s": ("TB/s", 1e12),
    "peak_flops": ("TFLOPS", 1e12),
    "scale_up.bandwidth_bytes_per_s": ("GB/s per direction", 1e9),
    "scale_up.domain_size": ("GPUs", 1.0),
    "scale_up.latency_s": ("us", 1e-6),
    "scale_up.mesh_links": ("links (full mesh)", 1.0),
    "scale_out.bandwidth_bytes_per_s": ("GB/s per direction", 1e9),
    "scale_out.latency_s": ("us", 1e-6),
    "tdp_w": ("W", 1.0),
}
_EFFICIENCY_UNITS: dict[str, tuple[str, float]] = {
    "compute": ("x dense peak", 1.0),
    "memory_bandwidth": ("x memory bandwidth", 1.0),
    "collective": ("x link bandwidth", 1.0),
    "step_overhead_s": ("ms per step", 1e-3),
    "kernel_gap_s": ("us per kernel (graph-captured steps)", 1e-6),
    "eager_launch_s": ("us per kernel launch (eager prefill floor)", 1e-6),
    "collective_latency_s": ("us per collective call", 1e-6),
    "moe_compute": ("x dense peak (MoE expert GEMMs)", 1.0),
    "request_overhead_s": ("ms per request (TTFT)", 1e-3),
}


def _num(value: float) -> str:
    return f"{value:,.5g}" if abs(value) < 1e5 else f"{value:,.0f}"


def _tflops(hw: Hardware, cls: str) -> str:
    return _num(hw.peak_flops[cls] / 1e12) if hw.supports(cls) else "-"  # type: ignore[index]


def _lookup(hardware_id: str) -> Hardware:
    try:
        return get_hardware(hardware_id)
    except InfercastError as exc:
        raise fail(f"{exc} (see `infercast hardware list`)") from None


def _figure_unit(figure: str) -> tuple[str, float]:
    return _UNITS.get(figure) or _UNITS[figure.split(".")[0]]


def _show_json(hw: Hardware) -> dict[str, Any]:
    return {
        **hw.model_dump(mode="json"),
        "figures": [
            {
                "figure": f,
                "value": v,
                "unit": _figure_unit(f)[0],
                "display_value": v / _figure_unit(f)[1],
                "source": hw.source_for(f),
            }
            for f, v in hw.figures().items()
        ],
    }


@hardware_app.command("list")
def list_command(json_output: JsonOption = False) -> None:
    """List every part (dense peaks; decimal units, 1 GB = 1e9 bytes)."""
    parts = list_hardware()
    if json_output:
        console.print_json(data=[hw.model_dump(mode="json") for hw in parts])
        return
    table = Table(
        title="Accelerators",
        caption="Dense peaks; decimal units (1 GB = 1e9 B); link = scale-up GB/s per GPU per "
        "direction; domain = GPUs in the scale-up domain. `infercast hardware show ID` for "
        "sources.",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("id", no_wrap=True)
    table.add_column("name", min_width=10)
    for header in (
        "mem\nGB",
        "HBM\nTB/s",
        "bf16\nTFLOPS",
        "fp8\nTFLOPS",
        "fp4\nTFLOPS",
        "link\nGB/s",
        "domain",
    ):
        table.add_column(header, justify="right", no_wrap=True)
    user = False
    for hw in parts:
        own = hardware_origin(hw.id) != "built-in"
        user = user or own
        table.add_row(
            hw.id + (" *" if own else ""),
            hw.name,
            _num(hw.memory_bytes / 1e9),
            _num(hw.memory_bandwidth_bytes_per_s / 1e12),
            _tflops(hw, "bf16"),
            _tflops(hw, "fp8"),
            _tflops(hw, "fp4"),
            _num(hw.scale_up.bandwidth_bytes_per_s / 1e9),
            str(hw.scale_up.domain_size),
        )
    console.print(table)
    if user:
        console.print(
            "* user-defined (--hardware-dir / INFERCAST_HARDWARE_PATH)",
            highlight=False,
            markup=False,
        )


@hardware_app.command("show")
def show_command(
    hardware_id: Annotated[str, typer.Argument(metavar="ID", help="Hardware id or alias.")],
    json_output: JsonOption = False,
) -> None:
    """Every figure of one part with its unit and source, and its efficiency parameters."""
    hw = _lookup(hardware_id)
    if json_output:
        console.print_json(data=_show_json(hw))
        return
    console.print(f"[bold]{esc(hw.name)}[/] ({esc(hw.id)}, {esc(hw.vendor)})", highlight=False)
    if hw.aliases:
        console.print(f"aliases: {', '.join(hw.aliases)}", highlight=False, markup=False)
    console.print(
        f"scale-up: {hw.scale_up.name}; scale-out: {hw.scale_out.name}; "
        f"memory: {hw.memory_type or 'n/a'}",
        highlight=False,
        markup=False,
    )
    figures = Table(title="Figures (decimal units; FLOP/s dense; links per GPU per direction)")
    figures.add_column("figure", no_wrap=True)
    figures.add_column("value", justify="right", no_wrap=True)
    figures.add_column("unit")
    for figure, value in hw.figures().items():
        unit, scale = _figure_unit(figure)
        figures.add_row(figure, _num(value / scale), unit)
    console.print(figures)
    console.print("[bold]Sources[/]")
    for figure in hw.figures():
        console.print(f"  {figure}: {hw.source_for(figure)}", highlight=False, markup=False)

    fitted = _calibrated_sets(hw)
    eff = Table(title="Efficiency: catalog defaults and the shipped calibration's fits")
    eff.add_column("parameter", no_wrap=True)
    eff.add_column("default", justify="right")
    for key in fitted:
        eff.add_column(key, justify="right")
    eff.add_column("unit")
    eff.add_column("bounds")
    for name in EFFICIENCY_BOUNDS:
        unit, scale = _EFFICIENCY_UNITS[name]
        lo, hi = EFFICIENCY_BOUNDS[name]
        eff.add_row(
            name,
            _num(getattr(hw.efficiency, name) / scale),
            *(_num(s[name] / scale) if name in s else "default" for s in fitted.values()),
            unit,
            f"{lo:g} .. {hi:g} (SI)",
        )
    console.print(eff)
    if not fitted:
        console.print(
            f"no calibration data for {hw.id}: estimates use the defaults",
            highlight=False,
            markup=False,
        )
    console.print(f"efficiency notes: {hw.efficiency.notes}", highlight=False, markup=False)
    if hw.notes:
        console.print(f"notes: {hw.notes}", highlight=False, markup=False)


def _calibrated_sets(hw: Hardware) -> dict[str, dict[str, Any]]:
    """The shipped calibration's parameter sets for this part ('h100/vllm', 'h100/*', ...), its
    generation's pooled set and the cross-generation pool, which it falls back to."""
    from infercast.estimation.params import load_calibration
    from infercast.estimation.pool import POOL_KEY, pool_covers

    sets = load_calibration().get("sets", {})
    own = f"generation:{hw.generation}"
    pool = POOL_KEY if pool_covers(hw, sets.get(POOL_KEY, {})) else None
    return {k: v for k, v in sorted(sets.items()) if k.split("/")[0] == hw.id or k in (own, pool)}


def register(app: typer.Typer) -> None:
    """Add the ``hardware`` command group to the main app."""
    app.add_typer(hardware_app, name="hardware")

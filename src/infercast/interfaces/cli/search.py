"""``infercast search``: the best plans under an SLA, the why-not summary and the Pareto front.

Options carry the names of ``infercast.search`` (``--ttft-max-ms`` is ``ttft_max_ms``); the
lists (``--hardware``, ``--framework``, the formats) repeat. ``--json`` prints the
``SearchResult`` (what ``POST /search`` returns); ``--csv FILE`` writes the top plans.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from infercast.errors import InfercastError
from infercast.interfaces.cli.common import JsonOption, ModelsDirOption, console, esc, fail

if TYPE_CHECKING:
    from infercast.planning.result import SearchResult

__all__ = ["register"]

Many = list[str] | None


def search_command(
    model: Annotated[str, typer.Option("--model", "-m", help="Model id.", show_default=False)],
    hardware: Annotated[
        list[str],
        typer.Option(
            "--hardware", metavar="ID", help="Hardware id (repeatable).", show_default=False
        ),
    ],
    isl: Annotated[int, typer.Option("--isl", help="Prompt tokens.", show_default=False)],
    osl: Annotated[int, typer.Option("--osl", help="Output tokens.", show_default=False)],
    gpus: Annotated[int | None, typer.Option("--gpus", help="Exact GPUs per replica.")] = None,
    max_gpus: Annotated[
        int | None, typer.Option("--max-gpus", help="Largest replica (default 8).")
    ] = None,
    ttft_max_ms: Annotated[
        float | None, typer.Option("--ttft-max-ms", help="SLA TTFT, ms.")
    ] = None,
    tpot_max_ms: Annotated[
        float | None, typer.Option("--tpot-max-ms", help="SLA TPOT, ms.")
    ] = None,
    min_tokens_per_s_per_user: Annotated[
        float | None,
        typer.Option("--min-tokens-per-s-per-user", help="SLA per-user decode speed, tokens/s."),
    ] = None,
    users: Annotated[
        int | None, typer.Option("--users", help="Concurrent users (fills in replicas).")
    ] = None,
    framework: Annotated[
        Many, typer.Option("--framework", metavar="ENGINE", help="Engine (repeatable).")
    ] = None,
    weight_dtype: Annotated[
        Many,
        typer.Option("--weight-dtype", metavar="FORMAT", help="Dense weight format (repeatable)."),
    ] = None,
    moe_dtype: Annotated[
        Many,
        typer.Option("--moe-dtype", metavar="FORMAT", help="Expert weight format (repeatable)."),
    ] = None,
    kv_dtype: Annotated[
        Many, typer.Option("--kv-dtype", metavar="FORMAT", help="KV format (repeatable).")
    ] = None,
    price_per_gpu_hour: Annotated[
        Many,
        typer.Option(
            "--price-per-gpu-hour",
            metavar="HW=USD",
            help="USD per GPU-hour of hardware HW (repeatable).",
        ),
    ] = None,
    example_prices: Annotated[
        bool,
        typer.Option(
            "--example-prices", help="Price unpriced hardware at the shipped EXAMPLE prices."
        ),
    ] = False,
    objective: Annotated[
        str, typer.Option("--objective", help="throughput_per_gpu, cost or gpus.")
    ] = "throughput_per_gpu",
    top: Annotated[int, typer.Option("--top", help="Plans to show.")] = 10,
    json_output: JsonOption = False,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="Write the top plans as CSV to FILE.", dir_okay=False),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Processes solving plans (default: all cores)."),
    ] = None,
    models_dir: ModelsDirOption = None,
) -> None:
    """Find the best deployment plans for a model under an SLA."""
    import os

    from infercast.planning import search
    from infercast.planning.prices import parse_price
    from infercast.planning.tables import PLAN_COLUMNS, csv_text, plan_row
    from infercast.specs.registry import Registry

    try:
        prices = dict(parse_price(p) for p in price_per_gpu_hour or [])
        if objective == "cost" and not prices and not example_prices:
            # Said in the CLI's words: the search's own message names the Python arguments.
            raise fail(
                f"--objective cost: no price for {', '.join(hardware)}; give "
                "--price-per-gpu-hour HW=USD (repeatable, e.g. h100=2.49) or --example-prices"
            )
        result = search(
            model,
            hardware,
            gpus=gpus,
            max_gpus=max_gpus,
            isl=isl,
            osl=osl,
            ttft_max_ms=ttft_max_ms,
            tpot_max_ms=tpot_max_ms,
            min_tokens_per_s_per_user=min_tokens_per_s_per_user,
            users=users,
            frameworks=framework or [],
            weight_dtypes=weight_dtype or [],
            moe_dtypes=moe_dtype or [],
            kv_dtypes=kv_dtype or [],
            price_per_gpu_hour=prices,
            example_prices=example_prices,
            objective=objective,
            top=top,
            registry=Registry.load(models_dir) if models_dir else None,
            workers=workers or os.cpu_count() or 1,
        )
    except InfercastError as exc:
        raise fail(str(exc)) from None
    if csv_file is not None:
        try:
            csv_file.write_text(
                csv_text((plan_row(p) for p in result.plans), PLAN_COLUMNS), encoding="utf-8"
            )
        except OSError as exc:
            raise fail(f"--csv: cannot write {csv_file}: {exc.strerror}") from None
    if json_output:
        console.print_json(result.model_dump_json())
        return
    _print(result)


def _print(result: SearchResult) -> None:
    from infercast.planning.tables import pareto_chart

    priced = any(p.usd_per_million_output_tokens is not None for p in result.plans)
    table = Table(box=box.SIMPLE_HEAD, title=f"Top plans ({result.evaluated} evaluated)")
    for name in ("#", "plan", "C", "replicas", "GPUs", "TTFT ms", "TPOT ms", "tok/s/GPU"):
        table.add_column(name, justify="left" if name == "plan" else "right", no_wrap=True)
    table.add_column("tok/s/user", justify="right")
    if priced:
        table.add_column("$/M tok", justify="right")
        table.add_column("$/hour", justify="right")
    for i, p in enumerate(result.plans, 1):
        row = [
            str(i),
            p.label.rsplit(" C=", 1)[0],
            str(p.concurrency),
            str(p.replicas),
            str(p.total_gpus),
            f"{p.ttft_ms:,.0f}",
            f"{p.tpot_ms:.2f}",
            f"{p.output_tokens_per_s_per_gpu:,.0f}",
            f"{p.tokens_per_s_per_user:.1f}",
        ]
        if priced:
            cost, hour = p.usd_per_million_output_tokens, p.usd_per_hour
            row += [f"{cost:.3f}" if cost is not None else "-", f"{hour:,.2f}" if hour else "-"]
        table.add_row(*row)
    wide = Console(width=max(console.width, 150))  # the plan table is wide; never squeeze it
    wide.print(table if result.plans else "[bold]No plan meets the SLA.[/]")
    if len(result.best_per_hardware) > 1:
        console.print("Best plan per hardware:")
        for best in result.best_per_hardware:
            cost, hour = best.usd_per_million_output_tokens, best.usd_per_hour or 0.0
            money = f", ${cost:.3f}/M tokens, ${hour:,.2f}/hour" if cost is not None else ""
            console.print(
                f"  {best.hardware}: {best.total_gpus} GPUs "
                f"({best.replicas} × {best.label}){money}",
                highlight=False,
                markup=False,
            )
    for r in result.rejected:
        console.print(f"[yellow]rejected[/] {r.constraint}: {esc(r.nearest_miss)}", highlight=False)
    for note in result.notes:
        console.print(f"[dim]note: {esc(note)}[/]", highlight=False)
    console.print()
    console.print("Pareto front (points numbered slowest-per-user first):")
    console.print(pareto_chart(result.pareto), highlight=False, markup=False)
    for i, point in enumerate(result.pareto[:35], 1):
        mark = "123456789abcdefghijklmnopqrstuvwxyz"[i - 1]
        console.print(
            f"  {mark}: {point.label}  {point.output_tokens_per_s_per_gpu:,.0f} tok/s/GPU, "
            f"{point.tokens_per_s_per_user:.1f} tok/s/user",
            highlight=False,
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.command("search")(search_command)

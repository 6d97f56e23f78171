"""``infercast estimate``: one deployment → TTFT, TPOT, throughput, memory per GPU and fit.

The deployment options (model, hardware, parallelism, formats, framework, workload) are
generated from :data:`infercast.deployment.FIELDS` and shared with ``infercast layers``, so both
commands accept exactly the same flags and call the engine the same way. ``--json`` prints the
``EstimateResult`` unchanged — the same fields ``POST /estimate`` returns — so scripts can
switch between the CLI and the API freely. Errors become one line and exit code 2 here (not only
in ``app.main``) so the behaviour is the same when the typer app is driven directly, e.g. by
tests.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from infercast.deployment import FIELD_NAMES, FIELDS, DeploymentField
from infercast.errors import InfercastError
from infercast.estimation.result import EstimateResult
from infercast.interfaces.cli.common import (
    MAX_ERROR_CHARS,
    JsonOption,
    ModelsDirOption,
    clip,
    console,
    esc,
    fail,
)

__all__ = ["DEPLOYMENT_PARAMETERS", "deployment_command", "register", "run_estimate"]

_GB = 1e9


def _option(f: DeploymentField) -> inspect.Parameter:
    """The typer option of one deployment field (flag, help and default from the field)."""
    option = typer.Option(*f.flags, help=f.help, show_default=f.show_default)
    default = inspect.Parameter.empty if f.required else f.default
    return inspect.Parameter(
        f.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[f.annotation, option],
    )


_SHARED = (
    inspect.Parameter(
        "json_output", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonOption
    ),
    inspect.Parameter(
        "models_dir", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ModelsDirOption
    ),
)
DEPLOYMENT_PARAMETERS = (
    *(_option(f) for f in FIELDS if f.required),
    *(_option(f) for f in FIELDS if not f.required),
    *_SHARED,
)
"""The options of ``estimate`` and ``layers``: every deployment field, ``--json`` and
``--models-dir``."""


def deployment_command(
    show: Callable[[EstimateResult, bool], None], doc: str
) -> Callable[..., None]:
    """A command taking the deployment options, estimating, then ``show(result, json)``."""

    def command(**options: Any) -> None:
        show(run_estimate(options), bool(options.get("json_output")))

    command.__signature__ = inspect.Signature(list(DEPLOYMENT_PARAMETERS))  # type: ignore[attr-defined]
    command.__doc__ = doc
    return command


def run_estimate(options: dict[str, Any]) -> EstimateResult:
    """Call the engine with a command's options; a user-facing error becomes one red line and
    exit code 2."""
    from infercast.estimation.estimate import estimate  # lazy: keeps `infercast --help` fast

    fields = {name: options[name] for name in FIELD_NAMES if name in options}
    models_dirs = list(options.get("models_dir") or ()) or None
    try:
        return estimate(**fields, models_dirs=models_dirs)
    except InfercastError as exc:
        hint = _tp_hint(exc, fields.get("model"), models_dirs)  # kept when the line is clipped
        raise fail(clip(str(exc), MAX_ERROR_CHARS - len(hint)) + hint) from None


def _tp_hint(exc: InfercastError, model: Any, models_dirs: list[Any] | None) -> str:
    """The valid degrees after a TP the model cannot split by ("64 attention heads are not
    divisible by tp=3" said what is wrong, not what to give instead)."""
    from infercast.parallel.plan import PlanError

    if not isinstance(exc, PlanError) or exc.field != "tp" or not isinstance(model, str):
        return ""
    from infercast.interfaces.api.plans import plan_constraints
    from infercast.specs import Registry

    try:
        valid = plan_constraints(Registry.load(models_dirs).get(model)).valid_tp
    except InfercastError:
        return ""
    return f" (valid --tp for this model: {', '.join(map(str, valid))})"


def num(value: float) -> str:
    """Four significant figures with thousands separators: readable at any magnitude."""
    if value == 0:
        return "0"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def plan_text(result: EstimateResult) -> str:
    """'4 × h100: TP4 DP1 PP1, experts TP4 EP1' — the plan in one line."""
    p = result.plan
    text = f"{p.gpus} × {result.hardware_id}: TP{p.tp} DP{p.dp} PP{p.pp}"
    if p.cp > 1:
        text += f" CP{p.cp}"
    if p.sp:
        text += " SP"
    if result.dtypes.moe_dtype is not None:  # an MoE model
        text += f", experts TP{p.moe_tp} EP{p.ep}"
    if p.kv_heads_replicated:
        text += " (KV heads replicated)"
    return text


def dtypes_text(result: EstimateResult) -> str:
    """'weights bf16, experts mxfp4, KV bf16, activations bf16'."""
    d = result.dtypes
    experts = f", experts {d.moe_dtype}" if d.moe_dtype else ""
    return f"weights {d.weight_dtype}{experts}, KV {d.kv_dtype}, activations {d.activation_dtype}"


def formats_text(result: EstimateResult) -> str:
    """'attention fp8, moe fp8, lm_head bf16': the stored format of each layer's weights."""
    return ", ".join(f"{lt.name} {lt.weight_dtype}" for lt in result.layers if lt.weight_dtype)


def print_header(result: EstimateResult) -> None:
    """What was estimated: model, plan, formats, engine and workload."""
    console.print(
        f"[bold]{esc(result.model_id)}[/] on {esc(plan_text(result))}; {esc(dtypes_text(result))}; "
        f"framework {esc(result.framework)}",
        highlight=False,
    )
    console.print(f"weight formats: {formats_text(result)}", highlight=False, markup=False)
    console.print(
        f"workload: isl {result.isl:,} + osl {result.osl:,} tokens per request, "
        f"concurrency {result.concurrency:,} (closed loop)",
        highlight=False,
        markup=False,
    )


def _performance_table(result: EstimateResult) -> Table:
    table = Table(title="Serving performance", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    tpot = "-" if result.tpot_ms is None else num(result.tpot_ms)
    rows = (
        ("TTFT (mean, queueing included)", num(result.ttft_ms), "ms"),
        ("TPOT (mean)", tpot, "ms" if result.tpot_ms is not None else "(encoder)"),
        ("end-to-end latency", num(result.e2e_latency_ms), "ms (TTFT + (osl-1)·TPOT)"),
        ("output throughput", num(result.output_tokens_per_s_per_gpu), "tokens/s/GPU"),
        ("total throughput", num(result.total_tokens_per_s_per_gpu), "tokens/s/GPU"),
        ("decode speed per user", num(result.tokens_per_s_per_user), "tokens/s/user"),
        ("requests", num(result.requests_per_s), "requests/s (replica)"),
    )
    for row in rows:
        table.add_row(*row)
    return table


def _memory_table(result: EstimateResult) -> Table:
    m = result.memory
    table = Table(title="Memory per GPU (1 GB = 1e9 B)", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("part", no_wrap=True)
    table.add_column("GB", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    parts = [
        ("weights", m.weights_bytes),
        ("KV cache", m.kv_cache_bytes),
        ("recurrent state", m.state_bytes),
        ("activations", m.activations_bytes),
        ("runtime reserve", m.reserve_bytes),
    ]
    for label, value in parts:
        if label == "recurrent state" and not value:
            continue  # only hybrid (linear-attention / SSM) models hold one
        table.add_row(label, f"{value / _GB:,.2f}", f"{100 * value / m.capacity_bytes:.1f} %")
    style = "green" if result.fits else "red"
    table.add_row(
        "[bold]total[/]",
        f"[{style}]{m.total_bytes / _GB:,.2f}[/]",
        f"[{style}]{100 * m.total_bytes / m.capacity_bytes:.1f} %[/]",
        end_section=True,
    )
    table.add_row("capacity", f"{m.capacity_bytes / _GB:,.2f}", "100 %")
    return table


def _phase_table(result: EstimateResult) -> Table:
    table = Table(title="Steps", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("phase", no_wrap=True)
    table.add_column("tokens/step", justify="right", no_wrap=True)
    table.add_column("step ms", justify="right", no_wrap=True)
    table.add_column("bottleneck", no_wrap=True)
    for name, phase in (("prefill", result.prefill), ("decode", result.decode)):
        if phase is None:
            table.add_row(name, "-", "-", "(no decode: encoder)")
            continue
        table.add_row(
            name, f"{phase.batch_tokens:,}", num(phase.time_ms), result.bottleneck.get(name, "-")
        )
    return table


def print_notes(notes: list[str]) -> None:
    """Assumptions and fallbacks, one per line."""
    if notes:
        console.print("[bold]Notes[/]")
        grid = Table.grid(padding=(0, 1), pad_edge=True)
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for note in notes:
            grid.add_row(" •", Text(note))
        console.print(grid)


VERDICT_STYLES = {"fits": "bold green", "queues": "bold yellow", "does_not_fit": "bold red"}


def print_verdict(result: EstimateResult) -> None:
    """Fits / queues / does not fit, first: the figures below mean little without it."""
    status = result.fit.status if result.fit else ("fits" if result.fits else "does_not_fit")
    advice = " ".join(result.fit.advice) if result.fit else ""
    if status == "queues":
        text = f"queues: {advice}"
    else:
        text = result.fit_reason + (f" — {advice}" if advice else "")
    console.print(Text(text, style=VERDICT_STYLES[status]), highlight=False, markup=False)


def print_result(result: EstimateResult) -> None:
    """The readable form of an estimate: what was asked, the verdict, then the figures."""
    print_header(result)
    print_verdict(result)
    console.print(_performance_table(result))
    console.print(_memory_table(result))
    style = "bold green" if result.fits else "bold red"
    console.print(f"[{style}]{esc(result.fit_reason)}[/]", highlight=False)
    if result.memory.kv_cache_bytes == 0 and result.max_concurrency >= 10**8:
        limit = "max concurrency: not limited by memory (no KV cache)"
    else:
        limit = f"max concurrency whose KV cache fits: {result.max_concurrency:,}" + (
            " (no room for a KV cache)" if result.max_concurrency == 0 else ""
        )
        limit += f"; admitted at once: {result.admitted_concurrency:,} of {result.concurrency:,}"
    console.print(limit, highlight=False, markup=False)
    for reason in result.unsupported:
        console.print(
            f"[bold yellow]engines would not run this plan:[/] {esc(reason)}", highlight=False
        )
    console.print(_phase_table(result))
    print_notes(result.notes)


def _show(result: EstimateResult, json_output: bool) -> None:
    if json_output:
        typer.echo(result.model_dump_json(indent=2))
        return
    print_result(result)


estimate_command = deployment_command(
    _show,
    "TTFT, TPOT, throughput per GPU, memory per GPU and whether it fits, for one deployment.",
)


def register(app: typer.Typer) -> None:
    """Add the ``estimate`` command to the main app."""
    app.command("estimate")(estimate_command)

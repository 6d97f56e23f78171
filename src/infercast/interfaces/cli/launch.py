"""``infercast launch --engine vllm|sglang|trtllm``: the engine's own command for a plan.

Takes the plan options of ``infercast estimate`` (so a plan from ``infercast search`` or the
web page is launched with the same flags it was estimated with) and prints the command; with
TensorRT-LLM also the ``--extra_llm_api_options`` YAML. A plan the engine cannot express is an
error naming why (exit 2), never a command that would run something else. Flag versions are
cited in :mod:`infercast.planning.launch`.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from infercast.errors import InfercastError
from infercast.interfaces.cli.common import JsonOption, ModelsDirOption, console, fail
from infercast.interfaces.cli.estimate import (
    CpOption,
    DpOption,
    EpOption,
    GpusOption,
    KvDtypeOption,
    MoeDtypeOption,
    MoeTpOption,
    PpOption,
    SpOption,
    TpOption,
    WeightDtypeOption,
)

__all__ = ["register"]


def launch_command(
    engine: Annotated[
        str, typer.Option("--engine", help="vllm, sglang or trtllm.", show_default=False)
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="Model id.", show_default=False)],
    hardware: Annotated[
        str | None, typer.Option("--hardware", help="Hardware id (checked; not in the command).")
    ] = None,
    gpus: GpusOption = None,
    tp: TpOption = 1,
    dp: DpOption = 1,
    pp: PpOption = 1,
    ep: EpOption = 1,
    moe_tp: MoeTpOption = None,
    sp: SpOption = False,
    cp: CpOption = 1,
    weight_dtype: WeightDtypeOption = None,
    moe_dtype: MoeDtypeOption = None,
    kv_dtype: KvDtypeOption = None,
    framework: Annotated[str | None, typer.Option("--framework", help="Ignored.")] = None,
    isl: Annotated[int, typer.Option("--isl", help="Prompt tokens (sets the max length).")] = 1024,
    osl: Annotated[int, typer.Option("--osl", help="Output tokens (sets the max length).")] = 1024,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", help="Requests in flight (the batch caps).")
    ] = 64,
    json_output: JsonOption = False,
    models_dir: ModelsDirOption = None,
) -> None:
    """Print the serving engine's launch command for this plan."""
    from infercast.hardware import get_hardware
    from infercast.planning.launch import LaunchPlan
    from infercast.planning.launch import launch_command as build
    from infercast.specs.registry import Registry, default_registry

    try:
        if hardware is not None:
            get_hardware(hardware)
        if gpus is not None and gpus != tp * dp * pp:
            raise fail(f"--gpus {gpus} but tp × dp × pp = {tp * dp * pp}")
        registry = Registry.load(models_dir) if models_dir else default_registry()
        spec = registry.get(model)
        plan = LaunchPlan(
            tp, dp, pp, ep, moe_tp, cp, sp, weight_dtype, kv_dtype, concurrency, isl, osl
        )
        cmd = build(engine, spec, plan)
    except InfercastError as exc:
        raise fail(str(exc)) from None
    if json_output:
        data = {
            "engine": cmd.engine,
            "version": cmd.version,
            "argv": cmd.argv,
            "command": cmd.command,
            "extra_options_yaml": cmd.extra_options_yaml,
            "notes": cmd.notes,
        }
        console.print_json(json.dumps(data))
        return
    print(cmd.command)
    if cmd.extra_options_yaml:
        print("# extra-llm-api-options.yaml:")
        print(cmd.extra_options_yaml, end="")
    for note in [f"flags of {cmd.version}", *cmd.notes]:
        console.print(f"[dim]# {note}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("launch")(launch_command)

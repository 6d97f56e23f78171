"""``infercast launch --engine vllm|sglang|trtllm``: the engine's own command for a plan.

Takes exactly the deployment options of ``infercast estimate`` (so a plan from ``infercast
search`` or the web page is launched with the flags it was estimated with: its
``estimate_args``) plus ``--engine``, and prints the command; with TensorRT-LLM also the
``--extra_llm_api_options`` YAML. A plan the engine cannot express is an error naming why
(exit 2), never a command that would run something else. Flag versions are cited in
:mod:`infercast.planning.launch`.
"""

from __future__ import annotations

import inspect
import json
from typing import Annotated, Any

import typer

from infercast.errors import InfercastError
from infercast.interfaces.cli.common import console, esc, fail
from infercast.interfaces.cli.estimate import DEPLOYMENT_PARAMETERS

__all__ = ["register"]

_ENGINE = inspect.Parameter(
    "engine",
    inspect.Parameter.KEYWORD_ONLY,
    annotation=Annotated[
        str, typer.Option("--engine", help="vllm, sglang or trtllm.", show_default=False)
    ],
)


def launch_command(**options: Any) -> None:
    from infercast.deployment import Deployment
    from infercast.hardware import get_hardware
    from infercast.planning.launch import LaunchPlan
    from infercast.planning.launch import launch_command as build
    from infercast.specs.registry import Registry, default_registry

    try:
        fields = {p.name: options[p.name] for p in DEPLOYMENT_PARAMETERS if p.name in options}
        fields.pop("json_output", None)
        dirs = fields.pop("models_dir", None)
        Deployment.of(**fields)  # the same checks as `estimate` (bounds, gpus = tp·dp·pp)
        hardware = get_hardware(fields["hardware"])
        spec = (Registry.load(dirs) if dirs else default_registry()).get(fields["model"])
        plan = LaunchPlan(
            **{k: fields[k] for k in ("tp", "dp", "pp", "ep", "moe_tp", "cp", "sp")},
            weight_dtype=fields.get("weight_dtype"),
            kv_dtype=fields.get("kv_dtype"),
            concurrency=fields["concurrency"],
            isl=fields["isl"],
            osl=fields["osl"],
            memory_bytes=hardware.memory_bytes,
            device_name=hardware.name,
        )
        cmd = build(options["engine"], spec, plan)
    except InfercastError as exc:
        raise fail(str(exc)) from None
    if options.get("json_output"):
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
        console.print(f"[dim]# {esc(note)}[/]", highlight=False)


launch_command.__signature__ = inspect.Signature([_ENGINE, *DEPLOYMENT_PARAMETERS])  # type: ignore[attr-defined]
launch_command.__doc__ = "Print the serving engine's launch command for this plan."


def register(app: typer.Typer) -> None:
    app.command("launch")(launch_command)

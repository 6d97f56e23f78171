"""The ``infercast`` command: one typer app; each command group lives in its own module.

Every module listed in ``_COMMAND_MODULES`` exposes ``register(app)``. ``main`` turns any
``InfercastError`` into one red line on stderr and exit code 2 — users never see a traceback
for bad input.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from infercast.errors import InfercastError
from infercast.hardware import list_hardware
from infercast.hardware.registry import hardware_dirs, set_hardware_dirs
from infercast.interfaces.cli.common import clip, err_console, fail

app = typer.Typer(
    name="infercast",
    help="How will this LLM perform on these accelerators with this parallelism plan?",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_COMMAND_MODULES = (
    "models",
    "validate",
    "importing",
    "hardware",
    "estimate",
    "layers",
    "reconcile",
    "calibrate",
    "serve",
    "search",
    "launch",
    "sweep",
)


def _register_commands() -> None:
    for name in _COMMAND_MODULES:
        module_name = f"infercast.interfaces.cli.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).register(app)


@app.callback()
def _options(
    hardware_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--hardware-dir",
            help="Directory of user-defined accelerator JSON files (the catalog's schema, one "
            "<id>.json per part); repeatable, before INFERCAST_HARDWARE_PATH. Give it before "
            "the command: infercast --hardware-dir DIR estimate ...",
        ),
    ] = None,
) -> None:
    """How will this LLM perform on these accelerators with this parallelism plan?"""
    set_hardware_dirs(hardware_dir)
    if hardware_dirs():  # a broken user file is reported once, before any command runs
        try:
            list_hardware()
        except InfercastError as exc:
            raise fail(str(exc)) from None


_register_commands()


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, standalone_mode=True)
    except InfercastError as exc:
        err_console.print(
            Text.assemble(("error:", "bold red"), " ", clip(str(exc))),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()

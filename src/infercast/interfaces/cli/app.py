"""The ``infercast`` command: one typer app; each command group lives in its own module.

Every module listed in ``_COMMAND_MODULES`` exposes ``register(app)``. ``main`` turns any
``InfercastError`` into one red line on stderr and exit code 2 — users never see a traceback
for bad input.
"""

from __future__ import annotations

import importlib
import sys

import typer

from infercast.errors import InfercastError
from infercast.interfaces.cli.common import err_console

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


_register_commands()


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, standalone_mode=True)
    except InfercastError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

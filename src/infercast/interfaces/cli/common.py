"""Options and helpers shared by CLI commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

console = Console()
err_console = Console(stderr=True)

ModelsDirOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--models-dir",
        metavar="DIR",
        help="Extra directory of model spec JSON files (repeatable; adds to the built-in "
        "catalog and to INFERCAST_MODELS_PATH).",
        file_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def esc(value: object) -> str:
    """``value`` as literal text inside a markup string: rich reads ``[x]`` as a style tag and
    drops it (a models dir ``bad[x]`` printed as ``bad``; an extra ``infercast[ray]`` as
    ``infercast``)."""
    return escape(str(value))


MAX_ERROR_CHARS = 500
"""An error line is clipped here (as the API clips its messages): a 3 MB value in a bad file
must not become a 3 MB line."""


def clip(message: str, limit: int = MAX_ERROR_CHARS) -> str:
    """One line: whitespace collapsed, at most ``limit`` characters."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fail(message: str) -> typer.Exit:
    """Print one clear error line and return the exit to raise (code 2)."""
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", clip(message)),
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    return typer.Exit(code=2)

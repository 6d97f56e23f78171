"""``infercast validate PATH...``: check model spec files and report every problem of every file.

A user fixing a directory of specs wants the whole list at once, not one error per run: every
file is checked, every problem printed as ``file: layer.field: what was expected``, then a
summary; the exit code is 2 when anything is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infercast.interfaces.cli.common import console, err_console, esc, fail
from infercast.specs import Problem, SpecError, load_spec_file

__all__ = ["register"]


def _files(paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                problems.append(Problem(str(path), "", "directory holds no .json spec files"))
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), "", "no such file or directory"))
    return files, problems


def validate_command(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH...", help="Spec files or directories of *.json specs."),
    ],
) -> None:
    """Validate model spec files; exit 0 if all are valid, 2 if any problem."""
    if not paths:
        raise fail("give at least one spec file or directory")
    files, problems = _files(paths)
    bad_files = {p.source for p in problems}
    for path in files:
        try:
            spec = load_spec_file(path)
        except SpecError as exc:
            problems += exc.problems
            bad_files.add(str(path))
            continue
        console.print(
            f"[green]ok[/]  {esc(str(path))} ({esc(spec.hf_model_id)}, "
            f"{spec.total_params_formatted})",
            highlight=False,
        )
    for problem in problems:
        err_console.print(f"[red]problem[/] {esc(problem)}", highlight=False, soft_wrap=True)
    checked = len(files)
    summary = (
        f"{checked} file(s) checked: {checked - len(bad_files & {str(f) for f in files})} "
        f"valid, {len(problems)} problem(s) in {len(bad_files)} file(s)/path(s)"
    )
    if problems:
        err_console.print(f"[bold red]{esc(summary)}[/]", highlight=False)
        raise typer.Exit(code=2)
    console.print(f"[bold green]{esc(summary)}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to the main app."""
    app.command("validate")(validate_command)

"""``infercast import SOURCE``: a config.json, folder, .gguf or Hub id → a model spec.

stdout carries only the spec JSON (so it can be piped or redirected); everything a person should
notice — what was imported, MoE sparsity, stored weight formats, where a file was saved — goes
to stderr.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from infercast.errors import InfercastError
from infercast.importers import ImportResult, import_source
from infercast.interfaces.cli.common import ModelsDirOption, err_console, esc, fail
from infercast.specs import ModelSpec, Registry, format_params
from infercast.specs.figures import spec_figures
from infercast.specs.registry import MODELS_PATH_ENV, user_models_dirs

__all__ = ["register"]


def _report(result: ImportResult) -> None:
    spec = result.spec
    err_console.print(
        f"imported {spec.hf_model_id} from {result.origin} ({result.kind}): "
        f"{spec.total_params_formatted} params, {format_params(spec.active_params)} active "
        f"per token, {spec.num_layers} layers",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    for layer in spec.moe_entries:
        moe = layer.layer_specs
        err_console.print(
            f"MoE ({layer.name} ×{layer.count}): {moe.num_experts_per_tok} of "
            f"{moe.num_experts} experts per token, {moe.num_shared_experts} shared; "
            f"is_truly_sparse={moe.is_truly_sparse}",
            highlight=False,
            markup=False,
        )
    for note in result.notes:
        err_console.print(note, highlight=False, markup=False, soft_wrap=True)
    if result.gguf_types is not None:
        err_console.print(
            f"GGUF weight types: {result.quantization}", highlight=False, markup=False
        )
    elif result.quantization:
        err_console.print(result.quantization, highlight=False, markup=False, soft_wrap=True)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}") from None
    err_console.print(f"wrote {path}", highlight=False, markup=False)


def _save(directory: Path, model_id: str, text: str, overwrite: bool) -> None:
    """Write ``<model_id>.json`` into a models directory: never through a symlink, never over
    an existing file unless ``overwrite``, and atomically (a temp file renamed into place)."""
    target = directory / f"{model_id}.json"
    if target.is_symlink():
        raise fail(f"--save: {target} is a symbolic link; refusing to write through it")
    if target.exists() and not overwrite:
        raise fail(f"--save: {target} already exists; pass --overwrite to replace it")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".import-", suffix=".json", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)  # replaces a path, never follows a link at the target
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc.strerror or exc}") from None
    err_console.print(f"wrote {target}", highlight=False, markup=False)


def _refuse_builtin_id(spec: ModelSpec, models_dir: list[Path] | None) -> None:
    """A saved spec whose id is a built-in's in another case would silently replace the
    built-in for every user of that directory (ids are looked up case-insensitively, and
    both would be listed): refused, as ``POST /import`` answers 409. The built-in's exact id
    is the documented way to override it, and stays allowed."""
    clash = Registry.load(models_dir).builtin_ids()
    for key in (spec.model_id.lower(), spec.hf_model_id.lower()):
        if key in clash and clash[key] != spec.hf_model_id:
            raise fail(
                f"--save: {spec.hf_model_id!r} would shadow the built-in model {clash[key]!r} "
                "(ids match case-insensitively); pass another --hf-id, or its exact id to "
                "override it"
            )


def _warn_unloadable_name(output: Path, model_id: str) -> None:
    if output.suffix == ".json" and output.stem != model_id:
        err_console.print(
            f"[yellow]warning:[/] {esc(output.name)} is not {esc(model_id)}.json: a --models-dir "
            "holding it will skip it (a spec file must be named after its model_id)",
            highlight=False,
            soft_wrap=True,
        )


def import_command(
    source: Annotated[
        str,
        typer.Argument(help="config.json, a folder holding one, a .gguf file, or an HF id."),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the spec JSON here instead of stdout.", dir_okay=False
        ),
    ] = None,
    save: Annotated[
        bool,
        typer.Option("--save", help="Save <model_id>.json into the first user models dir."),
    ] = False,
    hf_id: Annotated[
        str | None,
        typer.Option("--hf-id", help="Hugging Face id (org/name) to file the spec under."),
    ] = None,
    models_dir: ModelsDirOption = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="With --save: replace an existing file.")
    ] = False,
    figures: Annotated[
        bool,
        typer.Option(
            "--figures",
            help="Print the headline figures as JSON instead of the spec: total_params, "
            "active_params, kv_bytes_per_token_bf16, state_bytes_per_sequence_bf16 and the "
            "census of layer kinds.",
        ),
    ] = False,
) -> None:
    """Import a model's architecture as a spec (counts derived by infercast's layer classes)."""
    save_dir: Path | None = None
    if save:
        dirs = user_models_dirs(models_dir)
        if not dirs:
            raise fail(
                f"--save needs a user models directory: pass --models-dir DIR or set "
                f"{MODELS_PATH_ENV}"
            )
        save_dir = dirs[0]
    try:
        result = import_source(source, hf_id=hf_id)
    except InfercastError as exc:
        raise fail(str(exc)) from None
    if save_dir is not None:
        _refuse_builtin_id(result.spec, models_dir)
    text = json.dumps(result.spec.to_json_dict(), indent=2) + "\n"
    _report(result)
    if save_dir is not None:
        _save(save_dir, result.spec.model_id, text, overwrite)
    if output is not None:
        _warn_unloadable_name(output, result.spec.model_id)
        _write(output, text)
    if figures:
        typer.echo(json.dumps(spec_figures(result.spec), indent=2))
    elif output is None:
        typer.echo(text, nl=False)


def register(app: typer.Typer) -> None:
    """Add the ``import`` command to the main app."""
    app.command("import")(import_command)

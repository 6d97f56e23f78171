"""``POST /import``: upload a config.json or GGUF header, get the spec back, optionally save it.

The spec joins this process's models at once (in memory, bounded) so it can be estimated;
``save=true`` also writes ``<model_id>.json`` into the first user models directory — the
registry's naming rule is the only way a file name is made, and nothing is overwritten unless
asked.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, BinaryIO

import anyio.to_thread
from fastapi import APIRouter, Depends, File, Form, UploadFile

from infercast.specs import parse_spec

from ...parse_pool import ParseTimeoutError, ParseWorkerDiedError
from ..errors import ERROR_RESPONSES, ApiError, ErrorBody, ErrorProblem
from ..importer import GGUF_MAGIC, ImportedSpec, parse_saved_upload, upload_limit
from ..schemas import ImportResponse
from ..state import ApiState, get_state, validate_model_id

_COPY_CHUNK = 1 << 20
router = APIRouter(tags=["import"], responses=ERROR_RESPONSES)


def _display_name(filename: str | None) -> str:
    """The upload's base name, reduced to safe characters: only ever shown in messages."""
    base = re.split(r"[\\/]", filename or "")[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip()[:80]
    return cleaned or "upload"


def _too_large(kind: str, limit: int) -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"file: a {kind} upload is limited to {limit:,} bytes",
        [
            ErrorProblem(
                field="file", location="body", rule="max_size", message=f"≤ {limit:,} bytes"
            )
        ],
    )


def _spool(stream: BinaryIO) -> tuple[str, int]:
    """Size checks of the spooled upload, then a copy into a temporary file for the parser
    process (in a worker thread: file I/O releases the GIL); returns its path and size."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    head = stream.read(len(GGUF_MAGIC))
    if size == 0:
        raise ApiError(
            422,
            "invalid_input",
            "file: the upload is empty",
            [ErrorProblem(field="file", location="body", rule="non_empty", message="empty file")],
        )
    limit = upload_limit(head)
    if size > limit:
        raise _too_large("GGUF header" if head.startswith(GGUF_MAGIC) else "JSON file", limit)
    stream.seek(0)
    fd, path = tempfile.mkstemp(prefix="infercast-upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            shutil.copyfileobj(stream, handle, _COPY_CHUNK)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    return path, size


def _parser_failed(name: str, what: str, rule: str) -> ApiError:
    return ApiError(
        422,
        "invalid_input",
        f"file: {name}: {what}",
        [ErrorProblem(field="file", location="body", rule=rule, message=what)],
    )


async def _parse_upload(
    state: ApiState, stream: BinaryIO, name: str, hf_model_id: str | None
) -> ImportedSpec:
    """Parse in the state's worker processes, so /health and estimates keep answering."""
    path, size = await anyio.to_thread.run_sync(_spool, stream)
    pool = state.parse_pool
    try:
        parsed = await pool.run(parse_saved_upload, path, size, name, hf_model_id)
    except ParseTimeoutError:
        raise _parser_failed(
            name, f"parsing took over {pool.timeout_s:g} s and was stopped", "parse_time"
        ) from None
    except ParseWorkerDiedError:
        raise _parser_failed(
            name, "the parser process stopped while reading this upload", "parseable"
        ) from None
    finally:  # unlinking a large file can take a while: not on the event loop
        await anyio.to_thread.run_sync(functools.partial(Path(path).unlink, missing_ok=True))
    return parsed.imported()


def _save(state: ApiState, spec_json: dict[str, object], model_id: str, overwrite: bool) -> Path:
    directory = state.save_dir
    if directory is None:
        raise ApiError(
            422,
            "invalid_input",
            "save: no user models directory is configured (start the server with --models-dir "
            "or set INFERCAST_MODELS_PATH)",
            [
                ErrorProblem(
                    field="save",
                    location="body",
                    rule="models_dir_required",
                    message="no user models directory",
                )
            ],
        )
    if not directory.is_dir():
        raise ApiError(422, "invalid_input", "save: the user models directory does not exist")
    # The registry's naming rule: <model_id>.json, model_id already validated by its pattern.
    parse_spec(spec_json, source=f"{model_id}.json", file_stem=model_id)
    target = directory / f"{model_id}.json"
    if target.resolve().parent != directory.resolve():
        raise ApiError(422, "invalid_input", "save: model_id does not name a file in the directory")
    if target.exists() and not overwrite:
        raise ApiError(
            409,
            "conflict",
            f"save: {target.name} already exists in the user models directory; pass "
            "overwrite=true to replace it",
        )
    fd, tmp = tempfile.mkstemp(prefix=".import-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(spec_json, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


@router.post(
    "/import",
    response_model=ImportResponse,
    summary="Import a config.json or GGUF header",
    responses={
        409: {
            "model": ErrorBody,
            "description": "File exists and overwrite is false, or the spec would shadow a "
            "built-in model id.",
        },
        429: {"model": ErrorBody, "description": "Too many uploads being parsed; retry."},
    },
)
async def import_model(
    file: Annotated[
        UploadFile,
        File(
            description="A Hugging Face config.json (≤ 4 MiB), an infercast model spec (v1), or "
            "the header of a GGUF file (≤ 64 MiB; tensor data not needed)."
        ),
    ],
    hf_model_id: Annotated[
        str | None,
        Form(
            description="Hugging Face id (org/name) to give the model when the file does not "
            "say it; the model_id is derived from it ('/' → '_').",
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$",
        ),
    ] = None,
    save: Annotated[
        bool,
        Form(description="Also write <model_id>.json into the first user models directory."),
    ] = False,
    overwrite: Annotated[
        bool, Form(description="With save: replace an existing file of the same name.")
    ] = False,
    state: ApiState = Depends(get_state),
) -> ImportResponse:
    """Build the spec (nothing in the upload is executed), add it to this session's models,
    and return it as an infercast model spec (v1)."""
    # At most MAX_CONCURRENT_PARSES uploads are in the app at once (UploadSlotsMiddleware,
    # 429 beyond), each parsed in a worker process.
    imported = await _parse_upload(state, file.file, _display_name(file.filename), hf_model_id)
    spec = imported.spec
    validate_model_id(spec.model_id, field_name="model_id", location="file")
    clash = state.builtin_conflict(spec)
    if clash is not None:
        raise ApiError(
            409,
            "conflict",
            f"model_id: {spec.hf_model_id!r} would shadow the built-in model {clash!r} (ids "
            "match case-insensitively); give the upload another hf_model_id",
            [
                ErrorProblem(
                    field="hf_model_id",
                    location="body",
                    rule="not_builtin",
                    message=f"clashes with built-in {clash}",
                )
            ],
        )
    spec_json = spec.to_json_dict()
    saved_as = None
    if save:
        path = _save(state, spec_json, spec.model_id, overwrite)
        state.add_saved(spec, path)
        saved_as = path.name
    else:
        state.add_imported(spec)
    return ImportResponse(
        model_id=spec.model_id,
        hf_model_id=spec.hf_model_id,
        source_format=imported.source_format,
        saved=save,
        saved_as=saved_as,
        warnings=imported.warnings,
        spec=spec_json,
    )

"""Turns an uploaded file's bytes into a ``ModelSpec``, without executing anything in it.

Three kinds of upload are recognised by content, not by name: a GGUF header (magic ``GGUF``),
a spec already in the infercast model spec (v1) format (``layer_types`` but no
``model_type``), or a Hugging Face ``config.json`` (``model_type``). JSON is decoded with the
standard library only, with bounded containers and nesting (:mod:`infercast.safe_json`); a GGUF
header is parsed straight from the spooled upload with bounded items
(:mod:`infercast.importers.gguf_parser`), so an upload is never copied into memory whole.
Nothing from the upload is evaluated, imported or used as a path (no ``trust_remote_code``).
This runs in a worker process (:func:`parse_saved_upload`, see ``routes/importing.py``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

from infercast.errors import InfercastError, InvalidInputError
from infercast.safe_json import loads_bounded
from infercast.specs import ModelSpec, SpecError, parse_spec

from .errors import ApiError, ErrorProblem
from .limits import GGUF_UPLOAD_LIMIT, JSON_UPLOAD_LIMIT

__all__ = [
    "GGUF_MAGIC",
    "ImportedSpec",
    "ParsedUpload",
    "import_upload",
    "parse_saved_upload",
    "upload_limit",
]

GGUF_MAGIC = b"GGUF"
SourceFormat = Literal["config.json", "gguf", "spec"]


@dataclass
class ImportedSpec:
    spec: ModelSpec
    source_format: SourceFormat
    warnings: list[str] = field(default_factory=list)


def upload_limit(head: bytes) -> int:
    """Size limit for an upload starting with ``head``: GGUF headers may be larger."""
    return GGUF_UPLOAD_LIMIT if head.startswith(GGUF_MAGIC) else JSON_UPLOAD_LIMIT


_CHUNK = 1 << 20
_HF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


def _fallback_id(kind: str, digest: str) -> str:
    """A stable id for an upload that names no model: same bytes, same id."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", kind).strip("-._")[:40] or "model"
    return f"imported/{slug}-{digest[:8]}"


def _digest(stream: BinaryIO) -> str:
    stream.seek(0)
    h = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        h.update(chunk)
    return h.hexdigest()


def _choose_id(given: str | None, found: object, kind: str, digest: str) -> tuple[str, list[str]]:
    if given:
        return given, []
    if isinstance(found, str) and _HF_ID.fullmatch(found):
        return found, [f"named {found} after the id the file gives"]
    chosen = _fallback_id(kind, digest)
    return chosen, [f"the file names no Hugging Face id and none was given; named it {chosen}"]


def _from_config(
    config: dict[str, Any], hf_model_id: str | None, name: str, data: bytes
) -> ImportedSpec:
    from infercast.importers.hf_config import spec_from_hf_config

    model_type = config.get("model_type")
    chosen, warnings = _choose_id(
        hf_model_id,
        config.get("_name_or_path"),
        model_type if isinstance(model_type, str) else "config",
        hashlib.sha256(data).hexdigest(),
    )
    from infercast.importers.configs.wrappers import unwrap_multimodal

    spec = spec_from_hf_config(config, chosen, source=name)
    # A multimodal wrapper: what was imported and which transformers defaults were filled in.
    warnings += unwrap_multimodal(config, name)[1]
    return ImportedSpec(spec, "config.json", warnings)


def _from_gguf(stream: BinaryIO, size: int, hf_model_id: str | None, name: str) -> ImportedSpec:
    from infercast.importers.gguf_import import gguf_hf_id, spec_from_gguf
    from infercast.importers.gguf_metadata import read_gguf_metadata_stream

    stream.seek(0)
    metadata = read_gguf_metadata_stream(
        stream, size, name=name, max_header_bytes=GGUF_UPLOAD_LIMIT
    )
    arch = metadata.metadata.get("general.architecture")
    found = gguf_hf_id(metadata)
    digest = "" if hf_model_id or found else _digest(stream)
    chosen, warnings = _choose_id(
        hf_model_id, found, arch if isinstance(arch, str) else "gguf", digest
    )
    return ImportedSpec(spec_from_gguf(metadata, chosen), "gguf", warnings)


def import_upload(
    stream: BinaryIO, size: int, filename: str, hf_model_id: str | None
) -> ImportedSpec:
    """Build a spec from an upload of ``size`` bytes (its size already checked against
    :func:`upload_limit`); bad content raises ``InvalidInputError`` (422)."""
    name = filename or "upload"
    stream.seek(0)
    if stream.read(len(GGUF_MAGIC)) == GGUF_MAGIC:
        return _from_gguf(stream, size, hf_model_id, name)
    stream.seek(0)
    data = stream.read(JSON_UPLOAD_LIMIT + 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{name}: neither a GGUF header nor UTF-8 JSON (byte {exc.start})"
        ) from None
    config = loads_bounded(text, name)
    if not isinstance(config, dict):
        raise InvalidInputError(f"{name}: expected a JSON object, got {type(config).__name__}")
    if "layer_types" in config and "model_type" not in config:
        return ImportedSpec(parse_spec(config, source=name), "spec")
    if not config:
        raise ApiError(422, "invalid_input", f"{name}: empty JSON object")
    return _from_config(config, hf_model_id, name, data)


@dataclass(frozen=True)
class ParsedUpload:
    """What a parser process sends back: the spec as JSON (its layer-type classes are built at
    run time, so a ``ModelSpec`` does not pickle), the format and the warnings."""

    spec_json: dict[str, Any]
    source_format: SourceFormat
    warnings: list[str]

    def imported(self) -> ImportedSpec:
        return ImportedSpec(
            ModelSpec.model_validate(self.spec_json), self.source_format, self.warnings
        )


def parse_saved_upload(
    path: str, size: int, filename: str, hf_model_id: str | None
) -> ParsedUpload:
    """:func:`import_upload` of the upload saved at ``path`` (in a worker process); every
    error is one the API answers with 4xx (``SpecError``/``ApiError``, both picklable)."""
    with open(path, "rb") as stream:
        try:
            done = import_upload(stream, size, filename, hf_model_id)
            return ParsedUpload(done.spec.to_json_dict(), done.source_format, done.warnings)
        except (SpecError, ApiError):
            raise
        except InfercastError as exc:
            raise ApiError(
                422,
                "invalid_input",
                str(exc),
                [ErrorProblem(field="file", location="body", rule="importable", message=str(exc))],
            ) from None

"""One entry point for every import source: config.json, a folder, a .gguf or a Hub id.

The spec's ``hf_model_id`` names the model in the catalog, so it is never invented: it comes from
``--hf-id``, the source itself (a Hub id, ``_name_or_path``, a GGUF's source repo, the Hub
cache's ``models--org--name`` folder, or a file named ``org_name.json`` as in the shared
configs), or the import stops and asks for ``--hf-id``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infercast.errors import InvalidInputError
from infercast.importers.configs.base import ConfigReader
from infercast.importers.configs.wrappers import unwrap_multimodal
from infercast.importers.gguf_import import gguf_hf_id, quantization_summary, spec_from_gguf
from infercast.importers.gguf_metadata import GGUFMetadata, read_gguf_metadata
from infercast.importers.hf_config import spec_from_hf_config
from infercast.importers.hub import fetch_config, looks_like_hf_id
from infercast.importers.quantization import read_quantization
from infercast.safe_json import loads_bounded
from infercast.specs import ModelSpec

__all__ = ["MAX_CONFIG_BYTES", "ImportResult", "import_model", "import_source", "read_config_json"]

MAX_CONFIG_BYTES = 4 * 2**20
"""Real config.json files are a few KiB; anything past this is not one."""


@dataclass(frozen=True)
class ImportResult:
    spec: ModelSpec
    kind: str
    """'config.json', 'gguf' or 'hub'."""
    origin: str
    """The file read (for a Hub id, the cached config.json)."""
    gguf_types: dict[str, int] | None = None
    """ggml type → tensor count, for GGUF sources."""
    quantization: str | None = None
    """Human-readable weight-format summary when the source is quantized."""
    notes: tuple[str, ...] = ()
    """What a multimodal wrapper's import did: the text model counted, defaults filled in."""


def read_config_json(path: Path) -> Any:
    """Size-checked, UTF-8, JSON-decoded config; every failure names the file."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise InvalidInputError(
                f"{path}: {size} bytes is too large for a config.json (limit {MAX_CONFIG_BYTES})"
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise InvalidInputError(f"{path}: too large for a config.json (limit {MAX_CONFIG_BYTES})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text ({exc.reason})") from None
    data = loads_bounded(text, str(path))
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _checked_hf_id(hf_id: str) -> str:
    if not looks_like_hf_id(hf_id):
        raise InvalidInputError(f"--hf-id {hf_id!r} is not a Hugging Face id (expected org/name)")
    return hf_id


def _id_from_name(name: str) -> str | None:
    """'Qwen_Qwen3-8B' → 'Qwen/Qwen3-8B' (HF org names cannot contain '_')."""
    if "_" not in name:
        return None
    org, rest = name.split("_", 1)
    candidate = f"{org}/{rest}"
    return candidate if looks_like_hf_id(candidate) else None


def config_hf_id(path: Path, data: dict[str, Any]) -> str | None:
    """The HF id a local config.json implies, if any (see the module docstring)."""
    named = data.get("_name_or_path")
    if isinstance(named, str) and looks_like_hf_id(named):
        return named
    for parent in path.resolve().parents:
        if parent.name.startswith("models--"):
            parts = parent.name.removeprefix("models--").split("--")
            if len(parts) == 2 and looks_like_hf_id("/".join(parts)):
                return "/".join(parts)
    stem = path.parent.name if path.name == "config.json" else path.stem
    return _id_from_name(stem)


def _import_config(path: Path, hf_id: str | None, kind: str = "config.json") -> ImportResult:
    data = read_config_json(path)
    resolved = hf_id or config_hf_id(path, data)
    if resolved is None:
        raise InvalidInputError(
            f"{path}: cannot tell which Hugging Face model this is (no org/name "
            "'_name_or_path'); pass --hf-id ORG/NAME"
        )
    spec = spec_from_hf_config(data, resolved, source=str(path))
    if hf_id is None and data.get("_name_or_path") != resolved:
        note = f"hf_model_id {resolved!r} was inferred from the path {str(path)!r}."
        spec = spec.model_copy(update={"validation_notes": f"{spec.validation_notes} {note}"})
    text, notes = unwrap_multimodal(data, str(path))
    plan = read_quantization(ConfigReader(text, str(path)))
    quantization = plan.description if plan is not None else None
    return ImportResult(spec, kind, str(path), quantization=quantization, notes=tuple(notes))


def _import_gguf(path: Path, hf_id: str | None) -> ImportResult:
    meta: GGUFMetadata = read_gguf_metadata(path)
    resolved = hf_id or gguf_hf_id(meta)
    if resolved is None:
        raise InvalidInputError(
            f"{path}: the GGUF does not name its Hugging Face source; pass --hf-id ORG/NAME"
        )
    spec = spec_from_gguf(meta, resolved)
    return ImportResult(
        spec, "gguf", str(path), dict(meta.tensor_types), quantization_summary(meta)
    )


def _is_gguf(path: Path) -> bool:
    if path.suffix.lower() == ".gguf":
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"GGUF"
    except OSError:
        return False


def import_source(source: str, *, hf_id: str | None = None) -> ImportResult:
    """Import ``source`` and say what it was; see :func:`import_model`."""
    if hf_id is not None:
        hf_id = _checked_hf_id(hf_id)
    if not isinstance(source, str) or not source.strip():
        raise InvalidInputError("no import source given (a config.json, folder, .gguf or org/name)")
    path = Path(os.path.expanduser(source))
    if path.is_dir():
        config = path / "config.json"
        if config.is_file():
            return _import_config(config, hf_id)
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return _import_gguf(ggufs[0], hf_id)
        raise InvalidInputError(f"{path}: folder holds no config.json (nor exactly one .gguf)")
    if path.exists():
        if not path.is_file():
            raise InvalidInputError(f"{path}: not a regular file")
        return _import_gguf(path, hf_id) if _is_gguf(path) else _import_config(path, hf_id)
    if looks_like_hf_id(source):
        config = fetch_config(source)
        return _import_config(config, hf_id or source, kind="hub")
    raise InvalidInputError(
        f"{source!r}: no such file or folder, and not a Hugging Face id (org/name)"
    )


def import_model(source: str, *, hf_id: str | None = None) -> ModelSpec:
    """A ``ModelSpec`` from a config.json path, a folder holding one, a .gguf or an HF id.

    ``hf_id`` overrides the Hugging Face id the spec is filed under. Raises
    :class:`~infercast.errors.InvalidInputError` (one clear line) for every bad input.
    """
    return import_source(source, hf_id=hf_id).spec

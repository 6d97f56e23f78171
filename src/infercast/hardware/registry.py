"""Hardware registry: the built-in catalog (``hardware/catalog/<id>.json``) plus user parts.

Ids from users are only looked up in the in-memory index built here, never turned into paths.
Look-ups ignore case and punctuation, so "H100-SXM", "h100_sxm" and "h100 sxm" all match the
alias "h100-sxm". A broken built-in file is a packaging bug: loading raises
``HardwareFileError`` naming the file and each bad field.

User-defined accelerators are JSON files in the catalog's schema, one part per file named
``<id>.json``, in directories given by :func:`set_hardware_dirs` (the CLI's ``--hardware-dir``,
``create_app(hardware_dirs=...)``) and ``INFERCAST_HARDWARE_PATH`` (``:``-separated). They are
validated like the built-in ones — a bad file is an error naming the file and the field, never
skipped silently — and may not reuse a built-in id or alias. The directories are process-wide
(every estimate resolves parts by id), and each distinct set is loaded once.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infercast.errors import InvalidInputError, UnknownIdError
from infercast.hardware.schema import Hardware

__all__ = [
    "HARDWARE_PATH_ENV",
    "HardwareFileError",
    "get_hardware",
    "hardware_dirs",
    "hardware_ids",
    "hardware_origin",
    "list_hardware",
    "load_hardware_file",
    "parse_hardware",
    "set_hardware_dirs",
]


class HardwareFileError(InvalidInputError):
    """A hardware JSON file (or dict) that does not match the schema."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid hardware: " + "; ".join(problems))


def _format_errors(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {err['loc'][-1]!r}"
        problems.append(f"{loc}: {msg}")
    return problems


def parse_hardware(data: Mapping[str, Any], source: str = "<memory>") -> Hardware:
    """Validate one part; errors name ``source`` and every bad field."""
    try:
        return Hardware.model_validate(data)
    except ValidationError as exc:
        raise HardwareFileError(source, _format_errors(exc)) from None


def load_hardware_file(path: str | Path) -> Hardware:
    """Read and validate one hardware JSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HardwareFileError(str(path), [f"cannot read: {exc.strerror or exc}"]) from None
    except json.JSONDecodeError as exc:
        raise HardwareFileError(
            str(path), [f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]
        ) from None
    if not isinstance(data, dict):
        raise HardwareFileError(str(path), ["top level must be a JSON object"])
    return parse_hardware(data, source=str(path))


def _key(name: str) -> str:
    """Look-up key: lower case, punctuation and spaces removed."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _build_index(
    parts: Iterable[Hardware], origins: Mapping[str, str] | None = None
) -> tuple[dict[str, Hardware], dict[str, str]]:
    by_id: dict[str, Hardware] = {}
    index: dict[str, str] = {}
    for hw in parts:
        for name in (hw.id, *hw.aliases):
            key = _key(name)
            other = index.get(key)
            if other is not None and other != hw.id:
                origin = (origins or {}).get(hw.id, "built-in")
                source = f"{hw.id}.json" if origin == "built-in" else origin
                raise HardwareFileError(
                    source, [f"aliases: name {name!r} is already used by {other!r}"]
                )
            index[key] = hw.id
        by_id[hw.id] = hw
    return by_id, index


HARDWARE_PATH_ENV = "INFERCAST_HARDWARE_PATH"
_user_dirs: tuple[Path, ...] = ()


def set_hardware_dirs(dirs: Iterable[str | Path] | None) -> None:
    """Use these user hardware directories (before ``INFERCAST_HARDWARE_PATH``'s) from now on."""
    global _user_dirs
    _user_dirs = tuple(Path(d) for d in dirs or ())


def hardware_dirs() -> tuple[Path, ...]:
    """The user hardware directories in effect: set ones first, then the environment's."""
    env = os.environ.get(HARDWARE_PATH_ENV, "")
    return _user_dirs + tuple(Path(p) for p in env.split(os.pathsep) if p.strip())


def _checked_file(path: Path) -> Hardware:
    hw = load_hardware_file(path)
    if path.name != f"{hw.id}.json":
        raise HardwareFileError(str(path), [f"id: {hw.id!r} does not match the file name"])
    return hw


def _user_parts(directory: Path) -> list[Hardware]:
    if not directory.is_dir():
        raise HardwareFileError(str(directory), ["hardware directory does not exist"])
    return [_checked_file(path) for path in sorted(directory.glob("*.json"))]


@cache
def _load(dirs: tuple[Path, ...]) -> tuple[dict[str, Hardware], dict[str, str], dict[str, str]]:
    """(parts by id, look-up index, origin by id: 'built-in' or the user file)."""
    parts = []
    folder = resources.files("infercast.hardware") / "catalog"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            parts.append(_checked_file(Path(str(entry))))
    origins = {hw.id: "built-in" for hw in parts}
    for directory in dirs:
        for hw in _user_parts(directory):
            if hw.id in origins:
                where = "a built-in part" if origins[hw.id] == "built-in" else origins[hw.id]
                raise HardwareFileError(
                    str(directory / f"{hw.id}.json"), [f"id: {hw.id!r} is already {where}"]
                )
            origins[hw.id] = str(directory / f"{hw.id}.json")
            parts.append(hw)
    by_id, index = _build_index(parts, origins)
    return by_id, index, origins


def _catalog() -> tuple[dict[str, Hardware], dict[str, str]]:
    by_id, index, _ = _load(hardware_dirs())
    return by_id, index


def hardware_origin(hardware_id: str) -> str:
    """'built-in', or the path of the user file that defines the part."""
    return _load(hardware_dirs())[2][get_hardware(hardware_id).id]


def list_hardware() -> list[Hardware]:
    """Every part (built-in and user-defined), sorted by id."""
    by_id, _ = _catalog()
    return [by_id[i] for i in sorted(by_id)]


def hardware_ids() -> list[str]:
    return sorted(_catalog()[0])


def get_hardware(hardware_id: str) -> Hardware:
    """A part by id or alias (case- and punctuation-insensitive).

    Raises ``UnknownIdError("hardware", ...)`` with close matches as suggestions.
    """
    by_id, index = _catalog()
    found = index.get(_key(hardware_id))
    if found is not None:
        return by_id[found]
    names = sorted({*by_id, *(a.lower() for hw in by_id.values() for a in hw.aliases)})
    close = difflib.get_close_matches(hardware_id.strip().lower(), names, n=3, cutoff=0.5)
    suggestions = list(dict.fromkeys(index[_key(c)] for c in close))
    raise UnknownIdError("hardware", hardware_id, suggestions)

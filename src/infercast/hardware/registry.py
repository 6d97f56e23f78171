"""Hardware registry: the built-in catalog (``hardware/catalog/<id>.json``), loaded once.

Ids from users are only looked up in the in-memory index built here, never turned into paths.
Look-ups ignore case and punctuation, so "H100-SXM", "h100_sxm" and "h100 sxm" all match the
alias "h100-sxm". A broken built-in file is a packaging bug: loading raises
``HardwareFileError`` naming the file and each bad field.
"""

from __future__ import annotations

import difflib
import json
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
    "HardwareFileError",
    "get_hardware",
    "hardware_ids",
    "list_hardware",
    "load_hardware_file",
    "parse_hardware",
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


def _build_index(parts: Iterable[Hardware]) -> tuple[dict[str, Hardware], dict[str, str]]:
    by_id: dict[str, Hardware] = {}
    index: dict[str, str] = {}
    for hw in parts:
        for name in (hw.id, *hw.aliases):
            key = _key(name)
            other = index.get(key)
            if other is not None and other != hw.id:
                raise HardwareFileError(
                    f"{hw.id}.json", [f"name {name!r} is already used by {other!r}"]
                )
            index[key] = hw.id
        by_id[hw.id] = hw
    return by_id, index


@cache
def _catalog() -> tuple[dict[str, Hardware], dict[str, str]]:
    parts = []
    folder = resources.files("infercast.hardware") / "catalog"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        hw = load_hardware_file(Path(str(entry)))
        if entry.name != f"{hw.id}.json":
            raise HardwareFileError(str(entry), [f"id: {hw.id!r} does not match the file name"])
        parts.append(hw)
    return _build_index(parts)


def list_hardware() -> list[Hardware]:
    """Every built-in part, sorted by id."""
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

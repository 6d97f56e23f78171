"""What one API process knows: its model registry (plus specs imported this session), the
user models directory, and the estimator it calls.

Ids from requests are only ever looked up in in-memory indexes here; none becomes a path.
Imported-but-unsaved specs live in a bounded overlay so an upload can be estimated at once
without touching disk.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request

from infercast.errors import UnknownIdError
from infercast.estimation.estimate import estimate
from infercast.specs import ModelSpec, Registry

from ..parse_pool import ParsePool
from .cache import EstimateCache
from .errors import ApiError, ErrorProblem

__all__ = [
    "HARDWARE_ID_PATTERN",
    "MAX_CONCURRENT_PARSES",
    "MAX_IMPORTED_SPECS",
    "MODEL_ID_PATTERN",
    "ApiState",
    "get_state",
    "validate_hardware_id",
    "validate_model_id",
]

MAX_IMPORTED_SPECS = 64
"""Imported (unsaved) specs kept in memory; the oldest is dropped beyond this."""
MAX_CONCURRENT_PARSES = 2
"""Uploads in the app at once (each parsed in a worker process); ``POST /import`` answers 429
beyond."""
PARSE_POOL = ParsePool(MAX_CONCURRENT_PARSES, preload=("infercast.interfaces.api.importer",))
"""The process's upload parsers (shared by its apps; each app's lifespan starts it and shuts
it down)."""

MODEL_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?"
HARDWARE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}"
_MODEL_ID = re.compile(MODEL_ID_PATTERN)
_HARDWARE_ID = re.compile(HARDWARE_ID_PATTERN)

MODEL_ID_RULE = (
    "a model_id or Hugging Face id: letters, digits, '.', '_', '-', at most one '/', "
    "starting with a letter or digit, at most 296 characters"
)
HARDWARE_ID_RULE = "a hardware id or alias: letters, digits, ' ', '.', '_', '-' (≤ 64 characters)"


def _invalid_id(field_name: str, location: str, rule: str) -> ApiError:
    # The offending value is deliberately not echoed: it may be a path or binary junk.
    return ApiError(
        422,
        "invalid_input",
        f"{field_name}: must be {rule}",
        [ErrorProblem(field=field_name, location=location, rule="pattern", message=rule)],
    )


def validate_model_id(value: str, field_name: str = "model_id", location: str = "path") -> str:
    """Reject anything that is not shaped like an id (422) before any look-up."""
    if not _MODEL_ID.fullmatch(value):
        raise _invalid_id(field_name, location, MODEL_ID_RULE)
    return value


def validate_hardware_id(
    value: str, field_name: str = "hardware_id", location: str = "path"
) -> str:
    if not _HARDWARE_ID.fullmatch(value):
        raise _invalid_id(field_name, location, HARDWARE_ID_RULE)
    return value


Estimator = Callable[..., Any]


@dataclass
class ApiState:
    registry: Registry
    estimator: Estimator = field(default=estimate)
    cache: EstimateCache = field(default_factory=EstimateCache)
    imported: OrderedDict[str, ModelSpec] = field(default_factory=OrderedDict)
    generation: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    parse_slots: threading.Semaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(MAX_CONCURRENT_PARSES), repr=False
    )
    parse_pool: ParsePool = field(default=PARSE_POOL, repr=False)

    builtin_ids: dict[str, str] = field(default_factory=dict)
    """Lower-cased model_id and HF id of every built-in spec → its HF id (imports may not
    take any of them, in any case)."""

    @classmethod
    def load(cls, models_dirs: Iterable[str | Path] | None = None) -> ApiState:
        registry = Registry.load(models_dirs)
        return cls(registry=registry, builtin_ids=registry.builtin_ids())

    def builtin_conflict(self, spec: ModelSpec) -> str | None:
        """The built-in model whose id ``spec`` would shadow, if any."""
        for key in (spec.model_id.lower(), spec.hf_model_id.lower()):
            if key in self.builtin_ids:
                return self.builtin_ids[key]
        return None

    @property
    def save_dir(self) -> Path | None:
        """Where ``POST /import?save=true`` writes: the first user models directory."""
        return self.registry.user_dirs[0] if self.registry.user_dirs else None

    def models(self) -> list[tuple[ModelSpec, str]]:
        """Every model with where it came from: 'built-in', 'user' or 'imported'."""
        out: dict[str, tuple[ModelSpec, str]] = {}
        for spec in self.registry:
            origin = self.registry.origins.get(spec.model_id, "")
            out[spec.model_id] = (spec, "built-in" if origin == "built-in" else "user")
        for spec in list(self.imported.values()):
            out[spec.model_id] = (spec, "imported")
        return sorted(out.values(), key=lambda item: item[0].model_id.lower())

    def get_model(self, model_id: str) -> ModelSpec:
        """Look up by model_id or HF id (case-insensitive); imported specs win."""
        key = model_id.strip().lower()
        for spec in reversed(list(self.imported.values())):
            if key in (spec.model_id.lower(), spec.hf_model_id.lower()):
                return spec
        try:
            return self.registry.get(model_id)
        except UnknownIdError as exc:
            extra = [
                s.hf_model_id
                for s in self.imported.values()
                if key and (key in s.model_id.lower() or key in s.hf_model_id.lower())
            ]
            raise UnknownIdError("model", model_id, (extra + exc.suggestions)[:3]) from None

    def add_imported(self, spec: ModelSpec) -> None:
        with self.lock:
            self.imported.pop(spec.model_id, None)
            self.imported[spec.model_id] = spec
            while len(self.imported) > MAX_IMPORTED_SPECS:
                self.imported.popitem(last=False)
            self.generation += 1

    def add_saved(self, spec: ModelSpec, path: Path) -> None:
        with self.lock:
            self.registry.add(spec, origin=str(path))
            self.imported.pop(spec.model_id, None)
            self.generation += 1


async def get_state(request: Request) -> ApiState:
    """FastAPI dependency: the process's ``ApiState`` (async: no thread hop per request)."""
    return request.app.state.infercast

"""Serving engines (frameworks): a catalog with sources, like the hardware catalog.

``get_engine(name)`` accepts an id or alias (case-insensitive); ``ENGINES`` maps ids to
:class:`Engine` in catalog order. Adding an engine is one entry in ``engines/catalog.json``.
"""

from __future__ import annotations

import json
from importlib import resources

from infercast.engines.schema import (
    GIB,
    LAUNCH_SETTINGS,
    Engine,
    EngineSource,
    MemoryTier,
    PoolRequestCap,
)

__all__ = [
    "ENGINES",
    "GENERIC",
    "GIB",
    "LAUNCH_SETTINGS",
    "Engine",
    "EngineSource",
    "MemoryTier",
    "PoolRequestCap",
    "canonical_engine",
    "get_engine",
]

GENERIC = "generic"


def _load() -> dict[str, Engine]:
    text = (resources.files("infercast.engines") / "catalog.json").read_text(encoding="utf-8")
    engines = [Engine.model_validate(entry) for entry in json.loads(text)["engines"]]
    return {engine.id: engine for engine in engines}


ENGINES: dict[str, Engine] = _load()
_NAMES = {name.lower(): e.id for e in ENGINES.values() for name in (e.id, *e.aliases)}


def canonical_engine(name: str | None) -> str | None:
    """The catalog id a user's name means, or the name normalised (lower case) if unknown."""
    if name is None:
        return None
    key = name.strip().lower()
    return _NAMES.get(key, key)


def get_engine(name: str | None) -> Engine | None:
    """The engine of an id or alias; ``None`` when the catalog does not know it."""
    found = canonical_engine(name)
    return ENGINES.get(found) if found else None

"""The layer-spec classes, one module per family of classes; every module is imported here,
so a class registers itself (``@layer_class``) just by living in this package."""

from __future__ import annotations

import importlib
import pkgutil

from infercast.specs.classes.base import LAYER_CLASSES, PARALLELISM_KINDS, LayerSpecs

__all__ = ["LAYER_CLASSES", "PARALLELISM_KINDS", "LayerSpecs", "classes_with"]

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

_ROLE_ORDER = ("attention", "mixer", "linear", "ffn", "norm", "embedding", "head", "pooler")
_ordered = sorted(LAYER_CLASSES.items(), key=lambda item: _ROLE_ORDER.index(item[1].role))
LAYER_CLASSES.clear()
LAYER_CLASSES.update(_ordered)  # by role, then module name, then definition order


def classes_with(role: str) -> frozenset[str]:
    """Names of the registered classes of one role (``attention``, ``ffn``, ...)."""
    return frozenset(name for name, cls in LAYER_CLASSES.items() if cls.role == role)

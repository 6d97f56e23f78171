"""Model registry: the built-in catalog plus user directories.

Ids from users (CLI arguments, URL paths) are only ever looked up in the in-memory index built
here; they never become file paths. A broken user file is reported in ``problems`` and skipped;
a broken built-in file is a packaging bug and raises.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from infercast.errors import UnknownIdError
from infercast.specs.schema import ModelSpec
from infercast.specs.validation import Problem, SpecError, load_spec_file

__all__ = [
    "MODELS_PATH_ENV",
    "Registry",
    "builtin_catalog_dir",
    "default_registry",
    "user_models_dirs",
]

MODELS_PATH_ENV = "INFERCAST_MODELS_PATH"


def builtin_catalog_dir() -> Path:
    return Path(str(resources.files("infercast.specs") / "catalog"))


def user_models_dirs(extra: Iterable[str | Path] | None = None) -> list[Path]:
    """``--models-dir`` directories first, then those of ``INFERCAST_MODELS_PATH``."""
    dirs = [Path(d) for d in extra or ()]
    env = os.environ.get(MODELS_PATH_ENV, "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p.strip()]
    return dirs


@dataclass
class Registry:
    """Model specs by id; ``get`` accepts model_id or HF id, case-insensitively."""

    specs: dict[str, ModelSpec] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    user_dirs: list[Path] = field(default_factory=list)
    _index: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, models_dirs: Iterable[str | Path] | None = None) -> Registry:
        registry = cls(user_dirs=user_models_dirs(models_dirs))
        for path in sorted(builtin_catalog_dir().glob("*.json")):
            registry.add(load_spec_file(path), origin="built-in")
        for directory in registry.user_dirs:
            registry._load_user_dir(directory)
        return registry

    def _load_user_dir(self, directory: Path) -> None:
        if not directory.is_dir():
            self.problems.append(Problem(str(directory), "", "models directory does not exist"))
            return
        for path in sorted(directory.glob("*.json")):
            try:
                spec = load_spec_file(path)
            except SpecError as exc:
                self.problems.extend(exc.problems)
                continue
            self.add(spec, origin=str(path))

    def add(self, spec: ModelSpec, origin: str = "memory") -> None:
        """Add or replace (a user file may override a built-in spec of the same id)."""
        self.specs[spec.model_id] = spec
        self.origins[spec.model_id] = origin
        self._index[spec.model_id.lower()] = spec.model_id
        self._index[spec.hf_model_id.lower()] = spec.model_id

    def builtin_ids(self) -> dict[str, str]:
        """Every built-in model's model_id and HF id, lower-cased, → its HF id: the ids no
        import may take, in any case (a user file under one would shadow the built-in, as
        ``get`` is case-insensitive)."""
        out: dict[str, str] = {}
        for spec in self.specs.values():
            if self.origins.get(spec.model_id) == "built-in":
                out[spec.model_id.lower()] = out[spec.hf_model_id.lower()] = spec.hf_model_id
        return out

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(sorted(self.specs.values(), key=lambda s: s.model_id.lower()))

    def __len__(self) -> int:
        return len(self.specs)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and model_id.strip().lower() in self._index

    def get(self, model_id: str) -> ModelSpec:
        key = model_id.strip().lower()
        if key in self._index:
            return self.specs[self._index[key]]
        error = UnknownIdError("model", model_id, self.suggest(model_id))
        skipped = [p for p in self.problems if p.source.endswith(".json")]
        if skipped:  # the model may be in a file that was skipped: say which, by name only
            first = skipped[0]
            where = ": ".join(x for x in (Path(first.source).name, first.location) if x)
            more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
            error.args = (
                f"{error} ({len(skipped)} file(s) of the models directories were skipped: "
                f"{where}: {first.message}{more})",
            )
        raise error

    def suggest(self, model_id: str, limit: int = 3) -> list[str]:
        key = model_id.strip().lower()
        names = list(self._index)
        close = difflib.get_close_matches(key, names, n=limit * 2, cutoff=0.5)
        close += [n for n in names if key and key in n and n not in close]
        seen: list[str] = []
        for name in close:
            canonical = self.specs[self._index[name]].hf_model_id
            if canonical not in seen:
                seen.append(canonical)
        return seen[:limit]


@cache
def _default_registry(env_value: str) -> Registry:
    return Registry.load()


def default_registry() -> Registry:
    """The registry of built-in specs plus ``INFERCAST_MODELS_PATH`` (cached per env value)."""
    return _default_registry(os.environ.get(MODELS_PATH_ENV, ""))

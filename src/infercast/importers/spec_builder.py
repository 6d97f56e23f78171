"""Family config → ``ModelSpec``: group identical layer parts into ``layer_types`` entries.

Family configs describe the model one layer instance at a time (:class:`LayerPart`); here equal
parts collapse into one entry with a ``count``, so layers with different settings (sliding vs
full attention, dense vs MoE FFN, different stored formats) stay separate entries. Totals are
never typed in: they come from the layer classes, and the result goes through the same
validation as any spec file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infercast.errors import InvalidInputError
from infercast.importers.configs.base import FamilyConfig, LayerPart
from infercast.specs import LAYER_CLASSES, ModelSpec, format_params, parse_spec

__all__ = ["build_spec", "default_name", "model_id_for"]

UNVALIDATED_NOTE = (
    "Imported by infercast from the model's configuration; parameter counts come from "
    "infercast's layer classes and were not checked against an independent count."
)

DTypeResolver = Callable[[tuple[str, ...]], str | None]


def model_id_for(hf_model_id: str) -> str:
    """The catalog's naming rule: the HF id with '/' → '_'."""
    return hf_model_id.replace("/", "_")


def default_name(hf_model_id: str) -> str:
    """A readable name from the id: 'meta-llama/Llama-3.1-8B' → 'Llama 3.1 8B'."""
    return hf_model_id.rsplit("/", 1)[-1].replace("-", " ").replace("_", " ").strip()


def _order(layer_class: str) -> int:
    """Entries sort by role: attention, FFN, norm, embedding, head, pooler (the registry's)."""
    roles = [cls.role for cls in LAYER_CLASSES.values()]
    cls = LAYER_CLASSES.get(layer_class)
    return roles.index(cls.role) if cls else len(roles)


def group_parts(
    parts: list[LayerPart], weight_dtype: DTypeResolver | None = None
) -> list[dict[str, Any]]:
    """Equal (name, class, specs, stored format) parts → one entry each, in a stable order."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for part in parts:
        specs = dict(part.specs)
        if weight_dtype is not None and part.modules:
            fmt = weight_dtype(part.modules)
            if fmt is not None:
                specs["weight_dtype"] = fmt
        key = (part.name, part.layer_class, tuple(sorted(specs.items())))
        group = groups.get(key)
        if group is None:
            groups[key] = {
                "name": part.name,
                "class": part.layer_class,
                "count": 1,
                "specs": specs,
                "layer_idx": part.layer_idx,
            }
        else:
            group["count"] += 1
            if group["layer_idx"] is None:
                group["layer_idx"] = part.layer_idx
    entries = sorted(groups.values(), key=lambda g: _order(g["class"]))
    used: dict[str, int] = {}
    for entry in entries:
        base = entry["name"]
        used[base] = used.get(base, 0) + 1
        if used[base] > 1:
            entry["name"] = f"{base}_{used[base]}"
    return entries


def _entry_json(entry: dict[str, Any]) -> dict[str, Any]:
    specs_model = LAYER_CLASSES[entry["class"]]
    specs: dict[str, Any] = {}
    if entry["layer_idx"] is not None:
        specs["layer_idx"] = entry["layer_idx"]
    specs.update(entry["specs"])
    built = specs_model.model_validate(specs)
    specs["parameter_count"] = built.parameter_count_per_instance()
    return {"name": entry["name"], "class": entry["class"], "count": entry["count"], "specs": specs}


def build_spec(
    config: FamilyConfig,
    hf_model_id: str,
    *,
    name: str | None = None,
    weight_dtype: DTypeResolver | None = None,
    validated: bool = False,
    validation_notes: str | None = None,
    validation_sources: list[str] | None = None,
    extra_notes: list[str] | None = None,
    source: str = "<import>",
) -> ModelSpec:
    """Build and validate the spec; ``validated`` only when checked by the caller."""
    try:
        entries = [_entry_json(e) for e in group_parts(config.layer_parts(), weight_dtype)]
    except ValueError as exc:  # pydantic's ValidationError: a size the layer class rejects
        raise InvalidInputError(f"{source}: cannot build layer specs: {exc}") from None
    layer_sum = sum(e["count"] * e["specs"]["parameter_count"] for e in entries)
    notes = [validation_notes or ("" if validated else UNVALIDATED_NOTE)]
    notes += list(config.notes()) + list(extra_notes or [])
    data: dict[str, Any] = {
        "model_id": model_id_for(hf_model_id),
        "hf_model_id": hf_model_id,
        "name": name or default_name(hf_model_id),
        "hidden_size": config.hidden_size,
        "num_layers": config.num_layers,
        "vocab_size": config.vocab_size,
        "total_params": layer_sum,
        "total_params_formatted": format_params(layer_sum),
        "layer_types": entries,
        "validated": validated,
        "validation_notes": " ".join(n for n in notes if n) or None,
    }
    if validation_sources:
        data["validation_sources"] = list(validation_sources)
    if data["validation_notes"] is None:
        del data["validation_notes"]
    return parse_spec(data, source=source)

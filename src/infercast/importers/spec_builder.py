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


def _slot(entry: dict[str, Any]) -> str | None:
    """The block slot (mixer / ffn / None) an entry's instances fill."""
    return LAYER_CLASSES[entry["class"]].model_validate(entry["specs"]).block_slot()


def _order(layer_class: str) -> int:
    """Entries sort by role: token mixers (attention, linear attention, SSM), FFN, norm,
    embedding, head, pooler."""
    rank = {"attention": 0, "mixer": 0, "linear": 1, "ffn": 1, "norm": 2, "embedding": 3, "head": 4}
    return rank.get(LAYER_CLASSES[layer_class].role, 5)


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
            for name, modules in part.spec_modules:
                sub = weight_dtype(modules)
                if sub is not None and sub != fmt:
                    specs[name] = sub
        key = (part.name, part.layer_class, tuple(sorted(specs.items())))
        group = groups.get(key)
        if group is None:
            groups[key] = {
                "name": part.name,
                "class": part.layer_class,
                "count": 1,
                "specs": specs,
                "layer_idx": part.layer_idx,
                "indices": [part.layer_idx],
            }
        else:
            group["count"] += 1
            group["indices"].append(part.layer_idx)
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


def _needs_indices(entries: list[dict[str, Any]], num_layers: int) -> bool:
    """List each entry's blocks when blocks differ in kind: some lack a mixer or an FFN, or
    softmax attention interleaves with linear-attention / SSM mixers (hybrids, whose pipeline
    stages then hold what the order puts there)."""
    slots = [_slot(e) for e in entries]
    mixers = sum(e["count"] for e, slot in zip(entries, slots, strict=True) if slot == "mixer")
    ffns = sum(e["count"] for e, slot in zip(entries, slots, strict=True) if slot == "ffn")
    roles = {LAYER_CLASSES[e["class"]].role for e in entries}
    hybrid = "mixer" in roles and len(roles - {"ffn"}) > 1
    return hybrid or mixers != num_layers or ffns not in (0, num_layers)


def _entry_json(entry: dict[str, Any], with_indices: bool = False) -> dict[str, Any]:
    specs_model = LAYER_CLASSES[entry["class"]]
    specs: dict[str, Any] = {}
    if entry["layer_idx"] is not None:
        specs["layer_idx"] = entry["layer_idx"]
    specs.update(entry["specs"])
    if with_indices and _slot(entry) is not None:
        specs["layer_indices"] = list(entry["indices"])
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
    max_context_tokens: int | None = None,
) -> ModelSpec:
    """Build and validate the spec; ``validated`` only when checked by the caller;
    ``max_context_tokens`` from :func:`~infercast.importers.configs.base.context_tokens`."""
    try:
        groups = group_parts(config.layer_parts(), weight_dtype)
        block_groups = [g for g in groups if _slot(g) is not None]
        indexed = _needs_indices(block_groups, config.num_layers)
        entries = [_entry_json(e, indexed) for e in groups]
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
    if max_context_tokens is not None:
        data["max_context_tokens"] = max_context_tokens
    if validation_sources:
        data["validation_sources"] = list(validation_sources)
    if data["validation_notes"] is None:
        del data["validation_notes"]
    return parse_spec(data, source=source)

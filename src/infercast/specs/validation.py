"""Checks a model spec and reports every problem, not just the first.

Schema problems come from pydantic (types, required specs, bounds, unknown keys); semantic
problems (unique names, exact parameter totals, consistent head counts, …) from
:func:`semantic_problems`. Both become :class:`Problem` records naming file, place and rule.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infercast.errors import InvalidInputError
from infercast.specs.classes import LAYER_CLASSES, classes_with
from infercast.specs.schema import ModelSpec

__all__ = [
    "MAX_SPEC_FILE_BYTES",
    "Problem",
    "SpecError",
    "format_params",
    "load_spec_file",
    "parse_spec",
    "semantic_problems",
]

MAX_SPEC_FILE_BYTES = 4 * 2**20

_SUFFIXES = (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3))


@dataclass(frozen=True)
class Problem:
    source: str
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.location}" if self.location else self.source
        return f"{where}: {self.message}"


class SpecError(InvalidInputError):
    """A spec with one or more problems; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n  ".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s) in model spec:\n  {lines}")

    def __reduce__(self) -> tuple[type[SpecError], tuple[list[Problem]]]:
        # Rebuilt from its problems when it crosses a process (the API's upload parsers).
        return (type(self), (self.problems,))


def format_params(count: int) -> str:
    """Round a parameter count the way model cards do: 70553706496 → '70.6B'."""
    for suffix, unit in _SUFFIXES:
        if count >= unit:
            return f"{count / unit:.1f}{suffix}"
    return f"{count}"


def _formatted_agrees(formatted: str, total: int) -> bool:
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?([KMBT])", formatted)
    if not match:
        return False
    whole, frac, suffix = match.groups()
    unit = dict(_SUFFIXES)[suffix]
    shown = float(f"{whole}.{frac or 0}") * unit
    half_step = 0.5 * unit / 10 ** len(frac or "")
    return abs(shown - total) <= half_step + 1e-9 * unit


def _location(loc: tuple[Any, ...], data: Any) -> str:
    """Turn pydantic's loc into 'layer_types[1] (attention).specs.num_kv_heads'."""
    parts: list[str] = []
    node = data
    for i, item in enumerate(loc):
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and 0 <= item < len(node):
                node = node[item]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    label += f" ({node['name']})"
            else:
                node = None
            parts.append(label)
            continue
        if item in LAYER_CLASSES and i > 0 and isinstance(loc[i - 1], int):
            continue  # the union's tag: the entry's class is already known from its name
        node = node.get(item) if isinstance(node, dict) else None
        parts.append(f".{item}" if parts else str(item))
    return "".join(parts)


def _schema_problems(exc: ValidationError, data: Any, source: str) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = _location(error["loc"], data)
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key (not part of the spec format)"
        elif kind == "missing":
            message = "required field is missing"
        elif kind == "union_tag_invalid":
            tag = error.get("ctx", {}).get("tag")
            message = f"unknown layer class {tag!r}; known: {', '.join(LAYER_CLASSES)}"
        elif kind == "union_tag_not_found":
            message = "missing 'class'"
        else:
            message = f"{error['msg']} (got {error.get('input')!r})"[:300]
        problems.append(Problem(source, loc, message))
    return problems


def semantic_problems(
    spec: ModelSpec, source: str = "<spec>", file_stem: str | None = None
) -> list[Problem]:
    """Rules a schema cannot express; every violated rule is reported."""
    problems: list[Problem] = []

    def add(location: str, message: str) -> None:
        problems.append(Problem(source, location, message))

    if file_stem is not None and file_stem != spec.model_id:
        add("model_id", f"{spec.model_id!r} must equal the file name stem {file_stem!r}")

    expected_id = spec.hf_model_id.replace("/", "_")
    if spec.model_id != expected_id:
        add("model_id", f"must be the HF id with '/' → '_': expected {expected_id!r}")

    seen: dict[str, int] = {}
    for i, lt in enumerate(spec.layer_types):
        where = f"layer_types[{i}] ({lt.name})"
        if lt.name in seen:
            add(f"{where}.name", f"duplicate layer name, also used by layer_types[{seen[lt.name]}]")
        seen.setdefault(lt.name, i)
        specs = lt.layer_specs
        if lt.parallelism is not None:
            unsupported = sorted(set(lt.parallelism) - set(specs.supported_parallelism))
            if unsupported:
                add(
                    f"{where}.parallelism",
                    f"{lt.layer_class} does not support {', '.join(unsupported)}; it supports "
                    f"{', '.join(specs.supported_parallelism) or 'none (replicated)'}",
                )
        hidden = getattr(specs, "hidden_size", None)
        if hidden is not None and hidden != spec.hidden_size:
            add(
                f"{where}.specs.hidden_size",
                f"{hidden} differs from the model's {spec.hidden_size}",
            )
        vocab = getattr(specs, "vocab_size", None)
        if vocab is not None and vocab != spec.vocab_size:
            add(f"{where}.specs.vocab_size", f"{vocab} differs from the model's {spec.vocab_size}")
        for field, message in specs.problems():
            add(f"{where}.specs.{field}", message)
        if specs.parameter_count is not None:
            actual = specs.parameter_count_per_instance()
            if specs.parameter_count != actual:
                add(
                    f"{where}.specs.parameter_count",
                    f"{specs.parameter_count} but the specs give {actual} per instance",
                )

    for location, message in _census_problems(spec):
        add(location, message)
    embeddings = spec.layers_with("embedding")
    embedding_class = " or ".join(sorted(classes_with("embedding")))
    if len(embeddings) != 1 or embeddings[0].count != 1:
        add("layer_types", f"exactly one {embedding_class} with count 1 is required")
    tied = [lt for lt in spec.layers_with("head") if getattr(lt.layer_specs, "tied", False)]
    if tied and not embeddings:
        add(
            "layer_types",
            f"a tied {tied[0].layer_class} needs an {embedding_class} to share weights with",
        )

    computed = spec.computed_total_params
    if spec.total_params != computed:
        add(
            "total_params",
            f"{spec.total_params} but the layer types sum to {computed} "
            f"(off by {spec.total_params - computed:+d})",
        )
    if not _formatted_agrees(spec.total_params_formatted, spec.total_params):
        add(
            "total_params_formatted",
            f"{spec.total_params_formatted!r} does not agree with total_params "
            f"{spec.total_params} (expected {format_params(spec.total_params)!r})",
        )
    return problems


def _census_problems(spec: ModelSpec) -> list[tuple[str, str]]:
    """The per-block census: each block holds at most one token mixer and one FFN.

    A uniform model (every block: one mixer, one FFN) may list only counts: token mixers
    (softmax attention, linear attention, SSM) and FFNs each sum to ``num_layers``. Models whose
    blocks differ in kind (Nemotron-H's mixer-only and FFN-only blocks, DeciLM's skipped
    attention) give every mixer and FFN entry its ``layer_indices``; then no block may hold two
    mixers or two FFNs, none may be empty, and each entry's ``count`` equals its indices.
    """
    problems: list[tuple[str, str]] = []
    mixers = [lt for lt in spec.layer_types if lt.layer_specs.block_slot() == "mixer"]
    ffns = [lt for lt in spec.layer_types if lt.layer_specs.block_slot() == "ffn"]
    if not spec.layers_with("attention") and not spec.layers_with("mixer"):
        problems.append(("layer_types", "no attention, linear-attention or SSM layer"))
    block_entries = mixers + ffns
    if not any(lt.layer_specs.layer_indices is not None for lt in block_entries):
        for kind, entries in (("attention", mixers), ("MLP/MoE", ffns)):
            total = sum(lt.count for lt in entries)
            if total and total != spec.num_layers:
                problems.append(
                    (
                        "layer_types",
                        f"{kind} counts sum to {total}, num_layers is {spec.num_layers}",
                    )
                )
        if not ffns and not spec.layers_with("mixer"):  # SSM-only models (Mamba) have none
            problems.append(("layer_types", "no MLP / gated MLP / MoE layer"))
        return problems
    occupant: dict[tuple[str, int], str] = {}
    for lt in block_entries:
        where = f"layer_types ({lt.name})"
        indices = lt.layer_specs.layer_indices
        if indices is None:
            problems.append((where, "layer_indices is required once any block entry lists them"))
            continue
        if len(indices) != lt.count:
            problems.append((where, f"count {lt.count} but {len(indices)} layer_indices"))
        slot = lt.layer_specs.block_slot() or "mixer"  # block entries all have a slot
        for i in indices:
            if i >= spec.num_layers:
                problems.append((where, f"layer index {i} ≥ num_layers {spec.num_layers}"))
            elif (slot, i) in occupant:
                problems.append((where, f"block {i} already has a {slot}: {occupant[slot, i]}"))
            else:
                occupant[slot, i] = lt.name
    empty = [
        i
        for i in range(spec.num_layers)
        if ("mixer", i) not in occupant and ("ffn", i) not in occupant
    ]
    if empty:
        problems.append(("layer_types", f"blocks {empty[:8]} hold neither a mixer nor an FFN"))
    return problems


def parse_spec(data: Any, source: str = "<spec>", file_stem: str | None = None) -> ModelSpec:
    """Validate a decoded JSON object; raise :class:`SpecError` listing every problem."""
    if not isinstance(data, dict):
        raise SpecError([Problem(source, "", f"expected a JSON object, got {type(data).__name__}")])
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_schema_problems(exc, data, source)) from None
    problems = semantic_problems(spec, source, file_stem)
    if problems:
        raise SpecError(problems)
    return spec


def load_spec_file(path: str | Path) -> ModelSpec:
    """Read, size-check, decode and validate one spec file; the stem must equal model_id."""
    path = Path(path)
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_FILE_BYTES:
            raise SpecError(
                [Problem(source, "", f"file is {size} bytes; the limit is {MAX_SPEC_FILE_BYTES}")]
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([Problem(source, "", f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise SpecError([Problem(source, "", f"not UTF-8 text: {exc.reason}")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(
            [Problem(source, f"line {exc.lineno} column {exc.colno}", f"malformed JSON: {exc.msg}")]
        ) from None
    except (ValueError, RecursionError) as exc:  # a huge integer literal, deep nesting
        raise SpecError([Problem(source, "", f"unreadable JSON: {str(exc)[:120]}")]) from None
    return parse_spec(data, source, file_stem=path.stem if path.suffix == ".json" else None)

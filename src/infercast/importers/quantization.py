"""config.json ``quantization_config`` → the stored format of each layer's weights.

Quantized checkpoints keep some modules in high precision (routers, attention in gpt-oss,
embeddings and usually the LM head), so one format per model would misstate weight bytes. A
:class:`QuantizationPlan` answers, per Hugging Face module name, "quantized, and to what?"; the
spec builder asks it for each layer part and records the answer as the part's ``weight_dtype``.

Module patterns are what the formats define: a literal module name that matches itself, a
parent module or a dotted suffix (``lm_head``, ``model.layers.0.mlp``; ``*`` stands for any
text, as in gpt-oss's ``model.layers.*.self_attn``). Only compressed-tensors' ``re:`` prefix
marks a regex, and it is matched with RE2 (linear time, bounded memory): an uploaded config can
never make the importer backtrack (``(.*.*)*y`` once froze the server). Unknown methods and bit
widths infercast does not model are errors, never a silent guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import re2  # type: ignore[import-untyped]

from infercast.dtypes import UnknownDTypeError, dtype
from infercast.errors import InvalidInputError
from infercast.importers.configs.base import ConfigReader

__all__ = ["SUPPORTED_METHODS", "QuantizationPlan", "checkpoint_dtype", "read_quantization"]

SUPPORTED_METHODS = (
    "fp8",
    "fbgemm_fp8",
    "mxfp4",
    "compressed-tensors",
    "modelopt",
    "gptq",
    "awq",
    "bitsandbytes",
)
_MAX_PATTERNS = 1_000
_MAX_PATTERN_LEN = 1_000
_RE2_MAX_MEM_BYTES = 8 << 20
"""RE2's memory budget per compiled pattern (a 1,000-character pattern needs far less)."""


def _is_linear(module: str) -> bool:
    """Every module the importers name is a Linear except the token embedding."""
    return not module.endswith("embed_tokens") and "embeddings" not in module


def _any_of(matchers: list[Callable[[str], bool]]) -> Callable[[str], bool]:
    """A module matcher true when any of ``matchers`` is."""
    return lambda module: any(match(module) for match in matchers)


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.max_mem = _RE2_MAX_MEM_BYTES
    options.log_errors = False  # a bad pattern is reported once, as the importer's error
    return options


def _literal_regex(pattern: str) -> str:
    """A literal name as whole dotted components anywhere in a module name; ``*`` = any text."""
    body = ".*".join(re2.escape(part) for part in pattern.split("*"))
    return rf"(?:.*\.)?{body}(?:\..*)?"


def _compile(
    pattern: str, reader: ConfigReader | None = None, field: str = "pattern"
) -> Callable[[str], bool]:
    """A module predicate for one pattern; a bad ``re:`` is an error naming ``field``."""
    if pattern.startswith("re:"):
        source, anchored = pattern[3:], False
    else:
        source, anchored = _literal_regex(pattern), True
    try:
        regex = re2.compile(source, _re2_options())
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args else "invalid"
        message = f"{pattern[:80]!r} is not a regex RE2 accepts ({reason[:120]})"
        if reader is None:
            raise InvalidInputError(f"{field}: {message}") from None
        raise reader.error(field, message) from None
    if anchored:
        return lambda name: regex.fullmatch(name) is not None
    return lambda name: regex.match(name) is not None


def _patterns(reader: ConfigReader, field: str, value: Any) -> list[Callable[[str], bool]]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise reader.error(field, f"must be a list of module names, got {value!r}"[:200])
    if len(value) > _MAX_PATTERNS or any(len(v) > _MAX_PATTERN_LEN for v in value):
        raise reader.error(field, "too many or too long module patterns")
    return [_compile(v, reader, field) for v in value]


@dataclass(frozen=True)
class QuantizationPlan:
    """Which modules are quantized and to what; everything else keeps ``default_dtype``."""

    method: str
    default_dtype: str
    rules: tuple[tuple[Callable[[str], bool], str], ...]
    """(module predicate, format): the first rule that matches a module decides its format."""
    excluded: tuple[Callable[[str], bool], ...]
    description: str
    kv_dtype: str | None = None
    """The KV-cache format the checkpoint ships scales for (ModelOpt's ``kv_cache_quant_algo``
    FP8): what the engines use when the user names no KV format."""

    def module_dtype(self, module: str) -> str:
        if any(match(module) for match in self.excluded):
            return self.default_dtype
        for match, fmt in self.rules:
            if match(module):
                return fmt
        return self.default_dtype

    def weight_dtype(self, modules: tuple[str, ...]) -> str | None:
        """Format of a layer part: that of its bulk (first-named) module."""
        return self.module_dtype(modules[0]) if modules else None


def checkpoint_dtype(reader: ConfigReader) -> str:
    """The unquantized weights' format (``torch_dtype``, or ``dtype`` in transformers 5)."""
    for field in ("torch_dtype", "dtype"):
        if reader.has(field):
            value = reader.text(field)
            try:
                return dtype(value).name
            except UnknownDTypeError as exc:
                raise reader.error(field, str(exc)) from None
    return "bf16"


def _format(reader: ConfigReader, field: str, bits: Any, kind: str, group: Any) -> str:
    """compressed-tensors weight args → an infercast format."""
    table = {
        (4, "float", 16): "nvfp4",
        (4, "float", 32): "mxfp4",
        (8, "float", None): "fp8",
        (8, "int", None): "int8",
        (4, "int", None): "int4",
    }
    scalar = all(
        v is None or (isinstance(v, int | str) and not isinstance(v, bool))
        for v in (bits, kind, group)
    )
    key = (bits, kind, group if (bits, kind) == (4, "float") else None)
    if not scalar or key not in table:
        raise reader.error(
            field,
            f"weights of {bits} bits, type {kind!r}, group size {group!r} are not a format "
            "infercast models (nvfp4, mxfp4, fp8, int8, int4)",
        )
    return table[key]


def read_quantization(reader: ConfigReader) -> QuantizationPlan | None:
    """The plan for config.json's ``quantization_config``; None when the model is not quantized."""
    if not reader.has("quantization_config"):
        return None
    field = "quantization_config"
    q = reader.data[field]
    if not isinstance(q, dict):
        raise reader.error(field, f"must be an object, got {q!r}"[:200])
    method = q.get("quant_method")
    if not isinstance(method, str) or method not in SUPPORTED_METHODS:
        raise reader.error(
            f"{field}.quant_method",
            f"{method!r} is not supported; supported: {', '.join(SUPPORTED_METHODS)}",
        )
    default = checkpoint_dtype(reader)
    not_convert = _patterns(
        reader, f"{field}.modules_to_not_convert", q.get("modules_to_not_convert")
    )
    lm_head = [_compile("lm_head")]
    linear: Callable[[str], bool] = _is_linear
    rules: list[tuple[Callable[[str], bool], str]]
    excluded = not_convert + lm_head

    kv_dtype: str | None = None
    if method in ("fp8", "fbgemm_fp8"):
        rules = [(linear, "fp8")]
        block = q.get("weight_block_size")
        what = f"fp8 E4M3, block scales {block}" if block else "fp8 E4M3"
    elif method == "mxfp4":
        rules = [(lambda m: ".mlp.experts" in m, "mxfp4")]
        excluded = not_convert
        what = "mxfp4 on the MoE experts"
    elif method == "gptq" or method == "awq":
        bits = q.get("bits", q.get("w_bit"))
        by_bits = {4: "int4", 8: "int8"}
        if not isinstance(bits, int) or isinstance(bits, bool) or bits not in by_bits:
            raise reader.error(
                f"{field}.bits", f"{bits!r}-bit {method} is not modelled (only 4 and 8 bits)"
            )
        in_blocks: Callable[[str], bool] = lambda m: ".layers." in m and _is_linear(m)  # noqa: E731
        rules = [(in_blocks, by_bits[bits])]
        if q.get("lm_head") is True:
            excluded = not_convert
            rules.append((lambda m: m == "lm_head", by_bits[bits]))
        what = f"{method} {bits}-bit, group size {q.get('group_size', q.get('q_group_size'))}"
    elif method == "bitsandbytes":
        if q.get("load_in_4bit") is True:
            raise reader.error(
                f"{field}.load_in_4bit",
                "bitsandbytes 4-bit (nf4/fp4) weights are not a format infercast models",
            )
        if q.get("load_in_8bit") is not True:
            raise reader.error(field, "bitsandbytes config with neither 8- nor 4-bit loading")
        skip = _patterns(reader, f"{field}.llm_int8_skip_modules", q.get("llm_int8_skip_modules"))
        rules = [(linear, "int8")]
        excluded = skip + not_convert + lm_head
        what = "bitsandbytes int8"
    elif method == "modelopt":
        algo = q.get("quant_algo")
        formats = {
            "FP8": "fp8",
            "NVFP4": "nvfp4",
            "MXFP4": "mxfp4",
            "W4A16_AWQ": "int4",
            "W4A8_AWQ": "int4",
            "INT8_SQ": "int8",
        }
        if not isinstance(algo, str) or algo not in formats:
            raise reader.error(
                f"{field}.quant_algo",
                f"{algo!r} is not supported; supported: {', '.join(formats)}",
            )
        rules = [(linear, formats[algo])]
        excluded = not_convert + _patterns(
            reader, f"{field}.exclude_modules", q.get("exclude_modules")
        )
        what = f"modelopt {algo}"
        if q.get("kv_cache_quant_algo") == "FP8":
            kv_dtype = "fp8"
            what += ", fp8 KV cache"
    else:  # compressed-tensors
        rules, what = _compressed_tensors(reader, q)
        excluded = not_convert + _patterns(reader, f"{field}.ignore", q.get("ignore"))

    return QuantizationPlan(
        method=method,
        default_dtype=default,
        rules=tuple(rules),
        excluded=tuple(excluded),
        description=f"quantization_config: {what}; modules it leaves unquantized stay {default}.",
        kv_dtype=kv_dtype,
    )


def _compressed_tensors(
    reader: ConfigReader, q: dict[str, Any]
) -> tuple[list[tuple[Callable[[str], bool], str]], str]:
    field = "quantization_config.config_groups"
    groups = q.get("config_groups")
    if not isinstance(groups, dict) or not groups:
        raise reader.error(field, "compressed-tensors needs at least one config group")
    rules: list[tuple[Callable[[str], bool], str]] = []
    formats = []
    for name, group in groups.items():
        where = f"{field}.{name}"
        if not isinstance(group, dict) or not isinstance(group.get("weights"), dict):
            raise reader.error(where, "must be an object with 'weights' arguments")
        weights = group["weights"]
        fmt = _format(
            reader,
            f"{where}.weights",
            weights.get("num_bits"),
            weights.get("type"),
            weights.get("group_size"),
        )
        targets = group.get("targets", ["Linear"])
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise reader.error(f"{where}.targets", f"must be a list of strings, got {targets!r}")
        matchers = [
            _is_linear if t == "Linear" else _compile(t, reader, f"{where}.targets")
            for t in targets
        ]
        rules.append((_any_of(matchers), fmt))
        formats.append(fmt)
    return rules, f"compressed-tensors ({', '.join(sorted(set(formats)))})"

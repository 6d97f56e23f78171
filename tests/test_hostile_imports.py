"""Hostile but well-formed imports: module patterns, huge numbers, odd types, item-bound GGUF.

Each case once hung, crashed with a traceback, or used unbounded CPU/memory; each must now be a
quick, one-line ``InvalidInputError`` (or the right answer).
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from gguf import GGUFValueType as VT

from infercast.errors import InvalidInputError
from infercast.importers import import_source, spec_from_hf_config
from infercast.importers.gguf_format import MAX_ARRAY_ITEMS, MAX_NESTED_ARRAYS
from infercast.importers.gguf_metadata import read_gguf_metadata_bytes
from infercast.safe_json import MAX_JSON_DEPTH, loads_bounded

H = 64


def _config(**extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "model_type": "llama",
        "hidden_size": H,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "num_hidden_layers": 3,
        "vocab_size": 100,
    }
    config.update(extra)
    return config


def _dtypes(config: dict[str, Any]) -> dict[str, str | None]:
    spec = spec_from_hf_config(config, "test/model", source="config.json")
    return {lt.name: lt.layer_specs.weight_dtype for lt in spec.layer_types}


def _fp8(**quant: Any) -> dict[str, Any]:
    return _config(quantization_config={"quant_method": "fp8", **quant})


# ---- item 1: module patterns are literal unless marked re: --------------------------------------


def test_regex_looking_patterns_are_literals() -> None:
    # As regexes, ".*" and "(.*.*)*y.*" match every module (the importer once read them so,
    # and "(.*.*)*y" froze it); as the literal names they are, they name no module: every
    # linear layer stays fp8.
    got = _dtypes(_fp8(modules_to_not_convert=[".*", "(.*.*)*y.*", "(a+)+$"]))
    assert got["attention"] == got["feedforward"] == "fp8"


def test_literal_pattern_is_not_a_regex() -> None:
    # "model.layers.0.mlp" as a regex would also match "model_layers_0_mlp"-like names; a
    # literal '.' never matches another character, and "mlp" matches whole components only.
    got = _dtypes(_fp8(modules_to_not_convert=["model.layers.0.mlp"]))
    assert got["feedforward"] == "bf16" and got["feedforward_2"] == "fp8"
    got = _dtypes(_fp8(modules_to_not_convert=["model.layers.0.ml.", "lp"]))
    assert "feedforward_2" not in got and got["feedforward"] == "fp8"


def test_literal_pattern_matches_suffix_and_star() -> None:
    got = _dtypes(_fp8(modules_to_not_convert=["self_attn"]))
    assert got["attention"] == "bf16" and got["feedforward"] == "fp8"
    got = _dtypes(_fp8(modules_to_not_convert=["model.layers.*.mlp"]))
    assert got["feedforward"] == "bf16" and got["attention"] == "fp8"


def test_re_prefixed_pattern_runs_in_linear_time() -> None:
    # No module name has an "x": a backtracking engine tries exponentially many splits of each
    # name before giving up on (.*.*)*x (the importer hung on it); RE2 answers at once.
    quant = {
        "quant_method": "compressed-tensors",
        "config_groups": {
            "g": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "float"}}
        },
        "ignore": ["re:(.*.*)*x", "re:.*self_attn.*"],
    }
    got = _dtypes(_config(quantization_config=quant))
    assert got["attention"] == "bf16" and got["feedforward"] == "fp8"


def test_bad_re_pattern_names_the_field() -> None:
    quant = {
        "quant_method": "compressed-tensors",
        "config_groups": {
            "g": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "float"}}
        },
        "ignore": ["re:(?<=x)y"],
    }
    with pytest.raises(InvalidInputError, match=r"quantization_config\.ignore.*RE2"):
        _dtypes(_config(quantization_config=quant))


def test_catastrophic_pattern_from_a_file_does_not_hang_the_cli_path(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_fp8(modules_to_not_convert=["(.*.*)*y"])), encoding="utf-8")
    start = time.perf_counter()
    spec = import_source(str(path), hf_id="test/model").spec
    assert time.perf_counter() - start < 2.0 and spec.num_layers == 3


# ---- item 5: malformed values are errors, not tracebacks -----------------------------------------


@pytest.mark.parametrize(
    ("quant", "field"),
    [
        ({"quant_method": "gptq", "bits": [4]}, "bits"),
        ({"quant_method": "awq", "bits": {"a": 4}}, "bits"),
        ({"quant_method": "modelopt", "quant_algo": ["FP8"]}, "quant_algo"),
        (
            {
                "quant_method": "compressed-tensors",
                "config_groups": {"g": {"weights": {"num_bits": [8], "type": "float"}}},
            },
            "weights",
        ),
    ],
)
def test_quantization_values_of_the_wrong_type(quant: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        _dtypes(_config(quantization_config=quant))


def test_huge_integer_rope_theta() -> None:
    with pytest.raises(InvalidInputError, match=r"rope_theta.*finite"):
        _dtypes(_config(rope_theta=10**400))


def test_integer_literal_over_the_digit_limit(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"model_type": "llama", "hidden_size": ' + "9" * 5000 + "}", "utf-8")
    with pytest.raises(InvalidInputError) as caught:
        import_source(str(path), hf_id="test/model")
    # Python's own message, clipped, ended "use sys.set_int_max_str_digits() t)": a hint at
    # an interpreter call, cut mid-word. The line says what was wrong in the file.
    assert str(caught.value) == (
        f"{path}: a JSON integer longer than 4,300 digits is not a number infercast reads"
    )


def test_json_bounds() -> None:
    assert loads_bounded('{"a": [1, {"b": 2}]}', "x") == {"a": [1, {"b": 2}]}
    with pytest.raises(InvalidInputError, match="nested deeper"):
        loads_bounded("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "x")
    with pytest.raises(InvalidInputError, match="objects/arrays"):
        loads_bounded("[" + ",".join(["[]"] * 30_000) + "]", "x")
    with pytest.raises(InvalidInputError, match="values"):
        loads_bounded("[" + ",".join(["1"] * 300_000) + "]", "x")


# ---- item 3: a GGUF header's work is bounded by items, not only bytes ----------------------------


def _s(text: str) -> bytes:
    return struct.pack("<Q", len(text)) + text.encode()


def _gguf_with_array(item_type: int, count: int, items: bytes) -> bytes:
    kv = _s("general.architecture") + struct.pack("<I", VT.STRING) + _s("llama")
    arr = _s("evil") + struct.pack("<IIQ", VT.ARRAY, item_type, count) + items
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kv + arr


def test_many_nested_empty_arrays_are_refused_quickly() -> None:
    count = MAX_NESTED_ARRAYS + 1
    empty = struct.pack("<IQ", VT.UINT8, 0)
    data = _gguf_with_array(VT.ARRAY, count, empty * count)
    start = time.perf_counter()
    with pytest.raises(InvalidInputError, match="arrays inside arrays"):
        read_gguf_metadata_bytes(data, name="evil.gguf")
    assert time.perf_counter() - start < 2.0


def test_string_items_over_the_budget_are_refused_before_the_loop() -> None:
    # the count is checked against the budget before a single string is read
    count = MAX_ARRAY_ITEMS + 1
    data = _gguf_with_array(VT.STRING, count, bytes(8 * count))
    with pytest.raises(InvalidInputError, match="strings and arrays inside arrays"):
        read_gguf_metadata_bytes(data, name="evil.gguf")

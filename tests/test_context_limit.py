"""The model's context length (``max_context_tokens``): read by every importer, enforced by every
interface (issue 8 item 9, issue 11 item 10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import infercast
from infercast.errors import InvalidInputError
from infercast.estimation.checks import LoadError, context_limit
from infercast.importers import spec_from_hf_config
from infercast.importers.gguf_import import spec_from_gguf
from infercast.interfaces.api import create_app
from infercast.interfaces.cli.app import app as cli
from infercast.specs import parse_spec
from infercast.specs.registry import default_registry
from test_importers import LLAMA_KEYS, base, write_gguf

LLAMA8 = "meta-llama/Llama-3.1-8B-Instruct"
LIMIT = "exceeds the 131,072-token context of meta-llama/Llama-3.1-8B-Instruct"


def llama(**extra: Any) -> dict[str, Any]:
    return base("llama", **extra)


# ---- importers -----------------------------------------------------------------------------------


def test_config_field_becomes_max_context_tokens() -> None:
    spec = spec_from_hf_config(llama(max_position_embeddings=4096), "acme/Tiny")
    assert spec.max_context_tokens == 4096
    assert spec.to_json_dict()["max_context_tokens"] == 4096


def test_config_without_the_field_declares_no_limit() -> None:
    spec = spec_from_hf_config(llama(), "acme/Tiny")
    assert spec.max_context_tokens is None and context_limit(spec) is None
    assert "max_context_tokens" not in spec.to_json_dict()
    # no declared limit: any length is estimated
    assert infercast.estimate(spec, "h100", isl=1_000_000, osl=1, concurrency=1).ttft_ms > 0


def test_yarn_config_keeps_the_stated_length() -> None:
    # DeepSeek-V3's rope_scaling: 4096 original positions × factor 40 = 163,840, as stated.
    yarn = {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096}
    spec = spec_from_hf_config(
        llama(max_position_embeddings=163_840, rope_scaling=yarn), "acme/Yarn"
    )
    assert spec.max_context_tokens == 163_840 == 4096 * 40


def test_bad_config_length_names_the_field() -> None:
    with pytest.raises(InvalidInputError, match=r"'max_position_embeddings'.*integer"):
        spec_from_hf_config(llama(max_position_embeddings="4096"), "acme/Tiny")


def test_gemma3_wrapper_takes_the_transformers_default() -> None:
    # Gemma 3's published text_config omits it; Gemma3TextConfig(max_position_embeddings=131072).
    assert default_registry().get("google/gemma-3-27b-it").max_context_tokens == 131_072


def test_catalog_lengths_are_the_configs() -> None:
    reg = default_registry()
    expected = {  # the configs' max_position_embeddings, read by hand from ../shared
        LLAMA8: 131_072,
        "TinyLlama/TinyLlama-1.1B-Chat-v1.0": 2048,
        "Qwen/Qwen3-8B": 40_960,
        "deepseek-ai/DeepSeek-V3": 163_840,
        "meta-llama/Llama-4-Scout-17B-16E-Instruct": 10_485_760,
        "google-bert/bert-base-uncased": 512,
    }
    assert {m: reg.get(m).max_context_tokens for m in expected} == expected


def _gguf(path: Path, context: int | None) -> Path:
    keys = {k: v for k, v in LLAMA_KEYS.items() if k != "context_length"}
    if context is not None:
        keys["context_length"] = context
    return write_gguf(path, "llama", keys, {"token_embd.weight": (100, 64)})


def test_gguf_context_length_becomes_max_context_tokens(tmp_path: Path) -> None:
    assert spec_from_gguf(_gguf(tmp_path / "a.gguf", 8192), "acme/A").max_context_tokens == 8192
    assert spec_from_gguf(_gguf(tmp_path / "b.gguf", None), "acme/B").max_context_tokens is None


# ---- the spec field ------------------------------------------------------------------------------


def _spec_json(**top: Any) -> dict[str, Any]:
    data = default_registry().get("TinyLlama/TinyLlama-1.1B-Chat-v1.0").to_json_dict()
    data.update(top)
    return data


def test_spec_field_is_strict_and_unknown_keys_still_fail() -> None:
    assert parse_spec(_spec_json(max_context_tokens=4096)).max_context_tokens == 4096
    for bad in ("4096", 0, 4096.0, True):
        with pytest.raises(InvalidInputError, match="max_context_tokens"):
            parse_spec(_spec_json(max_context_tokens=bad))
    with pytest.raises(InvalidInputError, match="context_tokens"):
        parse_spec(_spec_json(context_tokens=4096))


# ---- the error in every interface ----------------------------------------------------------------


def test_python_api_refuses_beyond_the_context() -> None:
    with pytest.raises(LoadError, match=LIMIT) as info:
        infercast.estimate(LLAMA8, "h200", isl=10_000_000, osl=128, concurrency=1)
    assert info.value.field == "isl"
    with pytest.raises(LoadError, match=r"isl \+ osl = 131,073 tokens " + LIMIT) as info:
        infercast.estimate(LLAMA8, "h200", isl=131_000, osl=73, concurrency=1)
    assert info.value.field == "osl"
    ok = infercast.estimate(LLAMA8, "h200", isl=131_000, osl=72, concurrency=1)  # exactly 131,072
    assert ok.ttft_ms > 0


def test_cli_refuses_in_one_line_with_exit_2() -> None:
    result = CliRunner().invoke(
        cli,
        ["estimate", "--model", LLAMA8, "--hardware", "h200",
         "--isl", "10000000", "--osl", "128", "--concurrency", "1"],
        env={"INFERCAST_MODELS_PATH": "", "COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: isl + osl = 10,000,128 tokens {LIMIT}"]


def test_http_api_refuses_with_422_naming_the_field() -> None:
    client = TestClient(create_app(models_dirs=[]), base_url="http://localhost")
    body = {"model": LLAMA8, "hardware": "h200", "isl": 10_000_000, "osl": 128}
    got = client.post("/estimate", json={**body, "concurrency": 1})
    assert got.status_code == 422
    problem = got.json()["problems"][0]
    assert problem["field"] == "isl" and LIMIT in problem["message"]
    swept = client.post("/estimate/sweep", json={**body, "concurrencies": [1, 2]})
    assert swept.status_code == 422 and LIMIT in swept.json()["detail"]


def test_a_user_spec_declaring_a_context_is_held_to_it() -> None:
    spec = parse_spec(_spec_json(max_context_tokens=1000))
    with pytest.raises(LoadError, match="isl \\+ osl = 1,001 tokens exceeds the 1,000-token"):
        infercast.estimate(spec, "h100", isl=990, osl=11, concurrency=1)

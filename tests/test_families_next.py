"""The 2025–26 families against ``../shared/hf-configs-next``: real configs, independent counts.

Each config is imported by the importer users run; its total and active parameters, KV-cache
bytes per token (bf16, full context, EXPECTED.json's convention) and softmax / windowed /
linear-or-SSM layer census must equal the figures in ``EXPECTED.json``, which were counted by
building each text model with Hugging Face transformers on the meta device (not by infercast).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import SHARED as SHARED_ROOT
from infercast.importers import spec_from_hf_config
from infercast.specs import ModelSpec

SHARED = SHARED_ROOT / "hf-configs-next"
EXPECTED_FILE = SHARED / "EXPECTED.json"

pytestmark = pytest.mark.skipif(
    not EXPECTED_FILE.exists(), reason="../shared/hf-configs-next is not checked out beside"
)


def _expected() -> dict[str, Any]:
    if not EXPECTED_FILE.exists():
        return {}
    models: dict[str, Any] = json.loads(EXPECTED_FILE.read_text())["models"]
    return models


EXPECTED = _expected()


def _import(key: str) -> ModelSpec:
    config = json.loads((SHARED / f"{key}.json").read_text())
    return spec_from_hf_config(config, EXPECTED[key]["hf_model_id"], source=f"{key}.json")


def test_all_thirteen_fixtures_are_present() -> None:
    assert len(EXPECTED) == 13


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_total_active_and_kv_match_transformers(key: str) -> None:
    want = EXPECTED[key]
    spec = _import(key)
    assert spec.total_params == want["total_params"]
    assert spec.active_params == want["active_params"]
    assert spec.kv_cache_bytes_per_token("bf16") == want["kv_bytes_per_token_bf16"]


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_layer_census_matches(key: str) -> None:
    want = EXPECTED[key]
    census = _import(key).layer_census()
    assert census.softmax_attention == want["attention_layers"]
    assert census.windowed_or_chunked == want["windowed_or_chunked_layers"]
    assert census.linear_or_ssm == want["linear_attention_or_ssm_layers"]


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_experts_and_tying_match(key: str) -> None:
    want = EXPECTED[key]
    spec = _import(key)
    routed = {lt.layer_specs.num_experts for lt in spec.layers_of("MoELayer")}
    top_k = {lt.layer_specs.num_experts_per_tok for lt in spec.layers_of("MoELayer")}
    assert routed == ({want["routed_experts"]} if want["routed_experts"] else set())
    assert top_k == ({want["experts_per_token"]} if want["experts_per_token"] else set())
    heads = spec.layers_of("OutputLayer")
    assert [lt.layer_specs.tied for lt in heads] == [want["tied_embeddings"]]


def test_import_figures_json_follows_expected_json() -> None:
    from typer.testing import CliRunner

    from infercast.interfaces.cli.app import app

    key = "nvidia_NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"
    result = CliRunner().invoke(app, ["import", str(SHARED / f"{key}.json"), "--figures"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    want = EXPECTED[key]
    assert figures["total_params"] == want["total_params"]
    assert figures["active_params"] == want["active_params"]
    assert figures["kv_bytes_per_token_bf16"] == want["kv_bytes_per_token_bf16"]
    assert figures["layers"]["softmax_attention_layers"] == want["attention_layers"]
    assert figures["layers"]["linear_attention_or_ssm_layers"] == 23
    # 23 Mamba-2 layers × (64 heads × 64 × 128 state + 3 × 6144 conv inputs) × 2 bytes.
    assert figures["state_bytes_per_sequence_bf16"] == 23 * (64 * 64 * 128 + 3 * 6144) * 2


def test_models_show_prints_state_and_census() -> None:
    from typer.testing import CliRunner

    from infercast.interfaces.cli.app import app

    result = CliRunner().invoke(
        app,
        ["models", "show", "Qwen/Qwen3-Next-80B-A3B-Thinking"],
        env={"INFERCAST_MODELS_PATH": "", "COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    # 36 Gated DeltaNet layers × (32 × 128 × 128 + 3 × 8192 conv inputs) × 2 bytes.
    assert f"{36 * (32 * 128 * 128 + 3 * 8192) * 2:,} bytes" in text
    assert (
        "48 blocks; 12 softmax attention (0 windowed or chunked), 36 linear-attention/SSM" in text
    )

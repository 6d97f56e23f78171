"""The built-in catalog against the independent reference counts in ../shared/hf-configs and
(for the six 2025–26 models it adds) ../shared/hf-configs-next."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import REPO, SHARED
from infercast.specs import ModelSpec, Registry, load_spec_file
from infercast.specs.registry import builtin_catalog_dir

EXPECTED_PATH = SHARED / "hf-configs" / "EXPECTED.json"
EXPECTED: dict[str, dict[str, Any]] = json.loads(EXPECTED_PATH.read_text(encoding="utf-8"))[
    "models"
]


def _builder() -> ModuleType:
    path = REPO / "scripts" / "build_catalog.py"
    module_spec = importlib.util.spec_from_file_location("build_catalog", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module  # dataclasses look their module up while executing
    module_spec.loader.exec_module(module)
    return module


NEXT_IDS: tuple[str, ...] = _builder().SOURCES["hf-configs-next"]
"""The hf-configs-next models the builder puts in the catalog."""
NEXT_EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (SHARED / "hf-configs-next" / "EXPECTED.json").read_text(encoding="utf-8")
)["models"]
REFERENCES = {**EXPECTED, **{key: NEXT_EXPECTED[key] for key in NEXT_IDS}}
CATALOG = sorted(builtin_catalog_dir().glob("*.json"))
SEED_IDS = [
    "meta-llama/Llama-3.1-405B-Instruct",
    "meta-llama/Llama-3.3-70B-Instruct",
    "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    "mistralai/Mistral-7B-v0.1",
    "Qwen/Qwen3-30B-A3B",
]
# Ids whose architecture file (and reference figures) are another id's.
SAME_AS = {"meta-llama_Llama-3.1-405B-Instruct": "meta-llama_Meta-Llama-3.1-405B"}


def _reference(spec: ModelSpec) -> dict[str, Any]:
    return REFERENCES[SAME_AS.get(spec.model_id, spec.model_id)]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load([])


def test_every_expected_model_is_in_the_catalog(registry: Registry) -> None:
    for key, reference in REFERENCES.items():
        spec = registry.get(reference["hf_model_id"])
        assert spec.model_id == key
        assert spec.validated


def test_seed_models_are_present(registry: Registry) -> None:
    for hf_id in SEED_IDS:
        assert registry.get(hf_id).hf_model_id == hf_id
    assert len(CATALOG) == len(EXPECTED) + len(SAME_AS) + len(NEXT_IDS)


@pytest.mark.parametrize("path", CATALOG, ids=lambda p: p.stem)
def test_catalog_file_matches_reference_counts(path: Path) -> None:
    spec = load_spec_file(path)
    reference = _reference(spec)
    assert spec.total_params == reference["total_params"]
    if spec.is_encoder_only:
        assert reference["kv_bytes_per_token_bf16"] is None
        assert spec.kv_cache_elements_per_token == 0
        assert not spec.layers_of("OutputLayer")
        return
    assert spec.active_params == reference["active_params"]
    assert spec.kv_cache_bytes_per_token("bf16") == reference["kv_bytes_per_token_bf16"]
    (embedding,) = spec.layers_of("EmbeddingLayer")
    (head,) = spec.layers_of("OutputLayer")
    assert head.layer_specs.tied == reference["tied_embeddings"]
    if "matmul_params_per_token" in reference:  # hf-configs' references
        assert spec.matmul_params_per_token == reference["matmul_params_per_token"]
        assert embedding.parameter_count == reference["embedding_params"]
        assert head.parameter_count == reference["lm_head_params"]
    else:  # hf-configs-next's
        census = spec.layer_census()
        assert census.softmax_attention == reference["attention_layers"]
        assert census.linear_or_ssm == reference["linear_attention_or_ssm_layers"]
    assert spec.validated and str(reference["total_params"]) in (spec.validation_notes or "")


def test_moe_sparsity_flags(registry: Registry) -> None:
    for hf_id in ("Qwen/Qwen3-30B-A3B", "openai/gpt-oss-120b", "deepseek-ai/DeepSeek-V3"):
        assert registry.get(hf_id).is_truly_sparse
    assert not registry.get("meta-llama/Llama-3.1-8B-Instruct").is_moe


def test_gpt_oss_stored_formats(registry: Registry) -> None:
    spec = registry.get("openai/gpt-oss-120b")
    formats = {lt.layer_class: lt.layer_specs.weight_dtype for lt in spec.layer_types}
    assert formats["MoELayer"] == "mxfp4"
    assert formats["GroupedQueryAttentionLayer"] == "bf16"


def test_catalog_is_exactly_what_the_builder_generates(tmp_path: Path) -> None:
    builder = _builder()
    assert builder.main(["--shared", str(SHARED), "--out", str(tmp_path)]) == 0
    generated = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.json")}
    shipped = {p.name: p.read_text(encoding="utf-8") for p in CATALOG}
    assert generated == shipped


def test_builder_refuses_to_write_on_mismatch(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "hf-configs").mkdir(parents=True)
    expected = json.loads(EXPECTED_PATH.read_text(encoding="utf-8"))
    key = "Qwen_Qwen3-8B"
    expected["models"] = {key: {**expected["models"][key], "total_params": 1}}
    (shared / "hf-configs" / "EXPECTED.json").write_text(json.dumps(expected), encoding="utf-8")
    source = SHARED / "hf-configs" / f"{key}.json"
    (shared / "hf-configs" / f"{key}.json").write_text(source.read_text(), encoding="utf-8")
    builder = _builder()
    builder.ALIASES = {}
    out = tmp_path / "out"
    with pytest.raises(SystemExit, match="total_params"):
        builder.main(["--shared", str(shared), "--out", str(out)])
    assert not out.exists()

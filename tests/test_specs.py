"""The spec format: per-class parameter arithmetic (written out by hand), every validation rule,
and the registry (built-in + user directories).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from infercast.errors import UnknownIdError
from infercast.specs import LAYER_CLASSES, Registry, SpecError, format_params, parse_spec
from infercast.specs.registry import MODELS_PATH_ENV

H = 64


def layer(name: str, cls: str, count: int = 1, **specs: Any) -> dict[str, Any]:
    return {"name": name, "class": cls, "count": count, "specs": specs}


def tiny(**overrides: Any) -> dict[str, Any]:
    """A valid 2-layer GQA model: every count below is written out."""
    attention = H * 4 * 16 + 2 * H * 2 * 16 + 4 * 16 * H  # q + k + v + o = 12288
    mlp = 3 * H * 128  # gate + up + down = 24576
    total = 2 * attention + 2 * mlp + 5 * H + 100 * H + 100 * H  # 86848
    data: dict[str, Any] = {
        "model_id": "acme_Tiny",
        "hf_model_id": "acme/Tiny",
        "name": "Tiny",
        "hidden_size": H,
        "num_layers": 2,
        "vocab_size": 100,
        "total_params": total,
        "total_params_formatted": format_params(total),
        "layer_types": [
            layer(
                "attention",
                "GroupedQueryAttentionLayer",
                2,
                hidden_size=H,
                num_heads=4,
                num_kv_heads=2,
                head_dim=16,
                parameter_count=attention,
            ),
            layer("feedforward", "GatedMLPLayer", 2, hidden_size=H, intermediate_size=128),
            layer("norm", "NormLayer", 5, hidden_size=H, has_bias=False),
            layer("embedding", "EmbeddingLayer", 1, vocab_size=100, hidden_size=H),
            layer("lm_head", "OutputLayer", 1, vocab_size=100, hidden_size=H),
        ],
        "validated": False,
    }
    data.update(overrides)
    return data


def problems(data: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(data, source="t.json", **kwargs)
    return [f"{p.location}: {p.message}" for p in info.value.problems]


def one_instance(cls: str, **specs: Any) -> int:
    return LAYER_CLASSES[cls].model_validate(specs).parameter_count_per_instance()


# ---- parameter arithmetic per class -------------------------------------------------------------


def test_tiny_spec_is_valid_and_totals_add_up() -> None:
    spec = parse_spec(tiny())
    assert spec.total_params == spec.computed_total_params == 86848
    assert spec.total_params_formatted == "86.8K"
    assert spec.active_params == 86848  # dense: everything is active
    assert spec.matmul_params_per_token == 2 * (12288 + 24576) + 100 * H
    assert spec.kv_cache_bytes_per_token("bf16") == 2 * (2 * 2 * 16) * 2
    assert spec.kv_cache_bytes_per_token("fp8") == pytest.approx(2 * (2 * 2 * 16) * (1 + 4 / 16384))
    assert not spec.is_moe and not spec.is_encoder_only


def test_attention_classes() -> None:
    mha = H * 4 * 16 * 4  # q, k, v, o all h x (heads x d)
    assert one_instance("AttentionLayer", hidden_size=H, num_heads=4, head_dim=16) == mha
    biased = one_instance(
        "AttentionLayer",
        hidden_size=H,
        num_heads=4,
        head_dim=16,
        qkv_bias=True,
        o_bias=True,
        qk_norm=True,
        attention_sinks=True,
    )
    assert biased == mha + 3 * 64 + H + 2 * 16 + 4
    gqa = one_instance(
        "GroupedQueryAttentionLayer", hidden_size=H, num_heads=4, num_kv_heads=1, head_dim=32
    )
    assert gqa == H * 128 + 2 * H * 32 + 128 * H
    sliding = LAYER_CLASSES["SlidingWindowAttentionLayer"].model_validate(
        {"hidden_size": H, "num_heads": 4, "num_kv_heads": 1, "head_dim": 32, "sliding_window": 8}
    )
    assert sliding.parameter_count_per_instance() == gqa
    assert sliding.kv_cache_elements_per_token() == 2 * 1 * 32  # full context; window applied later


def test_mla() -> None:
    specs = {
        "hidden_size": H,
        "num_heads": 4,
        "q_lora_rank": 16,
        "kv_lora_rank": 32,
        "qk_nope_head_dim": 8,
        "qk_rope_head_dim": 4,
        "v_head_dim": 8,
    }
    q = H * 16 + 16 * 4 * (8 + 4)
    kv = H * (32 + 4) + 32 * 4 * (8 + 8)
    o = 4 * 8 * H
    model = LAYER_CLASSES["MultiHeadLatentAttentionLayer"].model_validate(specs)
    assert model.parameter_count_per_instance() == q + kv + o + 16 + 32  # + the two LoRA norms
    assert model.kv_cache_elements_per_token() == 32 + 4
    plain = LAYER_CLASSES["MultiHeadLatentAttentionLayer"].model_validate(
        {**specs, "q_lora_rank": 0}
    )
    assert plain.parameter_count_per_instance() == H * 4 * 12 + kv + o + 32


def test_mlps_norms_embeddings_heads_pooler() -> None:
    assert one_instance("MLPLayer", hidden_size=H, intermediate_size=256) == 2 * H * 256
    assert one_instance("MLPLayer", hidden_size=H, intermediate_size=256, has_bias=True) == (
        2 * H * 256 + 256 + H
    )
    assert one_instance("GatedMLPLayer", hidden_size=H, intermediate_size=256, has_bias=True) == (
        3 * H * 256 + 2 * 256 + H
    )
    assert one_instance("NormLayer", hidden_size=H, has_bias=True) == 2 * H
    assert (
        one_instance(
            "EmbeddingLayer",
            vocab_size=100,
            hidden_size=H,
            max_position_embeddings=16,
            type_vocab_size=2,
        )
        == (100 + 16 + 2) * H
    )
    assert one_instance("OutputLayer", vocab_size=100, hidden_size=H, tied=True) == 0
    assert (
        one_instance("OutputLayer", vocab_size=100, hidden_size=H, has_bias=True)
        == 101 * H - H + 100
    )
    assert one_instance("PoolerLayer", hidden_size=H) == H * H + H


def test_moe_counts_active_and_sparsity() -> None:
    specs = {
        "hidden_size": H,
        "num_experts": 8,
        "num_experts_per_tok": 2,
        "expert_intermediate_size": 32,
        "num_shared_experts": 1,
        "shared_expert_intermediate_size": 48,
        "shared_expert_gate": True,
        "router_bias": True,
    }
    moe = LAYER_CLASSES["MoELayer"].model_validate(specs)
    expert = 3 * H * 32
    fixed = 3 * H * 48 + H * 8 + 8 + H  # shared + router + router bias + shared gate
    assert moe.parameter_count_per_instance() == 8 * expert + fixed
    assert moe.active_parameters() == 2 * expert + fixed
    assert moe.matmul_params_per_token() == H * 8 + H + 2 * expert + 3 * H * 48
    assert moe.is_truly_sparse
    dense = LAYER_CLASSES["MoELayer"].model_validate({**specs, "num_experts_per_tok": 8})
    assert not dense.is_truly_sparse
    biased = LAYER_CLASSES["MoELayer"].model_validate({**specs, "expert_bias": True})
    assert biased.params_per_expert() == expert + 2 * 32 + H


# ---- validation rules ---------------------------------------------------------------------------


def test_unknown_keys_everywhere() -> None:
    data = tiny(extra=1)
    data["layer_types"][0]["colour"] = "red"
    data["layer_types"][1]["specs"]["wobble"] = 3
    found = problems(data)
    assert "extra: unknown key (not part of the spec format)" in found
    assert any("layer_types[0] (attention).colour: unknown key" in p for p in found)
    assert any("layer_types[1] (feedforward).specs.wobble: unknown key" in p for p in found)


def test_duplicate_names_wrong_total_and_formatted() -> None:
    data = tiny(total_params=86849, total_params_formatted="1.0B")
    data["layer_types"][2]["name"] = "attention"
    found = problems(data)
    assert any("duplicate layer name" in p for p in found)
    assert any(p.startswith("total_params: 86849 but the layer types sum to 86848") for p in found)
    assert any(p.startswith("total_params_formatted: '1.0B' does not agree") for p in found)


def test_formatted_within_its_precision_is_accepted() -> None:
    assert parse_spec(tiny(total_params_formatted="87K")).total_params == 86848
    assert problems(tiny(total_params_formatted="86K"))


def test_head_counts_and_top_k() -> None:
    data = tiny()
    data["layer_types"][0]["specs"].update(num_kv_heads=3, parameter_count=None)
    assert any("not a multiple of num_kv_heads 3" in p for p in problems(data))
    data["layer_types"][0]["specs"]["num_kv_heads"] = 8
    assert any("8 exceeds num_heads 4" in p for p in problems(data))
    moe = tiny()
    moe["layer_types"][1] = layer(
        "moe",
        "MoELayer",
        2,
        hidden_size=H,
        num_experts=2,
        num_experts_per_tok=3,
        expert_intermediate_size=8,
    )
    assert any("top-k 3 exceeds num_experts 2" in p for p in problems(moe))


def test_bad_class_and_missing_class() -> None:
    data = tiny()
    data["layer_types"][0]["class"] = "FlashLayer"
    del data["layer_types"][1]["class"]
    found = problems(data)
    assert any("unknown layer class 'FlashLayer'" in p for p in found)
    assert any("missing 'class'" in p for p in found)


@pytest.mark.parametrize("bad", [8192.0, "8192", True, None])
def test_strict_integer_types(bad: Any) -> None:
    data = tiny(hidden_size=bad)
    data["layer_types"][2]["specs"]["hidden_size"] = bad
    found = problems(data)
    assert any(p.startswith("hidden_size:") for p in found)
    assert any(p.startswith("layer_types[2] (norm).specs.hidden_size:") for p in found)


@pytest.mark.parametrize("bad", [0, -1, 1 << 40])
def test_absurd_sizes(bad: int) -> None:
    data = tiny()
    data["layer_types"][1]["specs"]["intermediate_size"] = bad
    assert any("specs.intermediate_size" in p for p in problems(data))


def test_missing_required_specs_and_fields() -> None:
    data = tiny()
    del data["layer_types"][0]["specs"]["num_kv_heads"]
    del data["vocab_size"]
    found = problems(data)
    assert "vocab_size: required field is missing" in found
    assert "layer_types[0] (attention).specs.num_kv_heads: required field is missing" in found


def test_consistency_rules() -> None:
    data = tiny(num_layers=3, model_id="acme_Other")
    data["layer_types"][0]["specs"]["parameter_count"] = 5
    data["layer_types"][3]["count"] = 2
    data["layer_types"][4]["specs"]["hidden_size"] = 32
    data["layer_types"][0]["parallelism"] = ["expert_parallel"]
    found = problems(data, file_stem="acme_Tiny")
    assert any("must equal the file name stem" in p for p in found)
    assert any("expected 'acme_Tiny'" in p for p in found)
    assert any("parameter_count: 5 but the specs give 12288" in p for p in found)
    assert any("attention counts sum to 2, num_layers is 3" in p for p in found)
    assert any("exactly one EmbeddingLayer" in p for p in found)
    assert any("32 differs from the model's 64" in p for p in found)
    assert any("does not support expert_parallel" in p for p in found)


def test_not_an_object() -> None:
    assert problems([1, 2]) == [": expected a JSON object, got list"]


# ---- registry -----------------------------------------------------------------------------------


def write(directory: Path, data: dict[str, Any], name: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name or data['model_id']}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_registry_lookup_case_insensitive_and_suggestions() -> None:
    registry = Registry.load([])
    spec = registry.get("meta-llama/llama-3.1-8b-instruct")
    assert spec.model_id == "meta-llama_Llama-3.1-8B-Instruct"
    assert registry.get("META-LLAMA_LLAMA-3.1-8B-INSTRUCT") is spec
    with pytest.raises(UnknownIdError) as info:
        registry.get("meta-llama/Llama-3.1-8B-Instruc")
    assert "meta-llama/Llama-3.1-8B-Instruct" in info.value.suggestions
    assert "did you mean" in str(info.value)


def test_user_dir_adds_and_broken_file_is_reported(tmp_path: Path) -> None:
    user = tmp_path / "models"
    write(user, tiny())
    broken = copy.deepcopy(tiny(model_id="acme_Broken", hf_model_id="acme/Broken"))
    broken["total_params"] = 1
    write(user, broken)
    (user / "junk.json").write_text("{oops", encoding="utf-8")
    registry = Registry.load([user])
    assert registry.get("acme/tiny").model_id == "acme_Tiny"
    assert registry.origins["acme_Tiny"].endswith("acme_Tiny.json")
    assert "acme/Broken" not in registry
    sources = {Path(p.source).name for p in registry.problems}
    assert sources == {"acme_Broken.json", "junk.json"}
    assert len(registry) == len(Registry.load([])) + 1


def test_models_path_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "env", tiny())
    monkeypatch.setenv(MODELS_PATH_ENV, str(tmp_path / "env"))
    assert "acme_Tiny" in Registry.load()
    monkeypatch.setenv(MODELS_PATH_ENV, str(tmp_path / "missing"))
    registry = Registry.load()
    assert any("does not exist" in p.message for p in registry.problems)

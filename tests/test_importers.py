"""Importers: each family from a synthetic config.json, with parameter counts derived by hand.

Every expected figure below is written out from the architecture (q/k/v/o, gate/up/down, norms,
embeddings, experts), not computed by the code under test.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from unittest import mock

import gguf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infercast.errors import InvalidInputError
from infercast.importers import import_model, import_source, spec_from_hf_config
from infercast.importers.configs import ConfigReader, LlamaFamilyConfig, Qwen3MoeConfig
from infercast.importers.hub import fetch_config
from infercast.specs import ModelSpec

QT = gguf.GGMLQuantizationType

# Shared small dimensions: hidden 64, 4 heads, 2 KV heads, head_dim 16 unless stated.
H, N, K, D = 64, 4, 2, 16
ATTN = H * N * D + 2 * H * K * D + N * D * H  # q + k + v + o = 12288


def imp(config: dict[str, Any], hf_id: str = "test/model") -> ModelSpec:
    return spec_from_hf_config(config, hf_id, source="config.json")


def base(model_type: str, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "model_type": model_type,
        "hidden_size": H,
        "num_attention_heads": N,
        "num_key_value_heads": K,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "vocab_size": 100,
    }
    config.update(extra)
    return config


def entry(spec: ModelSpec, name: str) -> Any:
    return next(lt for lt in spec.layer_types if lt.name == name)


def kv_bytes(spec: ModelSpec) -> float:
    return spec.kv_cache_bytes_per_token("bf16")


# ---- dense families -----------------------------------------------------------------------------


def test_llama_tied_embeddings() -> None:
    spec = imp(base("llama", intermediate_size=176, vocab_size=1000, tie_word_embeddings=True))
    mlp = 3 * H * 176
    per_layer = ATTN + mlp + 2 * H
    embedding = 1000 * H  # the LM head shares it: 0 own parameters
    assert spec.total_params == 2 * per_layer + H + embedding == 156480
    assert spec.matmul_params_per_token == 2 * (ATTN + mlp) + 1000 * H  # tied head still a matmul
    assert kv_bytes(spec) == 2 * (2 * K * D) * 2
    head = entry(spec, "lm_head")
    assert head.layer_specs.tied and head.parameter_count == 0
    assert entry(spec, "norm").count == 2 * 2 + 1
    assert spec.model_id == "test_model" and not spec.validated
    assert "not checked" in (spec.validation_notes or "")


def test_llama_attention_and_mlp_bias() -> None:
    spec = imp(base("llama", attention_bias=True, mlp_bias=True))
    attn = entry(spec, "attention").layer_specs
    assert attn.parameter_count_per_instance() == ATTN + (N * D + 2 * K * D) + H
    mlp = entry(spec, "feedforward").layer_specs
    assert mlp.parameter_count_per_instance() == 3 * H * 128 + 2 * 128 + H


def test_qwen2_biases_on_qkv_only() -> None:
    spec = imp(base("qwen2", num_hidden_layers=3, vocab_size=500))
    qkv_bias = N * D + 2 * K * D  # 64 + 32 + 32; o_proj has none
    per_layer = ATTN + qkv_bias + 3 * H * 128 + 2 * H
    assert spec.total_params == 3 * per_layer + H + 2 * 500 * H == 175424
    specs = entry(spec, "attention").layer_specs
    assert specs.qkv_bias and not specs.o_bias


def test_qwen2_sliding_window_from_max_window_layers() -> None:
    spec = imp(
        base(
            "qwen2",
            num_hidden_layers=4,
            use_sliding_window=True,
            sliding_window=256,
            max_window_layers=3,
        )
    )
    assert entry(spec, "attention").count == 3
    sliding = entry(spec, "sliding_attention")
    assert sliding.count == 1 and sliding.layer_specs.layer_idx == 3
    assert sliding.layer_specs.sliding_window == 256
    # use_sliding_window false: transformers drops the window for every layer.
    off = imp(base("qwen2", sliding_window=256, use_sliding_window=False))
    assert [lt.name for lt in off.layers_of("GroupedQueryAttentionLayer")] == ["attention"]


def test_qwen3_qk_norm_and_explicit_head_dim() -> None:
    spec = imp(base("qwen3", head_dim=32, intermediate_size=96, vocab_size=300))
    d = 32  # not hidden / heads = 16
    attn = H * N * d + 2 * H * K * d + N * d * H + 2 * d  # + q_norm, k_norm over head_dim
    per_layer = attn + 3 * H * 96 + 2 * H
    assert spec.total_params == 2 * per_layer + H + 2 * 300 * H == 124864
    assert kv_bytes(spec) == 2 * (2 * K * d) * 2
    assert entry(spec, "attention").layer_specs.qk_norm


def test_mistral_sliding_window_every_layer() -> None:
    spec = imp(base("mistral", sliding_window=4096))
    (attention,) = spec.layers_of("SlidingWindowAttentionLayer", "GroupedQueryAttentionLayer")
    assert attention.layer_class == "SlidingWindowAttentionLayer"
    assert attention.count == 2 and attention.layer_specs.sliding_window == 4096
    no_window = imp(base("mistral", sliding_window=None))
    assert no_window.layers_of("GroupedQueryAttentionLayer")[0].count == 2


def test_phi3_fused_projections_same_counts() -> None:
    phi = imp(base("phi3"))
    llama = imp(base("llama"))
    assert phi.total_params == llama.total_params == 2 * (ATTN + 3 * H * 128 + 2 * H) + H + 2 * 6400
    assert phi.matmul_params_per_token == llama.matmul_params_per_token


def test_mha_when_kv_heads_equal_heads() -> None:
    spec = imp(base("llama", num_key_value_heads=N))
    assert spec.layer_types[0].layer_class == "AttentionLayer"
    assert kv_bytes(spec) == 2 * (2 * N * D) * 2


def test_gemma2_four_norms_alternating_windows_tied() -> None:
    spec = imp(base("gemma2", head_dim=32, num_hidden_layers=4, sliding_window=16))
    d = 32
    attn = H * N * d + 2 * H * K * d + N * d * H
    per_layer = attn + 3 * H * 128 + 4 * H  # input, post-attn, pre- and post-feedforward norms
    assert spec.total_params == 4 * per_layer + H + 100 * H == 204096
    assert entry(spec, "norm").count == 4 * 4 + 1
    sliding = entry(spec, "sliding_attention")
    assert sliding.count == 2 and sliding.layer_specs.layer_idx == 0  # even layers slide
    assert entry(spec, "attention").layer_specs.layer_idx == 1
    assert entry(spec, "lm_head").layer_specs.tied


def test_gemma3_text_sliding_window_pattern_and_qk_norm() -> None:
    spec = imp(
        base(
            "gemma3_text",
            head_dim=32,
            num_hidden_layers=6,
            sliding_window=512,
            sliding_window_pattern=3,
        )
    )
    d = 32
    attn = H * N * d + 2 * H * K * d + N * d * H + 2 * d
    assert entry(spec, "sliding_attention").count == 4  # layers 0, 1, 3, 4
    full = entry(spec, "attention")
    assert full.count == 2 and full.layer_specs.layer_idx == 2
    assert full.layer_specs.parameter_count_per_instance() == attn
    assert spec.total_params == 6 * (attn + 3 * H * 128 + 4 * H) + H + 100 * H


def test_explicit_layer_types_win() -> None:
    spec = imp(
        base(
            "gemma2",
            layer_types=["full_attention", "sliding_attention"],
            sliding_window=8,
        )
    )
    assert entry(spec, "attention").layer_specs.layer_idx == 0
    assert entry(spec, "sliding_attention").layer_specs.layer_idx == 1


def test_bert_encoder() -> None:
    spec = imp(
        {
            "model_type": "bert",
            "hidden_size": H,
            "num_attention_heads": N,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "vocab_size": 100,
            "max_position_embeddings": 32,
            "type_vocab_size": 2,
        }
    )
    embedding = (100 + 32 + 2) * H
    attention = 4 * H * H + 3 * H + H  # q, k, v, o with biases
    mlp = 2 * H * 128 + 128 + H
    norms = 2 * 2 * H  # LayerNorm weight + bias
    pooler = H * H + H
    assert spec.total_params == embedding + 2 * H + 2 * (attention + mlp + norms) + pooler == 79808
    assert spec.is_encoder_only and kv_bytes(spec) == 0
    assert not spec.layers_of("OutputLayer")
    assert entry(spec, "norm").count == 2 * 2 + 1


# ---- MoE families -------------------------------------------------------------------------------


def qwen3_moe(**extra: Any) -> dict[str, Any]:
    config = base(
        "qwen3_moe",
        head_dim=D,
        num_experts=8,
        num_experts_per_tok=2,
        moe_intermediate_size=32,
        intermediate_size=96,
        num_hidden_layers=4,
    )
    config.update(extra)
    return config


def test_qwen3_moe_mlp_only_layers_and_sparse_step() -> None:
    spec = imp(qwen3_moe(decoder_sparse_step=2, mlp_only_layers=[3]))
    # MoE only where (i + 1) % 2 == 0 and i not in [3]: layer 1. Dense: 0, 2, 3.
    attn = ATTN + 2 * D
    expert = 3 * H * 32
    moe = 8 * expert + H * 8  # experts + router
    dense = 3 * H * 96
    total = 4 * attn + 3 * dense + moe + 4 * 2 * H + H + 2 * 100 * H
    assert spec.total_params == total == 167616
    assert spec.active_params == total - moe + (2 * expert + H * 8)
    assert entry(spec, "moe").count == 1 and entry(spec, "moe").layer_specs.layer_idx == 1
    assert entry(spec, "feedforward").count == 3
    assert spec.is_truly_sparse


def test_qwen3_moe_seed_semantics() -> None:
    cfg = Qwen3MoeConfig.from_hf(ConfigReader(qwen3_moe(num_experts_per_tok=None)))
    assert cfg.num_experts_per_tok == 8  # default
    assert cfg.norm_topk_prob is True  # default
    assert cfg.base.intermediate_size == cfg.expert_intermediate_size == 32
    assert not cfg.is_truly_sparse  # top_k 8 == num_experts 8: dense with extra dispatch
    assert Qwen3MoeConfig.from_hf(ConfigReader(qwen3_moe())).is_truly_sparse
    off = Qwen3MoeConfig.from_hf(ConfigReader(qwen3_moe(norm_topk_prob=False)))
    assert off.norm_topk_prob is False
    for missing in ("num_experts", "moe_intermediate_size"):
        config = qwen3_moe()
        del config[missing]
        with pytest.raises(InvalidInputError, match=missing):
            imp(config)


def test_qwen3_moe_from_base() -> None:
    dense = LlamaFamilyConfig.qwen3_from_hf(ConfigReader(base("qwen3")))
    cfg = Qwen3MoeConfig.from_base(dense, 4, 4, 32, True)
    assert cfg.base.intermediate_size == 32 and cfg.dense_intermediate_size == 128
    assert not cfg.is_truly_sparse


def test_qwen3_moe_top_k_above_experts_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match="num_experts_per_tok"):
        imp(qwen3_moe(num_experts_per_tok=9))


def test_qwen2_moe_shared_expert() -> None:
    spec = imp(
        base(
            "qwen2_moe",
            num_experts=4,
            num_experts_per_tok=2,
            moe_intermediate_size=32,
            shared_expert_intermediate_size=64,
        )
    )
    moe = 4 * 3 * H * 32 + 3 * H * 64 + H * 4 + H  # routed + shared + router + shared gate
    assert entry(spec, "moe").layer_specs.parameter_count_per_instance() == moe
    attn = ATTN + N * D + 2 * K * D
    assert spec.total_params == 2 * (attn + moe + 2 * H) + H + 2 * 100 * H


def test_mixtral() -> None:
    spec = imp(base("mixtral", num_local_experts=4, num_experts_per_tok=2))
    expert = 3 * H * 128
    moe = 4 * expert + H * 4
    assert spec.total_params == 2 * (ATTN + moe + 2 * H) + H + 2 * 100 * H == 234816
    assert spec.active_params == 2 * (ATTN + 2 * expert + H * 4 + 2 * H) + H + 2 * 100 * H
    with pytest.raises(InvalidInputError, match="num_local_experts"):
        imp(base("mixtral"))


def deepseek(**extra: Any) -> dict[str, Any]:
    config = base(
        "deepseek_v3",
        num_hidden_layers=3,
        q_lora_rank=None,
        kv_lora_rank=32,
        qk_nope_head_dim=16,
        qk_rope_head_dim=8,
        v_head_dim=16,
        first_k_dense_replace=1,
        moe_intermediate_size=32,
        n_routed_experts=8,
        num_experts_per_tok=2,
        n_shared_experts=1,
        topk_method="noaux_tc",
        num_nextn_predict_layers=1,
    )
    config.update(extra)
    return config


def mla_params(q_lora: int) -> int:
    qk = 16 + 8
    q = H * q_lora + q_lora * N * qk + q_lora if q_lora else H * N * qk  # (+ q_a_layernorm)
    kv_a = H * (32 + 8)
    kv_b = 32 * N * (16 + 16)
    o = N * 16 * H
    return q + kv_a + kv_b + o + 32  # + kv_a_layernorm


def test_deepseek_v3_without_q_lora() -> None:
    spec = imp(deepseek())
    mla = mla_params(0)
    assert mla == 16928
    dense = 3 * H * 128
    moe = 8 * 3 * H * 32 + 3 * H * 32 + H * 8  # routed + 1 shared + router (bias is a buffer)
    total = 3 * mla + dense + 2 * moe + 3 * 2 * H + H + 2 * 100 * H
    assert spec.total_params == total == 200224
    assert kv_bytes(spec) == 3 * (32 + 8) * 2  # latent + rope key
    assert entry(spec, "feedforward").count == 1 and entry(spec, "moe").count == 2
    assert entry(spec, "moe").layer_specs.router_score_correction_bias
    assert "multi-token-prediction" in (spec.validation_notes or "")


def test_deepseek_moe_layer_freq() -> None:
    spec = imp(deepseek(num_hidden_layers=5, moe_layer_freq=2))
    # MoE where i >= 1 and i % 2 == 0: layers 2 and 4.
    assert entry(spec, "moe").count == 2 and entry(spec, "moe").layer_specs.layer_idx == 2
    assert entry(spec, "feedforward").count == 3


def test_kimi_k2_with_q_lora() -> None:
    spec = imp(deepseek(model_type="kimi_k2", q_lora_rank=48, num_hidden_layers=2))
    mla = mla_params(48)
    assert entry(spec, "attention").layer_specs.parameter_count_per_instance() == mla
    moe = 8 * 3 * H * 32 + 3 * H * 32 + H * 8
    assert spec.total_params == 2 * mla + 3 * H * 128 + moe + 2 * 2 * H + H + 2 * 100 * H


def test_gpt_oss_layer_types_sinks_and_biases() -> None:
    spec = imp(
        base(
            "gpt_oss",
            head_dim=D,
            num_local_experts=4,
            num_experts_per_tok=2,
            intermediate_size=32,
            sliding_window=8,
            layer_types=["full_attention", "sliding_attention"],
        )
    )
    attn = ATTN + (N * D + 2 * K * D) + H + N  # q/k/v/o biases + one sink per head
    expert = 3 * H * 32 + 2 * 32 + H  # fused gate_up bias (2i) + down bias (h)
    moe = 4 * expert + H * 4 + 4  # router with bias
    assert spec.total_params == 2 * (attn + moe + 2 * H) + H + 2 * 100 * H == 88784
    assert spec.active_params == 2 * (attn + 2 * expert + H * 4 + 4 + 2 * H) + H + 2 * 100 * H
    assert entry(spec, "attention").layer_specs.layer_idx == 0
    sliding = entry(spec, "sliding_attention").layer_specs
    assert sliding.layer_idx == 1 and sliding.sliding_window == 8 and sliding.attention_sinks


# ---- quantization_config ------------------------------------------------------------------------


def dtypes(spec: ModelSpec) -> dict[str, str | None]:
    return {lt.name: lt.layer_specs.weight_dtype for lt in spec.layer_types}


def test_mxfp4_only_experts_with_modules_to_not_convert() -> None:
    config = base(
        "gpt_oss",
        num_local_experts=4,
        intermediate_size=32,
        quantization_config={
            "quant_method": "mxfp4",
            "modules_to_not_convert": [
                "model.layers.*.self_attn",
                "model.layers.*.mlp.router",
                "model.embed_tokens",
                "lm_head",
            ],
        },
    )
    got = dtypes(imp(config))
    assert got["moe"] == "mxfp4"
    assert got["attention"] == got["sliding_attention"] == got["lm_head"] == "bf16"
    assert got["norm"] is None


def test_fp8_block_scaled_everything_linear_but_lm_head() -> None:
    config = deepseek(
        quantization_config={
            "quant_method": "fp8",
            "fmt": "e4m3",
            "weight_block_size": [128, 128],
            "activation_scheme": "dynamic",
        }
    )
    got = dtypes(imp(config))
    assert got["attention"] == got["feedforward"] == got["moe"] == "fp8"
    assert got["lm_head"] == got["embedding"] == "bf16"


def test_compressed_tensors_nvfp4_with_ignore() -> None:
    config = base(
        "llama",
        torch_dtype="float16",
        quantization_config={
            "quant_method": "compressed-tensors",
            "format": "nvfp4-pack-quantized",
            "config_groups": {
                "group_0": {
                    "targets": ["Linear"],
                    "weights": {"num_bits": 4, "type": "float", "group_size": 16},
                }
            },
            "ignore": ["lm_head", "re:.*self_attn.*"],
        },
    )
    got = dtypes(imp(config))
    assert got["feedforward"] == "nvfp4"
    assert got["attention"] == got["lm_head"] == "fp16"  # unquantized keep torch_dtype


def test_gptq_and_awq_int4_and_a_layer_left_out() -> None:
    gptq = base("llama", quantization_config={"quant_method": "gptq", "bits": 4, "group_size": 128})
    got = dtypes(imp(gptq))
    assert got["attention"] == got["feedforward"] == "int4" and got["lm_head"] == "bf16"
    awq = base(
        "llama",
        num_hidden_layers=3,
        quantization_config={
            "quant_method": "awq",
            "bits": 4,
            "modules_to_not_convert": ["model.layers.0.mlp"],
        },
    )
    spec = imp(awq)
    quantized, kept = entry(spec, "feedforward"), entry(spec, "feedforward_2")
    assert (quantized.layer_specs.weight_dtype, quantized.count) == ("bf16", 1)
    assert (kept.layer_specs.weight_dtype, kept.count) == ("int4", 2)


@pytest.mark.parametrize(
    ("quantization", "message"),
    [
        ({"quant_method": "hqq"}, "'hqq' is not supported"),
        ({"quant_method": "gptq", "bits": 3}, "3-bit gptq"),
        ({"quant_method": "bitsandbytes", "load_in_4bit": True}, "load_in_4bit"),
        ({"quant_method": "modelopt", "quant_algo": "W2"}, "quant_algo"),
        ("fp8", "quantization_config"),
    ],
)
def test_unsupported_quantization_is_an_error(quantization: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        imp(base("llama", quantization_config=quantization))


# ---- errors -------------------------------------------------------------------------------------


def test_unknown_model_type_names_it_and_lists_supported() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown model_type 'mamba'.*llama.*qwen3_moe"):
        imp({"model_type": "mamba"})
    with pytest.raises(InvalidInputError, match="model_type"):
        imp({"hidden_size": 8})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hidden_size": 8192.0}, "'hidden_size'.*must be an integer"),
        ({"hidden_size": "8192"}, "'hidden_size'.*must be an integer"),
        ({"hidden_size": True}, "'hidden_size'.*must be an integer"),
        ({"hidden_size": 0}, "'hidden_size'.*at least 1"),
        ({"hidden_size": -5}, "'hidden_size'.*at least 1"),
        ({"vocab_size": 10**12}, "'vocab_size'.*sanity limit"),
        ({"num_hidden_layers": None}, "'num_hidden_layers'.*null"),
        ({"num_key_value_heads": 3}, "not a multiple"),
        ({"num_key_value_heads": 8}, "exceeds"),
        ({"hidden_size": 66}, "head_dim"),
        ({"tie_word_embeddings": "yes"}, "'tie_word_embeddings'.*true or false"),
        ({"layer_types": ["full_attention"]}, "'layer_types'.*1 entries"),
        ({"layer_types": ["full_attention", "chunked_attention"]}, "chunked_attention"),
    ],
)
def test_bad_fields_are_named(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        imp({**base("llama"), **change})


def test_missing_required_field_is_named() -> None:
    config = base("llama")
    del config["intermediate_size"]
    with pytest.raises(InvalidInputError, match=r"'intermediate_size'.*required"):
        imp(config)


def test_bad_hf_id_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="hf_model_id"):
        imp(base("llama"), hf_id="no-slash")


# ---- property tests -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    h_heads=st.sampled_from([(64, 4), (96, 6), (128, 8), (256, 16)]),
    kv_div=st.sampled_from([1, 2]),
    layers=st.integers(1, 6),
    inter=st.integers(1, 512),
    vocab=st.integers(1, 5000),
    tied=st.booleans(),
    moe=st.booleans(),
    experts=st.integers(1, 16),
    moe_inter=st.integers(1, 128),
    step=st.integers(1, 3),
)
def test_imported_total_matches_closed_form(
    h_heads: tuple[int, int],
    kv_div: int,
    layers: int,
    inter: int,
    vocab: int,
    tied: bool,
    moe: bool,
    experts: int,
    moe_inter: int,
    step: int,
) -> None:
    h, n = h_heads
    k, d = n // kv_div, h // n
    config: dict[str, Any] = {
        "model_type": "qwen3_moe" if moe else "llama",
        "hidden_size": h,
        "num_attention_heads": n,
        "num_key_value_heads": k,
        "intermediate_size": inter,
        "num_hidden_layers": layers,
        "vocab_size": vocab,
        "tie_word_embeddings": tied,
    }
    attention = h * n * d + 2 * h * k * d + n * d * h
    if moe:
        top_k = max(1, experts // 2)
        config.update(
            num_experts=experts,
            num_experts_per_tok=top_k,
            moe_intermediate_size=moe_inter,
            decoder_sparse_step=step,
            head_dim=d,
        )
        attention += 2 * d
        sparse = sum(1 for i in range(layers) if (i + 1) % step == 0)
        ffn = (
            sparse * (experts * 3 * h * moe_inter + h * experts) + (layers - sparse) * 3 * h * inter
        )
    else:
        ffn = layers * 3 * h * inter
    expected = layers * (attention + 2 * h) + ffn + h + vocab * h * (1 if tied else 2)
    assert imp(config).total_params == expected


_FIELDS = [
    "model_type",
    "hidden_size",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
    "num_hidden_layers",
    "vocab_size",
    "head_dim",
    "tie_word_embeddings",
    "num_experts",
    "moe_intermediate_size",
    "num_experts_per_tok",
    "layer_types",
    "sliding_window",
    "quantization_config",
    "mlp_only_layers",
    "n_routed_experts",
    "kv_lora_rank",
    "q_lora_rank",
]
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 300)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model_type=st.sampled_from(
        ["llama", "qwen3_moe", "deepseek_v3", "gpt_oss", "gemma2", "bert", "mixtral", "x", 3]
    ),
    junk=st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=12),
)
def test_junk_configs_raise_only_invalid_input(model_type: Any, junk: dict[str, Any]) -> None:
    config = {**base("llama"), "model_type": model_type, **junk}
    try:
        spec = imp(config)
    except InvalidInputError:
        return
    assert spec.total_params > 0


@settings(max_examples=100, deadline=None)
@given(junk=_JSON)
def test_junk_documents_raise_only_invalid_input(junk: Any) -> None:
    with pytest.raises(InvalidInputError):
        imp(junk)


# ---- sources: files, folders, ids ---------------------------------------------------------------


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_import_model_from_file_folder_and_name_rules(tmp_path: Path) -> None:
    config = base("llama")
    named = write(tmp_path / "cfg.json", {**config, "_name_or_path": "acme/Tiny-1B"})
    assert import_model(str(named)).hf_model_id == "acme/Tiny-1B"
    folder = tmp_path / "acme_Tiny-2B"
    folder.mkdir()
    write(folder / "config.json", config)
    assert import_model(str(folder)).hf_model_id == "acme/Tiny-2B"  # folder name org_name
    cache = tmp_path / "models--acme--Cached" / "snapshots" / "abc"
    cache.mkdir(parents=True)
    write(cache / "config.json", config)
    assert import_model(str(cache / "config.json")).model_id == "acme_Cached"
    (tmp_path / "plain").mkdir()
    plain = write(tmp_path / "plain" / "config.json", config)
    with pytest.raises(InvalidInputError, match="--hf-id"):
        import_model(str(plain))
    assert import_model(str(plain), hf_id="me/Mine").model_id == "me_Mine"
    with pytest.raises(InvalidInputError, match="--hf-id"):
        import_model(str(plain), hf_id="bad id")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "line 1 column 2: malformed JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[" * 100000 + b"]" * 100000, "JSON"),
    ],
)
def test_bad_config_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "acme_X.json"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message):
        import_model(str(path))


def test_config_size_limit_and_missing_paths(tmp_path: Path) -> None:
    big = tmp_path / "acme_Big.json"
    big.write_bytes(b" " * (4 * 2**20 + 1))
    with pytest.raises(InvalidInputError, match="too large"):
        import_model(str(big))
    with pytest.raises(InvalidInputError, match="no such file"):
        import_model(str(tmp_path / "nope.json"))
    with pytest.raises(InvalidInputError, match=r"no config\.json"):
        import_model(str(tmp_path))


def test_hub_id_fetches_config_only(tmp_path: Path) -> None:
    cached = write(tmp_path / "config.json", base("qwen3"))
    with (
        mock.patch("huggingface_hub.hf_hub_download", return_value=str(cached)) as download,
        mock.patch("infercast.importers.hub.hub_reachable", return_value=True),
    ):
        spec = import_model("acme/Remote-8B")
    download.assert_called_once_with(
        repo_id="acme/Remote-8B", filename="config.json", revision=None, local_files_only=False
    )
    assert spec.hf_model_id == "acme/Remote-8B"


def test_hub_errors_are_clear() -> None:
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    offline = LocalEntryNotFoundError("offline")
    with (
        mock.patch("huggingface_hub.hf_hub_download", side_effect=offline),
        pytest.raises(InvalidInputError, match="unreachable"),
    ):
        fetch_config("acme/Remote-8B")
    missing = RepositoryNotFoundError("404", response=mock.MagicMock())
    with (
        mock.patch("huggingface_hub.hf_hub_download", side_effect=missing),
        pytest.raises(InvalidInputError, match="not found"),
    ):
        import_model("acme/Nope")
    with pytest.raises(InvalidInputError, match="not a Hugging Face model id"):
        fetch_config("../etc")


# ---- GGUF ---------------------------------------------------------------------------------------


def write_gguf(path: Path, arch: str, keys: dict[str, Any], tensors: dict[str, Any]) -> Path:
    writer = gguf.GGUFWriter(path, arch)
    for key, value in keys.items():
        full = key if key.startswith("general.") else f"{arch}.{key}"
        if isinstance(value, bool):
            writer.add_bool(full, value)
        elif isinstance(value, int):
            writer.add_uint32(full, value)
        elif isinstance(value, float):
            writer.add_float32(full, value)
        else:
            writer.add_string(full, value)
    for name, spec in tensors.items():
        if isinstance(spec, tuple):
            writer.add_tensor(name, np.zeros(spec, np.float16))
        else:  # a Q4_K block: 256 weights in 144 bytes
            writer.add_tensor(name, np.zeros((1, 144), np.uint8), raw_dtype=QT.Q4_K)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


LLAMA_KEYS = {
    "block_count": 2,
    "embedding_length": H,
    "feed_forward_length": 128,
    "attention.head_count": N,
    "attention.head_count_kv": K,
    "context_length": 4096,
}


def test_gguf_llama_matches_config_json(tmp_path: Path) -> None:
    path = write_gguf(
        tmp_path / "tiny.gguf",
        "llama",
        {**LLAMA_KEYS, "general.name": "Tiny"},
        {"token_embd.weight": (100, H), "output.weight": (100, H), "blk.0.ffn_up.weight": "q4k"},
    )
    result = import_source(str(path), hf_id="acme/Tiny")
    assert result.spec.total_params == imp(base("llama")).total_params
    assert result.gguf_types == {"F16": 2, "Q4_K": 1}
    assert "Q4_K" in (result.quantization or "") and "Q4_K" in (result.spec.validation_notes or "")
    assert result.spec.name == "Tiny"
    tied = write_gguf(tmp_path / "tied.gguf", "llama", LLAMA_KEYS, {"token_embd.weight": (100, H)})
    assert entry(import_model(str(tied), hf_id="acme/Tied"), "lm_head").layer_specs.tied
    with pytest.raises(InvalidInputError, match="--hf-id"):
        import_model(str(tied))


def test_gguf_missing_key_is_named(tmp_path: Path) -> None:
    keys = {k: v for k, v in LLAMA_KEYS.items() if k != "block_count"}
    path = write_gguf(tmp_path / "bad.gguf", "llama", keys, {"token_embd.weight": (100, H)})
    with pytest.raises(InvalidInputError, match=r"'llama\.block_count' is required"):
        import_model(str(path), hf_id="acme/Bad")
    other = write_gguf(tmp_path / "rwkv.gguf", "rwkv6", {}, {})
    with pytest.raises(InvalidInputError, match="'rwkv6' is not supported"):
        import_model(str(other), hf_id="acme/Rwkv")


def test_gguf_qwen3moe(tmp_path: Path) -> None:
    keys = {
        **LLAMA_KEYS,
        "block_count": 4,
        "attention.key_length": D,
        "expert_count": 8,
        "expert_used_count": 2,
        "expert_feed_forward_length": 32,
    }
    path = write_gguf(
        tmp_path / "moe.gguf",
        "qwen3moe",
        keys,
        {"token_embd.weight": (100, H), "output.weight": (100, H)},
    )
    spec = import_model(str(path), hf_id="acme/Moe")
    config = qwen3_moe()
    assert spec.total_params == imp(config).total_params
    assert spec.total_params == 4 * (ATTN + 2 * D + 8 * 3 * H * 32 + H * 8 + 2 * H) + H + 12800
    keys.pop("expert_count")
    bad = write_gguf(tmp_path / "bad.gguf", "qwen3moe", keys, {"token_embd.weight": (100, H)})
    with pytest.raises(InvalidInputError, match=r"qwen3moe\.expert_count"):
        import_model(str(bad), hf_id="acme/Bad")


def test_gguf_deepseek2(tmp_path: Path) -> None:
    keys = {
        "block_count": 3,
        "embedding_length": H,
        "feed_forward_length": 128,
        "attention.head_count": N,
        "attention.kv_lora_rank": 32,
        "attention.key_length": 16 + 8,
        "attention.value_length": 16,
        "rope.dimension_count": 8,
        "leading_dense_block_count": 1,
        "expert_feed_forward_length": 32,
        "expert_count": 8,
        "expert_used_count": 2,
        "expert_shared_count": 1,
        "expert_weights_norm": True,
        "expert_gating_func": 2,
    }
    path = write_gguf(
        tmp_path / "ds.gguf",
        "deepseek2",
        keys,
        {"token_embd.weight": (100, H), "output.weight": (100, H)},
    )
    spec = import_model(str(path), hf_id="acme/Ds")
    assert spec.total_params == imp(deepseek()).total_params == 200224
    assert entry(spec, "moe").layer_specs.router_score_correction_bias


def test_gguf_gpt_oss(tmp_path: Path) -> None:
    keys = {
        **LLAMA_KEYS,
        "attention.key_length": D,
        "expert_count": 4,
        "expert_used_count": 2,
        "expert_feed_forward_length": 32,
        "attention.sliding_window": 8,
    }
    tensors = {
        "token_embd.weight": (100, H),
        "output.weight": (100, H),
        "blk.0.attn_q.bias": (N * D,),
        "blk.0.attn_sinks.weight": (N,),
    }
    spec = import_model(
        str(write_gguf(tmp_path / "oss.gguf", "gpt-oss", keys, tensors)), hf_id="a/b"
    )
    config = base(
        "gpt_oss", head_dim=D, num_local_experts=4, intermediate_size=32, sliding_window=8
    )
    assert spec.total_params == imp(config).total_params
    assert entry(spec, "sliding_attention").layer_specs.layer_idx == 0


def test_catalog_config_deepcopy_is_unchanged() -> None:
    """Importing never mutates the caller's dict."""
    config = qwen3_moe()
    before = copy.deepcopy(config)
    imp(config)
    assert config == before

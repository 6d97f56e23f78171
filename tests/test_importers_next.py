"""Importers of the 2025–26 families on synthetic configs, with counts derived by hand.

Every expected figure is written out from the architecture (projections, norms, experts,
Gated DeltaNet / Mamba-2 parts), not computed by the code under test. The property tests vary
the sizes and layouts a family's siblings use, so the importers are exact beyond the fixtures.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED
from infercast.errors import InvalidInputError
from infercast.importers import spec_from_hf_config
from infercast.specs import ModelSpec

NEXT = SHARED / "hf-configs-next"
H = 64


def imp(config: dict[str, Any]) -> ModelSpec:
    return spec_from_hf_config(config, "test/model", source="config.json")


def gqa(h: int, n: int, kv: int, d: int, *, gate: bool = False, norm: int = 0) -> int:
    """q (+ gate), k, v, o and the QK-norm weights."""
    return h * n * d * (2 if gate else 1) + 2 * h * kv * d + n * d * h + norm


def delta_net(h: int, nk: int, nv: int, dk: int, dv: int, kernel: int) -> int:
    kd, vd = nk * dk, nv * dv
    return h * (2 * kd + 2 * vd + 2 * nv) + (2 * kd + vd) * kernel + 2 * nv + dv + vd * h


def mamba(h: int, heads: int, hd: int, state: int, groups: int, kernel: int) -> int:
    inner = heads * hd
    conv = inner + 2 * groups * state
    return h * (inner + conv + heads) + conv * kernel + conv + 3 * heads + inner + inner * h


# ---- Qwen3-Next / Qwen3.5 -----------------------------------------------------------------------


def qwen3_next(layers: int = 4, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "model_type": "qwen3_next",
        "hidden_size": H,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 96,
        "vocab_size": 100,
        "full_attention_interval": 2,
        "linear_num_key_heads": 2,
        "linear_num_value_heads": 4,
        "linear_key_head_dim": 8,
        "linear_value_head_dim": 16,
        "linear_conv_kernel_dim": 4,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "moe_intermediate_size": 32,
        "shared_expert_intermediate_size": 48,
    }
    config.update(extra)
    return config


def test_qwen3_next_hybrid_layout_and_counts() -> None:
    spec = imp(qwen3_next())
    attention = gqa(H, 4, 2, 16, gate=True, norm=2 * 16)
    linear = delta_net(H, 2, 4, 8, 16, 4)
    # 4 experts × 3·64·32, one shared expert 3·64·48 behind a gate Linear(64, 1), router 64·4.
    moe = 4 * 3 * H * 32 + 3 * H * 48 + H + H * 4
    total = 2 * attention + 2 * linear + 4 * (moe + 2 * H) + H + 2 * 100 * H
    assert spec.total_params == total
    assert spec.active_params == total - 4 * 2 * 3 * H * 32
    census = spec.layer_census()
    assert (census.softmax_attention, census.linear_or_ssm) == (2, 2)
    assert spec.kv_cache_bytes_per_token("bf16") == 2 * (2 * 2 * 16) * 2
    # State per sequence: 4 value heads × 8 × 16 + 3 conv inputs × (2·16 + 64) channels, ×2.
    assert spec.state_bytes_per_sequence("bf16") == 2 * 2 * (4 * 8 * 16 + 3 * 96)


def test_qwen3_5_dense_uses_layer_types_and_dense_mlps() -> None:
    kinds = ["linear_attention", "full_attention", "linear_attention", "linear_attention"]
    config = qwen3_next(model_type="qwen3_5_text", layer_types=kinds, attn_output_gate=False)
    for key in ("num_experts", "num_experts_per_tok", "moe_intermediate_size"):
        del config[key]
    spec = imp(config)
    attention = gqa(H, 4, 2, 16, norm=2 * 16)  # no output gate
    total = attention + 3 * delta_net(H, 2, 4, 8, 16, 4) + 4 * (3 * H * 96 + 2 * H)
    assert spec.total_params == total + H + 2 * 100 * H
    assert not spec.is_moe


def test_qwen3_5_moe_wrapper_imports_its_text_config() -> None:
    text = qwen3_next(model_type="qwen3_5_moe_text")
    spec = imp({"model_type": "qwen3_5_moe", "text_config": text, "vision_config": {}})
    assert spec.total_params == imp(qwen3_next()).total_params
    assert "vision tower" in (spec.validation_notes or "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layers=st.integers(1, 8),
    interval=st.integers(1, 4),
    nk=st.sampled_from([1, 2, 4]),
    ratio=st.sampled_from([1, 2, 4]),
    dk=st.sampled_from([4, 8, 16]),
    dv=st.sampled_from([4, 8, 16]),
    kernel=st.integers(2, 6),
    experts=st.integers(1, 8),
    shared=st.integers(0, 40),
    dense_first=st.booleans(),
)
def test_qwen3_next_total_matches_closed_form(
    layers: int,
    interval: int,
    nk: int,
    ratio: int,
    dk: int,
    dv: int,
    kernel: int,
    experts: int,
    shared: int,
    dense_first: bool,
) -> None:
    nv = nk * ratio
    top_k = max(1, experts // 2)
    config = qwen3_next(
        layers,
        full_attention_interval=interval,
        linear_num_key_heads=nk,
        linear_num_value_heads=nv,
        linear_key_head_dim=dk,
        linear_value_head_dim=dv,
        linear_conv_kernel_dim=kernel,
        num_experts=experts,
        num_experts_per_tok=top_k,
        shared_expert_intermediate_size=shared,
        mlp_only_layers=[0] if dense_first else [],
    )
    full = sum(1 for i in range(layers) if (i + 1) % interval == 0)
    attention = gqa(H, 4, 2, 16, gate=True, norm=32)
    moe = experts * 3 * H * 32 + H * experts + (3 * H * shared + H if shared else 0)
    dense = 3 * H * 96
    ffn = (dense if dense_first else moe) + (layers - 1) * moe
    expected = (
        full * attention
        + (layers - full) * delta_net(H, nk, nv, dk, dv, kernel)
        + ffn
        + layers * 2 * H
        + H
        + 2 * 100 * H
    )
    assert imp(config).total_params == expected


# ---- Nemotron-H ----------------------------------------------------------------------------------


def nemotron(pattern: str, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "model_type": "nemotron_h",
        "hidden_size": H,
        "num_hidden_layers": len(pattern),
        "hybrid_override_pattern": pattern,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 80,
        "vocab_size": 100,
        "mamba_num_heads": 4,
        "mamba_head_dim": 16,
        "ssm_state_size": 8,
        "n_groups": 2,
        "conv_kernel": 4,
        "n_routed_experts": 4,
        "num_experts_per_tok": 2,
        "moe_intermediate_size": 24,
        "n_shared_experts": 1,
        "moe_shared_expert_intermediate_size": 40,
    }
    config.update(extra)
    return config


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=st.text(alphabet="M*-E", min_size=1, max_size=12))
def test_nemotron_h_total_matches_closed_form(pattern: str) -> None:
    counts = {k: pattern.count(k) for k in "M*-E"}
    # A spec needs a token mixer, and an FFN unless it has SSM mixers (Mamba-only models).
    if not counts["M"] + counts["*"] or not (counts["M"] or counts["-"] + counts["E"]):
        with pytest.raises(InvalidInputError):
            imp(nemotron(pattern))
        return
    spec = imp(nemotron(pattern))
    # 2-projection (squared-ReLU) MLP and experts; one norm per block and a final one.
    moe = 4 * 2 * H * 24 + 2 * H * 40 + H * 4
    expected = (
        counts["M"] * mamba(H, 4, 16, 8, 2, 4)
        + counts["*"] * gqa(H, 4, 2, 16)
        + counts["-"] * 2 * H * 80
        + counts["E"] * moe
        + len(pattern) * H
        + H
        + 2 * 100 * H
    )
    assert spec.total_params == expected
    assert spec.layer_census().linear_or_ssm == counts["M"]
    assert spec.kv_cache_bytes_per_token("bf16") == counts["*"] * 2 * 2 * 16 * 2


def test_nemotron_h_rejects_an_unknown_block_kind() -> None:
    with pytest.raises(InvalidInputError, match=r"'hybrid_override_pattern'.*'X'"):
        imp(nemotron("M*X"))
    with pytest.raises(InvalidInputError, match="has 2 blocks but num_hidden_layers is 3"):
        imp(nemotron("M*", num_hidden_layers=3))


# ---- Llama 4 -------------------------------------------------------------------------------------


def llama4_text(layers: int = 8, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "model_type": "llama4_text",
        "hidden_size": H,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 32,
        "intermediate_size_mlp": 96,
        "vocab_size": 100,
        "num_local_experts": 4,
        "num_experts_per_tok": 1,
        "interleave_moe_layer_step": 2,
        "attention_chunk_size": 16,
    }
    config.update(extra)
    return config


def test_llama4_chunked_nope_layers_and_interleaved_moe() -> None:
    spec = imp(llama4_text())
    # Every 4th layer (3, 7) is NoPE and global; the other 6 attend within 16-token chunks.
    census = spec.layer_census()
    assert (census.softmax_attention, census.windowed_or_chunked) == (8, 6)
    # MoE at layers 1, 3, 5, 7: 4 experts × 3·64·32 + a shared expert of 32 + router 64·4.
    moe = 4 * 3 * H * 32 + 3 * H * 32 + H * 4
    dense = 3 * H * 96
    total = 8 * (gqa(H, 4, 2, 16) + 2 * H) + 4 * moe + 4 * dense + H + 2 * 100 * H
    assert spec.total_params == total
    assert spec.active_params == total - 4 * 3 * 3 * H * 32


def test_llama4_wrapper_fills_documented_defaults_and_says_so() -> None:
    text = llama4_text()
    del text["vocab_size"]
    spec = imp({"model_type": "llama4", "text_config": text})
    assert spec.vocab_size == 202_048  # Llama4TextConfig's default
    notes = spec.validation_notes or ""
    assert "Llama4TextConfig defaults" in notes and "vocab_size=202048" in notes


# ---- sparse attention, MoE routing and per-part formats -----------------------------------------


def test_deepseek_v32_counts_the_indexer_and_caches_its_key() -> None:
    config = {
        "model_type": "deepseek_v32",
        "hidden_size": H,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "vocab_size": 100,
        "q_lora_rank": 32,
        "kv_lora_rank": 16,
        "qk_nope_head_dim": 8,
        "qk_rope_head_dim": 4,
        "v_head_dim": 8,
        "intermediate_size": 96,
        "moe_intermediate_size": 24,
        "n_routed_experts": 4,
        "num_experts_per_tok": 2,
        "n_shared_experts": 1,
        "first_k_dense_replace": 1,
        "index_n_heads": 2,
        "index_head_dim": 8,
        "index_topk": 64,
    }
    spec = imp(config)
    mla = H * 32 + 32 + 32 * 4 * 12 + H * 20 + 16 + 16 * 4 * 16 + 4 * 8 * H
    indexer = 32 * 16 + H * 8 + 16 + H * 2
    moe = 4 * 3 * H * 24 + 3 * H * 24 + H * 4
    total = 2 * (mla + indexer + 2 * H) + 3 * H * 96 + moe + H + 2 * 100 * H
    assert spec.total_params == total
    assert spec.kv_cache_bytes_per_token("bf16") == 2 * (16 + 4 + 8) * 2
    missing = {k: v for k, v in config.items() if k != "index_topk"}
    with pytest.raises(InvalidInputError, match=r"'index_topk'.*required but missing"):
        imp(missing)


def test_glm4_moe_sigmoid_router_shared_expert_and_dense_first_layers() -> None:
    config = {
        "model_type": "glm4_moe",
        "hidden_size": H,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 96,
        "vocab_size": 100,
        "attention_bias": True,
        "use_qk_norm": True,
        "n_routed_experts": 4,
        "num_experts_per_tok": 2,
        "n_shared_experts": 1,
        "moe_intermediate_size": 24,
        "first_k_dense_replace": 1,
    }
    spec = imp(config)
    # q/k/v biases (4·16 + 2·2·16), no o bias; per-head QK-norm 2·16.
    attention = gqa(H, 4, 2, 16, norm=32) + 64 + 64
    moe = 4 * 3 * H * 24 + 3 * H * 24 + H * 4
    total = 3 * (attention + 2 * H) + 3 * H * 96 + 2 * moe + H + 2 * 100 * H
    assert spec.total_params == total
    assert {lt.layer_specs.router_scoring for lt in spec.layers_of("MoELayer")} == {"sigmoid"}


def test_minimax_projection_qk_norm_and_mimo_value_dims() -> None:
    minimax = {
        "model_type": "minimax_m2",
        "hidden_size": H,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 24,
        "vocab_size": 100,
        "num_local_experts": 4,
        "num_experts_per_tok": 2,
        "qk_norm_type": "per_layer",
    }
    attention = gqa(H, 4, 2, 16, norm=4 * 16 + 2 * 16)  # norms over the q and k projections
    moe = 4 * 3 * H * 24 + H * 4
    assert imp(minimax).total_params == attention + moe + 2 * H + H + 2 * 100 * H
    mimo = {
        "model_type": "mimo_v2_flash",
        "hidden_size": H,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 24,
        "v_head_dim": 16,
        "swa_num_key_value_heads": 4,
        "intermediate_size": 96,
        "vocab_size": 100,
        "hybrid_layer_pattern": [0, 1],
        "sliding_window": 8,
        "add_swa_attention_sink_bias": True,
        "moe_layer_freq": [0, 1],
        "n_routed_experts": 4,
        "num_experts_per_tok": 2,
        "moe_intermediate_size": 24,
    }
    spec = imp(mimo)
    full = H * 4 * 24 + H * 2 * 24 + H * 2 * 16 + 4 * 16 * H
    swa = H * 4 * 24 + H * 4 * 24 + H * 4 * 16 + 4 * 16 * H + 4  # + one sink per head
    moe = 4 * 3 * H * 24 + H * 4
    assert spec.total_params == full + swa + 3 * H * 96 + moe + 4 * H + H + 2 * 100 * H
    assert spec.kv_cache_bytes_per_token("bf16") == (2 * 40 + 4 * 40) * 2


def test_olmo2_exaone4_seed_oss_ministral3() -> None:
    dense = {
        "hidden_size": H,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 96,
        "vocab_size": 100,
    }
    block = gqa(H, 4, 2, 16) + 3 * H * 96 + 2 * H
    edges = H + 2 * 100 * H
    olmo = imp({**dense, "model_type": "olmo2"})
    assert olmo.total_params == 4 * (block + 4 * 16 + 2 * 16) + edges  # projection QK-norm
    exaone = imp({**dense, "model_type": "exaone4", "sliding_window": 8})
    assert exaone.total_params == 4 * (block + 2 * 16) + edges
    assert exaone.layer_census().windowed_or_chunked == 3  # "LLLG"
    seed = imp({**dense, "model_type": "seed_oss"})
    assert seed.total_params == 4 * (block + 4 * 16 + 2 * 2 * 16) + edges  # q, k, v biases
    ministral = imp({**dense, "model_type": "ministral3"})
    assert ministral.total_params == 4 * block + edges


@pytest.mark.skipif(not NEXT.exists(), reason="../shared/hf-configs-next is not beside")
def test_kimi_k25_routed_experts_int4_shared_experts_bf16() -> None:
    config = json.loads((NEXT / "moonshotai_Kimi-K2.5.json").read_text())
    spec = spec_from_hf_config(config, "moonshotai/Kimi-K2.5")
    (moe,) = spec.layers_of("MoELayer")
    assert moe.layer_specs.weight_dtype == "int4"
    assert moe.layer_specs.shared_expert_weight_dtype == "bf16"
    (attention,) = spec.layers_of("MultiHeadLatentAttentionLayer")
    assert attention.layer_specs.weight_dtype == "bf16"  # "re:.*self_attn.*" is ignored
    (dense,) = spec.layers_of("GatedMLPLayer")
    assert dense.layer_specs.weight_dtype == "bf16"


@pytest.mark.skipif(not NEXT.exists(), reason="../shared/hf-configs-next is not beside")
def test_gemma3_wrapper_names_the_defaults_it_filled() -> None:
    config = json.loads((NEXT / "google_gemma-3-27b-it.json").read_text())
    notes = spec_from_hf_config(config, "google/gemma-3-27b-it").validation_notes or ""
    assert "Gemma3TextConfig defaults" in notes and "vocab_size=262208" in notes
    assert "vision tower (vision_config)" in notes and "not counted" in notes


def test_unknown_model_type_lists_new_and_wrapper_types() -> None:
    with pytest.raises(InvalidInputError) as err:
        imp({"model_type": "qwen9_next"})
    message = str(err.value)
    for name in ("qwen3_next", "nemotron_h", "llama4", "gemma3", "kimi_k25", "deepseek_v32"):
        assert name in message


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({**qwen3_next(), "linear_num_key_heads": None}, "linear_num_key_heads"),
        ({**nemotron("M*E"), "ssm_state_size": None}, "ssm_state_size"),
        ({**llama4_text(), "num_local_experts": None}, "num_local_experts"),
    ],
)
def test_a_missing_needed_field_is_named(config: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError, match=f"'{field}'"):
        imp(config)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
_BASES = {
    "qwen3_next": qwen3_next(),
    "nemotron_h": nemotron("M*E-"),
    "llama4_text": llama4_text(),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(sorted(_BASES)),
    junk=st.dictionaries(
        st.sampled_from(
            [
                "hybrid_override_pattern",
                "layer_types",
                "linear_num_value_heads",
                "full_attention_interval",
                "no_rope_layers",
                "moe_layers",
                "n_groups",
                "attention_chunk_size",
                "mlp_only_layers",
                "text_config",
            ]
        ),
        _JSON,
        max_size=4,
    ),
)
def test_junk_fields_raise_only_invalid_input(family: str, junk: dict[str, Any]) -> None:
    try:
        spec = imp({**_BASES[family], **junk})
    except InvalidInputError:
        return
    assert spec.total_params > 0


# ---- DeciLM / Nemotron-NAS -----------------------------------------------------------------------


def decilm(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "model_type": "nemotron-nas",
        "hidden_size": 512,
        "num_hidden_layers": len(blocks),
        "num_attention_heads": 8,
        "vocab_size": 100,
        "block_configs": blocks,
    }


NAS_BLOCKS: list[dict[str, Any]] = [
    {"attention": {"n_heads_in_group": 4}, "ffn": {"ffn_mult": 2.0}},
    {"attention": {"no_op": True}, "ffn": {"ffn_mult": 1.5}},
    {"attention": {"replace_with_linear": True}, "ffn": {"no_op": True}},
    {"attention": {"n_heads_in_group": 8}, "ffn": {"replace_with_linear": True}},
]


def test_decilm_per_block_shapes_and_census() -> None:
    spec = imp(decilm(NAS_BLOCKS))
    h, d = 512, 64
    attention_kv2 = h * 8 * d * 2 + 2 * h * 2 * d  # q, o + k, v of 2 KV heads
    attention_kv1 = h * 8 * d * 2 + 2 * h * 1 * d
    # ffn_mult 2.0: int(2·2·512/3) = 682 → 768; 1.5: 512 (already a multiple of 256).
    mlps = 3 * h * 768 + 3 * h * 512
    linears = 2 * h * h  # one replacing an attention, one an FFN
    norms = (2 + 1 + 1 + 2 + 1) * h  # one per present attention / FFN, plus the final one
    assert spec.total_params == attention_kv2 + attention_kv1 + mlps + linears + norms + 2 * 100 * h
    assert spec.layer_census().softmax_attention == 2
    indices = {lt.name: lt.layer_specs.layer_indices for lt in spec.layer_types}
    assert indices["linear_attention"] == (2,) and indices["linear_ffn"] == (3,)


def test_decilm_bad_block_configs_are_named() -> None:
    with pytest.raises(InvalidInputError, match=r"block_configs\[0\].attention.n_heads_in_group"):
        imp(decilm([{"attention": {"n_heads_in_group": 3}, "ffn": {"ffn_mult": 1.0}}]))
    with pytest.raises(InvalidInputError, match="needs one entry per layer"):
        imp({**decilm(NAS_BLOCKS), "num_hidden_layers": 3})


def test_pipeline_stages_keep_the_hybrid_interleaving() -> None:
    # Blocks 0-3 are Mamba-2, 4-7 attention: with pp = 2 the first stage holds the four mixers
    # and the second the four attention layers, not two of each (ceil(count / pp)).
    from infercast.estimation.estimate import prepare
    from infercast.estimation.memory import plan_memory

    spec = imp(nemotron("MMMM****"))
    timer = prepare(spec, "h100", pp=2).timer
    memory = plan_memory(timer, 1000, 128.0, 1.0)
    block = max(4 * mamba(H, 4, 16, 8, 2, 4), 4 * gqa(H, 4, 2, 16))
    norms = 5 * H  # 9 norms (8 blocks + final), ceil(9 / 2) per stage
    assert memory.weights_bytes == 2 * (block + norms + 100 * H)  # + the larger edge (bf16)
    # KV: the four attention layers (2 KV heads × 16 × K and V) all sit on the second stage.
    assert memory.kv_bytes_per_sequence == 4 * 2 * 2 * 16 * 2 * 1000
    assert memory.state_bytes_per_sequence == 4 * (4 * 16 * 8 + 3 * 96) * 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layers=st.integers(1, 12),
    step=st.integers(1, 4),
    interval=st.integers(1, 5),
    experts=st.integers(1, 8),
    chunked=st.booleans(),
)
def test_llama4_total_and_census_match_closed_form(
    layers: int, step: int, interval: int, experts: int, chunked: bool
) -> None:
    config = llama4_text(
        layers,
        interleave_moe_layer_step=step,
        no_rope_layer_interval=interval,
        num_local_experts=experts,
        attention_chunk_size=16 if chunked else None,
    )
    spec = imp(config)
    sparse = sum(1 for i in range(layers) if (i + 1) % step == 0)
    moe = experts * 3 * H * 32 + 3 * H * 32 + H * experts
    expected = (
        layers * (gqa(H, 4, 2, 16) + 2 * H)
        + sparse * moe
        + (layers - sparse) * 3 * H * 96
        + H
        + 2 * 100 * H
    )
    assert spec.total_params == expected
    rope = sum(1 for i in range(layers) if (i + 1) % interval)
    assert spec.layer_census().windowed_or_chunked == (rope if chunked else 0)


@pytest.mark.skipif(not NEXT.exists(), reason="../shared/hf-configs-next is not beside")
def test_wrapper_notes_reach_the_cli_and_the_api(api_client: Any) -> None:
    from typer.testing import CliRunner

    from infercast.interfaces.cli.app import app

    path = NEXT / "google_gemma-3-27b-it.json"
    result = CliRunner().invoke(app, ["import", str(path), "--figures"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Gemma3TextConfig defaults" in result.stderr and "not counted" in result.stderr
    files = {"file": ("config.json", path.read_bytes(), "application/json")}
    # (under another id: an import may not shadow the built-in google/gemma-3-27b-it)
    body = api_client.post("/import", files=files, data={"hf_model_id": "acme/gemma-3-27b-copy"})
    assert body.status_code == 200
    warnings = " ".join(body.json()["warnings"])
    assert "vocab_size=262208" in warnings and "vision tower" in warnings


def test_ssm_cache_format_is_read_and_checked() -> None:
    spec = imp(nemotron("M*E", mamba_ssm_cache_dtype="float32"))
    (mamba_entry,) = spec.layers_of("Mamba2Layer")
    assert mamba_entry.layer_specs.state_dtype == "fp32"
    with pytest.raises(InvalidInputError, match="'mamba_ssm_cache_dtype'"):
        imp(nemotron("M*E", mamba_ssm_cache_dtype="float3"))


@pytest.mark.skipif(not NEXT.exists(), reason="../shared/hf-configs-next is not beside")
def test_deepseek_v32_relabelled_as_v3_is_refused_not_miscounted() -> None:
    config = json.loads((NEXT / "deepseek-ai_DeepSeek-V3.2.json").read_text())
    with pytest.raises(InvalidInputError, match=r"'index_topk'.*deepseek_v32"):
        imp({**config, "model_type": "deepseek_v3"})


def test_qwen3_next_relabelled_as_qwen3_moe_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"'linear_num_value_heads'.*qwen3_next"):
        imp({**qwen3_next(), "model_type": "qwen3_moe"})

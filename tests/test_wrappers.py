"""The multimodal wrappers ``mistral3`` and ``qwen3_5`` import their text model, counted by hand.

Every expected figure is written out from the text model's modules (transformers'
``modeling_mistral`` / ``modeling_qwen3_5``), not computed by the code under test. A field the
arithmetic needs and the text_config lacks takes transformers' documented default, named in
``validation_notes`` (Mistral: ``MistralConfig``), or fails naming the field where infercast has
no table of defaults for the text model (``qwen3_5_text``).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infercast.errors import InvalidInputError
from infercast.importers import spec_from_hf_config
from infercast.specs import ModelSpec

VISION = {"model_type": "pixtral", "hidden_size": 1024, "num_hidden_layers": 24}
"""A vision tower: out of scope, never counted (its sizes must not show up anywhere)."""


def imp(config: dict[str, Any]) -> ModelSpec:
    return spec_from_hf_config(config, "test/wrapped", source="config.json")


# ---- mistral3 (Mistral-Small-3.1, Pixtral-style wrappers) ---------------------------------------


def mistral_text(**extra: Any) -> dict[str, Any]:
    """A 2-layer Mistral with head_dim 24 ≠ hidden/heads, as Mistral-Small's 128 ≠ 5120/32."""
    text: dict[str, Any] = {
        "model_type": "mistral",
        "hidden_size": 64,
        "intermediate_size": 96,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 24,
        "vocab_size": 100,
        "sliding_window": None,
        "tie_word_embeddings": False,
    }
    text.update(extra)
    return text


# One block: q 64·(4·24) + k, v 64·(2·24) each + o (4·24)·64, gated MLP 3·64·96, two RMSNorms.
MISTRAL_BLOCK = 64 * 96 + 2 * 64 * 48 + 96 * 64 + 3 * 64 * 96 + 2 * 64
assert MISTRAL_BLOCK == 36_992


def test_mistral3_counts_the_text_model_only() -> None:
    spec = imp({"model_type": "mistral3", "text_config": mistral_text(), "vision_config": VISION})
    total = 2 * MISTRAL_BLOCK + 64 + 2 * 100 * 64  # final norm, embedding, untied LM head
    assert spec.total_params == total == 86_848
    assert spec.active_params == total
    assert spec.kv_cache_bytes_per_token("bf16") == 2 * 2 * 2 * 24 * 2  # layers·(K,V)·kv·dim·2B
    assert spec.state_bytes_per_sequence("bf16") == 0
    assert (spec.hidden_size, spec.num_layers, spec.vocab_size) == (64, 2, 100)
    notes = spec.validation_notes or ""
    assert "'mistral3'" in notes and "vision tower (vision_config)" in notes
    assert "not counted" in notes and "defaults" not in notes  # nothing was filled in


def test_mistral3_text_type_defaults_to_mistral_and_inherits_the_wrapper_tie() -> None:
    text = mistral_text()
    del text["model_type"], text["tie_word_embeddings"]
    spec = imp({"model_type": "mistral3", "text_config": text, "tie_word_embeddings": True})
    assert spec.total_params == 2 * MISTRAL_BLOCK + 64 + 100 * 64  # the head shares the embedding
    assert "'mistral' text model" in (spec.validation_notes or "")


def test_mistral3_missing_vocab_takes_mistralconfig_default_and_says_so() -> None:
    text = mistral_text()
    del text["vocab_size"]
    spec = imp({"model_type": "mistral3", "text_config": text})
    assert spec.vocab_size == 32_000  # MistralConfig(vocab_size=32000)
    assert spec.total_params == 2 * MISTRAL_BLOCK + 64 + 2 * 32_000 * 64 == 4_170_048
    notes = spec.validation_notes or ""
    assert "1 field(s) to transformers' MistralConfig defaults" in notes
    assert "vocab_size=32000" in notes


def test_mistral3_published_24b_text_config() -> None:
    """Mistral-Small-3.1-24B's text_config (its published sizes): 23,572,403,200 parameters."""
    text = mistral_text(
        hidden_size=5120,
        intermediate_size=32768,
        num_hidden_layers=40,
        num_attention_heads=32,
        num_key_value_heads=8,
        head_dim=128,
        vocab_size=131072,
    )
    spec = imp({"model_type": "mistral3", "text_config": text, "vision_config": VISION})
    attention = 5120 * 4096 + 2 * 5120 * 1024 + 4096 * 5120
    block = attention + 3 * 5120 * 32768 + 2 * 5120
    assert spec.total_params == 40 * block + 5120 + 2 * 131072 * 5120 == 23_572_403_200
    assert spec.kv_cache_bytes_per_token("bf16") == 40 * 2 * 8 * 128 * 2 == 163_840


@settings(max_examples=30, deadline=None)
@given(
    layers=st.integers(1, 6),
    kv=st.sampled_from([1, 2, 4]),
    head_dim=st.sampled_from([8, 16, 24]),
    ffn=st.integers(1, 200),
    tied=st.booleans(),
)
def test_mistral3_total_matches_closed_form(
    layers: int, kv: int, head_dim: int, ffn: int, tied: bool
) -> None:
    text = mistral_text(
        num_hidden_layers=layers,
        num_key_value_heads=kv,
        head_dim=head_dim,
        intermediate_size=ffn,
        tie_word_embeddings=tied,
    )
    spec = imp({"model_type": "mistral3", "text_config": text})
    q = 4 * head_dim
    block = 64 * q + 2 * 64 * kv * head_dim + q * 64 + 3 * 64 * ffn + 2 * 64
    assert spec.total_params == layers * block + 64 + (1 if tied else 2) * 100 * 64
    assert spec.kv_cache_bytes_per_token("bf16") == layers * 2 * kv * head_dim * 2


# ---- qwen3_5 (dense Qwen3.5: Gated DeltaNet + gated attention) ----------------------------------


def qwen3_5_text(**extra: Any) -> dict[str, Any]:
    """4 layers, no ``layer_types``: every 4th layer (index 3) is full attention by default."""
    text: dict[str, Any] = {
        "hidden_size": 64,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 96,
        "vocab_size": 100,
        "linear_num_key_heads": 2,
        "linear_num_value_heads": 4,
        "linear_key_head_dim": 8,
        "linear_value_head_dim": 16,
        "linear_conv_kernel_dim": 4,
    }
    text.update(extra)
    return text


# Gated attention: q_proj emits q and its gate (64·2·64), k, v 64·32 each, o 64·64, QK-norms 2·16.
QWEN_ATTENTION = 64 * 128 + 2 * 64 * 32 + 64 * 64 + 2 * 16
# Gated DeltaNet: in_proj_qkv 64·(2·16 + 64), in_proj_z 64·64, in_proj_b/a 64·4 each,
# depthwise conv 96·4 (no bias), dt_bias 4, A_log 4, gated RMSNorm 16, out_proj 64·64.
QWEN_DELTANET = 64 * 96 + 64 * 64 + 2 * 64 * 4 + 96 * 4 + 4 + 4 + 16 + 64 * 64
QWEN_FFN_AND_NORMS = 3 * 64 * 96 + 2 * 64


def test_qwen3_5_wrapper_counts_the_text_model_only() -> None:
    spec = imp({"model_type": "qwen3_5", "text_config": qwen3_5_text(), "vision_config": VISION})
    assert (QWEN_ATTENTION, QWEN_DELTANET) == (16_416, 15_256)
    total = QWEN_ATTENTION + 3 * QWEN_DELTANET + 4 * QWEN_FFN_AND_NORMS + 64 + 2 * 100 * 64
    assert spec.total_params == total == 149_288
    assert spec.active_params == total and not spec.is_moe
    census = spec.layer_census()
    assert (census.softmax_attention, census.linear_or_ssm, census.ffn) == (1, 3, 4)
    assert spec.kv_cache_bytes_per_token("bf16") == 1 * 2 * 2 * 16 * 2  # one full-attention layer
    # Per DeltaNet layer: recurrent state 4 heads·8·16 + conv state 96 channels·(4−1) taps.
    assert spec.state_bytes_per_sequence("bf16") == 3 * (4 * 8 * 16 + 96 * 3) * 2 == 4_800
    notes = spec.validation_notes or ""
    assert "'qwen3_5_text' text model" in notes and "vision tower (vision_config)" in notes


@pytest.mark.parametrize(
    "field", ["vocab_size", "linear_num_value_heads", "linear_key_head_dim", "num_hidden_layers"]
)
def test_qwen3_5_missing_field_fails_naming_it(field: str) -> None:
    text = qwen3_5_text()
    del text[field]
    with pytest.raises(InvalidInputError, match=f"'{field}'") as err:
        imp({"model_type": "qwen3_5", "text_config": text})
    assert "config.json" in str(err.value)


def test_qwen3_5_without_text_config_fails_naming_a_field() -> None:
    with pytest.raises(InvalidInputError, match=r"'num_hidden_layers' \(qwen3_5_text\)") as err:
        imp({"model_type": "qwen3_5", "vision_config": VISION})
    assert "config.json" in str(err.value)


def test_qwen3_5_text_config_must_be_an_object() -> None:
    with pytest.raises(InvalidInputError, match="'text_config'"):
        imp({"model_type": "qwen3_5", "text_config": [1, 2]})

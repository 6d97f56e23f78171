"""Families register with ``@family``; the importers dispatch only through the registry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from infercast.importers.configs import FAMILIES, GGUF_ARCHITECTURES, GGUFKey, family
from infercast.importers.hf_config import family_config


def test_registered_families() -> None:
    assert sorted(FAMILIES) == [
        "bert",
        "deepseek_v2",
        "deepseek_v3",
        "deepseek_v32",
        "exaone4",
        "gemma",
        "gemma2",
        "gemma3_text",
        "glm4_moe",
        "glm4_moe_lite",
        "glm_moe_dsa",
        "gpt_oss",
        "kimi_k2",
        "llama",
        "llama4_text",
        "mimo_v2_flash",
        "minimax_m2",
        "ministral3",
        "mistral",
        "mixtral",
        "nemotron-nas",
        "nemotron_h",
        "olmo2",
        "olmo3",
        "phi3",
        "qwen2",
        "qwen2_moe",
        "qwen3",
        "qwen3_5_moe_text",
        "qwen3_5_text",
        "qwen3_moe",
        "qwen3_next",
        "seed_oss",
    ]
    assert {name: arch.model_type for name, arch in GGUF_ARCHITECTURES.items()} == {
        "deepseek2": "deepseek_v3",
        "gpt-oss": "gpt_oss",
        "llama": "llama",
        "qwen2": "qwen2",
        "qwen3": "qwen3",
        "qwen3moe": "qwen3_moe",
    }
    qwen3moe = GGUF_ARCHITECTURES["qwen3moe"]
    assert GGUFKey("num_experts", "expert_count", required=True) in qwen3moe.keys


@pytest.fixture
def trial_family() -> Iterator[type]:
    @family("trial_type", gguf="trialarch", gguf_keys=(GGUFKey("intermediate_size", "ffn"),))
    @dataclass(frozen=True)
    class TrialConfig:
        model_type = "trial_type"

        @classmethod
        def from_hf(cls, reader: Any) -> TrialConfig:
            return cls()

    yield TrialConfig
    del FAMILIES["trial_type"]
    del GGUF_ARCHITECTURES["trialarch"]


def test_a_decorated_class_is_dispatched_to(trial_family: type) -> None:
    config = family_config({"model_type": "trial_type"})
    assert isinstance(config, trial_family)
    assert GGUF_ARCHITECTURES["trialarch"].model_type == "trial_type"


def test_a_model_type_registers_once(trial_family: type) -> None:
    with pytest.raises(ValueError, match="'trial_type' is registered twice"):
        family("trial_type")(trial_family)

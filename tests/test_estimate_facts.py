"""Known facts about real deployments, and the errors bad input gets, via ``infercast.estimate``.

Weight figures are derived here from the published architectures (parameter counts, formats,
how TP/EP lay the weights out); memory is in decimal units (1 GB = 10⁹ bytes).
"""

from __future__ import annotations

from typing import Any

import pytest

import infercast
from infercast.errors import InfercastError, InvalidInputError, UnknownIdError
from infercast.estimation.result import EstimateResult
from infercast.parallel import PlanError
from infercast.specs.schema import ModelSpec

GB = 1e9
BF16 = 2.0  # bytes per element
FP8 = (8 + 32 / (128 * 128)) / 8  # one fp32 scale per 128×128 block
MXFP4 = (4 + 8 / 32) / 8  # one E8M0 scale per 32 elements: 4.25 bits

LLAMA_70B = "meta-llama/Llama-3.3-70B-Instruct"
LLAMA_70B_PARAMS = 70_553_706_496
LLAMA_70B_NORMS = 161 * 8192  # 2 per block × 80 + final norm, replicated on every GPU


def run(model: str | ModelSpec, hardware: str, **kwargs: Any) -> EstimateResult:
    load: dict[str, Any] = {"isl": 1024, "osl": 1024, "concurrency": 32}
    load.update(kwargs)
    return infercast.estimate(model, hardware, **load)


# --------------------------------------------------------------------------- Llama 3.3 70B


def test_llama_70b_bf16_does_not_fit_one_h100() -> None:
    r = run(LLAMA_70B, "h100", concurrency=1)
    # 70.55 B parameters × 2 bytes = 141.1 GB > 80 GB.
    assert r.memory.weights_bytes == pytest.approx(LLAMA_70B_PARAMS * BF16)
    assert r.memory.weights_bytes / GB == pytest.approx(141.107, abs=1e-3)
    assert r.memory.capacity_bytes == 80e9
    assert r.fits is False
    assert "does not fit" in r.fit_reason
    assert "weights alone (141.1 GB) exceed 80 GB" in r.fit_reason
    assert r.max_concurrency == 0


def test_llama_70b_bf16_on_two_h100_barely_holds_its_weights() -> None:
    r = run(LLAMA_70B, "h100", tp=2, concurrency=1)
    # Everything splits in two except the norms: (141.1 GB − norms)/2 + norms = 70.56 GB.
    expected = (LLAMA_70B_PARAMS - LLAMA_70B_NORMS) * BF16 / 2 + LLAMA_70B_NORMS * BF16
    assert r.memory.weights_bytes == pytest.approx(expected)
    # 80 − 70.56 − 8 (vLLM-style 10 % reserve) leaves ~1 GB: only a handful of 2k-token
    # sequences (80 layers × 2 × 4 KV heads × 128 × 2 B = 164 kB per token per GPU), each
    # holding 1024 + 1024/2 tokens on average (KV paged on demand).
    kv_per_seq = 80 * 2 * 4 * 128 * BF16 * 1536
    assert 1 <= r.max_concurrency < (80e9 - expected - 8e9) / kv_per_seq + 1


def test_llama_70b_bf16_fits_eight_h100_with_tp8() -> None:
    r = run(LLAMA_70B, "h100", tp=8)
    expected = (LLAMA_70B_PARAMS - LLAMA_70B_NORMS) * BF16 / 8 + LLAMA_70B_NORMS * BF16
    assert r.memory.weights_bytes == pytest.approx(expected)  # 17.64 GB
    assert r.fits is True
    assert r.fit_reason.startswith("fits:")
    assert r.plan.gpus == 8
    assert r.plan.kv_heads_replicated is False  # 8 KV heads, one per GPU
    # KV paged on demand (generic engine): each of the 32 sequences holds its mean context
    # over its life, 1024 + 1024/2 = 1536 tokens of 80 layers × 2 × 1 KV head × 128 × 2 B.
    assert r.memory.kv_cache_bytes == pytest.approx(32 * 80 * 2 * 1 * 128 * BF16 * 1536)
    # TensorRT-LLM's capacity scheduler reserves the full 2048 tokens at admission.
    reserved = run(LLAMA_70B, "h100", tp=8, framework="trtllm")
    assert reserved.memory.kv_cache_bytes == pytest.approx(32 * 80 * 2 * 1 * 128 * BF16 * 2048)


def test_fp8_weights_halve_llama_70b() -> None:
    r = run(LLAMA_70B, "h100", tp=2, weight_dtype="fp8", concurrency=1)
    # Blocks in fp8; embeddings, LM head and norms keep bf16.
    edges = 2 * 128256 * 8192  # embedding + untied head
    blocks = LLAMA_70B_PARAMS - edges - LLAMA_70B_NORMS
    expected = blocks * FP8 / 2 + edges * BF16 / 2 + LLAMA_70B_NORMS * BF16
    assert r.memory.weights_bytes == pytest.approx(expected)
    assert r.dtypes.weight_dtype == "fp8"


# ------------------------------------------------------------------------------ gpt-oss-120b


def test_gpt_oss_120b_mxfp4_fits_one_h100() -> None:
    r = run("openai/gpt-oss-120b", "h100", concurrency=8)
    # 36 MoE layers × 128 experts × (3·2880·2880 weights + biases 2·2880 + 2880) in mxfp4;
    # every other parameter (attention, router, embeddings, head, norms) in bf16.
    experts = 36 * 128 * (3 * 2880 * 2880 + 2 * 2880 + 2880)
    rest = 116_829_156_672 - experts
    expected = experts * MXFP4 + rest * BF16  # 60.9 GB + 4.3 GB
    assert r.memory.weights_bytes == pytest.approx(expected)
    assert 65.0 < r.memory.weights_bytes / GB < 65.4
    assert r.fits is True
    assert r.dtypes.moe_dtype == "mxfp4"
    assert any("no fp4 tensor cores" in n for n in r.notes)  # Hopper: weight-only mxfp4


# ---------------------------------------------------------------- Qwen3-235B-A22B and DeepSeek


def test_qwen3_235b_fp8_fits_eight_h200() -> None:
    r = run("Qwen/Qwen3-235B-A22B", "h200", tp=8, weight_dtype="fp8", moe_dtype="fp8")
    h, layers = 4096, 94
    # Attention per GPU: 8 of 64 heads, and one of the 4 KV heads (replicated at tp 8):
    # q 4096×1024 + o 1024×4096 + k, v 2×4096×128 + q/k norms 2×128.
    attention = 2 * h * 8 * 128 + 2 * h * 1 * 128 + 2 * 128
    experts = 128 * 3 * h * 1536 / 8  # every expert sliced 8 ways (moe_tp 8)
    router = h * 128  # replicated, bf16
    norms = 189 * h
    edges = 2 * 151936 * h / 8  # vocab-parallel embedding and head, bf16
    expected = layers * (attention + experts) * FP8 + (layers * router + norms + edges) * BF16
    assert r.memory.weights_bytes == pytest.approx(expected)  # 29.6 GB
    assert r.memory.capacity_bytes == 141e9
    assert r.fits is True
    assert r.plan.kv_heads_replicated is True
    assert any("exceeds the KV heads" in n for n in r.notes)


def test_deepseek_v3_weights_per_gpu_on_eight_h200_with_ep8() -> None:
    r = run("deepseek-ai/DeepSeek-V3", "h200", tp=8, ep=8)
    h = 7168
    # MLA (fp8), 61 layers: down-projections replicated, up-projections split 8 ways.
    down = h * (512 + 64) + h * 1536
    up = 1536 * 128 * (128 + 64) + 512 * 128 * (128 + 128) + 128 * 128 * h
    mla = down + up / 8 + (512 + 1536)  # + the two latent norms
    dense_mlp = 3 * h * 18432 / 8  # 3 dense layers, fp8
    experts = 256 / 8 * 3 * h * 2048  # 32 whole experts per GPU, fp8
    shared = 3 * h * 2048 / 8  # the shared expert, fp8 like the rest of the checkpoint
    router = h * 256  # bf16, replicated
    edges = 2 * 129280 * h / 8  # bf16
    norms = 123 * h
    fp8 = 61 * mla + 3 * dense_mlp + 58 * (experts + shared)
    expected = fp8 * FP8 + (58 * router + edges + norms) * BF16
    assert r.memory.weights_bytes == pytest.approx(expected)
    assert 84 < r.memory.weights_bytes / GB < 86  # ~671 GB / 8 plus replicas
    assert r.fits is True
    assert r.plan.moe_tp == 1 and r.plan.ep == 8


def test_deepseek_v3_does_not_fit_one_h200() -> None:
    r = run("deepseek-ai/DeepSeek-V3", "h200", concurrency=1)
    assert r.fits is False
    assert r.memory.weights_bytes > 600e9  # ~671 B parameters, mostly fp8
    assert "exceed 141 GB" in r.fit_reason


# ---------------------------------------------------------------------------- encoders


def test_bert_is_an_encoder_without_decode() -> None:
    r = run("google-bert/bert-base-uncased", "h100", isl=128, osl=64, concurrency=4)
    assert r.tpot_ms is None
    assert r.decode is None
    assert r.osl == 0
    assert r.output_tokens_per_s_per_gpu == 0
    assert r.memory.kv_cache_bytes == 0  # bidirectional attention caches nothing
    assert any("encoder" in n and "osl ignored" in n for n in r.notes)
    assert r.ttft_ms > 0
    # 109,482,240 parameters in bf16.
    assert r.memory.weights_bytes == pytest.approx(109_482_240 * BF16)


# ------------------------------------------------------------------------------ bad input


def test_unknown_model_suggests_close_ids() -> None:
    with pytest.raises(UnknownIdError, match=r"unknown model 'llama-3.3-70b'") as info:
        run("llama-3.3-70b", "h100")
    assert LLAMA_70B in info.value.suggestions
    assert LLAMA_70B in str(info.value)


def test_unknown_hardware() -> None:
    with pytest.raises(UnknownIdError, match=r"unknown hardware 'h1000'.*h100") as info:
        run(LLAMA_70B, "h1000")
    assert "h100" in info.value.suggestions


def test_tp_not_dividing_heads() -> None:
    with pytest.raises(PlanError, match=r"64 attention heads are not divisible by tp=3"):
        run(LLAMA_70B, "h100", tp=3)


def test_ep_not_dividing_experts() -> None:
    with pytest.raises(PlanError, match=r"8 experts are not divisible by ep=6"):
        run("mistralai/Mixtral-8x7B-v0.1", "h100", tp=2, dp=3, ep=6)


def test_ep_not_dividing_the_gpus() -> None:
    with pytest.raises(PlanError, match=r"ep=3 must divide tp×dp=4"):
        run("Qwen/Qwen3-30B-A3B", "h100", tp=4, ep=3)


def test_ep_on_a_dense_model() -> None:
    with pytest.raises(PlanError, match=r"ep=2 needs a Mixture-of-Experts model"):
        run(LLAMA_70B, "h100", tp=2, ep=2)


def test_gpus_inconsistent_with_the_plan() -> None:
    with pytest.raises(PlanError, match=r"gpus=4 but tp × dp × pp = 8×1×1 = 8"):
        run(LLAMA_70B, "h100", tp=8, gpus=4)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("isl", 0, r"isl must be an integer ≥ 1, got 0"),
        ("isl", 1.5, r"isl must be an integer ≥ 1, got 1.5"),
        ("osl", -1, r"osl must be an integer ≥ 0, got -1"),
        ("concurrency", 0, r"concurrency must be an integer ≥ 1, got 0"),
        ("concurrency", True, r"concurrency must be an integer ≥ 1, got True"),
    ],
)
def test_bad_load(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        run(LLAMA_70B, "h100", tp=8, **{field: value})


@pytest.mark.parametrize("field", ["weight_dtype", "moe_dtype", "kv_dtype"])
def test_unknown_dtype_names_the_field(field: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"^{field}: unknown dtype 'fp3'; known: .*bf16"):
        run("Qwen/Qwen3-30B-A3B", "h100", **{field: "fp3"})


def test_moe_dtype_on_a_dense_model() -> None:
    with pytest.raises(InvalidInputError, match=rf"moe_dtype: {LLAMA_70B} has no MoE layers"):
        run(LLAMA_70B, "h100", tp=8, moe_dtype="fp8")


@pytest.mark.parametrize("fmt", ["int4", "mxfp4", "nvfp4"])
def test_four_bit_kv_cache_is_refused(fmt: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"kv_dtype: {fmt} KV caches are not supported"):
        run(LLAMA_70B, "h100", tp=8, kv_dtype=fmt)


def test_every_error_is_an_infercast_error() -> None:
    for kwargs in ({"tp": 3}, {"isl": 0}, {"kv_dtype": "int4"}):
        with pytest.raises(InfercastError):
            run(LLAMA_70B, "h100", **kwargs)
    with pytest.raises(InfercastError):
        run("no/such-model", "h100")


# ------------------------------------------------------------------- single-instance blocks


def _one_block_model() -> ModelSpec:
    layers = [
        {"name": "embed", "class": "EmbeddingLayer", "count": 1,
         "specs": {"vocab_size": 1000, "hidden_size": 64}},
        {"name": "attn", "class": "GroupedQueryAttentionLayer", "count": 1,
         "specs": {"hidden_size": 64, "num_heads": 4, "num_kv_heads": 2, "head_dim": 16}},
        {"name": "mlp", "class": "GatedMLPLayer", "count": 1,
         "specs": {"hidden_size": 64, "intermediate_size": 128}},
        {"name": "head", "class": "OutputLayer", "count": 1,
         "specs": {"vocab_size": 1000, "hidden_size": 64}},
    ]  # fmt: skip
    return ModelSpec.model_validate(
        {
            "model_id": "one-block",
            "hf_model_id": "test/one-block",
            "name": "one block",
            "hidden_size": 64,
            "num_layers": 1,
            "vocab_size": 1000,
            "total_params": 64000 + 12288 + 24576 + 64000,
            "total_params_formatted": "164.9K",
            "layer_types": layers,
            "validated": False,
        }
    )


def test_an_attention_entry_of_count_one_still_caches_kv() -> None:
    r = run(_one_block_model(), "h100", isl=999, osl=1, concurrency=1)
    # isl + osl = 1000 tokens × K and V × 2 KV heads × 16 × 2 bytes = 128 kB.
    assert r.memory.kv_cache_bytes == 1000 * 2 * 2 * 16 * BF16

"""The engine catalog: every figure sourced, the memory-reserve and step rules by hand."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infercast.engines import ENGINES, Engine, canonical_engine, get_engine


def test_catalog_has_the_engines_and_their_settings() -> None:
    assert list(ENGINES) == ["vllm", "sglang", "trtllm", "atom", "generic"]
    vllm = ENGINES["vllm"]
    assert (vllm.max_num_batched_tokens, vllm.max_num_seqs, vllm.memory_utilization) == (
        8192,
        1024,
        0.9,
    )
    assert ENGINES["sglang"].memory_utilization == 0.88
    assert vllm.launch_flags["tp"] == "--tensor-parallel-size"
    assert ENGINES["sglang"].launch_flags["max_num_batched_tokens"] == "--chunked-prefill-size"


@pytest.mark.parametrize("name", ["TRT", "tensorrt-llm", " TensorRT_LLM ", "trt-llm", "trtllm"])
def test_aliases(name: str) -> None:
    assert canonical_engine(name) == "trtllm"
    engine = get_engine(name)
    assert engine is not None and engine.name == "trtllm"


def test_unknown_engine() -> None:
    assert get_engine("Foo") is None
    assert canonical_engine("Foo") == "foo"
    assert canonical_engine(None) is None


def test_reserve_rule() -> None:
    vllm, sglang = ENGINES["vllm"], ENGINES["sglang"]
    # (1 − 0.9) × 80 GB = 8 GB; (1 − 0.88) × 80 GB = 9.6 GB; on a 10 GB part the 1.5 GB floor.
    assert vllm.reserve_bytes(80e9) == pytest.approx(8e9)
    assert sglang.reserve_bytes(80e9) == pytest.approx(9.6e9)
    assert vllm.reserve_bytes(10e9) == 1.5e9


def test_step_tokens_and_batch_cap() -> None:
    vllm = ENGINES["vllm"]
    assert vllm.step_tokens(1000, 1) == 1000  # a lone request: its own prompt
    assert vllm.step_tokens(1000, 2) == 8192  # prompts queue: a full budget
    assert vllm.step_tokens(20000, 1) == 8192  # a lone long prompt: one chunk of the budget
    assert vllm.batch_cap(4) == 4096


def test_every_figure_needs_a_source() -> None:
    data = ENGINES["vllm"].model_dump()
    data["sources"] = [s for s in data["sources"] if s["figure"] != "max_num_seqs"]
    with pytest.raises(ValidationError, match="figures without a source: max_num_seqs"):
        Engine.model_validate(data)


def test_unknown_launch_setting_rejected() -> None:
    data = ENGINES["vllm"].model_dump()
    data["launch_flags"] = {"tpp": "--x"}
    with pytest.raises(ValidationError, match="unknown settings tpp"):
        Engine.model_validate(data)


def test_quantized_kv_format_is_a_known_kv_format() -> None:
    assert ENGINES["trtllm"].quantized_kv_dtype == "fp8"
    assert [ENGINES[e].quantized_kv_dtype for e in ("vllm", "sglang", "atom", "generic")] == [
        None
    ] * 4
    data = ENGINES["trtllm"].model_dump()
    with pytest.raises(ValidationError, match="quantized_kv_dtype: nvfp4 is no KV-cache format"):
        Engine.model_validate(data | {"quantized_kv_dtype": "nvfp4"})
    with pytest.raises(ValidationError, match="quantized_kv_dtype: "):
        Engine.model_validate(data | {"quantized_kv_dtype": "fp7"})


def test_sglang_picks_its_step_budget_from_the_gpus_memory() -> None:
    # SGLang 0.5.6 (server_args.py, _handle_gpu_memory_settings): 2048 below 35 GiB, 4096 below
    # 60 GiB, 8192 below 160 GiB, 16384 above; GiB = 2**30 bytes.
    sglang = ENGINES["sglang"]
    budgets = [sglang.for_part(m).max_num_batched_tokens for m in (24e9, 48e9, 80e9, 141e9, 180e9)]
    assert budgets == [2048, 4096, 8192, 8192, 16384]
    # 160 GiB exactly is the first byte of the top tier; one byte less is the tier below.
    assert sglang.for_part(160 * 2**30).max_num_batched_tokens == 16384
    assert sglang.for_part(160 * 2**30 - 1).max_num_batched_tokens == 8192
    trtllm = ENGINES["trtllm"]
    assert trtllm.for_part(24e9) is trtllm and trtllm.max_num_batched_tokens == 8192


def test_vllm_picks_its_batch_defaults_from_the_gpu() -> None:
    # vLLM 0.12.0 (arg_utils.py, get_batch_defaults), OpenAI server: 8192 tokens and 1024
    # sequences on a device of >= 70 GiB whose name has no "a100"; 2048 and 256 otherwise.
    vllm = ENGINES["vllm"]
    big = vllm.for_part(80e9, "NVIDIA H100 SXM5 80GB")  # 74.5 GiB
    assert big is vllm and (big.max_num_batched_tokens, big.max_num_seqs) == (8192, 1024)
    l40s = vllm.for_part(48e9, "NVIDIA L40S 48GB (PCIe)")  # 44.7 GiB
    assert (l40s.max_num_batched_tokens, l40s.max_num_seqs) == (2048, 256)
    a100 = vllm.for_part(80e9, "NVIDIA A100 SXM4 80GB")  # by name, whatever its memory
    assert (a100.max_num_batched_tokens, a100.max_num_seqs) == (2048, 256)
    # 70 GiB exactly is the large tier; one byte less the small one.
    assert vllm.for_part(70 * 2**30).max_num_seqs == 1024
    assert vllm.for_part(70 * 2**30 - 1).max_num_seqs == 256
    assert vllm.for_part(70 * 2**30 - 1).batch_cap(dp=4) == 1024


def test_memory_tiers_ascend_and_are_sourced() -> None:
    data = ENGINES["sglang"].model_dump()
    tiers = data["budget_by_memory"]
    with pytest.raises(ValidationError, match="below_gib must ascend"):
        Engine.model_validate(data | {"budget_by_memory": tiers[::-1]})
    unsourced = [s for s in data["sources"] if s["figure"] != "budget_by_memory"]
    with pytest.raises(ValidationError, match="figures without a source: budget_by_memory"):
        Engine.model_validate(data | {"sources": unsourced})


def test_an_estimate_uses_the_budget_of_its_parts_memory_and_says_so() -> None:
    from infercast.estimation.estimate import prepare

    llama = "meta-llama/Llama-3.1-8B-Instruct"
    b200 = prepare(llama, "b200", framework="sglang")
    h200 = prepare(llama, "h200", framework="sglang")
    assert b200.params.framework.max_num_batched_tokens == 16384
    assert h200.params.framework.max_num_batched_tokens == 8192
    # B200's 180 GB is 167.6 GiB; H200's 141 GB is 131.3 GiB.
    assert "SGLang picks its step budget from the GPU's memory: 16384-token steps on 168 GiB" in (
        b200.notes
    )
    # vLLM keeps its large-GPU defaults on B200 (and H100: 80 GB = 74.5 GiB ≥ 70) and says so;
    # an A100 of the same memory gets its small-GPU ones, by name.
    vllm = {hw: prepare(llama, hw, framework="vllm") for hw in ("b200", "h100", "a100")}
    assert [
        (v.params.framework.max_num_batched_tokens, v.params.framework.max_num_seqs)
        for v in vllm.values()
    ] == [(8192, 1024), (8192, 1024), (2048, 256)]
    picks = "vLLM picks its step budget and batch cap from the GPU: "
    assert f"{picks}8192-token steps, at most 1024 sequences per instance, on 168 GiB" in (
        vllm["b200"].notes
    )
    assert f"{picks}8192-token steps, at most 1024 sequences per instance, on 75 GiB" in (
        vllm["h100"].notes
    )
    assert (
        f"{picks}2048-token steps, at most 256 sequences per instance, on 75 GiB (NVIDIA A100 "
        "SXM4 80GB: by its device name, whatever its memory)"
    ) in vllm["a100"].notes


def test_kv_of_the_toolkits_quantized_checkpoint() -> None:
    trt, vllm = ENGINES["trtllm"], ENGINES["vllm"]
    # Weights quantized to an 8- or 4-bit format the bf16 checkpoint does not carry.
    assert [trt.kv_for_weights(w, "bf16") for w in ("fp8", "nvfp4", "int4", "int8")] == ["fp8"] * 4
    # The checkpoint's own format, 16-bit weights, or nothing given: no toolkit checkpoint.
    assert trt.kv_for_weights("fp8", "fp8") is None
    assert trt.kv_for_weights("fp16", "bf16") is None
    assert trt.kv_for_weights(None, "bf16") is None
    assert vllm.kv_for_weights("fp8", "bf16") is None


def test_sglang_sizes_its_running_requests_from_the_kv_pool() -> None:
    # SGLang 0.5.6 (tp_worker.py, model_runner.py init_memory_pool): min(pool // 2, slots),
    # slots = min(max(int(pool / context_len * 512), 2048), 4096).
    rule = ENGINES["sglang"].running_requests_from_pool
    assert rule is not None
    assert rule.cap(600_000, 131_072) == 2343  # 600000 / 131072 * 512 = 2343.75
    assert rule.cap(200_000, 131_072) == 2048  # 781 slots, clamped up
    assert rule.cap(3_000_000, 32_768) == 4096  # 46875 slots, clamped down
    assert rule.cap(3_000, 131_072) == 1500  # the pool // 2 binds
    assert rule.cap(10**9, None) == 4096  # no context known: the upper clamp
    assert ENGINES["vllm"].seqs_cap(10**9, 131_072) == 1024  # a fixed cap
    data = ENGINES["sglang"].model_dump()
    with pytest.raises(ValidationError, match="max_num_seqs must be"):
        Engine.model_validate(data | {"max_num_seqs": 1024})


def test_an_sglang_estimate_admits_what_its_pool_rule_allows() -> None:
    from infercast.estimation.estimate import estimate

    llama = "meta-llama/Llama-3.1-8B-Instruct"  # bf16: 8,030,261,248 params, 131,072 context
    r = estimate(llama, "h200", framework="sglang", isl=128, osl=128, concurrency=6000)
    m = r.memory
    assert m.weights_bytes == 8_030_261_248 * 2
    assert m.reserve_bytes == pytest.approx(0.12 * 141e9)  # mem_fraction_static 0.88
    # KV per token: 32 layers x 8 KV heads x 128 x 2 (K, V) x 2 B = 131,072 B.
    # The 2,830 requests the engine does not admit wait outside it: the peak activations are
    # the fp32 logits of the 3,170 running ones (vocab 128,256 x 4 B each), not of 6,000.
    assert m.activations_bytes == 3170 * 128_256 * 4
    pool_tokens = (141e9 - m.weights_bytes - m.activations_bytes - m.reserve_bytes) / 131_072
    assert pool_tokens == pytest.approx(106_393_191_424 / 131_072)  # 811,715.6
    assert r.admitted_concurrency == int(pool_tokens / 131_072 * 512) == 3170
    assert r.fit is not None and r.fit.limit == "batch_cap"
    # 1,500 requests (over the 1,024 infercast used to assume) all run at once.
    r = estimate(llama, "h200", framework="sglang", isl=128, osl=128, concurrency=1500)
    assert r.admitted_concurrency == 1500 and r.fit is not None and r.fit.status == "fits"


def test_requests_waiting_outside_the_engine_hold_no_memory() -> None:
    # audit: the activations were sized by the offered concurrency, so past admission the KV
    # room shrank as more users waited (admitted 229 -> 222 and TPOT 71.8 -> 70.8 ms, from
    # C = 1,182 to 10,000); queued requests use no GPU memory, so nothing may change.
    from infercast.estimation.estimate import estimate

    args = {"framework": "sglang", "tp": 2, "isl": 8192, "osl": 1024}
    at_cap = estimate("openai/gpt-oss-120b", "h100", concurrency=229, **args)
    for offered in (1182, 10_000):
        r = estimate("openai/gpt-oss-120b", "h100", concurrency=offered, **args)
        assert r.admitted_concurrency == at_cap.admitted_concurrency == 229
        assert r.memory.activations_bytes == at_cap.memory.activations_bytes
        assert r.tpot_ms == at_cap.tpot_ms

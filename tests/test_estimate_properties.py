"""Properties of the performance model over the built-in catalog.

- tensor parallelism splits FLOPs and weights without losing any: summed over the ``tp`` GPUs,
  each layer's stored weights and matmul FLOPs equal the single-GPU figures plus exactly what
  the cost models document as replicated (norms, biases added after a row-parallel matmul,
  q/k norms, MLA's down-projections, MoE routers, K/V projections once ``tp`` exceeds the KV
  heads); attention-score FLOPs split exactly;
- more GPUs (tp or pp) never increase the weight bytes a GPU holds;
- the KV cache grows linearly with context until a sliding window caps it;
- TTFT and TPOT are positive and finite; throughput rises with concurrency at low concurrency.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import infercast
from infercast.dtypes import dtype
from infercast.errors import InvalidInputError
from infercast.estimation.estimate import prepare
from infercast.layers import StepShape
from infercast.specs.registry import default_registry

REGISTRY = default_registry()
MODELS = sorted(spec.hf_model_id for spec in REGISTRY)
DECODERS = [m for m in MODELS if not REGISTRY.get(m).is_encoder_only]
TPS = (1, 2, 4, 8)
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def valid_tps(model: str) -> list[int]:
    out = []
    for tp in TPS:
        try:
            prepare(model, "h200", tp=tp)
        except InvalidInputError:
            continue
        out.append(tp)
    return out


PAIRS = [(m, tp) for m in MODELS for tp in valid_tps(m) if tp > 1]


def test_every_model_has_a_valid_tp_above_one() -> None:
    assert {m for m, _ in PAIRS} == set(MODELS)


# ------------------------------------------------- TP splits weights and FLOPs losing nothing


def _fmt(specs: Any) -> Any:
    return dtype(specs.weight_dtype) if getattr(specs, "weight_dtype", None) else dtype("bf16")


def replicated_excess(layer: Any, tp: int) -> tuple[float, float]:
    """(extra stored bytes, extra matmul weight elements per token) summed over ``tp`` GPUs.

    Derived from the documented layout, not from the cost models: whatever every GPU of the
    TP group holds a full copy of is counted ``tp`` times instead of once.
    """
    s, cls = layer.layer_specs, layer.layer_class
    extra = tp - 1
    if cls == "NormLayer":
        return _fmt(s).nbytes(extra * s.parameter_count_per_instance()), 0.0
    if cls == "PoolerLayer":
        # Replicated dense layer; its matmul runs on one row per sequence.
        return _fmt(s).nbytes(extra * (s.hidden_size**2 + s.hidden_size)), extra * s.hidden_size**2
    if cls in (
        "AttentionLayer",
        "GroupedQueryAttentionLayer",
        "SlidingWindowAttentionLayer",
        "ChunkedLocalAttentionLayer",
    ):
        h, d, kv = s.hidden_size, s.head_dim, s.kv_heads
        dv = s.v_head_dim or d
        per_head_norm = s.qk_norm and s.qk_norm_scope == "head"  # projection norms split
        params = extra * ((h if s.o_bias else 0) + (2 * d if per_head_norm else 0))
        matmul = 0
        if tp > kv:  # one KV head per GPU: tp copies of kv heads' K and V
            kv_proj = h * (d + dv)
            matmul += (tp - kv) * kv_proj
            params += (tp - kv) * (kv_proj + (d + dv if s.qkv_bias else 0))
        return _fmt(s).nbytes(params), float(matmul)
    if cls in ("MultiHeadLatentAttentionLayer", "DeepSeekSparseAttentionLayer"):
        down = s.hidden_size * (s.kv_lora_rank + s.qk_rope_head_dim + s.q_lora_rank)
        norms = s.kv_lora_rank + s.q_lora_rank
        if cls == "DeepSeekSparseAttentionLayer":  # the lightning indexer is replicated
            n, di, h = s.index_n_heads, s.index_head_dim, s.hidden_size
            down += (s.q_lora_rank or h) * n * di + h * di + h * n
            norms += 2 * di
        return _fmt(s).nbytes(extra * (down + norms)), float(extra * down)
    if cls == "GatedDeltaNetLayer":  # heads split; the gated norm over one head is replicated
        return _fmt(s).nbytes(extra * s.value_head_dim), 0.0
    if cls == "Mamba2Layer":  # heads, convolution and the gated norm all split
        return 0.0, 0.0
    if cls in ("MLPLayer", "GatedMLPLayer"):
        return _fmt(s).nbytes(extra * (s.hidden_size if s.has_bias else 0)), 0.0
    if cls == "MoELayer":
        # ep = 1, moe_tp = tp: experts (their biases included) and shared experts are sliced;
        # the router (and its bias, and a shared-expert gate) is replicated, kept in bf16.
        router = s.router_parameters()
        gate = s.hidden_size if (s.shared_expert_gate and s.num_shared_experts) else 0
        return dtype("bf16").nbytes(extra * router), float(
            extra * (s.hidden_size * s.num_experts + gate)
        )
    assert cls in ("EmbeddingLayer", "OutputLayer"), cls  # vocab-parallel: split exactly
    return 0.0, 0.0


@SETTINGS
@given(
    pair=st.sampled_from(PAIRS),
    prefill=st.integers(0, 4096),
    decode=st.integers(0, 256),
    kv_len=st.integers(1, 65536),
)
def test_tp_splits_weights_and_flops_without_losing_any(
    pair: tuple[str, int], prefill: int, decode: int, kv_len: int
) -> None:
    model, tp = pair
    assume(prefill + decode > 0)
    shape = StepShape(
        prefill_tokens=prefill,
        prefill_seqs=1 if prefill else 0,
        prefill_context=(prefill + 1) / 2,
        prefill_chunk=prefill,
        decode_seqs=decode,
        decode_context=kv_len,
    )
    one = prepare(model, "h200").timer.models
    many = prepare(model, "h200", tp=tp).timer.models
    for (layer, m1), (_, mt) in zip(one, many, strict=True):
        extra_bytes, extra_matmul = replicated_excess(layer, tp)
        assert tp * mt.stored_weight_bytes() == pytest.approx(
            m1.stored_weight_bytes() + extra_bytes, rel=1e-9
        ), layer.name
        c1, ct = m1.step_cost(shape), mt.step_cost(shape)
        rows = shape.prefill_seqs if layer.layer_class == "PoolerLayer" else shape.tokens
        assert tp * ct.matmul_flops == pytest.approx(
            c1.matmul_flops + 2 * rows * extra_matmul, rel=1e-9, abs=1e-6
        ), layer.name
        replicated_flops = 0.0
        if layer.layer_class == "DeepSeekSparseAttentionLayer":
            # Every TP rank scores the whole context with the replicated indexer:
            # (2·index_head_dim + 2)·index_n_heads FLOPs per (token, cached position).
            s = layer.layer_specs
            positions = prefill * (prefill + 1) / 2 + decode * kv_len
            per = (2 * s.index_head_dim + 2) * s.index_n_heads
            replicated_flops = (tp - 1) * positions * per
        assert tp * ct.attention_flops == pytest.approx(
            c1.attention_flops + replicated_flops, rel=1e-9, abs=1e-6
        )
        kv1, kvt = m1.kv_bytes_per_token(), mt.kv_bytes_per_token()
        if layer.layer_class in ("MultiHeadLatentAttentionLayer", "DeepSeekSparseAttentionLayer"):
            assert kvt == kv1  # the latent is replicated on every TP rank
        elif kv1:
            kv_heads = layer.layer_specs.kv_heads
            assert tp * kvt == pytest.approx(kv1 * max(tp, kv_heads) / kv_heads)


@pytest.mark.parametrize("model", MODELS)
def test_stored_weights_at_tp1_are_the_parameter_count(model: str) -> None:
    # Every parameter of the spec is stored once at TP1: in bf16 (2 bytes) unless the layer
    # names a format, and MoE experts in theirs (routers, shared gates in bf16).
    spec = REGISTRY.get(model)
    models = prepare(model, "h200").timer.models
    total = 0.0
    for layer, m in models:
        s = layer.layer_specs
        if layer.layer_class == "MoELayer":
            routed = s.routed_expert_parameters()
            shared = s.shared_expert_parameters()
            router = s.parameter_count_per_instance() - routed - shared
            # Shared experts in their own format when the spec names one (Kimi-K2.5: bf16).
            shared_fmt = (
                dtype(s.shared_expert_weight_dtype) if s.shared_expert_weight_dtype else _fmt(s)
            )
            expected = (
                _fmt(s).nbytes(routed) + shared_fmt.nbytes(shared) + dtype("bf16").nbytes(router)
            )
        elif layer.layer_class == "OutputLayer" and s.tied:
            expected = 0.0
        else:
            expected = _fmt(s).nbytes(s.parameter_count_per_instance())
        assert m.stored_weight_bytes() == pytest.approx(expected, rel=1e-12), layer.name
        total += layer.count * m.stored_weight_bytes()
    if all(_fmt(lt.layer_specs).name == "bf16" for lt in spec.layer_types):
        assert total == pytest.approx(2 * spec.total_params, rel=1e-12)


# ------------------------------------------------------ more GPUs, fewer weight bytes each


def _weights(model: str, **plan: int) -> float | None:
    try:
        r = infercast.estimate(model, "h200", isl=128, osl=16, concurrency=1, **plan)
    except InvalidInputError:
        return None
    return r.memory.weights_bytes


@SETTINGS
@given(
    model=st.sampled_from(MODELS),
    tp=st.sampled_from(TPS),
    pp=st.sampled_from((1, 2, 4)),
    grow=st.sampled_from(("tp", "pp")),
    expert_parallel=st.booleans(),
)
def test_more_gpus_never_increase_per_gpu_weights(
    model: str, tp: int, pp: int, grow: str, expert_parallel: bool
) -> None:
    moe = REGISTRY.get(model).is_moe
    small = {"tp": tp, "pp": pp}
    big = {"tp": tp * 2, "pp": pp} if grow == "tp" else {"tp": tp, "pp": pp * 2}
    if moe and expert_parallel:
        small["ep"], big["ep"] = small["tp"], big["tp"]
    a, b = _weights(model, **small), _weights(model, **big)
    assume(a is not None and b is not None)
    assert b < a  # strictly fewer: every model has per-block layers that shrink


@pytest.mark.parametrize(
    ("model", "tp"), [("meta-llama/Llama-3.1-8B-Instruct", 1), ("Qwen/Qwen3-30B-A3B", 2)]
)
def test_pipeline_stages_split_the_blocks(model: str, tp: int) -> None:
    # PP2 holds half of the blocks (counts are even here) and the larger of embedding / head.
    one = prepare(model, "h200", tp=tp).timer.models
    blocks = sum(lt.count * m.stored_weight_bytes() for lt, m in one if lt.count > 1)
    edges = [m.stored_weight_bytes() for lt, m in one if lt.count == 1]
    expected = 0.0
    for lt, m in one:
        if lt.count > 1:
            expected += math.ceil(lt.count / 2) * m.stored_weight_bytes()
    expected += max(edges)
    assert blocks > 0
    assert _weights(model, tp=tp, pp=2) == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------- KV cache against the context

# Bytes per token per layer in bf16: 2 (K and V) · kv heads · head_dim · 2 bytes.
LLAMA_8B = 32 * (2 * 8 * 128 * 2)  # 32 layers, no window: 131072 B/token
MISTRAL_LAYER = 2 * 8 * 128 * 2  # 32 layers, all with a 4096 window
GPT_OSS_LAYER = 2 * 8 * 64 * 2  # 18 layers with a 128 window + 18 full layers
GEMMA2_LAYER = 2 * 8 * 256 * 2  # 21 layers with a 4096 window + 21 full layers


def expected_kv(model: str, c: int) -> float:
    if model == "meta-llama/Llama-3.1-8B-Instruct":
        return LLAMA_8B * c
    if model == "mistralai/Mistral-7B-v0.1":
        return 32 * MISTRAL_LAYER * min(c, 4096)
    if model == "openai/gpt-oss-120b":
        return 18 * GPT_OSS_LAYER * (min(c, 128) + c)
    assert model == "google/gemma-2-9b-it"
    return 21 * GEMMA2_LAYER * (min(c, 4096) + c)


KV_MODELS = [
    "meta-llama/Llama-3.1-8B-Instruct",
    "mistralai/Mistral-7B-v0.1",
    "openai/gpt-oss-120b",
    "google/gemma-2-9b-it",
]


def _kv(model: str, isl: int, osl: int, tp: int = 1) -> float:
    """KV bytes of one sequence of isl + osl tokens (a decoder needs osl ≥ 1, so a context
    given as (isl, 0) is asked as (isl − 1, 1): the cache is sized on the sum)."""
    if osl == 0:
        isl, osl = isl - 1, 1
    r = infercast.estimate(model, "h200", tp=tp, isl=isl, osl=osl, concurrency=1)
    return r.memory.kv_cache_bytes


@SETTINGS
# isl + osl ≤ 8,000: within every context (Gemma 2: 8,192), beyond every 4,096-token window.
@given(model=st.sampled_from(KV_MODELS), isl=st.integers(1, 6000), osl=st.integers(1, 2000))
def test_kv_grows_linearly_until_a_window_caps_it(model: str, isl: int, osl: int) -> None:
    # One sequence. The generic engine pages KV on demand: it holds the mean context over the
    # request's life, isl + ⌈osl/2⌉; TensorRT-LLM's capacity scheduler reserves isl + osl.
    held = isl + (osl + 1) // 2
    assert _kv(model, isl, osl) == pytest.approx(expected_kv(model, held), rel=1e-12)
    reserved = infercast.estimate(
        model, "h200", isl=isl, osl=osl, concurrency=1, framework="trtllm"
    ).memory.kv_cache_bytes
    assert reserved == pytest.approx(expected_kv(model, isl + osl), rel=1e-12)


@pytest.mark.parametrize("model", KV_MODELS)
def test_kv_shape_linear_then_flat(model: str) -> None:
    small, double = _kv(model, 64, 0), _kv(model, 128, 0)
    assert double == pytest.approx(2 * small)  # both under every window: linear
    # Both beyond every 4,096-token window, within every context (Gemma 2's is 8,192).
    far, farther = _kv(model, 6000, 0), _kv(model, 8000, 0)
    if model == "mistralai/Mistral-7B-v0.1":
        assert farther == far  # every layer is capped
    else:
        assert farther > far  # full-attention layers keep growing …
        assert farther - far == pytest.approx(expected_kv(model, 8000) - expected_kv(model, 6000))


def test_kv_splits_over_tp_until_the_kv_heads_run_out() -> None:
    m = "mistralai/Mistral-7B-v0.1"  # 8 KV heads
    assert _kv(m, 1000, 0, tp=2) == pytest.approx(_kv(m, 1000, 0) / 2)
    assert _kv(m, 1000, 0, tp=8) == pytest.approx(_kv(m, 1000, 0) / 8)
    q = "Qwen/Qwen3-235B-A22B"  # 4 KV heads: at tp 8 each GPU holds one (replicated)
    assert _kv(q, 1000, 0, tp=8) == pytest.approx(_kv(q, 1000, 0, tp=4))


# ------------------------------------------------------------------- latency and throughput

HARDWARE = ["h100", "h200", "b200", "mi300x", "a100", "l40s", "gb200"]


@SETTINGS
@given(
    model=st.sampled_from(MODELS),
    hardware=st.sampled_from(HARDWARE),
    tp=st.sampled_from(TPS),
    isl=st.integers(1, 32768),
    osl=st.integers(0, 4096),
    concurrency=st.integers(1, 512),
)
def test_latencies_are_positive_and_finite(
    model: str, hardware: str, tp: int, isl: int, osl: int, concurrency: int
) -> None:
    try:
        r = infercast.estimate(model, hardware, tp=tp, isl=isl, osl=osl, concurrency=concurrency)
    except InvalidInputError:
        assume(False)
        return
    assert math.isfinite(r.ttft_ms) and r.ttft_ms > 0
    assert math.isfinite(r.e2e_latency_ms) and r.e2e_latency_ms >= r.ttft_ms
    assert math.isfinite(r.requests_per_s) and r.requests_per_s > 0
    if REGISTRY.get(model).is_encoder_only:
        assert r.tpot_ms is None
    else:
        assert r.tpot_ms is not None and math.isfinite(r.tpot_ms) and r.tpot_ms > 0
    assert r.memory.total_bytes == pytest.approx(
        r.memory.weights_bytes
        + r.memory.kv_cache_bytes
        + r.memory.state_bytes
        + r.memory.activations_bytes
        + r.memory.reserve_bytes
    )


@pytest.mark.parametrize(
    ("model", "hardware", "tp"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", "h100", 1),
        ("meta-llama/Llama-3.3-70B-Instruct", "h200", 4),
        ("openai/gpt-oss-120b", "h100", 1),
        ("Qwen/Qwen3-30B-A3B", "b200", 1),
    ],
)
def test_throughput_rises_with_concurrency_at_low_concurrency(
    model: str, hardware: str, tp: int
) -> None:
    # Decode is weight-bound at small batch: batching more users shares the weight reads.
    rates = [
        infercast.estimate(
            model, hardware, tp=tp, isl=1024, osl=256, concurrency=c
        ).output_tokens_per_s_per_gpu
        for c in (1, 2, 4, 8, 16)
    ]
    assert all(b > a for a, b in itertools.pairwise(rates)), rates
    assert rates[-1] > 4 * rates[0]  # far from linear loss at this load

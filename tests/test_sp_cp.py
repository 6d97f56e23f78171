"""Sequence parallelism (SP) and context parallelism (CP), derived by hand on small shapes.

Shapes as in ``tests/test_layer_costs.py``: hidden h = 64, 4 query heads, 2 KV heads, head_dim
d = 16, MLP intermediate 128, bf16 (2 bytes per element), one layer instance, one GPU, one step.
KV per token at TP1: K and V × 2 KV heads × 16 × 2 bytes = 128 bytes.

Conventions under test (``infercast.layers.base`` / ``.attention``, ``infercast.parallel.plan``):
- SP: each TP all-reduce of a buffer B becomes a reduce-scatter of B plus an all-gather of B;
  on a ring that is (n−1)/n·B + (n−1)/n·B = 2(n−1)/n·B, the all-reduce's bytes. Norms work on
  1/tp of the tokens (activation bytes and peak live activations ÷ tp).
- CP: a request lives on one DP rank, or on cp of them; with C requests in flight, prefill
  tokens and KV spread over R_tok = min(dp, cp·C) ranks, decode-token projections over
  R_seq = min(dp, C). The ring all-gathers the (cached + chunk) tokens' K/V of each chunk;
  decode all-gathers the queries and reduce-scatters the partial outputs + log-sum-exp (fp32).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import infercast
from infercast.dtypes import dtype
from infercast.errors import InvalidInputError
from infercast.layers import CostContext, StepShape
from infercast.layers.attention import AttentionCost, LatentAttentionCost
from infercast.layers.edges import EmbeddingCost, NormCost
from infercast.layers.ffn import MLPCost, MoECost
from infercast.parallel import Collective, ParallelPlan, PlanError
from infercast.specs.layer_classes import EmbeddingLayerSpecs, NormLayerSpecs
from infercast.specs.schema import ModelSpec
from shapes import (
    DECODE,
    GATED,
    GQA,
    MLA,
    MLA_REPLICATED,
    MLA_SPLIT,
    MOE,
    PREFILL,
    PREFILL_CACHED,
)

B = 2  # bytes per bf16 element
F32 = 4
BF16 = dtype("bf16")
KV = 2 * 2 * 16 * B  # 128 bytes of K/V per token at TP1


def context(
    tp: int = 1,
    dp: int = 1,
    ep: int = 1,
    *,
    cp: int = 1,
    sp: bool = False,
    concurrency: float | None = None,
) -> CostContext:
    plan = ParallelPlan.build(tp=tp, dp=dp, ep=ep, cp=cp, sequence_parallel=sp)
    return CostContext(
        plan=plan,
        weight_dtype=None,
        moe_dtype=None,
        kv_dtype=BF16,
        activation_dtype=BF16,
        default_dtype=BF16,
        concurrency=concurrency,
    )


def sp_pair(tp: int, nbytes: float) -> list[Collective]:
    return [Collective("reduce_scatter", tp, nbytes), Collective("all_gather", tp, nbytes)]


# ------------------------------------------------------------------- sequence parallelism


def test_sp_turns_the_attention_all_reduce_into_reduce_scatter_plus_all_gather() -> None:
    plain = AttentionCost(GQA, context(tp=2)).step_cost(PREFILL)
    split = AttentionCost(GQA, context(tp=2, sp=True)).step_cost(PREFILL)
    # The o-projection's partial sums: 8 tokens × 64 × 2 bytes = 1024 bytes over 2 GPUs.
    assert plain.collectives == [Collective("all_reduce", 2, 1024)]
    assert split.collectives == sp_pair(2, 1024)
    # Ring: all-reduce 2·(1/2)·1024 = 1024; reduce-scatter 1/2·1024 + all-gather 1/2·1024 = 1024.
    assert split.communication_bytes == plain.communication_bytes == 1024
    # Nothing else changes in the layer itself.
    assert split.flops == plain.flops and split.memory_bytes == plain.memory_bytes


@pytest.mark.parametrize("tp", [2, 4])
def test_sp_keeps_the_total_bytes_of_every_tp_reduction(tp: int) -> None:
    # Gated MLP decode: 4 tokens × 64 × 2 = 512 bytes; ring wire 2(tp−1)/tp · 512 either way.
    plain = MLPCost(GATED, context(tp=tp)).step_cost(DECODE)
    split = MLPCost(GATED, context(tp=tp, sp=True)).step_cost(DECODE)
    assert plain.collectives == [Collective("all_reduce", tp, 512)]
    assert split.collectives == sp_pair(tp, 512)
    assert split.communication_bytes == pytest.approx(2 * (tp - 1) / tp * 512)
    assert split.communication_bytes == pytest.approx(plain.communication_bytes)
    # Embedding (vocab-parallel): the same 512-byte reduction of the 4 gathered rows.
    emb = EmbeddingLayerSpecs(vocab_size=1000, hidden_size=64)
    assert EmbeddingCost(emb, context(tp=tp, sp=True)).step_cost(DECODE).collectives == sp_pair(
        tp, 512
    )
    # MLA's output projection: 8 prefill tokens × 64 × 2 = 1024 bytes.
    mla = LatentAttentionCost(MLA, context(tp=tp, sp=True)).step_cost(PREFILL)
    assert mla.collectives == sp_pair(tp, 1024)
    # MoE at dp = ep = 1 reduces its expert slices like a dense MLP: 4 × 64 × 2 = 512 bytes.
    moe = MoECost(MOE, context(tp=tp, sp=True)).step_cost(DECODE)
    assert moe.collectives == sp_pair(tp, 512)


def test_sp_leaves_the_expert_all_to_alls_alone() -> None:
    plain = MoECost(MOE, context(tp=2, ep=2)).step_cost(DECODE)
    split = MoECost(MOE, context(tp=2, ep=2, sp=True)).step_cost(DECODE)
    assert [c.kind for c in split.collectives] == ["all_to_all", "all_to_all"]
    assert split.collectives == plain.collectives


def test_sp_divides_the_norm_work_by_tp() -> None:
    rms = NormLayerSpecs(hidden_size=64, has_bias=False)
    plain = NormCost(rms, context(tp=4)).step_cost(PREFILL)
    split = NormCost(rms, context(tp=4, sp=True)).step_cost(PREFILL)
    # Replicated: read and write 8 × 64 elements = 2048 bytes on every GPU.
    assert plain.activation_bytes == 2 * 8 * 64 * B == 2048
    # SP: each of the 4 ranks normalises 2 of the 8 tokens: 2 × 2 × 64 × 2 = 512 bytes.
    assert split.activation_bytes == 2 * 2 * 64 * B == 512
    assert split.flops == plain.flops == 0  # norms count no FLOPs (memory-bound)
    assert split.weight_bytes == plain.weight_bytes == 64 * B  # the gain is replicated
    # Peak live activations of the norm region for 8 tokens: 2048 → 512 bytes.
    assert NormCost(rms, context(tp=4)).activation_peak_bytes(8) == 2048
    assert NormCost(rms, context(tp=4, sp=True)).activation_peak_bytes(8) == 512


def test_sp_at_tp1_is_a_no_op() -> None:
    plan = ParallelPlan.build(sequence_parallel=True)
    assert plan.sequence_parallel and not plan.sp
    rms = NormLayerSpecs(hidden_size=64, has_bias=False)
    assert NormCost(rms, context(sp=True)).step_cost(PREFILL).activation_bytes == 2048
    assert AttentionCost(GQA, context(sp=True)).step_cost(PREFILL).collectives == []
    assert ParallelPlan.build(tp=2, sequence_parallel=True).describe() == "TP2 SP"


# -------------------------------------------------------------------- context parallelism


def test_placement_ranks() -> None:
    plan = ParallelPlan.build(tp=1, dp=8, cp=4)
    # R_tok = min(dp, cp·C), R_seq = min(dp, C); an unknown load fills every rank.
    assert (plan.token_ranks(1), plan.sequence_ranks(1)) == (4, 1)
    assert (plan.token_ranks(2), plan.sequence_ranks(2)) == (8, 2)
    assert (plan.token_ranks(None), plan.sequence_ranks(None)) == (8, 8)
    assert ParallelPlan.build(dp=8).token_ranks(1) == 1  # cp 1: a prompt on one DP rank
    assert ParallelPlan.build(dp=8, cp=8).gpus == 8  # cp adds no GPUs


def test_cp_divides_a_lone_prompts_projection_flops() -> None:
    # One 8-token prompt (C = 1) on dp = 2: cp 1 puts it on one rank, cp 2 on both.
    one = AttentionCost(GQA, context(dp=2, concurrency=1)).step_cost(PREFILL)
    two = AttentionCost(GQA, context(dp=2, cp=2, concurrency=1)).step_cost(PREFILL)
    assert one.matmul_flops == 2 * 8 * 12288 == 196608  # 12288 attention weights, 8 tokens
    assert two.matmul_flops == 2 * (8 / 2) * 12288 == one.matmul_flops / 2
    mlp1 = MLPCost(GATED, context(dp=2, concurrency=1)).step_cost(PREFILL)
    mlp2 = MLPCost(GATED, context(dp=2, cp=2, concurrency=1)).step_cost(PREFILL)
    assert mlp1.matmul_flops == 2 * 8 * 3 * 64 * 128 == 393216
    assert mlp2.matmul_flops == 2 * 4 * 3 * 64 * 128 == mlp1.matmul_flops / 2
    # cp = 1 with no CP traffic. Even at an unknown load a step's lone 8-token chunk lives on one
    # DP rank (prompts are not split over DP ranks), and that busiest rank sets the step.
    assert one.collectives == []
    assert AttentionCost(GQA, context(dp=2)).step_cost(PREFILL).matmul_flops == 2 * 8 * 12288
    # Many prompts in the step (4 chunks of 8 tokens) are dealt evenly: 16 tokens per rank.
    many = StepShape(prefill_tokens=32, prefill_seqs=4, prefill_context=4.5, prefill_chunk=8)
    assert AttentionCost(GQA, context(dp=2)).step_cost(many).matmul_flops == 2 * 16 * 12288


def test_cp_ring_attention_prefill_from_scratch() -> None:
    cost = AttentionCost(GQA, context(dp=2, cp=2, concurrency=1)).step_cost(PREFILL)
    # Causal 8-token chunk: 1 + … + 8 = 36 (query, position) pairs, 18 per rank with balanced
    # causal blocks: 4·(mean 4.5) = 18. × 4 heads × 4·d = 64 FLOPs → 4608 (half of 9216).
    assert cost.attention_flops == 18 * 4 * 64 == 4608
    # KV: each rank writes its 4 tokens' K/V: 4 × 128 = 512 bytes (and nothing cached).
    assert cost.kv_bytes == 4 * KV == 512
    # Ring: one all-gather of the 8 tokens' K/V (1024 bytes) over the 2 CP ranks;
    # cp − 1 = 1 step of S/cp = 4 tokens' K/V = 512 bytes sent per GPU.
    assert cost.collectives == [Collective("all_gather", 2, 8 * KV)]
    assert cost.communication_bytes == (2 - 1) * 4 * KV == 512


def test_cp4_ring_sends_cp_minus_one_blocks() -> None:
    cost = AttentionCost(GQA, context(dp=4, cp=4, concurrency=1)).step_cost(PREFILL)
    assert cost.matmul_flops == 2 * 2 * 12288  # 8 / 4 = 2 tokens per rank
    assert cost.attention_flops == 2 * 4.5 * 4 * 64  # 2 queries × mean 4.5 positions
    # 3 ring steps of 8/4 = 2 tokens' K/V: 3 × 2 × 128 = 768 bytes = 3/4 of the 1024 gathered.
    assert cost.collectives == [Collective("all_gather", 4, 1024)]
    assert cost.communication_bytes == 3 * 2 * KV == 768


def test_cp_ring_circulates_the_cached_prefix_too() -> None:
    # The 8-token chunk after 16 cached tokens (mean context 20.5), cp = 2.
    cost = AttentionCost(GQA, context(dp=2, cp=2, concurrency=1)).step_cost(PREFILL_CACHED)
    # 4 queries per rank × 20.5 positions × 4 heads × 64 = 20992 (half of 41984).
    assert cost.attention_flops == 4 * 20.5 * 4 * 64 == 20992
    # Each rank reads its half of the 16 cached tokens (8 × 128) and writes 4 new (4 × 128).
    assert cost.kv_bytes == 8 * KV + 4 * KV == 1536
    # The K/V of 16 + 8 = 24 positions go around the ring: 24 × 128 = 3072 gathered,
    # 1 step of 12 tokens' K/V = 1536 bytes sent per GPU.
    assert cost.collectives == [Collective("all_gather", 2, 24 * KV)]
    assert cost.communication_bytes == 12 * KV


def test_cp_with_tp_and_sp_together() -> None:
    # tp 2, dp 2, cp 2, one prompt: 2 heads and 1 KV head (64 bytes/token) per GPU.
    cost = AttentionCost(GQA, context(tp=2, dp=2, cp=2, sp=True, concurrency=1)).step_cost(PREFILL)
    assert cost.matmul_flops == 2 * 4 * 6144  # 4 tokens × 6144 local weights
    # o-projection of 4 tokens: 4 × 64 × 2 = 512 bytes over tp, SP pair; then the CP ring of
    # 8 tokens × 64 bytes of local K/V = 512 bytes over cp.
    assert cost.collectives == [*sp_pair(2, 512), Collective("all_gather", 2, 512)]


def test_cp_splits_the_kv_cache_of_a_sequence() -> None:
    assert AttentionCost(GQA, context()).kv_bytes_per_token() == KV
    assert AttentionCost(GQA, context(dp=2, cp=2)).kv_bytes_per_token() == KV / 2
    assert AttentionCost(GQA, context(dp=8, cp=8)).kv_bytes_per_token() == KV / 8
    # MLA's latent (16 + 4 = 20 elements = 40 bytes) is split the same way.
    assert LatentAttentionCost(MLA, context(dp=4, cp=4)).kv_bytes_per_token() == 40 / 4


def test_cp_decode_combines_partial_softmax_results() -> None:
    # Four decoding sequences on dp 2 (enough load to fill both ranks: R_tok = R_seq = 2).
    plain = AttentionCost(GQA, context(dp=2)).step_cost(DECODE)
    cost = AttentionCost(GQA, context(dp=2, cp=2)).step_cost(DECODE)
    # Per GPU: 2 tokens projected; 4 sequences × 100/2 positions of KV shard = 200 positions,
    # the same as without CP (2 sequences × 100).
    assert cost.matmul_flops == plain.matmul_flops == 2 * 2 * 12288
    assert cost.attention_flops == plain.attention_flops == 4 * 200 * 64
    assert cost.kv_bytes == plain.kv_bytes == 200 * KV + 2 * KV
    # LSE combine over the 4 queries of the CP group: all-gather the queries
    # (4 × 4 heads × 16 × 2 bytes = 512), reduce-scatter the partial outputs and their
    # log-sum-exp in fp32 (4 × 4 heads × (16 + 1) × 4 bytes = 1088).
    assert cost.collectives == [
        Collective("all_gather", 2, 4 * 4 * 16 * B),
        Collective("reduce_scatter", 2, 4 * 4 * 17 * F32),
    ]
    assert cost.communication_bytes == (512 + 1088) / 2


def test_cp_decode_of_a_lone_long_sequence_halves_the_kv_read() -> None:
    shape = StepShape(decode_seqs=1, decode_context=100)
    one = AttentionCost(GQA, context(dp=2, concurrency=1)).step_cost(shape)
    two = AttentionCost(GQA, context(dp=2, cp=2, concurrency=1)).step_cost(shape)
    assert one.attention_flops == 100 * 4 * 64 == 25600
    assert one.kv_bytes == 100 * KV + KV  # the whole cache on one rank
    assert two.attention_flops == 50 * 4 * 64  # each rank attends its 50-token shard
    assert two.kv_bytes == 50 * KV + KV / 2  # new token's K/V written on one of the 2
    assert two.matmul_flops == one.matmul_flops == 2 * 12288  # projected on its home rank
    assert two.collectives == [
        Collective("all_gather", 2, 4 * 16 * B),
        Collective("reduce_scatter", 2, 4 * 17 * F32),
    ]


def test_cp_for_latent_attention() -> None:
    ctx1, ctx2 = context(dp=2, concurrency=1), context(dp=2, cp=2, concurrency=1)
    one = LatentAttentionCost(MLA, ctx1).step_cost(PREFILL)
    two = LatentAttentionCost(MLA, ctx2).step_cost(PREFILL)
    assert one.matmul_flops == 2 * 8 * (MLA_REPLICATED + MLA_SPLIT)
    assert two.matmul_flops == 2 * 4 * (MLA_REPLICATED + MLA_SPLIT)
    assert two.attention_flops == one.attention_flops / 2 == 4 * 18 * 40
    # Ring of the 8 latents (40 bytes each) over 2 ranks.
    assert two.collectives == [Collective("all_gather", 2, 8 * 40)]
    # Decode (absorbed): query = 4 heads × (16 + 4) bf16; partial = 4 heads × (16 + 1) fp32.
    dec = LatentAttentionCost(MLA, context(dp=2, cp=2)).step_cost(DECODE)
    assert dec.collectives == [
        Collective("all_gather", 2, 4 * 4 * 20 * B),
        Collective("reduce_scatter", 2, 4 * 4 * 17 * F32),
    ]


# ------------------------------------------------------------------------ plan validation


def test_cp_must_divide_dp_and_names_the_field() -> None:
    with pytest.raises(PlanError, match=r"cp=3 must divide dp=4") as info:
        ParallelPlan.build(dp=4, cp=3)
    assert info.value.field == "cp"
    with pytest.raises(PlanError, match=r"cp must be a positive integer") as info:
        ParallelPlan.build(cp=0)
    assert info.value.field == "cp"
    with pytest.raises(PlanError, match=r"sp must be true or false") as info:
        ParallelPlan.build(sequence_parallel="yes")  # type: ignore[arg-type]
    assert info.value.field == "sp"


def _mlp_only_spec() -> ModelSpec:
    layers = [
        {"name": "embed", "class": "EmbeddingLayer", "count": 1,
         "specs": {"vocab_size": 1000, "hidden_size": 64}},
        {"name": "mlp", "class": "GatedMLPLayer", "count": 2,
         "specs": {"hidden_size": 64, "intermediate_size": 128}},
        {"name": "head", "class": "OutputLayer", "count": 1,
         "specs": {"vocab_size": 1000, "hidden_size": 64, "tied": True}},
    ]  # fmt: skip
    return ModelSpec.model_validate(
        {
            "model_id": "mlp-only",
            "hf_model_id": "test/mlp-only",
            "name": "mlp-only",
            "hidden_size": 64,
            "num_layers": 2,
            "vocab_size": 1000,
            "total_params": 64000 + 2 * 24576,
            "total_params_formatted": "113K",
            "layer_types": layers,
            "validated": False,
        }
    )


def test_cp_needs_attention_layers() -> None:
    spec = _mlp_only_spec()
    ParallelPlan.build(dp=2).validate_for(spec)  # fine without cp
    with pytest.raises(PlanError, match=r"cp=2 needs attention layers") as info:
        ParallelPlan.build(dp=2, cp=2).validate_for(spec)
    assert info.value.field == "cp"


# ---------------------------------------------------------------------------- estimate level

LLAMA8 = "meta-llama/Llama-3.1-8B-Instruct"
LONG = {"isl": 32768, "osl": 128, "concurrency": 1}


@pytest.fixture(scope="module")
def long_prefill() -> dict[int, Any]:
    return {cp: infercast.estimate(LLAMA8, "h100", tp=1, dp=8, cp=cp, **LONG) for cp in (1, 2, 8)}


def test_cp_shortens_a_long_prefill(long_prefill: dict[int, Any]) -> None:
    one, two, eight = long_prefill[1], long_prefill[2], long_prefill[8]
    assert eight.ttft_ms < two.ttft_ms < one.ttft_ms
    # Less than ideal (the K/V ring is charged on the critical path), but a large gain.
    assert eight.ttft_ms < one.ttft_ms / 3
    assert eight.plan.cp == 8 and eight.plan.gpus == 8 and eight.plan.dp == 8
    assert one.plan.cp == 1
    # The prefill step's matmul-heavy work per GPU: 1/8 of the tokens.
    assert eight.prefill.flops_per_gpu < one.prefill.flops_per_gpu / 4
    # Ring traffic appears only with cp.
    attention = [layer for layer in eight.layers if "Attention" in layer.layer_class]
    assert all(layer.prefill.communication_bytes_per_gpu > 0 for layer in attention)
    assert any("context parallelism cp=8" in note for note in eight.notes)


def test_cp_divides_the_kv_cache_per_gpu(long_prefill: dict[int, Any]) -> None:
    one, eight = long_prefill[1], long_prefill[8]
    # One request: its whole cache on one GPU at cp 1, 1/8 of it on each of 8 GPUs at cp 8.
    assert eight.memory.kv_cache_bytes == pytest.approx(one.memory.kv_cache_bytes / 8)
    assert "1/8 of" in eight.fit_reason


def test_cp_one_matches_the_plain_estimate_at_full_load() -> None:
    # Enough requests to fill every DP rank: placement is the same as before CP existed.
    a = infercast.estimate(LLAMA8, "h100", dp=2, isl=1024, osl=64, concurrency=16)
    b = infercast.estimate(LLAMA8, "h100", dp=2, cp=1, sp=False, isl=1024, osl=64, concurrency=16)
    assert a.model_dump() == b.model_dump()


def test_sp_estimate_same_bytes_fewer_norm_bytes() -> None:
    kw: dict[str, Any] = {"tp": 4, "isl": 2048, "osl": 64, "concurrency": 8}
    plain = infercast.estimate(LLAMA8, "h100", **kw)
    split = infercast.estimate(LLAMA8, "h100", sp=True, **kw)
    assert split.plan.sp and not plain.plan.sp
    assert split.prefill.communication_bytes_per_gpu == pytest.approx(
        plain.prefill.communication_bytes_per_gpu
    )
    norms = {layer.name: layer for layer in plain.layers if layer.layer_class == "NormLayer"}
    for layer in split.layers:
        if layer.layer_class == "NormLayer":
            before = norms[layer.name].prefill.activation_bytes_per_gpu
            assert layer.prefill.activation_bytes_per_gpu == pytest.approx(before / 4)
    assert split.memory.activations_bytes <= plain.memory.activations_bytes
    assert any("sequence parallelism over tp=4" in note for note in split.notes)


def test_sp_at_tp1_is_said_in_the_notes() -> None:
    r = infercast.estimate(LLAMA8, "h100", sp=True, isl=512, osl=16, concurrency=1)
    assert not r.plan.sp
    assert any("at tp=1 it changes nothing" in note for note in r.notes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dp": 4, "cp": 3}, r"cp=3 must divide dp=4"),
        ({"cp": 2}, r"cp=2 must divide dp=1"),
        ({"cp": 0}, r"cp must be a positive integer"),
        ({"sp": "yes"}, r"sp must be true or false"),
    ],
)
def test_bad_sp_cp_inputs(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        infercast.estimate(LLAMA8, "h100", isl=512, osl=16, concurrency=1, **kwargs)


def test_estimate_rejects_cp_for_a_model_without_attention() -> None:
    with pytest.raises(InvalidInputError, match=r"cp=2 needs attention layers"):
        infercast.estimate(_mlp_only_spec(), "h100", dp=2, cp=2, isl=64, osl=8, concurrency=1)


# ----------------------------------------------------------------------------------- API

TINY = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
BODY = {"model": TINY, "hardware": "h100", "isl": 1984, "osl": 64, "concurrency": 1}
"""1984 + 64 = 2048: TinyLlama's whole context."""


@pytest.fixture(scope="module")
def client(api_client: TestClient) -> TestClient:
    return api_client


def test_api_estimate_accepts_sp_and_cp(client: TestClient) -> None:
    plain = client.post("/estimate", json={**BODY, "dp": 4, "gpus": 4})
    split = client.post("/estimate", json={**BODY, "dp": 4, "gpus": 4, "cp": 4, "tp": 1})
    assert plain.status_code == 200 and split.status_code == 200, split.text
    assert split.json()["plan"]["cp"] == 4 and plain.json()["plan"]["cp"] == 1
    assert split.json()["ttft_ms"] < plain.json()["ttft_ms"]
    sp = client.post("/estimate", json={**BODY, "tp": 2, "sp": True})
    assert sp.status_code == 200 and sp.json()["plan"]["sp"] is True


def test_api_layer_metrics_accepts_sp_and_cp(client: TestClient) -> None:
    response = client.post("/layers/metrics", json={**BODY, "tp": 2, "dp": 2, "cp": 2, "sp": True})
    assert response.status_code == 200, response.text
    plan = response.json()["plan"]
    assert plan["sp"] is True and plan["cp"] == 2 and plan["gpus"] == 4


@pytest.mark.parametrize(
    ("change", "field"),
    [({"dp": 4, "cp": 3}, "cp"), ({"cp": 0}, "cp"), ({"sp": "maybe"}, "sp")],
)
def test_api_bad_sp_cp_is_422_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    response = client.post("/estimate", json={**BODY, **change})
    assert response.status_code == 422, response.text
    assert field in [p["field"] for p in response.json()["problems"]]


# ----------------------------------------------------------------------------------- CLI

runner = CliRunner()


def _cli(*args: str) -> Any:
    from infercast.interfaces.cli.app import app

    result = runner.invoke(app, list(args), env={"INFERCAST_MODELS_PATH": "", "COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


WORKLOAD = ("--model", TINY, "--hardware", "h100", "--isl", "1984", "--osl", "64", "-c", "1")


def test_cli_estimate_cp_and_sp_flags() -> None:
    result = _cli("estimate", *WORKLOAD, "--dp", "4", "--cp", "4", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["plan"]["cp"] == 4
    result = _cli("estimate", *WORKLOAD, "--tp", "2", "--sp")
    assert result.exit_code == 0, result.output
    assert "TP2 DP1 PP1 SP" in result.output
    result = _cli("estimate", *WORKLOAD, "--tp", "2", "--no-sp", "--json")
    assert json.loads(result.output)["plan"]["sp"] is False


def test_cli_layers_cp_and_sp_flags() -> None:
    result = _cli("layers", *WORKLOAD, "--tp", "2", "--dp", "2", "--cp", "2", "--sp", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)["plan"]
    assert plan["cp"] == 2 and plan["sp"] is True


def test_cli_bad_cp_is_one_line_and_exit_2() -> None:
    result = _cli("estimate", *WORKLOAD, "--dp", "4", "--cp", "3")
    assert result.exit_code == 2
    assert "cp=3 must divide dp=4" in result.output

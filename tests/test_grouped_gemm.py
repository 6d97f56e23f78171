"""The grouped expert GEMM law (infercast.layers.grouped_gemm): hand-derived cases, properties,
and that a MoE layer's step and a MoE model's estimate are timed on the padded rows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infercast.dtypes import dtype
from infercast.estimation.estimate import prepare
from infercast.layers import CostContext, StepShape
from infercast.layers.ffn import MoECost
from infercast.layers.grouped_gemm import executed_rows, k_loop_efficiency, m_tile
from infercast.parallel import ParallelPlan
from shapes import DECODE, MOE


def _context(experts: str | None = None) -> CostContext:
    bf16 = dtype("bf16")
    return CostContext(
        plan=ParallelPlan.build(tp=1),
        weight_dtype=None,
        moe_dtype=dtype(experts) if experts else None,
        kv_dtype=bf16,
        activation_dtype=bf16,
        default_dtype=bf16,
    )


def test_one_decode_token_executes_one_tile_per_touched_expert() -> None:
    # T = 1 token, top-4 of 128 experts: P = 4 pairs on X = 128·(1 − (1 − 4/128)¹) = 4 experts,
    # one row each. T = 1 ≤ E: vLLM's fused_moe tile is 16, so each expert runs 16 rows:
    # max(X·t, P + X·t/2) = max(64, 4 + 32) = 64 rows, 16× the useful 4.
    assert m_tile(dtype("bf16"), 1, 128) == 16
    assert m_tile(dtype("mxfp4"), 1, 128) == 16
    assert executed_rows(4, 4, 16) == 64
    # Block-scaled fp8 experts decode on the same 16-row rule (DeepGEMM's contiguous layout
    # is the prefill path): a decode step never pads to 128.
    assert m_tile(dtype("fp8"), 1, 128) == 16
    assert m_tile(dtype("fp8"), 128, 128) == 16
    # 4 experts at 128 rows (a prefill-sized step's tile) would be 4 × 128 = 512 rows.
    assert executed_rows(4, 4, 128) == 512


def test_a_prefill_chunk_pads_half_a_tile_per_expert() -> None:
    # T = 8192 tokens, top-4 of 128: P = 32768 pairs, all 128 experts touched (1 − (31/32)^8192
    # = 1 to 1e-113), 256 rows each. T > E: tile 64, pad 32 rows per expert on average:
    # 32768 + 128·32 = 36864 rows (+12.5 %). Block-scaled fp8 (DeepGEMM's 128-row
    # alignment): 32768 + 128·64 = 40960 (+25 %).
    assert m_tile(dtype("bf16"), 8192, 128) == 64
    assert m_tile(dtype("mxfp4"), 129, 128) == 64
    assert m_tile(dtype("fp8"), 8192, 128) == 128
    assert executed_rows(32768, 128, 64) == 36864
    assert executed_rows(32768, 128, 128) == 40960
    # Where the rows just fill half a tile (m = t/2 = 32) both limits agree: X·t = 8192.
    assert executed_rows(4096, 128, 64) == 8192
    assert executed_rows(0, 0, 64) == 0.0


def test_k_loop_efficiency_matches_deepgemm_grouped_table() -> None:
    # K0 = 550: K = 550 reaches half the asymptote; K = 2048: 2048/2598 = 0.78830;
    # K = 7168: 7168/7718 = 0.92874. Their ratio 0.8488 is DeepGEMM's published H800
    # grouped-contiguous ratio 1093/1288 = 0.8486 (8 groups × 4096 rows, K 2048 vs 7168).
    assert k_loop_efficiency(550) == 0.5
    assert k_loop_efficiency(2048) == pytest.approx(0.78830, abs=1e-5)
    assert k_loop_efficiency(7168) == pytest.approx(0.92874, abs=1e-5)
    assert k_loop_efficiency(2048) / k_loop_efficiency(7168) == pytest.approx(1093 / 1288, abs=1e-3)
    assert k_loop_efficiency(0) == 0.0
    # bf16 inputs (2 bytes per element): K0 = 550/2 = 275 elements.
    assert k_loop_efficiency(275, 2.0) == 0.5
    assert k_loop_efficiency(1100, 0.5) == 0.5  # fp4: 1100 elements


_TILES = st.sampled_from([16, 64, 128])


@given(st.floats(0.01, 512), st.floats(0, 1e6), st.floats(0, 1e5), _TILES)
def test_padding_is_bounded_and_monotonic(experts: float, extra: float, more: float, tile: int):
    pairs = experts + extra  # a touched expert holds at least one pair
    rows = executed_rows(pairs, experts, tile)
    # Never fewer rows than the useful ones, never a whole tile of pad per expert more.
    assert pairs <= rows <= pairs + experts * tile
    # More pairs on the same experts: never fewer rows, never a larger padded share.
    bigger = executed_rows(pairs + more, experts, tile)
    assert bigger >= rows
    assert bigger / (pairs + more) <= rows / pairs * (1 + 1e-12)


def test_moe_layer_times_the_padded_rows_and_reports_the_useful_flops() -> None:
    # shapes.MOE: hidden 64, 8 experts, top-2, expert width 32; DECODE: 4 tokens, so P = 8
    # pairs over X = 8·(1 − 0.75⁴) = 5.46875 experts, tile 16 (4 ≤ 8):
    # rows = max(5.46875·16, 8 + 5.46875·8) = max(87.5, 51.75) = 87.5.
    # One row's expert work at its K-loop efficiency, k·n / (k/(k + K0)) = n·(k + K0), with
    # bf16 experts' K0 = 550/2 = 275 (K0 is bytes of K per row, infercast.layers.k_loop):
    # gate and up (k 64, n 32) 32·339 = 10848 each, down (k 32, n 64) 64·307 = 19648: 41344.
    # The router (64 × 8 = 512 useful, bf16) runs on the 4 tokens unpadded, at the dense
    # K-loop efficiency (K0 = 800/2 = 400): 8·(64 + 400) = 3712 timed per token.
    cost = MoECost(MOE, _context()).step_cost(DECODE)
    assert cost.timed_matmul_flops == pytest.approx(2 * (87.5 * 41344 + 4 * 3712))  # 7264896
    assert cost.matmul_work == cost.timed_matmul_flops
    # Reported FLOPs stay the useful 2·M·N·K: 4 tokens × (2 experts × 6144 + router 512).
    assert cost.matmul_flops == 2 * 4 * (2 * 6144 + 512) == 102400
    # fp8 (block-scaled) experts, a 16-token prefill chunk (16 > 8 experts): DeepGEMM's
    # 128-row tiles. P = 32 pairs on X = 8·(1 − 0.75¹⁶) = 7.91982 experts:
    # rows = max(7.91982·128, 32 + 7.91982·64) = 1013.737, each at fp8's K0 = 550:
    # 32·614 + 32·614 + 64·582 = 76544 per row. The bf16 router runs on the 16 tokens.
    chunk = StepShape(prefill_tokens=16, prefill_seqs=1, prefill_context=8.5, prefill_chunk=16)
    fp8 = MoECost(MOE, _context("fp8")).step_cost(chunk)
    experts = 8 * (1 - 0.75**16)
    assert experts == pytest.approx(7.91982, abs=1e-5)
    assert fp8.timed_matmul_flops == pytest.approx(2 * (experts * 128 * 76544 + 16 * 3712))


def test_a_moe_estimate_is_timed_by_the_law() -> None:
    # Qwen3-30B-A3B (hidden 2048, 128 experts, top-8, expert width 768, bf16), H100 TP1,
    # one 8192-token prefill chunk: P = 65536 pairs on all 128 experts (512 rows each), tile
    # 64: rows = 65536 + 128·32 = 69632. Per row, at bf16's grouped K0 = 275: gate and up
    # 768·(2048 + 275) = 1784064 each, down 2048·(768 + 275) = 2136064: 5704192. Router
    # 2048 × 128 on 8192 tokens, at the dense bf16 K0 = 400: 128·2448 = 313344 per token.
    dep = prepare("Qwen/Qwen3-30B-A3B", "h100", framework="vllm")
    shape = StepShape(
        prefill_tokens=8192, prefill_seqs=1, prefill_context=4096.5, prefill_chunk=8192
    )
    timed = 2 * (69632 * 5704192 + 8192 * 313344)
    moe = next(t for t in dep.timer.step_time(shape, detail=True).layers if t.name == "moe")
    assert moe.cost.timed_matmul_flops == pytest.approx(timed, rel=1e-9)
    peak = dep.hardware.peak_flops_for("bf16", "bf16")[0]
    rate = peak * dep.params.efficiency.moe_compute
    assert moe.compute_s == pytest.approx(48 * timed / rate, rel=1e-9)
    # The useful FLOPs are what the report counts: 2 · 8192 · 8 · 3·2048·768 + router.
    assert moe.cost.matmul_flops == pytest.approx(
        2 * (65536 * 3 * 2048 * 768 + 8192 * 2048 * 128), rel=1e-9
    )

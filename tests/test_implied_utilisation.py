"""``scripts/implied_utilisation.py``: Little's-law demand of a measurement, hand-derived."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "implied_utilisation.py"
implied = SimpleNamespace(**runpy.run_path(str(SCRIPT)))
LLAMA_H200_VLLM = ("meta-llama/Llama-3.1-8B-Instruct", "h200", "vllm", "fp8")


def _row(tp: int, isl: int, osl: int, concurrency: int, ttft_ms: float, tpot_ms: float) -> dict:
    """A calibration-file row of Llama-3.1-8B-Instruct under vLLM on H200 in fp8."""
    model, hardware, framework, gemm = LLAMA_H200_VLLM
    return {
        "model": model,
        "hardware": hardware,
        "framework": framework,
        "gemm_dtype": gemm,
        "attention_tp": str(tp),
        "attention_dp": "1",
        "pp": "1",
        "isl": str(isl),
        "osl": str(osl),
        "concurrency": str(concurrency),
        "ttft_ms": str(ttft_ms),
        "tpot_ms": str(tpot_ms),
    }


def test_request_rate_is_littles_law() -> None:
    # 10 clients, each spending 1 s to the first token and 10 × 0.1 s on the rest: 2 s a
    # request, so 10 / 2 = 5 requests per second.
    assert implied.implied_request_rate(10, 1.0, 0.1, 11) == pytest.approx(5.0)


def test_prefill_share_divides_by_every_gpu() -> None:
    # 5 req/s × 1000 tokens × 2 GFLOP = 10 TFLOP/s over 2 GPUs of 10 TFLOP/s each: half.
    assert implied.prefill_share(5.0, 1000, 2e9, 2, 1e13) == pytest.approx(0.5)


def test_llama_8b_fp8_row_demands_86_percent_of_the_fp8_peak() -> None:
    # The calibration file's vLLM row Llama-3.1-8B @ H200, TP1, fp8, 2000/100, C = 64,
    # TTFT 121.7 ms, TPOT 9.74 ms: X = 64 / (0.1217 + 99 × 0.00974) = 58.93 req/s.
    # FLOPs per prompt token, by hand: projections 2 × 32 × (4096 × (4096 + 2 × 1024 + 4096)
    # + 3 × 4096 × 14336) = 13.96 G; QKᵀ and PV 4 × 128 × 32 heads × 1000.5 positions (causal
    # mean of 2000) × 32 layers = 0.52 G; the LM head's one row per prompt 2 × 4096 × 128256
    # / 2000 = 0.5 M: 14.49 GFLOP. 58.93 × 2000 × 14.49e9 / 1.9789e15 (H200 fp8 dense) = 0.863.
    groups = implied.summarise([_row(1, 2000, 100, 64, 121.7, 9.74)])
    ((mfu, comm, *_),) = groups[LLAMA_H200_VLLM]
    assert mfu == pytest.approx(0.863, rel=0.02)
    assert comm == 0.0  # TP1: no all-reduce


def test_tensor_parallel_all_reduce_share_at_the_link_peak() -> None:
    # Same model, TP8, 4000/100, C = 80, TTFT 102.2 ms, TPOT 7.95 ms: X = 80 / (0.1022 +
    # 99 × 0.00795) = 89.96 req/s, 359,854 prompt tokens/s. Each token costs 65 all-reduces
    # (the vocabulary-parallel embedding's, then attention output and MLP down projection of
    # 32 layers) of 4096 bf16 values = 8192 B, of which a ring puts 2 × 7/8 on every GPU's
    # wire: 65 × 14,336 = 931,840 B per token per GPU. 359,854 × 931,840 B/s over NVLink 4's
    # 450 GB/s per GPU = 0.745.
    groups = implied.summarise([_row(8, 4000, 100, 80, 102.2, 7.95)])
    ((_, comm, *_),) = groups[LLAMA_H200_VLLM]
    assert comm == pytest.approx(0.745, rel=0.01)

"""The K-loop law: why a shallow GEMM runs below its kernel's large-K efficiency.

Every output tile of a tiled GEMM pays a fixed pipeline prologue and epilogue (filling the
TMA/shared-memory stages, storing the accumulator and, for block-scaled formats, promoting the
scales) while its useful work grows with the reduction depth ``K``. So the efficiency at depth
``K`` is ``K / (K + K0)`` of the large-``K`` one, and a fitted efficiency means that asymptote.
Why it matters: tensor parallelism makes the row-parallel matrices shallow (Llama-3.1-8B's
attention output at TP8 has ``K = 4096/8 = 512``; MLA's latent up-projection has
``K = kv_lora_rank = 512`` at any TP), and a flat efficiency prices them like deep ones.

Both constants are read off DeepGEMM's published H800 tables (github.com/deepseek-ai/DeepGEMM,
README of the initial release, fp8 with 128-element block scaling, TFLOPS of useful
``2·M·N·K``):

- **Dense GEMMs, ``K0 = 800``.** The "normal GEMMs for dense models" table at ``M = 4096``
  holds one pair that differs only in ``K``: ``N = 7168`` runs 1358 TFLOPS at ``K = 16384``
  and 1025 TFLOPS at ``K = 2048`` (same M and N, so the same tile count and waves);
  ``[2048/(2048+K0)] / [16384/(16384+K0)] = 1025/1358`` gives ``K0 ≈ 797``. The law then
  predicts the table's other ``M = 4096`` rows from the 1358 one within 6 %: ``N 32768,
  K 512``: 556 against 590 TFLOPS; ``N 24576, K 1536``: 937 against 990; ``N 4096, K 7168``:
  1281 against 1304 (``N 2112, K 7168``, 1058, sits lower by wave quantisation: 17 × 32 tiles
  of 128 × 128 fill 132 SMs 4.1 times, so 5 waves run at 0.82). The asymptote is
  ``1358 × 17184/16384 ≈ 1424`` TFLOPS, 0.72 of the 1979 TFLOPS dense fp8 peak.
- **Grouped expert GEMMs, ``K0 = 550``** (:mod:`.grouped_gemm`): the grouped-contiguous table
  (8 groups of 4096 rows) runs 1288 TFLOPS at ``N 4096, K 7168`` and 1093 at ``N 7168,
  K 2048``.

Assumption, stated: the constants measured on DeepGEMM's fp8 Hopper kernels are applied to
every GEMM of their kind whatever its format and part (cuBLAS/CUTLASS bf16 tiles have the same
structure; no other published table separates ``K`` from the other dimensions). Only the
time uses the law: reported FLOPs stay the useful ``2·M·N·K``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["DENSE_K0", "GROUPED_K0", "k_loop_efficiency", "timed_weights"]

DENSE_K0 = 800.0
"""``K0`` of dense GEMMs, from DeepGEMM's published dense H800 table (module docstring)."""
GROUPED_K0 = 550.0
"""``K0`` of grouped expert GEMMs, from DeepGEMM's published grouped-contiguous H800 table."""


def k_loop_efficiency(k: float, k0: float) -> float:
    """Share of the large-K efficiency a GEMM of depth ``k`` reaches: ``k / (k + k0)``."""
    return k / (k + k0) if k > 0 else 0.0


def timed_weights(shapes: Iterable[tuple[float, float]], k0: float) -> float:
    """``Σ K·N / efficiency(K)`` over ``(K, N)`` matrices: the weight elements one row is
    timed for (``2 · rows · this`` is the work charged at the fitted efficiency); equal to
    ``Σ K·N + K0·Σ N``."""
    return sum(k * n / k_loop_efficiency(k, k0) for k, n in shapes if k > 0)

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

- **Dense GEMMs, ``K0 = 800`` fp8 elements.** The "normal GEMMs for dense models" table at
  ``M = 4096`` holds one pair that differs only in ``K``: ``N = 7168`` runs 1358 TFLOPS at
  ``K = 16384`` and 1025 TFLOPS at ``K = 2048`` (same M and N: the same tiles and waves);
  ``[2048/(2048+K0)] / [16384/(16384+K0)] = 1025/1358`` gives ``K0 ≈ 797``. The law then
  predicts the table's other ``M = 4096`` rows from the 1358 one within 6 %: ``N 32768,
  K 512``: 556 against 590 TFLOPS; ``N 24576, K 1536``: 937 against 990; ``N 4096, K 7168``:
  1281 against 1304 (``N 2112, K 7168``, 1058, sits lower by wave quantisation: 17 × 32 tiles
  of 128 × 128 fill 132 SMs 4.1 times, so 5 waves run at 0.82). The asymptote is
  ``1358 × 17184/16384 ≈ 1424`` TFLOPS, 0.72 of the 1979 TFLOPS dense fp8 peak.
- **Grouped expert GEMMs, ``K0 = 550`` fp8 elements** (:mod:`.grouped_gemm`): the
  grouped-contiguous table (8 groups of 4096 rows) runs 1288 TFLOPS at ``N 4096, K 7168``
  and 1093 at ``N 7168, K 2048``.

The constants are fixed per-tile time measured in units of fp8 mainloop work, so they are
bytes of K per row: a matmul whose tensor cores run a format of ``b`` bytes per element has
``K0 = K0_bytes / b`` elements (bf16: 400 dense, 275 grouped; fp4: 1600 and 1100). Why: the
fixed time ``t0`` per tile (pipeline fill, epilogue store of the same output tile) is the
same, while the mainloop's rate per K element is the tensor cores' rate for that format, which
doubles from bf16 to fp8 and from fp8 to fp4 on Hopper and Blackwell (the datasheets' dense
peaks), so ``K0 = t0 · rate / (2·BM·BN)`` scales as ``1/b``. The format is the one the part
runs (mxfp4 weights on Hopper dequantise to bf16: 2 bytes).

Assumptions, stated: the constants measured on DeepGEMM's fp8 Hopper kernels hold for every
GEMM of their kind on every part (cuBLAS/CUTLASS tiles have the same structure; no other
published table separates ``K`` from the other dimensions), with ``t0`` the same for every
format. Only the time uses the law: reported FLOPs stay the useful ``2·M·N·K``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "DENSE_K0_BYTES",
    "GROUPED_K0_BYTES",
    "dense_k_loop_efficiency",
    "k_loop_efficiency",
    "timed_weights",
]

DENSE_K0_BYTES = 800.0
"""``K0`` of dense GEMMs in bytes of K per row (800 fp8 elements), from DeepGEMM's published
dense H800 table (module docstring)."""
GROUPED_K0_BYTES = 550.0
"""``K0`` of grouped expert GEMMs in bytes of K per row, from DeepGEMM's published
grouped-contiguous H800 table."""


def k_loop_efficiency(k: float, k0: float) -> float:
    """Share of the large-K efficiency a GEMM of depth ``k`` reaches: ``k / (k + k0)``."""
    return k / (k + k0) if k > 0 else 0.0


def dense_k_loop_efficiency(k: float, element_bytes: float) -> float:
    """:func:`k_loop_efficiency` of a dense GEMM whose tensor cores run ``element_bytes``
    bytes per element: ``K0 = DENSE_K0_BYTES / element_bytes``."""
    return k_loop_efficiency(k, DENSE_K0_BYTES / element_bytes)


def timed_weights(shapes: Iterable[tuple[float, float, float]]) -> float:
    """``Σ K·N / efficiency(K)`` over ``(K, N, K0)`` matrices: the weight elements one row is
    timed for (``2 · rows · this`` is the work charged at the fitted efficiency); equal to
    ``Σ N·(K + K0)``."""
    return sum(k * n / k_loop_efficiency(k, k0) for k, n, k0 in shapes if k > 0)

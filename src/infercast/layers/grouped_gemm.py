"""Grouped expert GEMMs: what a MoE layer's experts really execute, by tokens per expert.

A fused-MoE kernel does not run one ``[pairs, K] × [K, N]`` GEMM: it runs one GEMM per local
expert on the rows routed to it, each expert's rows padded up to the kernel's M tile. Why that
matters: at ``m = T·k/E`` rows per expert (uniform routing) a decode step's few rows per
expert execute a whole tile, and a prefill step's experts each waste about half a tile; a flat
efficiency cannot tell the two apart (it fitted 0.21 of peak on gpt-oss, absorbing both).

Physical ingredients, closed forms only (a step time asks for this every layer type):

- **Rows and experts** come from :mod:`infercast.layers.routing` (the busiest EP rank's
  token-expert pairs ``P`` and the distinct experts it touches ``X``; without EP
  ``X = E·(1 − (1 − k/E)^T)``).
- **The M tile.** A fused-MoE kernel of the vLLM family pads each expert's rows to its
  ``BLOCK_SIZE_M`` (``moe_align_block_size``), whose default configuration is 16 when the step's
  tokens are at most the experts (``M <= E``, decode batches) and 64 otherwise
  (vllm/model_executor/layers/fused_moe/fused_moe.py, ``get_default_config``; the tuned
  per-device configs in ``fused_moe/configs`` pick 16 for small batches and 64–128 for large).
  Block-scaled fp8 experts in prefill-sized steps run DeepGEMM-class kernels whose contiguous
  grouped layout, the prefill path, requires each expert's rows aligned to the GEMM M block,
  128 (``get_m_alignment_for_contiguous_layout()``; github.com/deepseek-ai/DeepGEMM README,
  "grouped GEMMs (contiguous layout)"); their decode-sized steps keep the fused-MoE rule
  (DeepGEMM's masked layout for DeepEP low-latency decode, blocks of at least 64 rows, is not
  modelled).
- **Padding.** With ``m = P/X`` rows per touched expert and tile ``t``, an expert executes
  ``t·⌈r/t⌉`` rows. Two limits fix the closed form ``rows = max(X·t, P + X·t/2)``: when every
  expert's rows fit one tile (``m ≤ t/2``) each touched expert executes exactly one tile;
  when the counts spread over many tiles the pad ``(−r) mod t`` is uniform, half a tile per
  expert on average. Always ``P ≤ rows ≤ P + X·t`` (less than one tile of pad per expert).
- **The K loop.** Every output tile pays a pipeline prologue and epilogue (filling the
  TMA/shared-memory stages, the fp32 accumulator store and, for block scaling, the scale
  promotion) that is fixed per tile while the useful work grows with ``K``: the efficiency at
  depth ``K`` is ``K / (K + K0)`` of the large-``K`` one. ``K0 = 550`` is read off DeepGEMM's
  published H800 grouped-contiguous benchmark (initial-release README table): 8 groups of
  4096 rows run 1288 TFLOPS at N 4096, K 7168 and 1093 TFLOPS at N 7168, K 2048;
  ``[2048/(2048+K0)] / [7168/(7168+K0)] = 1093/1288`` gives ``K0 ≈ 550`` (the larger N of the
  K 2048 row favours it, so this understates the K effect, if anything). The same rows put
  the large-K asymptote at ``1288/1979 × (7168+550)/7168 ≈ 0.70`` of the 1979 TFLOPS dense
  fp8 peak — what ``moe_compute`` now means: the efficiency of a large, deep grouped GEMM.
  Expert slices under ``moe_tp`` get shallow (gpt-oss's down projection at TP8: K = 360),
  which is where this matters. ``K0`` counts fp8 elements, that is bytes of K per row: a
  format the part runs at ``b`` bytes per element has ``K0 = 550 / b`` (bf16: 275, fp4: 1100;
  why in :mod:`.k_loop`).

FLOP convention (the same in every report): FLOPs reported are the useful ``2·M·N·K`` of the
routed pairs; the time is charged for the executed (padded) rows at the K-loop efficiency.
Dense GEMMs follow the same K-loop law with their own constant (:mod:`.k_loop`). Not
modelled: wave quantisation over the SMs (the tile counts of these shapes fill an H100's 132
SMs many times over in prefill) and per-format kernel differences beyond the tile.
"""

from __future__ import annotations

from infercast.dtypes import DType
from infercast.layers.k_loop import GROUPED_K0_BYTES
from infercast.layers.k_loop import k_loop_efficiency as _k_loop_efficiency

__all__ = [
    "DEEPGEMM_M_ALIGNMENT",
    "FUSED_MOE_LARGE_M",
    "FUSED_MOE_SMALL_M",
    "K_LOOP_OVERHEAD",
    "executed_rows",
    "k_loop_efficiency",
    "m_tile",
]

DEEPGEMM_M_ALIGNMENT = 128
"""DeepGEMM's contiguous grouped layout: each expert's rows aligned to the 128-row M block."""
FUSED_MOE_SMALL_M = 16
"""vLLM fused_moe default ``BLOCK_SIZE_M`` when the step's tokens are at most the experts."""
FUSED_MOE_LARGE_M = 64
"""vLLM fused_moe default ``BLOCK_SIZE_M`` otherwise."""
K_LOOP_OVERHEAD = GROUPED_K0_BYTES
"""``K0`` of the K-loop law for fp8 (1-byte) tensor-core inputs, from DeepGEMM's published
grouped-contiguous H800 table; ``K0 / bytes per element`` for other formats (:mod:`.k_loop`)."""


def m_tile(expert_format: DType, tokens: float, num_experts: int) -> int:
    """The M tile the grouped kernel pads each expert's rows to: vLLM fused_moe's 16 when
    ``tokens ≤ E``; else DeepGEMM's 128-row alignment for block-scaled fp8 experts, 64 for
    every other format."""
    if tokens <= num_experts:
        return FUSED_MOE_SMALL_M
    if expert_format.name == "fp8" and expert_format.block_size:
        return DEEPGEMM_M_ALIGNMENT
    return FUSED_MOE_LARGE_M


def executed_rows(pairs: float, experts: float, tile: float) -> float:
    """Rows a grouped GEMM executes for ``pairs`` token-expert pairs over ``experts`` touched
    experts, each padded to ``tile``: ``max(X·t, P + X·t/2)`` (module docstring); 0 for none."""
    if pairs <= 0.0 or experts <= 0.0:
        return 0.0
    one_tile = experts * tile
    spread = pairs + 0.5 * one_tile
    return spread if spread > one_tile else one_tile


def k_loop_efficiency(k: float, element_bytes: float = 1.0) -> float:
    """Share of the large-K efficiency a grouped GEMM of depth ``k`` reaches on tensor-core
    inputs of ``element_bytes`` bytes: ``k / (k + K0/element_bytes)``."""
    return _k_loop_efficiency(k, K_LOOP_OVERHEAD / element_bytes)

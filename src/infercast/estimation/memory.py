"""Memory one GPU needs: weights, KV cache at a load, peak activations, runtime reserve.

- Weights: each layer type's stored bytes under the plan; with pipeline parallelism the
  per-block layers are divided over the stages and the worst stage also holds the larger of the
  embedding and the LM head.
- KV cache: sized for every sequence at its full context (``isl + osl``), since an engine must
  hold that much to finish every request without preemption; sliding-window layers keep at most
  the window; DP attention spreads the sequences over ``dp`` ranks.
- Activations: peak live bytes of the largest layer for one full step budget of tokens (not a
  sum over layers: they are freed layer by layer); the LM head's fp32 logits count for the rows
  that need them (one per sequence in the step).
- Reserve: what the engine leaves outside its memory pool (CUDA context, CUDA graphs,
  communication buffers, allocator slack): the engine's rule, ``(1 − memory_utilization)`` of
  capacity (vLLM 0.90, SGLang 0.88, TensorRT-LLM 0.92 as an approximation of its
  free-memory fraction), at least 1.5 GB (:meth:`infercast.engines.Engine.reserve_bytes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infercast.estimation.timing import StepTimer, is_edge_layer

__all__ = ["MemoryPlan", "plan_memory"]


@dataclass(frozen=True)
class MemoryPlan:
    weights_bytes: float
    kv_bytes_per_sequence: float
    """KV cache of one sequence at full context, on the GPU that holds it."""
    activations_bytes: float
    reserve_bytes: float
    capacity_bytes: float

    def kv_bytes(self, sequences_per_gpu: float) -> float:
        return self.kv_bytes_per_sequence * sequences_per_gpu

    def free_for_kv(self) -> float:
        return (
            self.capacity_bytes - self.weights_bytes - self.activations_bytes - self.reserve_bytes
        )

    def max_sequences_per_gpu(self) -> int:
        free = self.free_for_kv()
        if free <= 0:
            return 0
        if self.kv_bytes_per_sequence <= 0:
            return 10**9
        return math.floor(free / self.kv_bytes_per_sequence)


def plan_memory(
    timer: StepTimer, context_tokens: int, step_tokens: float, logit_rows: float
) -> MemoryPlan:
    pp = timer.ctx.plan.pp
    per_block = 0.0
    edges: list[float] = []
    kv = 0.0
    activations = 0.0
    tokens_per_gpu = step_tokens / timer.ctx.plan.dp
    for lt, model in timer.models:
        stored = model.stored_weight_bytes()
        if not is_edge_layer(lt.layer_specs, lt.count):
            per_block += stored * math.ceil(lt.count / pp)
            window = model.kv_window()
            cached = min(context_tokens, window) if window else context_tokens
            kv += model.kv_bytes_per_token() * cached * math.ceil(lt.count / pp)
        else:
            edges.append(stored * lt.count)
        on_logits = lt.layer_specs.role == "head"  # the LM head works on logit rows only
        rows = logit_rows / timer.ctx.plan.dp if on_logits else tokens_per_gpu
        activations = max(activations, model.activation_peak_bytes(rows))
    weights = per_block + (max(edges) if pp > 1 and edges else sum(edges))
    capacity = float(timer.hardware.memory_bytes)
    return MemoryPlan(
        weights_bytes=weights,
        kv_bytes_per_sequence=kv,
        activations_bytes=activations,
        reserve_bytes=timer.params.framework.reserve_bytes(capacity),
        capacity_bytes=capacity,
    )

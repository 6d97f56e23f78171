"""Memory one GPU needs: weights, KV cache at a load, peak activations, runtime reserve.

- Weights: each layer type's stored bytes under the plan; with pipeline parallelism the
  per-block layers are divided over the stages and the worst stage also holds the larger of the
  embedding and the LM head.
- KV cache: sized for every sequence at the context the engine's admission rule holds for it
  (``context_tokens``: the full ``isl + osl`` where the engine reserves it at admission, as
  TensorRT-LLM's capacity scheduler does; the life-time mean ``isl + osl/2`` where it pages KV
  on demand, as vLLM and SGLang do); sliding-window layers keep at most the window; DP
  attention spreads the sequences over ``dp`` ranks.
- Recurrent state: linear-attention / SSM layers hold a fixed state per sequence instead
  (state bytes per sequence, beside the KV cache; max concurrency divides the free memory by
  KV + state of one sequence).
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
from typing import Any
from weakref import WeakKeyDictionary

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
    state_bytes_per_sequence: float = 0.0
    """Fixed recurrent + conv state of one sequence (linear attention, SSM layers): it does not
    grow with the context, but every admitted sequence holds it beside its KV cache."""

    def kv_bytes(self, sequences_per_gpu: float) -> float:
        return self.kv_bytes_per_sequence * sequences_per_gpu

    def state_bytes(self, sequences_per_gpu: float) -> float:
        return self.state_bytes_per_sequence * sequences_per_gpu

    def free_for_kv(self) -> float:
        return (
            self.capacity_bytes - self.weights_bytes - self.activations_bytes - self.reserve_bytes
        )

    def max_sequences_per_gpu(self) -> int:
        free = self.free_for_kv()
        if free <= 0:
            return 0
        per_sequence = self.kv_bytes_per_sequence + self.state_bytes_per_sequence
        if per_sequence <= 0:
            return 10**9
        return math.floor(free / per_sequence)


def _stage_counts(lt: Any, pp: int, num_layers: int) -> list[int]:
    """Instances of a per-block entry on each pipeline stage: ``ceil(count / pp)`` on every
    stage (the worst case of a uniform model), or — for an entry that lists its blocks, as
    hybrid models do — counted on the contiguous stages engines cut (block ``i`` on stage
    ``i·pp // num_layers``), so the interleaving of kinds decides the worst stage."""
    indices = getattr(lt.layer_specs, "layer_indices", None)
    if pp == 1 or indices is None:
        return [math.ceil(lt.count / pp)] * pp
    per_stage = [0] * pp
    for i in indices:
        per_stage[min(i * pp // num_layers, pp - 1)] += 1
    return per_stage


@dataclass(frozen=True)
class _LayerMemory:
    """What one layer type holds that does not depend on the load (per instance)."""

    model: Any
    stored: float
    per_block: bool
    window: int | None
    kv_per_token: float
    state: float
    stage_counts: list[int]
    count: int
    on_logits: bool


_LAYERS: WeakKeyDictionary[StepTimer, list[_LayerMemory]] = WeakKeyDictionary()
"""Per timer (one plan): the admission rule plans memory at every probe of a search."""


def _layers(timer: StepTimer) -> list[_LayerMemory]:
    layers = _LAYERS.get(timer)
    if layers is None:
        pp = timer.ctx.plan.pp
        layers = []
        for lt, model in timer.models:
            per_block = not is_edge_layer(lt.layer_specs, lt.count)
            state_of = getattr(model, "state_bytes_per_sequence", None)
            layers.append(
                _LayerMemory(
                    model=model,
                    stored=model.stored_weight_bytes(),
                    per_block=per_block,
                    window=model.kv_window() if per_block else None,
                    kv_per_token=model.kv_bytes_per_token() if per_block else 0.0,
                    state=state_of() if per_block and state_of is not None else 0.0,
                    stage_counts=_stage_counts(lt, pp, timer.spec.num_layers) if per_block else [],
                    count=lt.count,
                    on_logits=lt.layer_specs.role == "head",  # the LM head works on logit rows
                )
            )
        _LAYERS[timer] = layers
    return layers


def plan_memory(
    timer: StepTimer, context_tokens: int, step_tokens: float, logit_rows: float
) -> MemoryPlan:
    pp = timer.ctx.plan.pp
    # Per stage: weights, KV bytes per sequence, state bytes per sequence; the worst counts.
    stages = [[0.0, 0.0, 0.0] for _ in range(pp)]
    edges: list[float] = []
    activations = 0.0
    dp = timer.ctx.plan.dp
    tokens_per_gpu = step_tokens / dp
    for layer in _layers(timer):
        if layer.per_block:
            window = layer.window
            cached = min(context_tokens, window) if window else context_tokens
            per_instance = (layer.stored, layer.kv_per_token * cached, layer.state)
            for stage, n in zip(stages, layer.stage_counts, strict=True):
                for k in range(3):
                    stage[k] += per_instance[k] * n
        else:
            edges.append(layer.stored * layer.count)
        rows = logit_rows / dp if layer.on_logits else tokens_per_gpu
        activations = max(activations, layer.model.activation_peak_bytes(rows))
    per_block, kv, state = (max(stage[k] for stage in stages) for k in range(3))
    weights = per_block + (max(edges) if pp > 1 and edges else sum(edges))
    capacity = float(timer.hardware.memory_bytes)
    return MemoryPlan(
        weights_bytes=weights,
        kv_bytes_per_sequence=kv,
        activations_bytes=activations,
        reserve_bytes=timer.params.framework.reserve_bytes(capacity),
        capacity_bytes=capacity,
        state_bytes_per_sequence=state,
    )

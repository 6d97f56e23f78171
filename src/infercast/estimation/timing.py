"""Time of one engine step from the per-layer costs.

Overlap rules (stated, and the same everywhere):
- within a layer, compute and HBM traffic overlap: the layer takes the larger of the two
  (roofline), each at its achievable fraction of peak (MoE layers' grouped expert GEMMs at
  ``moe_compute``, every other matmul at ``compute``);
- collectives do not overlap the layer's compute (tensor-parallel all-reduces and MoE
  all-to-alls sit on the critical path of a forward step);
- every layer instance pays ``layer_overhead_s`` (kernel gaps CUDA graphs leave) and every step
  pays ``step_overhead_s`` (scheduling, input preparation, sampling);
- pipeline parallelism: a token crosses all ``pp`` stages one after the other; the batch is
  split into ``pp`` micro-batches in flight, so a step of the whole batch takes ``pp`` stage
  steps of ``1/pp`` of it plus the point-to-point hand-offs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from infercast.dtypes import DType
from infercast.estimation.params import ModelParams
from infercast.hardware import Hardware
from infercast.layers import CostContext, LayerCost, StepShape, cost_models
from infercast.parallel import Collective, collective_time_s
from infercast.specs.classes.base import LayerSpecs
from infercast.specs.schema import ModelSpec

__all__ = ["LayerTiming", "StepTimer", "StepTiming", "is_edge_layer"]

_BOUNDS = ("compute", "memory", "communication", "overhead")


@dataclass(frozen=True)
class LayerTiming:
    """All instances of one layer type on one GPU for one step."""

    name: str
    layer_class: str
    count: int
    cost: LayerCost
    compute_s: float
    memory_s: float
    communication_s: float
    overhead_s: float

    @property
    def time_s(self) -> float:
        return max(self.compute_s, self.memory_s) + self.communication_s + self.overhead_s

    @property
    def bound(self) -> str:
        parts = {
            "compute": self.compute_s if self.compute_s >= self.memory_s else 0.0,
            "memory": self.memory_s if self.memory_s > self.compute_s else 0.0,
            "communication": self.communication_s,
            "overhead": self.overhead_s,
        }
        return max(_BOUNDS, key=lambda k: parts[k])


@dataclass(frozen=True)
class StepTiming:
    time_s: float
    layers: list[LayerTiming]
    step_overhead_s: float
    pipeline_s: float

    def totals(self) -> dict[str, float]:
        """Seconds attributed to each bound over the whole step."""
        sums = dict.fromkeys(_BOUNDS, 0.0)
        for lt in self.layers:
            if lt.compute_s >= lt.memory_s:
                sums["compute"] += lt.compute_s
            else:
                sums["memory"] += lt.memory_s
            sums["communication"] += lt.communication_s
            sums["overhead"] += lt.overhead_s
        sums["overhead"] += self.step_overhead_s
        sums["communication"] += self.pipeline_s
        return sums

    @property
    def bottleneck(self) -> str:
        totals = self.totals()
        return max(_BOUNDS, key=lambda k: totals[k])


class StepTimer:
    """Builds the cost models once; then times any step shape quickly."""

    def __init__(self, spec: ModelSpec, hardware: Hardware, ctx: CostContext, params: ModelParams):
        self.spec, self.hardware, self.ctx, self.params = spec, hardware, ctx, params
        self.models = cost_models(spec, ctx)
        pp = ctx.plan.pp
        # Every layer type's instances are spread evenly over the stages for timing: summed over
        # the ``pp`` stage steps of one batch step, each instance runs exactly once.
        self.stage_counts = [lt.count / pp for lt, _ in self.models]
        self.traits = [lt.layer_specs for lt, _ in self.models]
        self._peaks: dict[str, float] = {}
        eff = params.efficiency
        self.flops_rate_act = self._peak(ctx.activation_dtype) * eff.compute
        self.bandwidth = hardware.memory_bandwidth_bytes_per_s * eff.memory_bandwidth

    def _peak(self, fmt: DType) -> float:
        key = fmt.name
        if key not in self._peaks:
            self._peaks[key] = self.hardware.peak_flops_for(
                fmt.compute_class, fmt.fallback_compute_class
            )[0]
        return self._peaks[key]

    def compute_class_used(self, fmt: DType) -> str:
        return self.hardware.peak_flops_for(fmt.compute_class, fmt.fallback_compute_class)[1]

    def _collectives_s(self, collectives: list[Collective]) -> float:
        eff = self.params.efficiency.collective
        return sum(collective_time_s(c, self.hardware, eff) for c in collectives)

    def time_layer(
        self, name: str, traits: LayerSpecs, count: float, cost: LayerCost, reported: int
    ) -> LayerTiming:
        """All ``count`` instances of one layer type; ``traits``: its specs (whose class
        declares its efficiency class and whether it pays the per-kernel overhead)."""
        eff = self.params.efficiency
        layer_class = traits.class_name
        compute = 0.0
        if cost.matmul_flops:
            fmt = cost.matmul_dtype or self.ctx.activation_dtype
            fraction = eff.moe_compute if traits.efficiency_class == "moe" else eff.compute
            compute += cost.matmul_flops / (self._peak(fmt) * fraction)
        if cost.attention_flops:
            compute += cost.attention_flops / self.flops_rate_act
        memory = cost.memory_bytes / self.bandwidth
        comm = self._collectives_s(cost.collectives)
        overhead = eff.layer_overhead_s if traits.kernel_overhead else 0.0
        return LayerTiming(
            name=name,
            layer_class=layer_class,
            count=reported,
            cost=cost,
            compute_s=compute * count,
            memory_s=memory * count,
            communication_s=comm * count,
            overhead_s=overhead * count,
        )

    def stage_time(self, shape: StepShape, detail: bool = False) -> StepTiming:
        layers = []
        total = 0.0
        for (lt, model), count, traits in zip(
            self.models, self.stage_counts, self.traits, strict=True
        ):
            timing = self.time_layer(lt.name, traits, count, model.step_cost(shape), lt.count)
            total += timing.time_s
            if detail:
                layers.append(timing)
        overhead = self.params.efficiency.step_overhead_s
        return StepTiming(total + overhead, layers, overhead, 0.0)

    def step_time(self, shape: StepShape, detail: bool = False) -> StepTiming:
        """A step of the whole batch (all pipeline stages) — what a token waits per step."""
        pp = self.ctx.plan.pp
        if pp == 1:
            return self.stage_time(shape, detail)
        micro = replace(
            shape,
            prefill_tokens=shape.prefill_tokens / pp,
            prefill_seqs=shape.prefill_seqs / pp,
            decode_seqs=shape.decode_seqs / pp,
        )
        stage = self.stage_time(micro, detail)
        act = self.ctx.activation_dtype
        handoff = Collective(
            "p2p", 2, act.nbytes(micro.tokens / self.ctx.plan.dp * self.spec.hidden_size)
        )
        p2p = (pp - 1) * self._collectives_s([handoff])
        layers = [
            replace(
                t,
                compute_s=t.compute_s * pp,
                memory_s=t.memory_s * pp,
                communication_s=t.communication_s * pp,
                overhead_s=t.overhead_s * pp,
            )
            for t in stage.layers
        ]
        return StepTiming(stage.time_s * pp + p2p, layers, stage.step_overhead_s * pp, p2p)


def is_edge_layer(specs: LayerSpecs, count: int) -> bool:
    """Embedding, LM head, pooler and a lone final norm: once per model, not per block.

    Decided by the class's ``per_block`` trait, not by ``count`` alone: a single attention or
    FFN entry (one first-k dense layer, a one-block model) is still a block and caches KV.
    """
    return not specs.is_per_block(count)

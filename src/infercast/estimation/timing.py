"""Time of one engine step from the per-layer costs.

Overlap rules (stated, and the same everywhere):
- within a layer, compute and HBM traffic overlap: the layer takes the larger of the two
  (roofline), each at its achievable fraction of peak (MoE layers' grouped expert GEMMs at
  ``moe_compute``, the large-M, large-K asymptote, on their rows padded to the kernel's M
  tile and at their K-loop efficiency, :mod:`infercast.layers.grouped_gemm`; every other
  matmul at ``compute``, the large-K asymptote, at its dense K-loop efficiency,
  :mod:`infercast.layers.k_loop`);
- collectives do not overlap the layer's compute (tensor-parallel all-reduces and MoE
  all-to-alls sit on the critical path of a forward step);
- every layer instance pays its kernels' fixed costs (:mod:`infercast.estimation.kernels` counts
  them per layer class): in a graph-captured step (every engine's decode, and vLLM's piecewise
  graphs for mixed steps) ``kernel_gap_s`` per kernel on top of the layer's time; in an eager
  step (prefill on engines that run it without graphs) the same gaps and a floor of
  ``eager_launch_s`` per kernel (the host cannot launch faster); every step pays
  ``step_overhead_s`` (scheduling, input preparation, sampling);
- pipeline parallelism: a token crosses all ``pp`` stages one after the other; the batch is
  split into ``m = min(pp, requests in the step)`` micro-batches in flight, so a step of the
  whole batch takes ``pp`` stage steps of ``1/m`` of it plus the point-to-point hand-offs.
  A request is never split over micro-batches (each of its decode steps, and each chunk of
  its prompt, needs the one before on the same stage), so a lone request crosses every
  stage with all its tokens: PP buys its latency nothing and costs the hand-offs; only a
  batch of at least ``pp`` requests fills the pipeline. The engine's ``step_overhead_s``
  (scheduling, sampling) is paid once per step, not once per stage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from infercast.dtypes import DType
from infercast.estimation.kernels import kernels_per_instance
from infercast.estimation.params import ModelParams
from infercast.hardware import Hardware
from infercast.layers import CostContext, LayerCost, StepShape, cost_models
from infercast.parallel import CollectiveTimer
from infercast.specs.classes.base import LayerSpecs
from infercast.specs.schema import ModelSpec

__all__ = ["LayerTiming", "StepTimer", "StepTiming", "is_edge_layer"]

_BOUNDS = ("compute", "memory", "communication", "overhead")
_new_tuple = tuple.__new__
_MEMO_SIZE = 1 << 14
"""Step times a timer remembers (then it starts afresh): bounds a long-lived timer's memory."""


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
        self.kernels = [kernels_per_instance(lt.layer_specs) for lt, _ in self.models]
        eff = params.efficiency
        self._peaks: dict[str, float] = {}
        self.flops_rate_act = self._peak(ctx.activation_dtype) * eff.compute
        self.bandwidth = hardware.memory_bandwidth_bytes_per_s * eff.memory_bandwidth
        self._collective = CollectiveTimer(hardware, eff.collective, eff.collective_latency_s)
        self._rates: dict[tuple[str, bool], float] = {}
        self._memo: dict[StepShape, float] | None = {}
        self._step_overhead_s = eff.step_overhead_s
        self._pp, self._dp, self._hidden = ctx.plan.pp, ctx.plan.dp, spec.hidden_size
        self._act_bpe = ctx.activation_dtype.bytes_per_element
        # Requests a DP rank's pipeline can hold at most: the admitted load over the ranks
        # holding requests, when the load is known (the serving model's time-averaged steps
        # mix a lone request's prefill and decode; it is still one request).
        held = float("inf") if ctx.concurrency is None else ctx.concurrency
        self._rank_requests_cap = held / ctx.sequence_ranks
        self._seq_ranks = ctx.sequence_ranks
        self._eager_prefill = not params.framework.prefill_graphs
        # What the solver's path needs per layer type, fixed for the plan: the model's step
        # terms, its matmul rate and its kernels' fixed costs (same values _seconds derives).
        self._fast = [
            (
                model.step_terms,
                count,
                self._matmul_rate(
                    model.matmul_dtype or ctx.activation_dtype,
                    traits.efficiency_class == "moe",
                ),
                kernels * eff.kernel_gap_s,
                kernels * eff.eager_launch_s,
            )
            for (_, model), count, traits, kernels in zip(
                self.models, self.stage_counts, self.traits, self.kernels, strict=True
            )
        ]

    def _peak(self, fmt: DType) -> float:
        key = fmt.name
        if key not in self._peaks:
            self._peaks[key] = self.hardware.peak_flops_for(
                fmt.compute_class, fmt.fallback_compute_class
            )[0]
        return self._peaks[key]

    def compute_class_used(self, fmt: DType) -> str:
        return self.hardware.peak_flops_for(fmt.compute_class, fmt.fallback_compute_class)[1]

    def _matmul_rate(self, fmt: DType, moe: bool) -> float:
        """Achievable matmul FLOP/s of ``fmt`` weights (peak × efficiency), computed once."""
        key = (fmt.name, moe)
        rate = self._rates.get(key)
        if rate is None:
            eff = self.params.efficiency
            rate = self._rates[key] = self._peak(fmt) * (eff.moe_compute if moe else eff.compute)
        return rate

    def time_layer(
        self,
        name: str,
        traits: LayerSpecs,
        count: float,
        cost: LayerCost,
        reported: int,
        kernels: int = 0,
        eager: bool = False,
    ) -> LayerTiming:
        """All ``count`` instances of one layer type; ``traits``: its specs (whose class
        declares its efficiency class); ``kernels``: what one instance launches
        (:mod:`infercast.estimation.kernels`); ``eager``: a step without graphs."""
        compute, memory, comm, overhead = self._layer_seconds(
            cost, traits.efficiency_class == "moe", kernels, eager
        )
        return LayerTiming(
            name=name,
            layer_class=traits.class_name,
            count=reported,
            cost=cost,
            compute_s=compute * count,
            memory_s=memory * count,
            communication_s=comm * count,
            overhead_s=overhead * count,
        )

    def _layer_seconds(
        self, cost: LayerCost, moe: bool, kernels: int, eager: bool
    ) -> tuple[float, float, float, float]:
        """(compute, memory, communication, overhead) seconds of ONE instance."""
        eff = self.params.efficiency
        return self._seconds(
            cost, moe, kernels * eff.kernel_gap_s, kernels * eff.eager_launch_s, eager
        )

    def _seconds(
        self, cost: LayerCost, moe: bool, gaps_s: float, launches_s: float, eager: bool
    ) -> tuple[float, float, float, float]:
        """:meth:`_layer_seconds` with the instance's kernel gaps and launches given."""
        compute = 0.0
        work = cost.matmul_work
        if work:
            fmt = cost.matmul_dtype or self.ctx.activation_dtype
            compute += work / self._matmul_rate(fmt, moe)
        if cost.attention_flops:
            compute += cost.attention_flops / self.flops_rate_act
        memory = (cost.weight_bytes + cost.kv_bytes + cost.activation_bytes) / self.bandwidth
        comm = 0.0
        if cost.collectives:
            time_s = self._collective.time_s
            for c in cost.collectives:
                comm += time_s(c.kind, c.group_size, c.bytes)
        overhead = gaps_s
        if eager:
            # The host launches kernels no faster than eager_launch_s each: a layer of short
            # kernels (a small prefill chunk) takes at least its launches.
            busy = max(compute, memory) + comm + overhead
            overhead += max(0.0, launches_s - busy)
        return compute, memory, comm, overhead

    def _stage_s(self, shape: StepShape) -> float:
        """``stage_time(shape).time_s`` without the per-layer records (the solver's path):
        :meth:`_seconds` inlined on the models' plain step terms, the same arithmetic in the
        same order (so the same seconds to the last bit)."""
        total = 0.0
        eager = shape.prefill_tokens > 0 and self._eager_prefill
        price = self._collective.time_s
        act_rate, bandwidth = self.flops_rate_act, self.bandwidth
        tokens = self.ctx.local_tokens(shape)
        for terms, count, rate, gaps_s, launches_s in self._fast:
            matmul, attention, weights, kv, activations, comm = terms(shape, tokens, price)
            compute = matmul / rate if matmul else 0.0
            if attention:
                compute += attention / act_rate
            memory = (weights + kv + activations) / bandwidth
            overhead = gaps_s
            if eager:
                busy = (memory if memory > compute else compute) + comm + overhead  # max()
                if launches_s - busy > 0.0:
                    overhead += launches_s - busy
            compute *= count
            memory *= count
            total += (memory if memory > compute else compute) + comm * count + overhead * count
        return total + self._step_overhead_s

    def step_s(self, shape: StepShape) -> float:
        """``step_time(shape).time_s``, memoised on the exact shape (a pure function of it:
        reconcile's solves of one deployment at several loads ask for many of the same
        shapes) unless :meth:`unmemoised`."""
        memo = self._memo
        if memo is not None:
            hit = memo.get(shape)
            if hit is not None:
                return hit
        pp = self._pp
        if pp == 1:
            value = self._stage_s(shape)
        else:
            micro = self._micro(shape)
            # The engine schedules and samples once per step, not once per stage.
            value = (
                self._stage_s(micro) * pp
                - (pp - 1) * self._step_overhead_s
                + self._handoff_s(micro)
            )
        if memo is not None:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[shape] = value
        return value

    def unmemoised(self) -> StepTimer:
        """This timer, no longer memoising :meth:`step_s` (same values): for a caller whose
        shapes almost never repeat exactly — a plan search, whose solver caches its own
        rounded steps and whose bounds memoise theirs (1 % of its step times were hits, and
        remembering the rest cost more than they saved)."""
        self._memo = None
        return self

    def _micro(self, shape: StepShape) -> StepShape:
        """The micro-batch whose trip through the ``pp`` stages sets the step time: the step
        runs as ``m = min(pp, requests per DP rank)`` micro-batches (at least one) and its
        decodes spread over all ``m``, but a prompt chunk is not split (the module docstring
        says why), so the prompt tokens spread over at most ``prefill_seqs`` of them and the
        heaviest carries ``1/min(m, prefill_seqs)`` of them. That trip also bounds the stage's
        work on all ``m`` micro-batches, so it is the step. Fields in StepShape's order; built
        with ``tuple.__new__``, which skips the named tuple's Python-level ``__new__``: every
        pipelined step time builds one."""
        prefill_tokens, prefill_seqs, prefill_context, chunk, decode_seqs, decode_context = shape
        ranks = self._seq_ranks
        requests = (prefill_seqs + decode_seqs) / ranks
        if requests > self._rank_requests_cap:
            requests = self._rank_requests_cap
        m = self._pp if requests >= self._pp else (requests if requests > 1.0 else 1.0)
        prompts = prefill_seqs / ranks
        mp = m if prompts >= m else (prompts if prompts > 1.0 else 1.0)
        return _new_tuple(
            StepShape,
            (
                prefill_tokens / mp,
                prefill_seqs / mp,
                prefill_context,
                chunk,
                decode_seqs / m,
                decode_context,
            ),
        )

    def _handoff_s(self, micro: StepShape) -> float:
        """The ``pp − 1`` point-to-point activation hand-offs of one micro-batch."""
        tokens = micro.prefill_tokens + micro.decode_seqs
        nbytes = tokens / self._dp * self._hidden * self._act_bpe
        return (self._pp - 1) * self._collective.time_s("p2p", 2, nbytes)

    def stage_time(self, shape: StepShape, detail: bool = False) -> StepTiming:
        layers = []
        total = 0.0
        eager = shape.prefill_tokens > 0 and not self.params.framework.prefill_graphs
        for (lt, model), count, traits, kernels in zip(
            self.models, self.stage_counts, self.traits, self.kernels, strict=True
        ):
            cost = model.step_cost(shape)
            timing = self.time_layer(lt.name, traits, count, cost, lt.count, kernels, eager)
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
        micro = self._micro(shape)
        stage = self.stage_time(micro, detail)
        p2p = self._handoff_s(micro)
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
        overhead = stage.step_overhead_s
        time_s = (stage.time_s - overhead) * pp + overhead + p2p
        return StepTiming(time_s, layers, overhead, p2p)


def is_edge_layer(specs: LayerSpecs, count: int) -> bool:
    """Embedding, LM head, pooler and a lone final norm: once per model, not per block.

    Decided by the class's ``per_block`` trait, not by ``count`` alone: a single attention or
    FFN entry (one first-k dense layer, a one-block model) is still a block and caches KV.
    """
    return not specs.is_per_block(count)

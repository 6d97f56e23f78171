"""The one place where planning meets the estimation pipeline.

Search, sizing, launch and sweeps only reach the cost model through these functions, so when
the estimation side changes its entry points the switch is made here and nowhere else:

- :func:`deployment` makes a search candidate an :class:`infercast.deployment.Deployment`
  (without a workload: the search varies the load), and :func:`deploy` resolves it — formats,
  the plan checked against the model, parameters, cost models built once per plan;
- :func:`probe` runs the closed-loop steady state of that deployment at one concurrency and
  returns the SLA-relevant figures, computed with the same formulas as ``estimate`` (so a
  probe and the estimate of the same plan agree to the last bit);
- :func:`full_estimate` is ``infercast estimate`` of the plan: what a returned plan reports;
- :func:`replica_weight_bytes` and :func:`weight_room_bytes` are what the search's weight
  floor (:mod:`.fit`) reads of a single-GPU deployment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infercast.deployment import Deployment, Workload
from infercast.engines import ENGINES, canonical_engine
from infercast.errors import InvalidInputError
from infercast.estimation.admit import admit, loaded_timer
from infercast.estimation.checks import check_context
from infercast.estimation.estimate import _estimate, serving_point
from infercast.estimation.resolve import Resolved, resolve
from infercast.estimation.result import EstimateResult
from infercast.estimation.serving import solve
from infercast.estimation.timing import is_edge_layer
from infercast.hardware import Hardware
from infercast.specs.schema import ModelSpec

__all__ = [
    "Probe",
    "Resolved",
    "admission",
    "check_framework",
    "check_workload",
    "decode_seqs_at",
    "decode_step_s",
    "deploy",
    "deploy_for_search",
    "deployment",
    "full_estimate",
    "probe",
    "replica_weight_bytes",
    "weight_room_bytes",
]

ADMISSION_PROBE = 10**6
"""A concurrency above any engine's batch cap: the admission rule at this load uses the
largest activation footprint, so the KV capacity it returns holds at every smaller load."""


@dataclass(frozen=True)
class Probe:
    """The steady state of one deployment at one concurrency (units in the names)."""

    concurrency: int
    ttft_ms: float
    tpot_ms: float
    output_tokens_per_s_per_gpu: float
    tokens_per_s_per_user: float


def deployment(spec: ModelSpec, hardware: Hardware, args: dict[str, Any]) -> Deployment:
    """The :class:`~infercast.deployment.Deployment` of one plan (no workload: the search
    varies the load); ``args`` are ``estimate``'s plan keywords (tp, dp, …, framework)."""
    return Deployment.of(model=spec, hardware=hardware, **args)


def deploy(spec: ModelSpec, hardware: Hardware, args: dict[str, Any]) -> Resolved:
    """Resolve one plan's deployment (formats, plan against the model, cost models)."""
    return resolve(deployment(spec, hardware, args))


def deploy_for_search(spec: ModelSpec, hardware: Hardware, args: dict[str, Any]) -> Resolved:
    """:func:`deploy` for the search's probes and bounds: the step timer does not memoise
    (:meth:`~infercast.estimation.timing.StepTimer.unmemoised`; same values, less work)."""
    dep = deploy(spec, hardware, args)
    dep.timer.unmemoised()
    return dep


def admission(dep: Resolved, isl: int, osl: int) -> tuple[int, float]:
    """Most requests the engine holds at once for this workload (KV capacity and batch cap),
    and — when that is 0 — how many bytes per GPU are missing for one sequence's KV cache."""
    admitted = admit(dep, Workload(isl, osl, ADMISSION_PROBE))
    if admitted.max_concurrency > 0:
        return admitted.cap, 0.0
    mem = admitted.memory
    return 0, max(mem.kv_bytes_per_sequence - mem.free_for_kv(), 0.0)


def probe(dep: Resolved, isl: int, osl: int, concurrency: int, cap: int | None = None) -> Probe:
    """TTFT, TPOT and throughputs at ``concurrency``, exactly as ``estimate`` derives them.

    ``cap``: what :func:`admission` said the engine holds. Up to it the load is admitted
    whole (the capacity at ``concurrency`` is no smaller than at the admission probe's
    load), and the steady state depends on the engine's capacity only through the admitted
    load — so the memory plan an estimate makes at each load is skipped (the search's
    probes are many loads of one plan)."""
    if cap is not None and concurrency <= cap:
        timer = loaded_timer(dep, concurrency)
        if timer is not dep.timer:
            timer.unmemoised()  # built for this probe alone
        budget = dep.params.framework.pipeline_budget(dep.plan.pp)
        point = solve(timer, budget, isl, osl, concurrency, cap)
    else:
        point = serving_point(dep, isl, osl, concurrency)
    tpot_ms = point.tpot_s * 1e3
    return Probe(
        concurrency=concurrency,
        ttft_ms=point.ttft_s * 1e3,
        tpot_ms=tpot_ms,
        output_tokens_per_s_per_gpu=point.requests_per_s * osl / dep.plan.gpus,
        tokens_per_s_per_user=(1e3 / tpot_ms) if tpot_ms else 0.0,
    )


def decode_step_s(dep: Resolved, isl: int, osl: int) -> Callable[[float], float]:
    """The plan's pure-decode step time (seconds) as a function of the sequences decoding,
    for the shape the closed-loop solver times (mean decode context ``isl + osl/2``)."""
    from infercast.layers import StepShape

    decode_context, prefill_context = isl + osl / 2.0, (isl + 1) / 2.0
    step_s = dep.timer.step_s

    def at(seqs: float) -> float:
        return step_s(
            StepShape(
                prefill_context=prefill_context, decode_seqs=seqs, decode_context=decode_context
            )
        )

    return at


def decode_seqs_at(dep: Resolved, isl: int, osl: int, step_ms: float, most: int) -> float:
    """Decode sequences (≤ ``most``) whose step takes ``step_ms`` when it also carries their
    share of prompt tokens (``isl / (osl − 1)`` per decoding sequence, what the closed loop
    feeds in on average): where a TPOT limit lies — a first guess at the SLA's concurrency
    that costs a dozen step times instead of a closed-loop solve."""
    from infercast.layers import StepShape

    context = isl + osl / 2.0
    per_seq = isl / max(osl - 1, 1)
    budget = float(dep.params.framework.pipeline_budget(dep.plan.pp))

    def step_ms_at(seqs: float) -> float:
        prompt = min(seqs * per_seq, budget)
        shape = StepShape(
            prefill_tokens=prompt,
            prefill_seqs=prompt / isl,
            prefill_context=(isl + 1) / 2.0,
            prefill_chunk=min(float(isl), prompt),
            decode_seqs=seqs,
            decode_context=context,
        )
        return dep.timer.step_s(shape) * 1e3

    if step_ms_at(float(most)) <= step_ms:
        return float(most)
    lo, hi = 0.0, float(most)
    while hi - lo > max(1.0, 0.02 * lo):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if step_ms_at(mid) <= step_ms else (lo, mid)
    return lo


def full_estimate(dep: Resolved, isl: int, osl: int, concurrency: int) -> EstimateResult:
    """``infercast estimate`` of this deployment (same resolved state, same code path)."""
    return _estimate(dep, Workload(isl, osl, concurrency))


def check_framework(name: str | None) -> None:
    """Reject a framework the engine catalog does not know (a search must not silently fall
    back to generic parameters for every plan)."""
    if name is not None and canonical_engine(name) not in ENGINES:
        known = ", ".join(ENGINES)
        raise InvalidInputError(f"frameworks: unknown framework {name!r} (known: {known})")


def check_workload(spec: ModelSpec, isl: int, osl: int) -> None:
    """What :func:`admission` checks of the workload before planning memory (``isl + osl``
    within the model's context), for plans the search never admits."""
    check_context(spec, isl, osl)


def replica_weight_bytes(dep: Resolved) -> tuple[float, float, int]:
    """The stored weight bytes of ``dep``'s layers as the memory plan
    (:func:`~infercast.estimation.memory.plan_memory`) sums them: the per-block layers (every
    instance), the edge layers (embedding, LM head: once per model) and how many edge entries
    there are. Of a single-GPU deployment, the whole replica's weights."""
    blocks = edges = 0.0
    n_edges = 0
    for lt, model in dep.timer.models:
        stored = model.stored_weight_bytes()
        if is_edge_layer(lt.layer_specs, lt.count):
            edges += stored * lt.count
            n_edges += 1
        else:
            # The stages of a hybrid model hold its listed blocks (at most ``count`` of them).
            indices = getattr(lt.layer_specs, "layer_indices", None)
            blocks += stored * (lt.count if indices is None else min(lt.count, len(indices)))
    return blocks, edges, n_edges


def weight_room_bytes(dep: Resolved) -> float:
    """Bytes of one GPU the engine's pool holds weights, activations and KV cache in: the
    part's memory less the engine's reserve (what ``free_for_kv`` starts from)."""
    capacity = float(dep.hardware.memory_bytes)
    return capacity - dep.params.framework.reserve_bytes(capacity)

"""Plans whose weights alone cannot fit a GPU: ruled out before they are evaluated.

A search's ``max_plans`` counts the plans it evaluates, and its smallest replicas come first:
for a large model most of them cannot even hold the weights (DeepSeek-V3 on one to nine H100s),
and they used up the budget before the plans that fit were reached. Such plans are now skipped
by a floor on their weights, without resolving them, and counted among the memory rejections.

The floor. The weights one GPU holds under a plan (:func:`~infercast.estimation.memory.
plan_memory`) are the per-block layers of its busiest pipeline stage plus the edge layers
(embedding, LM head) it holds: all of them when ``pp = 1``, the largest one when ``pp > 1``.
Every layer is stored whole over a stage's ``tp × dp`` GPUs — split ``tp`` ways (whole heads,
or K/V heads replicated) and replicated ``dp`` times, the experts split ``ep × moe_tp`` ways
once — so each GPU holds at least ``1/(tp·dp)`` of every layer's single-GPU bytes, and the
busiest of ``pp`` stages at least ``1/pp`` of the blocks. With ``B`` and ``E`` the per-block
and edge bytes of the single-GPU plan in the same formats on the same part, and ``n`` edge
entries:

    weights per GPU  ≥  B / gpus  +  E / (tp·dp · (n if pp > 1 else 1))

When this floor reaches the part's memory less the engine's reserve, no KV cache fits
(``free = capacity − weights − activations − reserve ≤ 0``, activations ≥ 0): the plan's
admission is 0 — the memory rejection its evaluation would have found, at any load. So no plan
that fits is ever skipped. The floor costs one single-GPU deployment per part, formats and
framework, not a deployment per plan; formats, engine parameters and reserve do not depend on
the layout, so that deployment also names a skipped plan as its own would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from infercast.hardware import Hardware
from infercast.parallel import ParallelPlan
from infercast.planning import adapter
from infercast.planning.space import Candidate
from infercast.specs.schema import ModelSpec

__all__ = ["MARGIN", "WeightFloor"]

MARGIN = 1e-9
"""Relative slack on the floor: a plan is skipped only when the floor beats the room by more
than the rounding of the memory plan's own sums (about 1e-16 of them)."""

_ONE_GPU = ParallelPlan()


@dataclass(frozen=True)
class _Reference:
    """What the floor needs of one part, formats and framework (its single-GPU plan)."""

    blocks: float
    edges: float
    n_edges: int
    room: float
    dep: Any
    """The single-GPU deployment (its formats and engine name a skipped plan)."""


class WeightFloor:
    """Filters a plan space, keeping the plans whose weights may fit; counts the others and
    keeps the nearest of them (smallest floor over the room)."""

    def __init__(
        self,
        spec: ModelSpec,
        hardware: dict[str, Hardware],
        isl: int,
        osl: int,
        label: Callable[[Candidate, Any], str],
    ):
        self.spec, self.hardware, self.isl, self.osl, self.label = spec, hardware, isl, osl, label
        self._refs: dict[tuple[Any, ...], _Reference | None] = {}
        self._checked = False
        self.skipped = 0
        self._nearest: tuple[float, Candidate, Any] | None = None

    def _reference(self, cand: Candidate) -> _Reference | None:
        key = (cand.hardware, cand.weight_dtype, cand.moe_dtype, cand.kv_dtype, cand.framework)
        if key in self._refs:
            return self._refs[key]
        ref = None
        if not _ONE_GPU.problems(self.spec)[0]:
            one = Candidate(cand.hardware, 1, 1, 1, 1, 1, 1, False, *key[1:])
            dep = adapter.deploy(self.spec, self.hardware[cand.hardware], one.plan_args())
            if not self._checked:  # what the admission of any plan would raise first
                adapter.check_workload(self.spec, self.isl, self.osl)
                self._checked = True
            blocks, edges, n_edges = adapter.replica_weight_bytes(dep)
            ref = _Reference(blocks, edges, n_edges, adapter.weight_room_bytes(dep), dep)
        self._refs[key] = ref
        return ref

    def floor_bytes(self, cand: Candidate) -> float | None:
        """The floor on ``cand``'s weights per GPU (module docstring); None without one."""
        ref = self._reference(cand)
        return None if ref is None else _floor(ref, cand)

    def unfit(self, cand: Candidate) -> bool:
        """Whether ``cand``'s weights alone exceed the room its GPUs leave them (recorded)."""
        ref = self._reference(cand)
        if ref is None:
            return False
        floor = _floor(ref, cand)
        if floor * (1.0 - MARGIN) < ref.room:
            return False
        self.skipped += 1
        excess = floor - ref.room
        if self._nearest is None or excess < self._nearest[0]:
            self._nearest = (excess, cand, ref.dep)
        return True

    def keep(self, plans: Iterable[Candidate]) -> Iterator[Candidate]:
        """``plans`` less the unfit ones, in their order (lazily: a capped search stops)."""
        return (cand for cand in plans if not self.unfit(cand))

    def nearest(self) -> tuple[str, float] | None:
        """The skipped plan nearest to fitting by its floor: its label and the bytes per GPU
        the floor exceeds the room by (a lower bound of what it is short)."""
        if self._nearest is None:
            return None
        excess, cand, dep = self._nearest
        return self.label(cand, dep), excess


def _floor(ref: _Reference, cand: Candidate) -> float:
    group = cand.tp * cand.dp
    edges = ref.edges / (group * (ref.n_edges if cand.pp > 1 else 1)) if ref.n_edges else 0.0
    return ref.blocks / cand.gpus + edges

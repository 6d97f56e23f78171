"""Exact pruning of a plan's bisection: stop once the rest of its bracket cannot matter.

A plan's bisection only matters to a search (without ``users``) through three things: its
place in the ranking (its figures at ``C*``), whether it is the best of its hardware, and its
SLA-meeting probes on the Pareto front. While the bracket is ``lo`` (passes) … ``hi`` (fails),
every probe still to come lies at a concurrency ``C`` in ``lo < C < hi``, and — as the
bisection itself assumes — TTFT and TPOT do not fall as ``C`` grows, so:

- its tokens/s per user is at most ``lo``'s (``1000 / TPOT``);
- its output tokens/s per GPU is at most ``lo``'s × ``C / lo.C``: the closed loop serves
  ``C`` clients whose request cycle (TTFT + (osl − 1) · TPOT) is no shorter than at
  ``lo`` (Little's law, ``X = C / cycle``); with :data:`SLACK` for the solver's tolerance.

When that corner is weakly dominated by probes already seen (earlier plans', or this plan's
own), none of the remaining probes would join the front; when also ``top`` earlier plans and
one earlier plan of the same hardware rank strictly better than the corner's throughput could,
the plan is in neither the returned plans nor the best-per-hardware list. Then the bisection
stops. "Earlier" means earlier in plan-space order and solved in this process, a subset of
what the search replays before the plan, so the verdict holds for the whole search too.

A plan whose ``C*`` guides the next plan's first guess is never pruned (its siblings' probes,
hence the front, would change): only the last plan of a layout group is.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from infercast.planning.adapter import Probe
from infercast.planning.pareto import Front

__all__ = ["SLACK", "Pruner", "Rank"]

SLACK = 1e-3
"""Relative headroom on the throughput bound (the closed-loop root is solved to 1e-4)."""

Rank = Callable[[str, int, float], tuple[float, ...]]
"""``rank(hardware, gpus, output tokens/s per GPU)``: the search's sort key of a plan (lower
is better; never better for a lower throughput)."""


class Pruner:
    """What this process has seen of earlier plans: their probes and their ranks."""

    def __init__(self, rank: Rank, top: int):
        self.rank, self.top = rank, top
        self.front = Front()
        self.keys: list[tuple[float, ...]] = []  # the ``top`` best ranks seen, sorted
        self.best: dict[str, tuple[float, ...]] = {}  # the best rank seen per hardware

    def seen(self, hardware: str, gpus: int, final: Probe | None, passing: tuple[Probe, ...]):
        """Record a solved plan: its SLA-meeting probes, and its rank when ``final`` is set."""
        for p in passing:
            self.front.add(p, None)
        if final is None:
            return
        key = self.rank(hardware, gpus, final.output_tokens_per_s_per_gpu)
        bisect.insort(self.keys, key)
        del self.keys[self.top :]
        if hardware not in self.best or key < self.best[hardware]:
            self.best[hardware] = key

    def stop(self, hardware: str, gpus: int) -> Callable[[Probe, Probe, list[Probe]], bool]:
        """The ``stop`` test of one plan's bisection (see :mod:`.concurrency`)."""

        def stop(lo: Probe, hi: Probe, passing: list[Probe]) -> bool:
            rate = lo.output_tokens_per_s_per_gpu * (hi.concurrency - 1) / lo.concurrency
            rate *= 1.0 + SLACK
            per_user = lo.tokens_per_s_per_user
            key = self.rank(hardware, gpus, rate)
            if len(self.keys) < self.top or not self.keys[-1] < key:
                return False
            if hardware not in self.best or not self.best[hardware] < key:
                return False
            own = any(
                p.output_tokens_per_s_per_gpu >= rate and p.tokens_per_s_per_user >= per_user
                for p in passing
            )
            return own or self.front.dominated(rate, per_user)

        return stop

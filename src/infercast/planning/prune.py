"""Exact pruning: skip the work on a plan once the rest of it cannot change the search's result.

A plan's probes only matter to a search (without ``users``) through three things: its place in
the ranking (its figures at ``C*``), whether it is the best of its hardware, and its
SLA-meeting probes on the Pareto front. A bound on the probes still to come — a corner
(output tokens/s per GPU, tokens/s per user) that none of them exceeds — is *harmless* when

- ``top`` plans already solved, and one of the same hardware, rank strictly better than the
  corner's throughput could: the plan is in neither the returned plans nor the best per
  hardware, whatever its ``C*``;
- and the corner is weakly dominated by a probe already seen (another plan's or the plan's
  own): none of the remaining probes would join the front. Each corner carries :data:`SLACK`
  on its throughput, so a remaining probe is beaten strictly and no tie of the front's
  first-come rule can be at stake.

Both tests only get easier as more plans are seen, and the final ranking and front are at
least as good as any part of them, so a verdict made on any subset of the other plans — in
any order, in any process — holds for the whole search.

The corners come from the plan's :class:`~.ceiling.Ceiling`, asked before each step of its
concurrency solve: while the largest passing probe is ``lo`` and the smallest failing one
``hi`` (or none yet), every probe to come lies at ``lo < C < hi`` and — as the bisection
itself assumes — TTFT and TPOT do not fall as ``C`` grows, so its tokens/s per user is at
most ``lo``'s and its output tokens/s per GPU at most ``lo``'s × ``C / lo.C`` (the closed loop
serves ``C`` clients whose request cycle TTFT + (osl − 1)·TPOT is no shorter than at ``lo``:
Little's law, ``X = C / cycle``); the decode-only step times tighten both.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

from infercast.planning.adapter import Probe
from infercast.planning.ceiling import Ceiling, Corner
from infercast.planning.concurrency import Stop
from infercast.planning.pareto import Front

__all__ = ["SLACK", "Pruner", "Rank"]

SLACK = 1e-3
"""Relative headroom on the throughput bounds (the closed-loop root is solved to 1e-4)."""

Rank = Callable[[str, int, float], tuple[float, ...]]
"""``rank(hardware, gpus, output tokens/s per GPU)``: the search's sort key of a plan (lower
is better; never better for a lower throughput)."""


class Pruner:
    """What this process has seen of other plans: their probes and their ranks."""

    def __init__(self, rank: Rank, top: int):
        self.rank, self.top = rank, top
        self.front = Front()
        self.keys: list[tuple[float, ...]] = []  # the ``top`` best ranks seen, sorted
        self.best: dict[str, tuple[float, ...]] = {}  # the best rank seen per hardware

    def probes(self, passing: Sequence[Probe]) -> None:
        """Record SLA-meeting probes (candidates for the front)."""
        for p in passing:
            self.front.add(p, None)

    def seen(self, hardware: str, gpus: int, final: Probe | None, passing: tuple[Probe, ...]):
        """Record a solved plan: its SLA-meeting probes, and its rank when ``final`` is set."""
        self.probes(passing)
        if final is None:
            return
        key = self.rank(hardware, gpus, final.output_tokens_per_s_per_gpu)
        bisect.insort(self.keys, key)
        del self.keys[self.top :]
        if hardware not in self.best or key < self.best[hardware]:
            self.best[hardware] = key

    def harmless(self, hardware: str, gpus: int, own: Sequence[Probe] = ()) -> Corner:
        """The test of a corner of one plan's probes still to come (module docstring);
        ``own``: the plan's own SLA-meeting probes so far."""

        def test(rate: float, per_user: float) -> bool:
            key = self.rank(hardware, gpus, rate)
            if len(self.keys) < self.top or not self.keys[-1] < key:
                return False
            if hardware not in self.best or not self.best[hardware] < key:
                return False
            mine = any(
                p.output_tokens_per_s_per_gpu >= rate and p.tokens_per_s_per_user >= per_user
                for p in own
            )
            return mine or self.front.dominated(rate, per_user)

        return test

    def stop(self, hardware: str, gpus: int, ceiling: Ceiling) -> Stop:
        """The ``stop`` test of one plan's concurrency solve (see :mod:`.concurrency`)."""

        def stop(lo: Probe, below: int, passing: list[Probe]) -> bool:
            return ceiling.harmless(self.harmless(hardware, gpus, passing), lo, below)

        return stop

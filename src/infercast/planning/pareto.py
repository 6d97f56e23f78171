"""The Pareto front of (output tokens/s per GPU, tokens/s per user): both higher is better.

Kept incrementally (:class:`Front`): the search adds every SLA-meeting probe and asks whether
a plan's best corner could still reach the front, which lets it skip plans that cannot.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

from infercast.planning.adapter import Probe

__all__ = ["Front"]


def _dominates(a: Probe, throughput: float, per_user: float) -> bool:
    return a.output_tokens_per_s_per_gpu >= throughput and a.tokens_per_s_per_user >= per_user


@dataclass
class Front:
    """Non-dominated points with what they belong to (``tag``), first-come on exact ties.

    Non-dominated points form a staircase: by throughput ascending, their speeds per user
    descend strictly (two points of equal throughput, or of equal speed, would weakly
    dominate one another). So "is a corner dominated?" — asked tens of thousands of times
    by a search's pruning — is one bisection: the first point at or above the corner's
    throughput has the highest speed of all those that are. A NaN figure (never dominating,
    never dominated) turns the bisection off for good: the plain scan answers instead."""

    points: list[tuple[Probe, Any]] = field(default_factory=list)
    _rates: list[float] = field(default_factory=list, repr=False)
    """The points' throughputs, ascending (the staircase)."""
    _speeds: list[float] = field(default_factory=list, repr=False)
    """The speeds per user of the same points (descending)."""
    _scan: bool = field(default=False, repr=False)

    def dominated(self, throughput: float, per_user: float) -> bool:
        """Is the corner (throughput, per-user speed) weakly beaten by a point on the front?"""
        if self._scan:
            return any(_dominates(p, throughput, per_user) for p, _ in self.points)
        if math.isnan(throughput) or math.isnan(per_user):
            return False  # no comparison with NaN holds
        i = bisect.bisect_left(self._rates, throughput)
        return i < len(self._rates) and self._speeds[i] >= per_user

    def add(self, probe: Probe, tag: Any) -> None:
        t, u = probe.output_tokens_per_s_per_gpu, probe.tokens_per_s_per_user
        if self.dominated(t, u):
            return
        self.points = [(p, g) for p, g in self.points if not _dominates(probe, *_axes(p))] + [
            (probe, tag)
        ]
        if math.isnan(t) or math.isnan(u):
            self._scan = True
        if not self._scan:
            stairs = sorted(_axes(p) for p, _ in self.points)
            self._rates = [r for r, _ in stairs]
            self._speeds = [s for _, s in stairs]

    def ordered(self) -> list[tuple[Probe, Any]]:
        """By tokens/s per user, slowest (highest throughput) first."""
        return sorted(self.points, key=lambda pt: pt[0].tokens_per_s_per_user)


def _axes(p: Probe) -> tuple[float, float]:
    return p.output_tokens_per_s_per_gpu, p.tokens_per_s_per_user

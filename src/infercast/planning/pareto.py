"""The Pareto front of (output tokens/s per GPU, tokens/s per user): both higher is better.

Kept incrementally (:class:`Front`): the search adds every SLA-meeting probe and asks whether
a plan's best corner could still reach the front, which lets it skip plans that cannot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infercast.planning.adapter import Probe

__all__ = ["Front"]


def _dominates(a: Probe, throughput: float, per_user: float) -> bool:
    return a.output_tokens_per_s_per_gpu >= throughput and a.tokens_per_s_per_user >= per_user


@dataclass
class Front:
    """Non-dominated points with what they belong to (``tag``), first-come on exact ties."""

    points: list[tuple[Probe, Any]] = field(default_factory=list)

    def dominated(self, throughput: float, per_user: float) -> bool:
        """Is the corner (throughput, per-user speed) weakly beaten by a point on the front?"""
        return any(_dominates(p, throughput, per_user) for p, _ in self.points)

    def add(self, probe: Probe, tag: Any) -> None:
        t, u = probe.output_tokens_per_s_per_gpu, probe.tokens_per_s_per_user
        if self.dominated(t, u):
            return
        self.points = [(p, g) for p, g in self.points if not _dominates(probe, *_axes(p))] + [
            (probe, tag)
        ]

    def ordered(self) -> list[tuple[Probe, Any]]:
        """By tokens/s per user, slowest (highest throughput) first."""
        return sorted(self.points, key=lambda pt: pt[0].tokens_per_s_per_user)


def _axes(p: Probe) -> tuple[float, float]:
    return p.output_tokens_per_s_per_gpu, p.tokens_per_s_per_user

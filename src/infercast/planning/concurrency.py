"""The largest concurrency a plan serves within its SLA: solved, not gridded.

TTFT and TPOT grow with the requests in flight, so "meets the SLA" is true up to some ``C*``
and false beyond; ``C*`` is found on the integers ``1..cap`` (``cap``: what the engine can
hold — KV capacity, batch cap, or the users to serve) by bisection. Each step interpolates the
binding limit's load (value / limit) in log–log coordinates, where it is close to a straight
line, and falls back to plain halving whenever an interpolated step failed to halve the
bracket — so it takes a few probes on smooth curves and never more than ~2·log2(cap).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from infercast.planning.adapter import Probe
from infercast.planning.sla import Sla

__all__ = ["Bracket", "Solved", "bracket", "largest_concurrency", "solve"]


@dataclass(frozen=True)
class Solved:
    first: Probe
    """The probe at concurrency 1 (the plan's best latency)."""
    best: Probe | None
    """The probe at the largest concurrency meeting the SLA; None if even C = 1 fails."""
    passing: list[Probe]
    """Every probe that met the SLA (points for the Pareto front)."""
    limited_by: str


def _guess(lo: Probe, hi: Probe, m_lo: float, m_hi: float) -> float:
    if m_lo <= 0 or not math.isfinite(m_hi) or m_hi <= m_lo:
        return math.sqrt(lo.concurrency * hi.concurrency)
    t = -math.log(m_lo) / (math.log(m_hi) - math.log(m_lo))
    return math.exp(
        math.log(lo.concurrency) + t * (math.log(hi.concurrency) - math.log(lo.concurrency))
    )


@dataclass(frozen=True)
class Bracket:
    """The two ends of a plan's concurrency range: C = 1 (its best latency) and C = cap (its
    highest throughput). Throughput grows with C and per-user speed falls, so no concurrency
    of the plan beats ``top`` on throughput or ``first`` on per-user speed: the corner
    (throughput at cap, per-user speed at 1) bounds everything bisection could find."""

    first: Probe
    top: Probe | None
    """None when ``cap`` is 1 or C = 1 already fails."""

    def settled(self, sla: Sla) -> Solved | None:
        """The answer when the ends decide it (C = 1 fails, or C = cap passes)."""
        if not sla.ok(self.first):
            return Solved(self.first, None, [], sla.binding(self.first))
        if self.top is None:
            return Solved(self.first, self.first, [self.first], "engine capacity")
        if sla.ok(self.top):
            return Solved(self.first, self.top, [self.first, self.top], "engine capacity")
        return None


def bracket(evaluate: Callable[[int], Probe], sla: Sla, cap: int) -> Bracket:
    first = evaluate(1)
    if not sla.ok(first) or cap <= 1:
        return Bracket(first, None)
    return Bracket(first, evaluate(cap))


def largest_concurrency(evaluate: Callable[[int], Probe], sla: Sla, cap: int) -> Solved:
    """``evaluate(C)`` → probe; ``cap ≥ 1`` the largest concurrency allowed."""
    return solve(evaluate, sla, bracket(evaluate, sla, cap))


def solve(evaluate: Callable[[int], Probe], sla: Sla, ends: Bracket) -> Solved:
    """Bisect between the ends of ``ends`` (unless they settle it)."""
    done = ends.settled(sla)
    if done is not None:
        return done
    first, top = ends.first, ends.top
    assert top is not None
    passing = [first]
    lo, hi = first, top
    m_lo, m_hi = sla.margin(lo), sla.margin(hi)
    interpolate = True
    while hi.concurrency - lo.concurrency > 1:
        width = hi.concurrency - lo.concurrency
        if interpolate:
            target = _guess(lo, hi, m_lo, m_hi)
        else:
            target = (lo.concurrency + hi.concurrency) / 2
        c = min(hi.concurrency - 1, max(lo.concurrency + 1, round(target)))
        p = evaluate(c)
        if sla.ok(p):
            lo, m_lo = p, sla.margin(p)
            passing.append(p)
        else:
            hi, m_hi = p, sla.margin(p)
        interpolate = (hi.concurrency - lo.concurrency) <= width / 2
    return Solved(first, lo, passing, sla.binding(hi))

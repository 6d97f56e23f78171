"""The largest concurrency a plan serves within its SLA: solved, not gridded.

TTFT and TPOT grow with the requests in flight, so "meets the SLA" is true up to some ``C*``
and false beyond; ``C*`` is found on the integers ``1..cap`` (``cap``: what the engine can
hold — KV capacity, batch cap, or the users to serve).

- Without a guess: probe C = 1 (if it fails, no concurrency meets the SLA) and C = cap (if it
  passes, the engine is the limit), then bisect between them.
- With a guess — a likely ``C*`` (the answer of a near-identical plan), or a rough estimate
  from decode step times — probe it and a neighbour (the next integer, or an half of the
  guess away for a rough one), then widen the step geometrically until the boundary is
  bracketed, then bisect. An exact guess costs two probes.
- With ``first`` — the C = 1 probe, already made by the caller — a failing guess brackets
  ``C*`` at once between C = 1 and the guess (no walk down), and C = 1 is not probed again.

Bisection interpolates each broken limit's load (value / limit) linearly between the bracket's
ends and takes the first crossing, and falls back to halving whenever an interpolated step
failed to halve the bracket, so it never needs more than about 2·log2(cap) probes.

``stop(lo, below, passing)`` (optional) is asked before each probe once one has passed; when
it says the rest cannot matter to the caller (see :mod:`.prune`), the solve ends there,
``best`` is the largest passing probe found so far and ``pruned`` is set.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from infercast.planning.adapter import Probe
from infercast.planning.sla import Sla

__all__ = ["Solved", "Stop", "largest_concurrency"]

Stop = Callable[[Probe, int, list[Probe]], bool]
"""``stop(lo, below, passing)``: may the solve end here, the rest of its probes lying at
``lo.C < C < below`` (``lo`` passes; ``below``: the smallest failing C, or ``cap + 1``)?"""


@dataclass(frozen=True)
class Solved:
    best: Probe | None
    """The probe at the largest concurrency meeting the SLA; None if even C = 1 fails."""
    first: Probe | None
    """The probe at C = 1 when one was made (the plan's best latency: the nearest miss)."""
    passing: list[Probe]
    """Every probe that met the SLA (points for the Pareto front)."""
    limited_by: str
    pruned: bool = False
    """The bisection was stopped by ``stop``: ``best`` is a lower bound on ``C*``, not it."""


def _guess(sla: Sla, lo: Probe, hi: Probe) -> float:
    """Where the first limit to bind crosses its value: for each limit ``hi`` breaks, the
    secant of its load (value / limit) between the bracket's ends; the smallest crossing."""
    at_lo, at_hi = sla.ratios(lo), sla.ratios(hi)
    crossings = []
    for name, high in at_hi.items():
        low = at_lo[name]
        if high > 1.0 and math.isfinite(high) and high > low:
            t = (1.0 - low) / (high - low)
            crossings.append(lo.concurrency + t * (hi.concurrency - lo.concurrency))
    return min(crossings) if crossings else (lo.concurrency + hi.concurrency) / 2


class _Search:
    def __init__(
        self,
        evaluate: Callable[[int], Probe],
        sla: Sla,
        cap: int,
        stop: Stop | None = None,
        first: Probe | None = None,
    ):
        self.evaluate, self.sla, self.cap, self.stop = evaluate, sla, cap, stop
        self.passing: list[Probe] = [first] if first is not None and sla.ok(first) else []
        self.first = first
        self.pruned = False

    def probe(self, c: int) -> tuple[Probe, bool]:
        if c == 1 and self.first is not None:
            return self.first, self.sla.ok(self.first)
        p = self.evaluate(c)
        ok = self.sla.ok(p)
        if ok:
            self.passing.append(p)
        if c == 1:
            self.first = p
        return p, ok

    def halt(self, lo: Probe, below: int) -> bool:
        """Does ``stop`` end the solve here (``lo`` passes, nothing at ``below`` or above)?"""
        if self.stop is not None and self.stop(lo, below, self.passing):
            self.pruned = True
        return self.pruned

    def done(self, lo: Probe | None, hi: Probe | None) -> Solved:
        if lo is None:
            assert hi is not None
            return Solved(None, self.first, [], self.sla.binding(hi))
        limited = "engine capacity" if hi is None else self.sla.binding(hi)
        return Solved(lo, self.first, self.passing, limited, self.pruned)

    def bracket(
        self, guess: int | Callable[[], int] | None, rough: bool
    ) -> tuple[Probe | None, Probe | None]:
        """(largest passing, smallest failing) probes found; None where there is none."""
        if guess is None:
            first, ok = self.probe(1)
            if not ok or self.cap == 1 or self.halt(first, self.cap + 1):
                return (first, None) if ok else (None, first)
            top, ok = self.probe(self.cap)
            return (top, None) if ok else (first, top)
        known = self.first
        if known is not None and self.sla.ok(known) and self.halt(known, self.cap + 1):
            return known, None
        c = min(max(guess() if callable(guess) else guess, 1), self.cap)
        p, ok = self.probe(c)
        step = max(1, c // 2) if rough else 1
        while True:
            if ok:
                if c == self.cap or self.halt(p, self.cap + 1):
                    return p, None
                c = min(self.cap, c + step)
                q, q_ok = self.probe(c)
                if not q_ok:
                    return p, q
                p = q
            else:
                if c == 1:
                    return None, p
                if self.first is not None:
                    first, first_ok = self.probe(1)
                    return (first, p) if first_ok else (None, first)
                c = max(1, c - step)
                q, q_ok = self.probe(c)
                if q_ok:
                    return q, p
                p = q
            step = max(2, step * 4, round(c * 0.1) if step == 1 else 0)

    def narrow(self, lo: Probe, hi: Probe) -> tuple[Probe, Probe]:
        interpolate = True
        while hi.concurrency - lo.concurrency > 1:
            if self.halt(lo, hi.concurrency):
                break
            width = hi.concurrency - lo.concurrency
            target = (
                _guess(self.sla, lo, hi) if interpolate else (lo.concurrency + hi.concurrency) / 2
            )
            c = min(hi.concurrency - 1, max(lo.concurrency + 1, round(target)))
            p, ok = self.probe(c)
            if ok:
                lo = p
            else:
                hi = p
            interpolate = (hi.concurrency - lo.concurrency) <= width / 2
        return lo, hi


def largest_concurrency(
    evaluate: Callable[[int], Probe],
    sla: Sla,
    cap: int,
    guess: int | Callable[[], int] | None = None,
    rough: bool = False,
    stop: Stop | None = None,
    first: Probe | None = None,
) -> Solved:
    """``evaluate(C)`` → probe; ``cap ≥ 1`` the largest concurrency allowed; ``guess`` a
    likely answer (or a function computing it, called only if needed) or None; ``rough``:
    the guess is an estimate (first step half of it), not the answer of a near-identical
    plan (first step: the neighbour); ``first``: the probe at C = 1 when the caller has
    made it."""
    search = _Search(evaluate, sla, cap, stop, first)
    lo, hi = search.bracket(guess, rough)
    if lo is not None and hi is not None:
        lo, hi = search.narrow(lo, hi)
    return search.done(lo, hi)

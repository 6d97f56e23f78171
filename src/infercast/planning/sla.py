"""SLA limits, the check a probe must pass, and the why-not summary of rejected plans.

A plan is judged at its best case for each limit: concurrency 1 has the lowest TTFT and TPOT
a plan can reach (both grow with load), so a plan failing a limit at C = 1 fails it at every
concurrency and is rejected; the summary counts, per limit, the plans it eliminated and keeps
the one that came closest (the "nearest miss").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from infercast.planning.adapter import Probe
from infercast.planning.result import Constraint, Rejection

__all__ = ["Rejections", "Sla"]

_GB = 1e9


@dataclass(frozen=True)
class Sla:
    ttft_max_ms: float | None = None
    tpot_max_ms: float | None = None
    min_tokens_per_s_per_user: float | None = None

    def violations(self, p: Probe) -> list[Constraint]:
        found: list[Constraint] = []
        if self.ttft_max_ms is not None and not p.ttft_ms <= self.ttft_max_ms:
            found.append("ttft_max_ms")
        if self.tpot_max_ms is not None and not p.tpot_ms <= self.tpot_max_ms:
            found.append("tpot_max_ms")
        rate = self.min_tokens_per_s_per_user
        if rate is not None and not p.tokens_per_s_per_user >= rate:
            found.append("min_tokens_per_s_per_user")
        return found

    def ok(self, p: Probe) -> bool:
        return not self.violations(p)

    def ratios(self, p: Probe) -> dict[str, float]:
        """Each given limit's load: value / limit (≤ 1 meets it; for the rate, limit / value)."""
        out: dict[str, float] = {}
        if self.ttft_max_ms is not None:
            out["ttft_max_ms"] = p.ttft_ms / self.ttft_max_ms
        if self.tpot_max_ms is not None:
            out["tpot_max_ms"] = p.tpot_ms / self.tpot_max_ms
        if self.min_tokens_per_s_per_user is not None:
            rate = p.tokens_per_s_per_user
            out["min_tokens_per_s_per_user"] = (
                self.min_tokens_per_s_per_user / rate if rate > 0 else math.inf
            )
        return out

    def margin(self, p: Probe) -> float:
        """The binding limit's load (the largest ratio; 0 without limits)."""
        return max(self.ratios(p).values(), default=0.0)

    def binding(self, p: Probe) -> str:
        ratios = self.ratios(p)
        return max(ratios, key=lambda k: ratios[k]) if ratios else "engine capacity"


_UNITS = {
    "ttft_max_ms": ("TTFT ≤ {:g} ms", "the fastest reaches {:.1f} ms", "ttft_ms"),
    "tpot_max_ms": ("TPOT ≤ {:g} ms", "the fastest reaches {:.2f} ms", "tpot_ms"),
    "min_tokens_per_s_per_user": (
        "≥ {:g} tokens/s per user",
        "the fastest reaches {:.1f} tokens/s",
        "tokens_per_s_per_user",
    ),
}


@dataclass
class _Miss:
    plans: int = 0
    best: float | None = None
    label: str = ""
    skipped: int = 0
    """Plans (among ``plans``) skipped unevaluated: their weights alone cannot fit."""
    floor: float | None = None
    """The nearest skipped plan's lower bound of its shortfall, and its label."""
    floor_label: str = ""


@dataclass
class Rejections:
    """Counts and nearest misses per constraint (fed one rejected plan at a time)."""

    sla: Sla
    _misses: dict[str, _Miss] = field(default_factory=dict)

    def _miss(self, constraint: str) -> _Miss:
        return self._misses.setdefault(constraint, _Miss())

    def memory(self, label: str, shortfall_bytes: float) -> None:
        miss = self._miss("memory")
        miss.plans += 1
        if miss.best is None or shortfall_bytes < miss.best:
            miss.best, miss.label = shortfall_bytes, label

    def unfit(self, plans: int, nearest: tuple[str, float] | None) -> None:
        """``plans`` skipped unevaluated, their weights alone over the memory their GPUs
        leave them; ``nearest``: the label of the one nearest to fitting and the bytes per GPU
        its weights' floor is over (a lower bound of its shortfall)."""
        if not plans or nearest is None:
            return
        miss = self._miss("memory")
        miss.plans += plans
        miss.skipped += plans
        miss.floor_label, miss.floor = nearest

    def latency(self, label: str, first: Probe) -> None:
        """A plan failing the SLA at concurrency 1."""
        for constraint in self.sla.violations(first):
            miss = self._miss(constraint)
            miss.plans += 1
            value = getattr(first, _UNITS[constraint][2])
            # Nearest miss: the highest per-user speed, or the lowest latency.
            if (
                miss.best is None
                or (constraint == "min_tokens_per_s_per_user" and value > miss.best)
                or (constraint != "min_tokens_per_s_per_user" and value < miss.best)
            ):
                miss.best, miss.label = value, label

    def summary(self, feasible: int) -> list[Rejection]:
        out = []
        for constraint in ("memory", "ttft_max_ms", "tpot_max_ms", "min_tokens_per_s_per_user"):
            miss = self._misses.get(constraint)
            if miss is None or (miss.best is None and miss.floor is None):
                continue
            if constraint == "memory":
                text = _memory_text(miss)
            else:
                limit_text, reach, _ = _UNITS[constraint]
                limit = getattr(self.sla, constraint)
                lead = "no plan meets" if feasible == 0 else f"{miss.plans} plans miss"
                text = (
                    f"{lead} {limit_text.format(limit)}: {reach.format(miss.best)} "
                    f"with {miss.label} at C = 1"
                )
            out.append(Rejection(constraint=constraint, plans=miss.plans, nearest_miss=text))
        return out


def _memory_text(miss: _Miss) -> str:
    """The memory rejection: the closest plan evaluated, and the plans skipped unevaluated."""
    lead = f"{miss.plans} plans do not fit in memory"
    if miss.skipped:
        skipped = (
            f"{miss.skipped} skipped unevaluated: their weights alone exceed the memory their "
            "GPUs leave them"
        )
        if miss.best is None:
            assert miss.floor is not None
            return (
                f"{lead} ({skipped}): the nearest, {miss.floor_label}, is at least "
                f"{miss.floor / _GB:.1f} GB per GPU short"
            )
        lead += f" ({skipped})"
    assert miss.best is not None
    closest = "the closest evaluated" if miss.skipped else "the closest"
    return (
        f"{lead}: {closest}, {miss.label}, is {miss.best / _GB:.1f} GB per GPU short of room "
        "for one sequence's KV cache"
    )

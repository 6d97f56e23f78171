"""Does the plan the model ranks best under a TPOT limit really serve best? (issue 11)

A plan search is only as good as its *ordering* of plans, which per-row error medians do not
show: a model 10 % off everywhere in the same direction ranks perfectly, one 5 % off in
alternating directions may not. This module measures the ordering on measured rows, reusing
the per-row predictions of :func:`~infercast.estimation.reconcile.predict_rows` (the cost model
is not re-implemented here).

Definitions (docs/PERFORMANCE_MODEL.md, "Ranking plans"):

* A *group* is the rows of one (model, hardware, framework, weight formats, isl, osl). A
  *configuration* is one plan (gpus, TP, DP, PP, MoE TP/EP) at one concurrency; repeated
  measurements of it are merged into their median, so a lucky repeat cannot set "the best".
* *Throughput* is output tokens/s per GPU: the CSV's column where it has one (InferenceMAX
  rows), else derived from the measured TTFT and TPOT by Little's law for a closed loop,
  ``concurrency · osl / (ttft + (osl − 1) · tpot) / gpus``, which reproduces the column within
  1.4–3.8 % (median 2.5 %) on the rows that have both. isl and osl are fixed in a group, so
  total tokens/s per GPU would rank identically.
* A *case* is a group and a TPOT limit under which ≥ 2 configurations meet the limit as
  measured. The limits are the quartiles of the group's measured TPOTs (so each binds:
  fixed limits in ms either exclude or admit a whole group, 3 ms gpt-oss to 200 ms Qwen3-32B),
  or fixed values when given. Of limits admitting the same measured configurations only the
  tightest counts: the cases depend on the measurements alone, never on a fit.
* The model *picks*, among the configurations whose *predicted* TPOT meets the limit, the one
  of highest predicted throughput. The case *succeeds* if the pick meets the limit as measured
  and its measured throughput is ≥ 90 % of the best measured throughput among configurations
  meeting the limit as measured. No pick (nothing predicted to fit) and a pick that measures
  over the limit both fail.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from infercast.estimation.params import canonical_framework
from infercast.estimation.reconcile import BenchmarkRow, Prediction

__all__ = ["SHARE", "Case", "Config", "cases", "measured_throughput", "summarize_ranking"]

SHARE = 0.9
"""Issue 11: the pick should reach ≥ 90 % of the best measured throughput."""
_GROUP = ("model", "hardware", "framework", "gemm_dtype", "moe_dtype", "isl", "osl")
_PLAN = ("gpus", "attention_tp", "attention_dp", "pp", "moe_tp", "moe_ep", "concurrency")


@dataclass(frozen=True)
class Config:
    """One measured configuration of a group (repeats merged) with its predictions."""

    plan: tuple[str, ...]
    concurrency: int
    tpot_ms: float
    throughput: float
    predicted_tpot_ms: float
    predicted_throughput: float


@dataclass(frozen=True)
class Case:
    """A group under one TPOT limit, with the model's pick and the measured best."""

    group: dict[str, str]
    limit_ms: float
    configs: tuple[Config, ...]

    @property
    def feasible(self) -> list[Config]:
        """Configurations meeting the limit as measured."""
        return [c for c in self.configs if c.tpot_ms <= self.limit_ms]

    @property
    def best(self) -> float:
        return max(c.throughput for c in self.feasible)

    @property
    def pick(self) -> Config | None:
        """The model's choice: highest predicted throughput among predicted-feasible ones."""
        fits = [c for c in self.configs if c.predicted_tpot_ms <= self.limit_ms]
        return max(fits, key=lambda c: (c.predicted_throughput, -c.predicted_tpot_ms), default=None)

    def good(self, config: Config) -> bool:
        return config.tpot_ms <= self.limit_ms and config.throughput >= SHARE * self.best

    @property
    def success(self) -> bool:
        pick = self.pick
        return pick is not None and self.good(pick)

    @property
    def random_success(self) -> float:
        """Baseline: expected success of a uniform pick among the measured-feasible ones
        (it knows which configurations fit, not which is fastest)."""
        return sum(self.good(c) for c in self.feasible) / len(self.feasible)

    @property
    def max_concurrency_success(self) -> float:
        """Baseline: the highest concurrency among the measured-feasible ones (ties shared)."""
        top = max(c.concurrency for c in self.feasible)
        ties = [c for c in self.feasible if c.concurrency == top]
        return sum(self.good(c) for c in ties) / len(ties)


def measured_throughput(row: BenchmarkRow) -> float | None:
    """Output tokens/s per GPU as measured, or by Little's law from measured TTFT and TPOT."""
    value = row.measured("output_tokens_per_s_per_gpu")
    if value is not None:
        return value
    ttft, tpot = row.measured("ttft_ms"), row.measured("tpot_ms")
    if ttft is None or tpot is None:
        return None
    osl, concurrency, gpus = row.integer("osl"), row.integer("concurrency"), row.integer("gpus")
    return concurrency * osl / ((ttft + (osl - 1) * tpot) / 1e3) / gpus


def _configs(predictions: list[Prediction]) -> dict[tuple[str, ...], list[Config]]:
    """Group the predicted rows and merge repeated configurations (median of the measured)."""
    repeats: dict[tuple[str, ...], dict[tuple[str, ...], list[Prediction]]] = defaultdict(dict)
    for p in predictions:
        row = p.row
        tpot, throughput = row.measured("tpot_ms"), measured_throughput(row)
        predicted_tpot = p.predicted.get("tpot_ms")
        if p.error or None in (tpot, throughput, predicted_tpot):
            continue
        group = tuple(row.text(k) for k in _GROUP)
        group = (*group[:2], canonical_framework(group[2]) or "", *group[3:])
        plan = tuple(row.text(k) for k in _PLAN)
        repeats[group].setdefault(plan, []).append(p)
    out: dict[tuple[str, ...], list[Config]] = {}
    for group, plans in repeats.items():
        out[group] = [
            Config(
                plan=plan,
                concurrency=ps[0].row.integer("concurrency"),
                tpot_ms=statistics.median(p.row.measured("tpot_ms") or 0.0 for p in ps),
                throughput=statistics.median(measured_throughput(p.row) or 0.0 for p in ps),
                predicted_tpot_ms=ps[0].predicted["tpot_ms"],
                predicted_throughput=ps[0].predicted["output_tokens_per_s_per_gpu"],
            )
            for plan, ps in sorted(plans.items())
        ]
    return out


def _quartiles(configs: list[Config]) -> list[float]:
    return statistics.quantiles([c.tpot_ms for c in configs], n=4, method="inclusive")


def cases(predictions: list[Prediction], limits_ms: Sequence[float] | None = None) -> list[Case]:
    """Every case of ``predictions``: per group, each limit (``limits_ms``, or the quartiles of
    the group's measured TPOTs) under which ≥ 2 configurations meet it as measured; of limits
    admitting the same measured configurations only the tightest is a case."""
    out = []
    for group, configs in sorted(_configs(predictions).items()):
        if len(configs) < 2:
            continue
        named = dict(zip(_GROUP, group, strict=True))
        seen: set[tuple[Config, ...]] = set()
        for limit in sorted(limits_ms if limits_ms is not None else _quartiles(configs)):
            case = Case(named, limit, tuple(configs))
            # A looser limit that admits the same measured configurations asks the same
            # question again (50 and 100 ms over a 3-40 ms group): only the tightest counts,
            # so the cases depend on the measurements alone, never on a fit.
            feasible = tuple(case.feasible)
            if len(feasible) >= 2 and feasible not in seen:
                seen.add(feasible)
                out.append(case)
    return out


def _shares(selected: list[Case]) -> dict[str, Any]:
    n = len(selected)
    if not n:
        return {"cases": 0}
    return {
        "cases": n,
        "success_pct": 100 * sum(c.success for c in selected) / n,
        "random_pct": 100 * sum(c.random_success for c in selected) / n,
        "max_concurrency_pct": 100 * sum(c.max_concurrency_success for c in selected) / n,
    }


def summarize_ranking(selected: list[Case]) -> dict[str, Any]:
    """Share of successful cases and the baselines: overall, by hardware and by framework."""
    keys: dict[str, Callable[[Case], str]] = {
        "hardware": lambda c: c.group["hardware"],
        "framework": lambda c: c.group["framework"],
    }
    by: dict[str, dict[str, Any]] = {}
    for name, key in keys.items():
        buckets: dict[str, list[Case]] = defaultdict(list)
        for case in selected:
            buckets[key(case)].append(case)
        by[name] = {k: _shares(v) for k, v in sorted(buckets.items())}
    return {"overall": _shares(selected), "by": by}

"""What a closed-loop measurement demands of the hardware, by Little's law alone.

Why: a row the cost model misses may be a cost the model lacks, or a measurement no physical
cost model can reach. This script tells them apart without any fitted parameter. A closed loop
of ``C`` clients, each waiting ``TTFT + (osl − 1)·TPOT`` per request, completes
``X = C / (TTFT + (osl − 1)·TPOT)`` requests per second (Little's law), so the GPUs of the
replica process ``X·isl`` prompt tokens per second. Two lower bounds on the busy fraction of
a GPU follow:

- **prefill-only MFU** = ``X·isl·F / (gpus·peak)``: the prompt FLOPs alone (``F`` per token,
  from infercast's FLOP count of a prefill of ``isl`` tokens: projections, attention scores,
  LM head) over the dense peak of the row's GEMM format. Decode, collectives and launch costs
  come on top, so a value near 1 is beyond any engine.
- **all-reduce share** = ``X·isl·W / (gpus·link)``: the tensor-parallel all-reduce bytes each
  GPU must put on the wire per second (``W`` per prompt token: infercast's ring wire bytes,
  ``2(n−1)/n`` of the activations per all-reduce) over the GPU's whole scale-up bandwidth,
  i.e. at 100 % of the link peak. Unless the engine overlaps collectives with compute, the
  two shares add.

Usage:
    .venv/bin/python scripts/implied_utilisation.py ../shared/benchmarks/serving-calibration.csv
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["implied_request_rate", "main", "prefill_share", "summarise"]


def implied_request_rate(concurrency: int, ttft_s: float, tpot_s: float, osl: int) -> float:
    """Requests per second a closed loop of ``concurrency`` clients completes (Little's law):
    each client spends ``TTFT + (osl − 1)·TPOT`` on a request and sends the next at once."""
    return concurrency / (ttft_s + (osl - 1) * tpot_s)


def prefill_share(rate: float, isl: int, per_token: float, gpus: int, capacity: float) -> float:
    """Fraction of each GPU's ``capacity`` (FLOP/s or wire bytes/s) the prompts alone use:
    ``rate·isl`` prompt tokens per second costing ``per_token`` each, over ``gpus`` GPUs."""
    return rate * isl * per_token / (gpus * capacity)


def _per_token_costs(row: dict[str, str]) -> tuple[float, float, float, float]:
    """(FLOPs per prompt token, wire bytes per prompt token, dense peak of the GEMM format,
    scale-up bandwidth), all per GPU of the row's plan, from a one-request prefill."""
    import infercast
    from infercast.hardware import get_hardware

    tp = int(row["attention_tp"] or 1)
    result = infercast.estimate(
        model=row["model"],
        hardware=row["hardware"],
        isl=int(row["isl"]),
        osl=2,
        concurrency=1,
        tp=tp,
        weight_dtype=row["gemm_dtype"] or None,
        framework=row["framework"] or None,
    )
    tokens = result.prefill.batch_tokens
    hardware = get_hardware(row["hardware"])
    peak, _ = hardware.peak_flops_for_dtype(row["gemm_dtype"] or "bf16")
    return (
        result.prefill.flops_per_gpu * tp / tokens,
        result.prefill.communication_bytes_per_gpu * tp / tokens,
        peak,
        hardware.scale_up.group_bandwidth_bytes_per_s(tp),
    )


def summarise(rows: Iterable[dict[str, str]]) -> dict[tuple[str, ...], list[tuple[float, ...]]]:
    """Per (model, hardware, framework, GEMM format): each dense, single-stage row's
    (prefill-only MFU, all-reduce share at the link peak, tp, isl, osl, concurrency)."""
    costs: dict[tuple[str, ...], tuple[float, float, float, float]] = {}
    groups: dict[tuple[str, ...], list[tuple[float, ...]]] = {}
    for row in rows:
        if int(row["attention_dp"] or 1) != 1 or int(row["pp"] or 1) != 1:
            continue
        tp, isl, osl = int(row["attention_tp"] or 1), int(row["isl"]), int(row["osl"])
        key = (row["model"], row["hardware"], row["framework"], row["gemm_dtype"])
        plan = (*key, str(tp), str(isl))
        if plan not in costs:
            costs[plan] = _per_token_costs(row)
        flops, wire, peak, link = costs[plan]
        rate = implied_request_rate(
            int(row["concurrency"]), float(row["ttft_ms"]) / 1e3, float(row["tpot_ms"]) / 1e3, osl
        )
        mfu = prefill_share(rate, isl, flops, tp, peak)
        comm = prefill_share(rate, isl, wire, tp, link) if tp > 1 else 0.0
        groups.setdefault(key, []).append((mfu, comm, tp, isl, osl, int(row["concurrency"])))
    return groups


def main(argv: list[str] | None = None) -> None:
    """Print each group's largest and median demand, and its most demanding rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    args = parser.parse_args(argv)
    with args.csv.open(encoding="utf-8") as handle:
        groups = summarise(csv.DictReader(handle))
    print(
        "| model @ hardware, framework, GEMM | rows | prefill-only MFU max / median "
        "| + all-reduce share (same row) | most demanding rows (tp, isl/osl, C) |"
    )
    print("|---|---|---|---|---|")
    for key, values in sorted(groups.items()):
        values.sort(key=lambda v: v[0] + v[1], reverse=True)
        top: Any = values[0]
        worst = ", ".join(
            f"TP{v[2]} {v[3]}/{v[4]} C{v[5]}: {v[0]:.2f}+{v[1]:.2f}" for v in values[:3]
        )
        median = statistics.median(v[0] for v in values)
        print(
            f"| {key[0]} @ {key[1]}, {key[2]}, {key[3]} | {len(values)} | "
            f"{max(v[0] for v in values):.2f} / {median:.2f} | {top[0]:.2f} + {top[1]:.2f} "
            f"| {worst} |"
        )


if __name__ == "__main__":
    main()

"""The cross-generation pool: one calibration set fitted over every measured part.

Why: a generation's set needs measurements of two model architectures before it leaves the
catalog's defaults (:mod:`infercast.estimation.calibration`). Blackwell holds gpt-oss on B200
and Qwen3-32B on GB200; leave one out and Blackwell has one architecture, so the other part
fell back to the catalog's defaults, which nobody ever measured (leave-one-hardware-out TPOT
29 % on B200). Every fitted parameter is already in a form that transfers between parts:
efficiencies are fractions of the part's own peak (compute, HBM, links, MoE GEMMs), the others
are costs per event (per kernel boundary, eager launch, collective call, step, request) and the
harness's burstiness. So one fit over all rows, of every generation, is a better prior for an
unmeasured part than the catalog's guess: the lookup is (hardware, framework) → hardware →
generation → **pool** → catalog defaults.

The pool is fitted like a generation (a weak prior toward the catalog's physical defaults,
engine parameters per engine) and never shrinks the generations toward itself, so the lower
sets are the fit they were. It covers only the vendors its rows come from: per-kernel and
per-step costs belong to the software stack (CUDA graphs and NCCL vs ROCm's HSA dispatch and
RCCL; the AMD parts' catalog defaults carry ROCm's larger, sourced, costs), so an AMD part is
not priced from NVIDIA measurements. Nothing here is keyed on a model: a set's rows are
grouped by hardware, generation and engine only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infercast.hardware import Hardware

__all__ = ["POOL_KEY", "pool_covers", "pool_info", "pool_needed", "pool_note"]

POOL_KEY = "pool"
"""The pool's key among ``calibration.json``'s sets."""


def pool_info(vendors: Iterable[str], parts: Iterable[str]) -> dict[str, list[str]]:
    """What the pool records about its rows: the vendors it may price, the parts it saw."""
    return {"vendors": sorted(set(vendors)), "parts": sorted(set(parts))}


def pool_covers(hardware: Hardware, pool: dict[str, Any]) -> bool:
    """Whether the pool may price ``hardware``: a part of a vendor its rows come from."""
    return hardware.vendor.lower() in {v.lower() for v in pool.get("vendors", [])}


def pool_needed(only: set[str] | None, sets: dict[str, Any]) -> bool:
    """Whether a fit restricted to ``only`` (cross-validation's resolution paths) needs the
    pool: only when a generation it asks for got no set of its own. The full fit (``only``
    None) always fits it: estimates of parts without measurements use it."""
    if only is None:
        return True
    return POOL_KEY in only and any(
        key.startswith("generation:") and key not in sets for key in only
    )


def no_set_lead(hardware: Hardware, calibration: dict[str, Any]) -> str:
    """How a note begins for a part without a set of its own: measured but too narrowly (a
    set needs two model architectures), or never measured — "no calibration" would be
    untrue of a part with hundreds of rows."""
    why = calibration.get("unfitted", {}).get(f"{hardware.id}/*", "")
    if why:
        reason = why.split(":")[0]
        return f"{hardware.id} is measured, but too narrowly for a set of its own ({reason})"
    return f"no calibration for {hardware.id}"


def pool_note(hardware: Hardware, calibration: dict[str, Any], used: bool) -> str:
    """The estimate's note for a part that reached the pool level (``used``: the pool priced
    it; otherwise the catalog's defaults did)."""
    generation = hardware.generation or hardware.id
    why = calibration.get("unfitted", {}).get(f"generation:{generation}", "")
    why = f" ({why.split(':')[0]})" if why else ""
    pool = calibration.get("sets", {}).get(POOL_KEY, {})
    if used:
        return (
            f"{no_set_lead(hardware, calibration)}; the {generation} generation has none "
            f"either{why}: "
            f"used the pool fitted over every measured part ({', '.join(pool.get('parts', []))})"
        )
    if pool:
        return (
            f"{hardware.id} has no calibration data and the pooled fit holds no "
            f"{hardware.vendor} part: catalog default efficiencies used"
        )
    return f"{hardware.id} has no calibration data: catalog default efficiencies used"

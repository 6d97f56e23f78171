"""Which efficiency parameters an estimate uses, and where they come from.

Resolution order for ``(hardware, framework)``:
1. the calibrated set for that pair in ``calibration.json`` (fitted by ``infercast calibrate``
   on measured serving benchmarks);
2. the calibrated set for that hardware with any framework (``"*"``);
3. the generation's set, fitted over all its measured parts;
4. the pool fitted over every measured part (:mod:`infercast.estimation.pool`), for a part of a
   vendor the pool's rows come from;
5. the hardware catalog's physically reasonable defaults.
Scheduler and memory settings (step token budget, batch cap, memory-reserve rule) come from
the engine catalog (:mod:`infercast.engines`), or the generic engine's for a framework infercast
does not know — said in the notes, never an error.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from infercast.engines import ENGINES, GENERIC, GIB, Engine, canonical_engine
from infercast.errors import UnknownIdError
from infercast.estimation.engine_figures import engine_figures, sibling_step_overhead
from infercast.estimation.pool import POOL_KEY, no_set_lead, pool_covers, pool_note
from infercast.hardware import Efficiency, Hardware

__all__ = [
    "CALIBRATION_FILE",
    "DEFAULT_BURSTINESS",
    "FRAMEWORKS",
    "FrameworkSettings",
    "ModelParams",
    "canonical_framework",
    "load_calibration",
    "resolve_params",
]

CALIBRATION_FILE = "calibration.json"


FrameworkSettings = Engine
"""The engine settings an estimate uses (an :class:`infercast.engines.Engine`)."""

FRAMEWORKS: dict[str, Engine] = ENGINES
"""Every known engine by id (the catalog ``infercast/engines/catalog.json``)."""


def canonical_framework(name: str | None) -> str | None:
    """The engine id a user's framework name means (aliases resolved, lower case)."""
    return canonical_engine(name)


DEFAULT_BURSTINESS = 0.1
"""Share of the other in-flight requests whose prefill a new request waits behind: 0 for
perfectly staggered arrivals, 0.5 for fully synchronised waves (every client started at once
with equal output lengths). Closed-loop benchmarks sit in between; calibration fits it."""


@dataclass(frozen=True)
class ModelParams:
    efficiency: Efficiency
    framework: Engine
    source: str
    """Where the efficiency figures came from (for the notes)."""
    burstiness: float = DEFAULT_BURSTINESS


def _builtin_calibration_path() -> Path:
    return Path(str(resources.files("infercast.estimation") / CALIBRATION_FILE))


@cache
def load_calibration(path: str | None = None) -> dict[str, Any]:
    """The calibrated parameter sets: ``{"sets": {"h100/vllm": {...}, "h100/*": {...}}}``."""
    file = Path(path) if path else _builtin_calibration_path()
    if not file.exists():
        return {"sets": {}}
    data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return data


def part_settings_note(settings: Engine, hardware: Hardware) -> str:
    """What an engine that picks its step budget (and batch cap) from the GPU picked here."""
    gib = f"{hardware.memory_bytes / GIB:.0f} GiB"
    tiers = settings.budget_by_memory
    if not any(t.max_num_seqs or t.device_names for t in tiers):
        return (
            f"{settings.display_name} picks its step budget from the GPU's memory: "
            f"{settings.max_num_batched_tokens}-token steps on {gib}"
        )
    tier = settings.tier_for(hardware.memory_bytes, hardware.name)
    by_name = tier is not None and hardware.memory_bytes >= tier.below_gib * GIB
    return (
        f"{settings.display_name} picks its step budget and batch cap from the GPU: "
        f"{settings.max_num_batched_tokens}-token steps, at most {settings.max_num_seqs} "
        f"sequences per instance, on {gib}"
        + (f" ({hardware.name}: by its device name, whatever its memory)" if by_name else "")
    )


def resolve_params(
    hardware: Hardware,
    framework: str | None,
    calibration: dict[str, Any] | None = None,
    expert_format: str | None = None,
) -> tuple[ModelParams, list[str]]:
    """Efficiency + scheduler settings for this pair, and notes saying what was used;
    ``expert_format``: a MoE model's expert weight format (a set whose MoE measurements hold
    other formats says that its ``moe_compute`` was not measured on it)."""
    notes: list[str] = []
    fw = canonical_framework(framework)
    if fw is None:
        settings = FRAMEWORKS[GENERIC]
        notes.append("no framework given: generic scheduler settings (8192-token steps)")
    elif fw in FRAMEWORKS:
        settings = FRAMEWORKS[fw]
    else:  # a typo ("vllmm") must not silently become another engine's answer
        names = [name.lower() for e in ENGINES.values() for name in (e.id, *e.aliases)]
        close = difflib.get_close_matches(fw, names, n=3, cutoff=0.5)
        known = [canonical_engine(c) or c for c in close] + list(FRAMEWORKS)
        raise UnknownIdError("framework", str(framework), list(dict.fromkeys(known)))
    settings = settings.for_part(hardware.memory_bytes, hardware.name)
    if settings.budget_by_memory:
        notes.append(part_settings_note(settings, hardware))
    calibration = calibration if calibration is not None else load_calibration()
    sets = calibration.get("sets", {})
    generation = f"generation:{hardware.generation}" if hardware.generation else None
    chain = [k for k in (f"{hardware.id}/{fw}", f"{hardware.id}/*", generation, POOL_KEY) if k]
    for at, key in enumerate(chain):
        if key not in sets:
            continue
        if key == POOL_KEY and not pool_covers(hardware, sets[key]):
            break
        # A set fitted over several engines keeps each engine's server/harness figures; a
        # fallback set without this engine takes them from the nearest set that measured it.
        own, source = engine_figures(sets, chain[at:], fw)
        chosen = {**sets[key], **own}
        if source not in (None, key):
            notes.append(
                f"{fw}'s own server figures (request overhead, burstiness) from "
                f"{source}, the nearest set that measured {fw}"
            )
        if fw and fw not in (sets[key].get("frameworks") or []):
            sibling = sibling_step_overhead(sets, hardware, fw)
            if sibling is not None:
                chosen["step_overhead_s"] = sibling[1]
                notes.append(
                    f"{fw}'s per-step host overhead from {sibling[0]}, the same generation's "
                    f"part measured with {fw} ({key} holds none of {fw}'s steps)"
                )
        figures = {k: v for k, v in chosen.items() if k in Efficiency.model_fields}
        efficiency = hardware.efficiency.model_copy(update=figures)
        engines = sets[key].get("frameworks") or []
        if key == POOL_KEY:
            notes.append(pool_note(hardware, calibration, used=True))
        elif key == generation:
            lead = no_set_lead(hardware, calibration)
            notes.append(
                f"{lead}: used the {hardware.generation} generation's fit pooled over its "
                "measured parts"
            )
        elif key.endswith("/*") and fw in (None, "generic"):
            notes.append(f"efficiencies fitted over every framework measured on {hardware.id}")
        elif key.endswith("/*"):
            notes.append(
                f"no calibration for {fw} on {hardware.id}: "
                f"used {hardware.id}'s fit over all frameworks"
            )
        if key != f"{hardware.id}/{fw}" and len(engines) == 1 and engines[0] != fw:
            notes.append(f"that fallback set comes from {engines[0]} measurements only")
        measured = sets[key].get("moe_formats") or []
        if expert_format and measured and expert_format not in measured:
            notes.append(
                f"MoE GEMM efficiency {efficiency.moe_compute:.2f} was fitted on "
                f"{', '.join(measured)} experts only: this estimate's {expert_format} experts "
                "are a format no measurement of that set holds"
            )
        burstiness = float(chosen.get("burstiness", DEFAULT_BURSTINESS))
        return (
            ModelParams(efficiency, settings, f"calibrated ({key})", burstiness),
            notes,
        )
    notes.append(pool_note(hardware, calibration, used=False))
    return ModelParams(hardware.efficiency, settings, "catalog defaults"), notes

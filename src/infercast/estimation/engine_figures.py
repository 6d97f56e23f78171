"""An engine's own figures when an estimate falls back to a set fitted without that engine.

A fallback set (a part over all its engines, a generation, the pool) is fitted on the engines
that were measured there. Its part-level efficiencies (compute, HBM, links) carry over to any
engine on that part; the engine's own figures do not: the server and benchmark harness
(request overhead, burstiness) and the per-step host cost (scheduling, input preparation and
sampling run on the host, in the engine's code). Those come from sets that measured the engine:
- request overhead and burstiness from the nearest set up the fallback chain that measured it;
- the per-step overhead from a set of that engine alone on a part of the same generation. The
  parts of one generation share the die and the host platform: H200 is the H100's GH100 die
  with more HBM3e (NVIDIA H200 Tensor Core GPU datasheet, 2024), so TensorRT-LLM's host cost
  per step measured on H100 stands for it on H200, where an H200 set fitted on SGLang and vLLM
  alone held 0.73 ms and made TensorRT-LLM's memory-bound decode slower on H200 than on H100.
"""

from __future__ import annotations

from typing import Any

from infercast.errors import InfercastError
from infercast.hardware import Hardware, get_hardware

__all__ = ["engine_figures", "sibling_step_overhead"]


def engine_figures(
    sets: dict[str, Any], chain: list[str], fw: str | None
) -> tuple[dict[str, float], str | None]:
    """The server/harness figures fitted for engine ``fw`` in the first set of ``chain`` that
    measured it, and that set's key (none where no set did): its ``by_framework`` entry, or
    nothing to override where the set measured ``fw`` alone (its own figures are the
    engine's)."""
    for key in chain:
        measured = sets.get(key)
        if not measured:
            continue
        own = measured.get("by_framework", {}).get(fw or "")
        if own:
            return own, key
        if measured.get("frameworks") == [fw]:
            return {}, key
    return {}, None


def _generation(part: str) -> str | None:
    try:
        return get_hardware(part).generation
    except InfercastError:  # a set of a user part no longer in the catalog
        return None


def sibling_step_overhead(
    sets: dict[str, Any], hardware: Hardware, fw: str
) -> tuple[str, float] | None:
    """``(key, step_overhead_s)`` of the set of engine ``fw`` alone on another part of
    ``hardware``'s generation (the one with the most rows); None where there is none."""
    if not hardware.generation:
        return None
    candidates = []
    for key, values in sets.items():
        part, _, engine = key.partition("/")
        if engine != fw or part == hardware.id or "step_overhead_s" not in values:
            continue
        if values.get("frameworks") == [fw] and _generation(part) == hardware.generation:
            candidates.append((-int(values.get("rows", 0)), key, float(values["step_overhead_s"])))
    if not candidates:
        return None
    _, key, value = min(candidates)
    return key, value

"""Which efficiency parameters an estimate uses, and where they come from.

Resolution order for ``(hardware, framework)``:
1. the calibrated set for that pair in ``calibration.json`` (fitted by ``infercast calibrate``
   on measured serving benchmarks);
2. the calibrated set for that hardware with any framework (``"*"``);
3. the hardware catalog's physically reasonable defaults.
Scheduler settings (prefill token budget per step, batch cap) come from the framework's
defaults, or generic ones for a framework infercast does not know — said in the notes, never an
error.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from infercast.errors import UnknownIdError
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


@dataclass(frozen=True)
class FrameworkSettings:
    name: str
    max_num_batched_tokens: int
    """Token budget of one step (chunked prefill): prompt chunks + decode tokens."""
    max_num_seqs: int
    """Most sequences decoding at once."""
    memory_utilization: float
    """Fraction of HBM the engine may use for weights, activations and KV cache (vLLM's
    gpu_memory_utilization, SGLang's mem_fraction_static); the rest is the runtime reserve."""
    description: str


FRAMEWORKS: dict[str, FrameworkSettings] = {
    f.name: f
    for f in (
        FrameworkSettings(
            "vllm",
            8192,
            1024,
            0.90,
            "vLLM V1: chunked prefill, 8192-token step budget, gpu_memory_utilization 0.9",
        ),
        FrameworkSettings(
            "sglang", 8192, 1024, 0.88, "SGLang: chunked prefill 8192, mem_fraction_static 0.88"
        ),
        FrameworkSettings(
            "trtllm",
            8192,
            1024,
            0.92,
            "TensorRT-LLM: in-flight batching, 8192 max num tokens, KV cache fills 90 % of "
            "the memory left after weights",
        ),
        FrameworkSettings("generic", 8192, 1024, 0.90, "generic continuous-batching engine"),
    )
}
_ALIASES = {
    "trt": "trtllm",
    "tensorrt-llm": "trtllm",
    "tensorrt_llm": "trtllm",
    "trt-llm": "trtllm",
}


def canonical_framework(name: str | None) -> str | None:
    if name is None:
        return None
    key = name.strip().lower()
    return _ALIASES.get(key, key)


DEFAULT_BURSTINESS = 0.1
"""Share of the other in-flight requests whose prefill a new request waits behind: 0 for
perfectly staggered arrivals, 0.5 for fully synchronised waves (every client started at once
with equal output lengths). Closed-loop benchmarks sit in between; calibration fits it."""


@dataclass(frozen=True)
class ModelParams:
    efficiency: Efficiency
    framework: FrameworkSettings
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


def resolve_params(
    hardware: Hardware, framework: str | None, calibration: dict[str, Any] | None = None
) -> tuple[ModelParams, list[str]]:
    """Efficiency + scheduler settings for this pair, and notes saying what was used."""
    notes: list[str] = []
    fw = canonical_framework(framework)
    if fw is None:
        settings = FRAMEWORKS["generic"]
        notes.append("no framework given: generic scheduler settings (8192-token steps)")
    elif fw in FRAMEWORKS:
        settings = FRAMEWORKS[fw]
    else:  # a typo ("vllmm") must not silently become another engine's answer
        close = difflib.get_close_matches(fw, list(FRAMEWORKS) + list(_ALIASES), n=3, cutoff=0.5)
        known = [_ALIASES.get(c, c) for c in close] + list(FRAMEWORKS)
        raise UnknownIdError("framework", str(framework), list(dict.fromkeys(known)))
    sets = (calibration if calibration is not None else load_calibration()).get("sets", {})
    for key in (f"{hardware.id}/{fw}", f"{hardware.id}/*"):
        if key in sets:
            figures = {k: v for k, v in sets[key].items() if k in Efficiency.model_fields}
            efficiency = hardware.efficiency.model_copy(update=figures)
            if key.endswith("/*") and fw in (None, "generic"):
                notes.append(f"efficiencies fitted over every framework measured on {hardware.id}")
            elif key.endswith("/*"):
                notes.append(
                    f"no calibration for {fw} on {hardware.id}: "
                    f"used {hardware.id}'s fit over all frameworks"
                )
            burstiness = float(sets[key].get("burstiness", DEFAULT_BURSTINESS))
            return (
                ModelParams(efficiency, settings, f"calibrated ({key})", burstiness),
                notes,
            )
    notes.append(f"{hardware.id} has no calibration data: catalog default efficiencies used")
    return ModelParams(hardware.efficiency, settings, "catalog defaults"), notes

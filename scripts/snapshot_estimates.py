"""Snapshot of ``infercast.estimate`` for ~30 representative deployments.

Why: refactors must leave every figure unchanged. ``tests/test_snapshot.py`` recomputes these
deployments and compares them with the stored ``tests/data/estimate_snapshot.json`` (numbers
to a relative 1e-9, everything else exactly; fields a result gains later are ignored).

Usage:
    .venv/bin/python scripts/snapshot_estimates.py          # regenerate the snapshot file
    .venv/bin/python scripts/snapshot_estimates.py --check  # compare, print differences

Regenerate ONLY when a change deliberately alters the physics (say so in the commit message);
a refactor must pass ``--check`` unchanged. A deployment the model rejects is stored as its
error message, so plan-validity rules are covered too.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent.parent / "tests" / "data" / "estimate_snapshot.json"

_LLAMA8 = "meta-llama/Llama-3.1-8B-Instruct"
_LLAMA70 = "meta-llama/Llama-3.3-70B-Instruct"
_QWEN32 = "Qwen/Qwen3-32B"
_QWEN30A3 = "Qwen/Qwen3-30B-A3B"
_QWEN235 = "Qwen/Qwen3-235B-A22B"
_DSV3 = "deepseek-ai/DeepSeek-V3"
_GPTOSS = "openai/gpt-oss-120b"
_GPTOSS20 = "openai/gpt-oss-20b"
_MIXTRAL = "mistralai/Mixtral-8x7B-v0.1"
_MISTRAL = "mistralai/Mistral-7B-v0.1"
_GEMMA2 = "google/gemma-2-9b-it"
_BERT = "google-bert/bert-base-uncased"
_TINY = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
_QWEN25 = "Qwen/Qwen2.5-7B-Instruct"

# name → keyword arguments of infercast.estimate (the name is the snapshot's key).
DEPLOYMENTS: dict[str, dict[str, Any]] = {
    "dense-8b-h100-vllm-c1": dict(model=_LLAMA8, hardware="h100", framework="vllm"),
    "dense-8b-h100-vllm-c64": dict(model=_LLAMA8, hardware="h100", framework="vllm", c=64),
    "dense-8b-h200-sglang-fp8": dict(
        model=_LLAMA8, hardware="h200", framework="sglang", weight_dtype="fp8", c=32
    ),
    "dense-8b-l40s-generic": dict(model=_LLAMA8, hardware="l40s", c=8),
    "dense-8b-a100-fp8-weightonly": dict(
        model=_LLAMA8, hardware="a100", weight_dtype="fp8", kv_dtype="fp8", c=16
    ),
    "dense-70b-h100-tp4": dict(model=_LLAMA70, hardware="h100", tp=4, framework="vllm", c=32),
    "dense-70b-h100-tp2-pp2": dict(model=_LLAMA70, hardware="h100", tp=2, pp=2, c=16),
    "dense-70b-h100-tp4-sp": dict(model=_LLAMA70, hardware="h100", tp=4, sp=True, c=64),
    "dense-70b-b200-tp2-dp2-cp2-long": dict(
        model=_LLAMA70, hardware="b200", tp=2, dp=2, cp=2, isl=65536, osl=256, c=1
    ),
    "dense-70b-gb200-dp4-cp4-c2": dict(
        model=_LLAMA70, hardware="gb200", tp=1, dp=4, cp=4, isl=32768, osl=128, c=2
    ),
    "dense-32b-h100-trtllm-fp8": dict(
        model=_QWEN32, hardware="h100", tp=2, framework="trtllm", weight_dtype="fp8", c=128
    ),
    "dense-32b-h100-tp16-kv-replicated": dict(model=_QWEN32, hardware="h100", tp=16, c=4),
    "dense-32b-mi300x-unknown-fw": dict(model=_QWEN32, hardware="mi300x", framework="foo", c=8),
    "dense-qwen25-h200-tp2-dp2": dict(model=_QWEN25, hardware="h200", tp=2, dp=2, c=48),
    "tiny-h100-huge-concurrency": dict(model=_TINY, hardware="h100", c=4096),
    "swa-mistral-h100-long": dict(model=_MISTRAL, hardware="h100", isl=16384, osl=512, c=8),
    "swa-gemma2-h200-tp2": dict(model=_GEMMA2, hardware="h200", tp=2, framework="sglang", c=16),
    "moe-gptoss-h100-tp4": dict(
        model=_GPTOSS, hardware="h100", tp=4, framework="vllm", isl=8192, osl=1024, c=64
    ),
    "moe-gptoss-b200-tp2-c8": dict(
        model=_GPTOSS, hardware="b200", tp=2, framework="vllm", isl=8192, osl=1024, c=8
    ),
    "moe-gptoss20-h200-dp2-ep2": dict(model=_GPTOSS20, hardware="h200", dp=2, ep=2, c=32),
    "moe-qwen30a3-h100-tp2-ep2": dict(model=_QWEN30A3, hardware="h100", tp=2, ep=2, c=16),
    "moe-qwen235-h200-tp8-ep8-fp8": dict(
        model=_QWEN235, hardware="h200", tp=8, ep=8, weight_dtype="fp8", moe_dtype="fp8", c=64
    ),
    "moe-mixtral-mi325x-tp2-moetp1-ep2": dict(
        model=_MIXTRAL, hardware="mi325x", tp=2, ep=2, moe_tp=1, c=16
    ),
    "moe-mixtral-b300-tp2-sp": dict(model=_MIXTRAL, hardware="b300", tp=2, sp=True, c=16),
    "mla-dsv3-h200-tp8": dict(model=_DSV3, hardware="h200", tp=8, framework="sglang", c=32),
    "mla-dsv3-b200-dp8-ep8": dict(
        model=_DSV3, hardware="b200", tp=1, dp=8, ep=8, framework="sglang", c=256
    ),
    "mla-dsv3-gb300-tp4-dp2-cp2-nvfp4": dict(
        model=_DSV3, hardware="gb300", tp=4, dp=2, cp=2, moe_dtype="nvfp4", isl=32768, c=4
    ),
    "mla-dsv3-mi355x-tp8-mxfp4": dict(model=_DSV3, hardware="mi355x", tp=8, moe_dtype="mxfp4", c=8),
    "encoder-bert-h100": dict(model=_BERT, hardware="h100", isl=512, osl=0, c=64),
    "encoder-bert-a100-tp2-osl": dict(model=_BERT, hardware="a100", tp=2, isl=128, osl=16, c=8),
    "doesnotfit-405b-l40s": dict(
        model="meta-llama/Llama-3.1-405B-Instruct", hardware="l40s", tp=2, c=1
    ),
    "invalid-tp3-llama": dict(model=_LLAMA8, hardware="h100", tp=3),
    "invalid-ep-dense": dict(model=_LLAMA8, hardware="h100", tp=2, ep=2),
    "invalid-ep-experts": dict(model=_MIXTRAL, hardware="h100", tp=1, dp=16, ep=16),
    "invalid-kv-int4": dict(model=_LLAMA8, hardware="h100", kv_dtype="int4"),
}


def run(kwargs: dict[str, Any]) -> dict[str, Any]:
    """One deployment's full result as JSON data, or ``{"error": message}``."""
    import infercast
    from infercast.errors import InfercastError

    args = dict(kwargs)
    args.setdefault("isl", 1024)
    args.setdefault("osl", 256)
    args["concurrency"] = args.pop("c", 1)
    try:
        return infercast.estimate(**args).model_dump(mode="json")
    except InfercastError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def compute() -> dict[str, Any]:
    return {name: run(kwargs) for name, kwargs in DEPLOYMENTS.items()}


def differences(stored: Any, fresh: Any, where: str = "", rel: float = 1e-9) -> list[str]:
    """Where ``fresh`` departs from ``stored``: numbers beyond ``rel``, any other value, a
    missing key or list item. Keys only ``fresh`` has (new result fields) are ignored."""
    if isinstance(stored, dict):
        if not isinstance(fresh, dict):
            return [f"{where}: {stored!r} became {fresh!r}"]
        out: list[str] = []
        for key, value in stored.items():
            if key not in fresh:
                out.append(f"{where}.{key}: missing")
            else:
                out.extend(differences(value, fresh[key], f"{where}.{key}", rel))
        return out
    if isinstance(stored, list):
        if not isinstance(fresh, list) or len(fresh) != len(stored):
            return [f"{where}: list {stored!r} became {fresh!r}"]
        out = []
        for i, (a, b) in enumerate(zip(stored, fresh, strict=True)):
            out.extend(differences(a, b, f"{where}[{i}]", rel))
        return out
    numeric = (int, float)
    if (
        isinstance(stored, numeric)
        and isinstance(fresh, numeric)
        and not isinstance(stored, bool)
        and not isinstance(fresh, bool)
    ):
        if math.isclose(stored, fresh, rel_tol=rel, abs_tol=1e-300):
            return []
        return [f"{where}: {stored!r} became {fresh!r}"]
    return [] if stored == fresh else [f"{where}: {stored!r} became {fresh!r}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    fresh = compute()
    if args.check:
        stored = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
        diffs = differences(stored, fresh)
        print("\n".join(diffs) if diffs else f"{len(stored)} deployments unchanged")
        return 1 if diffs else 0
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(json.dumps(fresh, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(fresh)} deployments to {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Regenerate the built-in model catalog (src/infercast/specs/catalog/*.json).

Every spec is imported from a real config.json in ``<shared>/hf-configs`` (all of them) or
``<shared>/hf-configs-next`` (the most-used of the 2025–26 families, ``NEXT``) by the same
importer users run, then checked against that folder's ``EXPECTED.json`` (counted independently
with transformers on PyTorch's meta device): total and active parameters, matmul parameters per
token, KV-cache bytes per token (bf16), embedding and LM-head parameters and tying, routed
experts and top-k, and the census of attention / windowed / linear-or-SSM layers — whichever
figures the reference has. Any disagreement is printed and nothing is written, so the catalog
can only ever hold counts that were checked.

Usage: python scripts/build_catalog.py [--shared DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infercast.importers.hf_config import spec_from_hf_config
from infercast.specs import LAYER_CLASSES, ModelSpec

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO.parent / "shared"
DEFAULT_OUT = REPO / "src" / "infercast" / "specs" / "catalog"


@dataclass(frozen=True)
class Entry:
    hf_model_id: str
    config_key: str
    """Stem of the config.json (and EXPECTED.json key) the spec is built from."""
    name: str
    same_as: str | None = None
    """When the architecture file is another id's (Llama-3.1-405B-Instruct)."""


NAMES = {
    "Qwen/Qwen2.5-7B-Instruct": "Qwen2.5 7B Instruct",
    "Qwen/Qwen3-235B-A22B": "Qwen3 235B-A22B",
    "Qwen/Qwen3-30B-A3B": "Qwen3 30B-A3B",
    "Qwen/Qwen3-32B": "Qwen3 32B",
    "Qwen/Qwen3-8B": "Qwen3 8B",
    "TinyLlama/TinyLlama-1.1B-Chat-v1.0": "TinyLlama 1.1B Chat v1.0",
    "deepseek-ai/DeepSeek-R1": "DeepSeek-R1",
    "deepseek-ai/DeepSeek-V3": "DeepSeek-V3",
    "google-bert/bert-base-uncased": "BERT base (uncased)",
    "google/gemma-2-9b-it": "Gemma 2 9B IT",
    "meta-llama/Llama-3.1-8B-Instruct": "Llama 3.1 8B Instruct",
    "meta-llama/Llama-3.3-70B-Instruct": "Llama 3.3 70B Instruct",
    "meta-llama/Meta-Llama-3.1-405B": "Meta Llama 3.1 405B",
    "meta-llama/Llama-3.1-405B-Instruct": "Meta Llama 3.1 405B Instruct",
    "meta-llama/Meta-Llama-3.1-8B": "Meta Llama 3.1 8B",
    "mistralai/Mistral-7B-v0.1": "Mistral 7B v0.1",
    "mistralai/Mixtral-8x7B-v0.1": "Mixtral 8x7B v0.1",
    "openai/gpt-oss-120b": "gpt-oss-120b",
    "openai/gpt-oss-20b": "gpt-oss-20b",
}

NAMES.update(
    {
        "Qwen/Qwen3-Next-80B-A3B-Thinking": "Qwen3-Next 80B-A3B Thinking",
        "deepseek-ai/DeepSeek-V3.2": "DeepSeek-V3.2",
        "meta-llama/Llama-4-Scout-17B-16E-Instruct": "Llama 4 Scout 17B-16E Instruct",
        "zai-org/GLM-4.7": "GLM-4.7",
        "moonshotai/Kimi-K2.5": "Kimi K2.5",
        "google/gemma-3-27b-it": "Gemma 3 27B IT",
    }
)

SOURCES: dict[str, tuple[str, ...] | None] = {
    "hf-configs": None,
    "hf-configs-next": (
        "Qwen_Qwen3-Next-80B-A3B-Thinking",
        "deepseek-ai_DeepSeek-V3.2",
        "meta-llama_Llama-4-Scout-17B-16E-Instruct",
        "zai-org_GLM-4.7",
        "moonshotai_Kimi-K2.5",
        "google_gemma-3-27b-it",
    ),
}
"""Shared folder → the configs of it that go into the catalog (None: all)."""
TRANSFORMERS = {"hf-configs": "5.23", "hf-configs-next": "5.24"}

# Ids the seed names whose architecture file is another id's.
ALIASES = {"meta-llama/Llama-3.1-405B-Instruct": "meta-llama_Meta-Llama-3.1-405B"}


def entries(expected: dict[str, Any], configs: list[str], with_aliases: bool = True) -> list[Entry]:
    found = []
    for key in sorted(configs):
        if key not in expected:
            raise SystemExit(f"{key}.json has no entry in EXPECTED.json; cannot validate it")
        hf_id = expected[key]["hf_model_id"]
        found.append(Entry(hf_id, key, NAMES.get(hf_id, hf_id.split("/")[-1])))
    for hf_id, key in ALIASES.items() if with_aliases else ():
        source = expected[key]["hf_model_id"]
        found.append(Entry(hf_id, key, NAMES.get(hf_id, hf_id.split("/")[-1]), same_as=source))
    return found


def figures(spec: ModelSpec) -> dict[str, Any]:
    """The spec's figures under EXPECTED.json's names."""
    embedding = sum(lt.parameter_count for lt in spec.layers_of("EmbeddingLayer"))
    heads = spec.layers_of("OutputLayer")
    out: dict[str, Any] = {
        "total_params": spec.total_params,
        "active_params": spec.active_params,
        "matmul_params_per_token": spec.matmul_params_per_token,
        "embedding_params": embedding,
        "lm_head_params": sum(lt.parameter_count for lt in heads),
        "tied_embeddings": any(lt.layer_specs.tied for lt in heads),
        "kv_bytes_per_token_bf16": None
        if spec.is_encoder_only
        else int(spec.kv_cache_bytes_per_token("bf16")),
    }
    census = spec.layer_census()
    moe = spec.moe_layers
    out.update(
        attention_layers=census.softmax_attention,
        windowed_or_chunked_layers=census.windowed_or_chunked,
        linear_attention_or_ssm_layers=census.linear_or_ssm,
        routed_experts=moe[0].num_experts if moe else None,
        experts_per_token=moe[0].num_experts_per_tok if moe else None,
    )
    return out


def mismatches(spec: ModelSpec, reference: dict[str, Any]) -> list[str]:
    got = figures(spec)
    return [
        f"{spec.hf_model_id}: {name} is {got[name]!r}, EXPECTED.json says {want!r}"
        for name, want in reference.items()
        if name in got and got[name] != want
    ]


def _notes(entry: Entry, reference: dict[str, Any], version: str = "5.23") -> str:
    kv = reference["kv_bytes_per_token_bf16"]
    checked = [f"total_params {reference['total_params']}"]
    for name, label in (
        ("active_params", "active_params"),
        ("matmul_params_per_token", "matmul_params_per_token"),
        ("embedding_params", "embedding_params"),
        ("lm_head_params", "lm_head_params"),
    ):
        if name in reference:
            checked.append(f"{label} {reference[name]}")
    checked.append("no KV cache (encoder)" if kv is None else f"KV cache {kv} bytes/token (bf16)")
    note = (
        f"Built from {entry.config_key}.json by infercast's config importer and checked "
        f"exactly against EXPECTED.json (counted with Hugging Face transformers {version} on "
        f"PyTorch's meta device): {', '.join(checked)}."
    )
    if entry.same_as:
        note += (
            f" Same architecture as {entry.same_as} (only eos_token_id differs); its config.json "
            "and reference counts are used."
        )
    return note


def build(shared: Path) -> dict[str, dict[str, Any]]:
    """File name → spec JSON for every catalog model; raises SystemExit on any mismatch."""
    out: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for folder, chosen in SOURCES.items():
        problems += _build_folder(shared, folder, chosen, out)
    if problems:
        raise SystemExit("refusing to write the catalog:\n  " + "\n  ".join(problems))
    return out


def _build_folder(
    shared: Path, folder: str, chosen: tuple[str, ...] | None, out: dict[str, dict[str, Any]]
) -> list[str]:
    configs_dir = shared / folder
    if chosen is not None and not (configs_dir / "EXPECTED.json").exists():
        return []  # an optional folder this checkout of shared/ lacks
    expected = json.loads((configs_dir / "EXPECTED.json").read_text(encoding="utf-8"))["models"]
    configs = [p.stem for p in configs_dir.glob("*.json") if p.name != "EXPECTED.json"]
    if chosen is not None:
        configs = [c for c in configs if c in chosen]
    problems: list[str] = []
    for entry in entries(expected, configs, with_aliases=chosen is None):
        path = configs_dir / f"{entry.config_key}.json"
        reference = expected[entry.config_key]
        data = json.loads(path.read_text(encoding="utf-8"))
        spec = spec_from_hf_config(
            data,
            entry.hf_model_id,
            source=str(path),
            name=entry.name,
            validated=True,
            validation_notes=_notes(entry, reference, TRANSFORMERS[folder]),
            validation_sources=[
                f"shared/{folder}/EXPECTED.json (models.{entry.config_key})",
                f"shared/{folder}/{entry.config_key}.json",
                f"https://huggingface.co/{entry.hf_model_id}/blob/main/config.json",
            ],
        )
        problems += mismatches(spec, reference)
        out[f"{spec.model_id}.json"] = spec.to_json_dict()
    return problems


def _ordered_specs(layer_class: str, specs: dict[str, Any]) -> dict[str, Any]:
    """The seed's order: layer_idx, required specs, optional specs, then metadata."""
    model = LAYER_CLASSES[layer_class]
    order = ["layer_idx", *model.required_specs(), *model.optional_specs()]
    for late in ("weight_dtype", "parameter_count"):
        order.remove(late)
        order.append(late)
    return {k: specs[k] for k in order if k in specs}


def render(data: dict[str, Any]) -> str:
    """Readable JSON: indent 2, trailing newline, specs in the seed's key order."""
    data = {
        **data,
        "layer_types": [
            {**lt, "specs": _ordered_specs(lt["class"], lt["specs"])} for lt in data["layer_types"]
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared/ dir")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="catalog directory")
    args = parser.parse_args(argv)
    catalog = build(args.shared)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(catalog.items()):
        (args.out / name).write_text(render(data), encoding="utf-8")
    print(f"wrote {len(catalog)} specs to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

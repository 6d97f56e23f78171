"""``infercast models list|show``: the model catalog (built-in + user directories).

Errors become one line and exit code 2 here (not only in ``app.main``) so behaviour is the same
when the typer app is driven directly, e.g. by tests. Broken user spec files are warnings: they
are skipped, never fatal, so one bad file does not hide the rest of the catalog.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from infercast.errors import InfercastError
from infercast.interfaces.cli.common import (
    JsonOption,
    ModelsDirOption,
    console,
    err_console,
    esc,
    fail,
)
from infercast.specs import ModelSpec, Registry, format_params

__all__ = ["register"]

models_app = typer.Typer(
    name="models",
    help="Model catalog: layer types, parameter counts, MoE sparsity, KV cache per token.",
    no_args_is_help=True,
)


def load_registry(models_dirs: list[Path] | None) -> Registry:
    """The registry, with broken user files reported as warnings on stderr."""
    try:
        registry = Registry.load(models_dirs)
    except InfercastError as exc:
        raise fail(str(exc)) from None
    for problem in registry.problems:
        err_console.print(f"[yellow]warning:[/] {esc(problem)} (skipped)", highlight=False)
    return registry


def moe_summary(spec: ModelSpec) -> str:
    """'MoE 4/128, sparse' / 'MoE 8/8, NOT sparse' / 'dense'."""
    if not spec.is_moe:
        return "dense"
    moe = spec.moe_layers[0]
    sparse = "sparse" if spec.is_truly_sparse else "NOT sparse"
    shared = f" +{moe.num_shared_experts} shared" if moe.num_shared_experts else ""
    return f"MoE {moe.num_experts_per_tok}/{moe.num_experts}{shared}, {sparse}"


def _summary_json(spec: ModelSpec, origin: str) -> dict[str, Any]:
    return {
        "model_id": spec.model_id,
        "hf_model_id": spec.hf_model_id,
        "name": spec.name,
        "total_params": spec.total_params,
        "active_params": spec.active_params,
        "num_layers": spec.num_layers,
        "is_moe": spec.is_moe,
        "is_truly_sparse": spec.is_truly_sparse if spec.is_moe else None,
        "validated": spec.validated,
        "origin": origin,
    }


@models_app.command("list")
def list_command(json_output: JsonOption = False, models_dir: ModelsDirOption = None) -> None:
    """List every model: parameters, active parameters per token, MoE sparsity, layers."""
    registry = load_registry(models_dir)
    if json_output:
        rows = [_summary_json(s, registry.origins[s.model_id]) for s in registry]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(
        title="Models",
        caption="id = the Hugging Face id (the model_id is it with '/' → '_'; both work as "
        "--model); params = every parameter once; active = used per token (top-k experts); "
        "`infercast models show ID` for layer types.",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    # Ids never wrap (a wrapped id cannot be copied); the MoE column wraps instead.
    table.add_column("id", no_wrap=True, overflow="ignore")
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("active", justify="right", no_wrap=True)
    table.add_column("MoE / sparse")
    table.add_column("layers", justify="right", no_wrap=True)
    for spec in registry:
        origin = registry.origins[spec.model_id]
        table.add_row(
            spec.hf_model_id + ("" if origin == "built-in" else " *"),
            spec.total_params_formatted,
            format_params(spec.active_params),
            moe_summary(spec),
            str(spec.num_layers),
        )
    console.print(table)
    if any(o != "built-in" for o in registry.origins.values()):
        console.print("* from a user models directory", highlight=False, markup=False)


def _key_specs(layer: Any) -> str:
    """The specs that tell layer types apart, compactly."""
    s = layer.layer_specs
    parts: list[str] = []
    for field, label in (
        ("num_heads", "heads"),
        ("num_kv_heads", "kv"),
        ("head_dim", "d"),
        ("sliding_window", "window"),
        ("q_lora_rank", "q_lora"),
        ("kv_lora_rank", "kv_lora"),
        ("intermediate_size", "inter"),
        ("num_experts", "experts"),
        ("num_experts_per_tok", "top-k"),
        ("expert_intermediate_size", "expert inter"),
        ("num_shared_experts", "shared"),
        ("vocab_size", "vocab"),
        ("max_position_embeddings", "positions"),
    ):
        value = getattr(s, field, None)
        if value:
            parts.append(f"{label}={value}")
    for flag in ("qkv_bias", "o_bias", "qk_norm", "attention_sinks", "has_bias", "tied"):
        if getattr(s, flag, False):
            parts.append(flag)
    if getattr(s, "causal", True) is False:
        parts.append("bidirectional")
    if s.weight_dtype:
        parts.append(f"stored {s.weight_dtype}")
    return " ".join(parts)


def _lookup(registry: Registry, model_id: str) -> ModelSpec:
    try:
        return registry.get(model_id)
    except InfercastError as exc:
        raise fail(f"{exc} (see `infercast models list`)") from None


@models_app.command("show")
def show_command(
    model_id: Annotated[str, typer.Argument(metavar="ID", help="model_id or Hugging Face id.")],
    json_output: JsonOption = False,
    models_dir: ModelsDirOption = None,
) -> None:
    """One model: layer types, totals, MoE sparsity, KV cache per token, attention kinds."""
    registry = load_registry(models_dir)
    spec = _lookup(registry, model_id)
    if json_output:
        typer.echo(json.dumps(spec.to_json_dict(), indent=2))
        return
    console.print(f"[bold]{esc(spec.name)}[/] ({esc(spec.hf_model_id)})", highlight=False)
    console.print(
        f"model_id {spec.model_id}; hidden {spec.hidden_size}; {spec.num_layers} layers; "
        f"vocab {spec.vocab_size}; from {registry.origins[spec.model_id]}",
        highlight=False,
        markup=False,
    )
    table = Table(title="Layer types", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("name", overflow="fold")
    table.add_column("class", overflow="fold")
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("params each", justify="right", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    for layer in spec.layer_types:
        table.add_row(
            layer.name,
            layer.layer_class,
            str(layer.count),
            f"{layer.layer_specs.parameter_count_per_instance():,}",
            f"{layer.parameter_count:,}",
        )
    console.print(table)
    keys = Table(title="Key specs", box=box.SIMPLE_HEAD, pad_edge=False)
    keys.add_column("name", no_wrap=True)
    keys.add_column("specs")
    for layer in spec.layer_types:
        keys.add_row(layer.name, _key_specs(layer))
    console.print(keys)

    console.print(
        f"total params: {spec.total_params:,} ({spec.total_params_formatted}); "
        f"active per token: {spec.active_params:,} ({format_params(spec.active_params)}); "
        f"matmul params per token: {spec.matmul_params_per_token:,}",
        highlight=False,
        markup=False,
    )
    if spec.is_moe:
        for layer in spec.moe_entries:
            moe = layer.layer_specs
            console.print(
                f"MoE ({layer.name} ×{layer.count}): {moe.num_experts} experts, top-k "
                f"{moe.num_experts_per_tok}, {moe.num_shared_experts} shared; "
                f"is_truly_sparse={moe.is_truly_sparse}",
                highlight=False,
                markup=False,
            )
    else:
        console.print("MoE: none (dense)", highlight=False, markup=False)
    if spec.is_encoder_only:
        console.print(
            "KV cache: none (bidirectional encoder, no decode phase)", highlight=False, markup=False
        )
    else:
        console.print(
            f"KV cache per token (bf16, all layers, full context): "
            f"{int(spec.kv_cache_bytes_per_token('bf16')):,} bytes",
            highlight=False,
            markup=False,
        )
    state = int(spec.state_bytes_per_sequence("bf16"))
    if state:
        console.print(
            f"recurrent state per sequence (bf16, linear-attention / SSM layers, fixed): "
            f"{state:,} bytes",
            highlight=False,
            markup=False,
        )
    kinds = []
    for layer in spec.layers_with("attention") + spec.layers_with("mixer"):
        kind = layer.layer_specs.label or layer.layer_class
        window = getattr(layer.layer_specs, "sliding_window", None)
        window = window or getattr(layer.layer_specs, "attention_chunk_size", None)
        kinds.append(f"{kind}{f' (window {window})' if window else ''} ×{layer.count}")
    console.print(f"token mixers: {', '.join(kinds)}", highlight=False, markup=False)
    census = spec.layer_census()
    console.print(
        f"layer census: {census.blocks} blocks; {census.softmax_attention} softmax attention "
        f"({census.windowed_or_chunked} windowed or chunked), {census.linear_or_ssm} "
        f"linear-attention/SSM, {census.ffn} MLP/MoE",
        highlight=False,
        markup=False,
    )
    validated = "validated" if spec.validated else "NOT validated"
    console.print(f"{validated}: {spec.validation_notes or '-'}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add the ``models`` command group to the main app."""
    app.add_typer(models_app, name="models")

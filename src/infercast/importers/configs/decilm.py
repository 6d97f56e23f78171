"""DeciLM / Llama-Nemotron NAS (``nemotron-nas``: Llama-3.1-Nemotron-51B, -70B, -Ultra-253B).

Neural-architecture search gave every block its own shape; ``block_configs`` (one per layer)
says, per transformers-remote ``modeling_decilm``:
- ``attention``: ``no_op`` (no attention and no input norm), ``replace_with_linear`` (a single
  ``Linear(hidden, hidden)``), or GQA with ``num_attention_heads // n_heads_in_group`` KV heads
  (``head_dim`` = hidden / heads unless given);
- ``ffn``: ``no_op`` (no FFN and no post-attention norm), ``replace_with_linear``, or a gated MLP
  whose width is ``ffn_mult``: ``int(2·ffn_mult·hidden/3)`` rounded up to a multiple of 256;
- every present attention / FFN brings its RMSNorm; plus the final norm.
Blocks therefore lack attention or an FFN and widths differ per layer: the spec lists each
entry's ``layer_indices`` and validation takes a per-block census.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infercast.importers.configs.base import MAX_HEADS, MAX_LAYERS, ConfigReader, LayerPart
from infercast.importers.configs.blocks import BlockDecoder
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.registry import family
from infercast.specs.classes.attention import AttentionLayerSpecs, GroupedQueryAttentionLayerSpecs
from infercast.specs.classes.mlp import LinearLayerSpecs

__all__ = ["DeciLMFamily", "ffn_mult_to_intermediate_size"]


def ffn_mult_to_intermediate_size(ffn_mult: float, hidden: int) -> int:
    """DeciLM's rule: ``int(2·ffn_mult·hidden/3)`` rounded up to a multiple of 256."""
    size = int(2 * ffn_mult * hidden / 3)
    return size if size % 256 == 0 else size + 256 - size % 256


@dataclass(frozen=True)
class _Block:
    attention: str
    """'gqa', 'linear' or 'none'."""
    kv_heads: int
    ffn: str
    intermediate_size: int


def _flag(reader: ConfigReader, where: str, part: Mapping[str, Any], name: str) -> bool:
    value = part.get(name, False)
    if not isinstance(value, bool):
        raise reader.error(f"{where}.{name}", f"must be true or false, got {value!r}")
    return value


def _blocks(reader: ConfigReader, layers: int, hidden: int, heads: int) -> list[_Block]:
    configs = reader.raw("block_configs")
    if not isinstance(configs, list) or len(configs) != layers:
        got = f"{len(configs)} entries" if isinstance(configs, list) else repr(configs)[:80]
        raise reader.error("block_configs", f"needs one entry per layer ({layers}), got {got}")
    blocks = []
    for i, block in enumerate(configs):
        where = f"block_configs[{i}]"
        attention, ffn = (
            block.get(k) if isinstance(block, Mapping) else None for k in ("attention", "ffn")
        )
        if not isinstance(attention, Mapping) or not isinstance(ffn, Mapping):
            raise reader.error(where, "must have 'attention' and 'ffn' objects")
        kind, kv = "gqa", heads
        if _flag(reader, f"{where}.attention", attention, "no_op"):
            kind = "none"
        elif _flag(reader, f"{where}.attention", attention, "replace_with_linear"):
            kind = "linear"
        else:
            group = attention.get("n_heads_in_group")
            if isinstance(group, bool) or not isinstance(group, int) or group < 1 or heads % group:
                raise reader.error(
                    f"{where}.attention.n_heads_in_group",
                    f"must be a positive divisor of num_attention_heads {heads}, got {group!r}",
                )
            kv = heads // group
        ffn_kind, width = "gated", 0
        if _flag(reader, f"{where}.ffn", ffn, "no_op"):
            ffn_kind = "none"
        elif _flag(reader, f"{where}.ffn", ffn, "replace_with_linear"):
            ffn_kind = "linear"
        else:
            mult = ffn.get("ffn_mult")
            if isinstance(mult, bool) or not isinstance(mult, int | float) or not 0 < mult < 1e3:
                raise reader.error(
                    f"{where}.ffn.ffn_mult", f"must be a positive number, got {mult!r}"
                )
            width = ffn_mult_to_intermediate_size(float(mult), hidden)
        blocks.append(_Block(kind, kv, ffn_kind, width))
    return blocks


@family("nemotron-nas")
class DeciLMFamily:
    """Llama-Nemotron NAS models: per-block attention / FFN shapes from ``block_configs``."""

    @staticmethod
    def from_hf(reader: ConfigReader) -> BlockDecoder:
        layers = reader.integer("num_hidden_layers", maximum=MAX_LAYERS)
        hidden = reader.integer("hidden_size")
        heads = reader.integer("num_attention_heads", maximum=MAX_HEADS)
        blocks = _blocks(reader, layers, hidden, heads)
        base = LlamaFamilyConfig.read_common(
            reader,
            intermediate_size=max([b.intermediate_size for b in blocks] + [1]),
            **LlamaFamilyConfig.attention_bias(reader),
            mlp_bias=reader.flag("mlp_bias", False),
        )
        linear = {"hidden_size": hidden}

        def mixer(i: int) -> LayerPart | None:
            block = blocks[i]
            if block.attention == "none":
                return None
            if block.attention == "linear":
                specs = {**linear, "replaces": "attention"}
                return LayerPart("linear_attention", LinearLayerSpecs, specs, i)
            part = base.attention_part(i)
            specs = {**part.specs, "num_kv_heads": block.kv_heads}
            cls = (
                AttentionLayerSpecs if block.kv_heads == heads else GroupedQueryAttentionLayerSpecs
            )
            if cls is AttentionLayerSpecs:
                specs.pop("num_kv_heads")
            return LayerPart(part.name, cls, specs, i, part.modules)

        def ffn(i: int) -> LayerPart | None:
            block = blocks[i]
            if block.ffn == "none":
                return None
            if block.ffn == "linear":
                return LayerPart("linear_ffn", LinearLayerSpecs, {**linear, "replaces": "ffn"}, i)
            return base.dense_ffn_part(i, block.intermediate_size)

        def norms(i: int) -> int:
            return (blocks[i].attention != "none") + (blocks[i].ffn != "none")

        return BlockDecoder(base, mixer, ffn, norms)

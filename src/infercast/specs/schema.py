"""The model-spec JSON format of the founding seed, as pydantic v2 models.

A spec is the unit infercast reasons about: a list of ``layer_types`` (``name``, ``class``,
``count``, ``specs``) drawn from :mod:`infercast.specs.layer_classes`. Unknown keys anywhere are
an error that names them. ``total_params`` counts every parameter once (see the README).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from infercast.dtypes import dtype
from infercast.specs.classes import LAYER_CLASSES, PARALLELISM_KINDS, LayerSpecs
from infercast.specs.classes.moe import MoELayerSpecs
from infercast.specs.ops import Router

__all__ = ["LayerCensus", "LayerType", "ModelSpec"]

ParallelismName = Literal[tuple(PARALLELISM_KINDS)]  # type: ignore[valid-type]


MAX_LAYER_TYPES = 128
"""Entries of ``layer_types`` in one spec (the catalog's largest has 6)."""


class _LayerTypeBase(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    name: str = Field(
        min_length=1, max_length=128, description="Unique name of this entry in the spec."
    )
    count: Annotated[int, Field(gt=0, le=100_000, strict=True)] = Field(
        description="How many instances of this layer the model has (e.g. 2 norms per block)."
    )
    parallelism: list[ParallelismName] | None = Field(  # type: ignore[valid-type]
        default=None,
        description="Optional: the parallelism this entry may use (a subset of its class's).",
    )

    @property
    def layer_class(self) -> str:
        return self.class_  # type: ignore[attr-defined]

    @property
    def layer_specs(self) -> LayerSpecs:
        return self.specs  # type: ignore[attr-defined]

    @property
    def parameter_count(self) -> int:
        """Parameters of all ``count`` instances."""
        return self.count * self.layer_specs.parameter_count_per_instance()


def _variant(class_name: str, specs_model: type[LayerSpecs]) -> type[_LayerTypeBase]:
    return create_model(
        class_name,
        __base__=_LayerTypeBase,
        __doc__=specs_model.description,
        class_=(Literal[class_name], Field(alias="class", description="Layer class name.")),  # type: ignore[arg-type]
        specs=(specs_model, Field(description=f"Specs of a {class_name}.")),
    )


_VARIANTS = tuple(_variant(name, model) for name, model in LAYER_CLASSES.items())

if TYPE_CHECKING:  # every variant is a _LayerTypeBase; the checker needs no more
    LayerType = _LayerTypeBase
else:
    LayerType = Annotated[
        Union[_VARIANTS],  # noqa: UP007 (a tuple of types)
        Field(discriminator="class_"),
    ]
"""One ``layer_types`` entry: the union of every registered class's variant."""

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
_HF_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$"


@dataclass(frozen=True)
class LayerCensus:
    """Layers of each kind, as EXPECTED.json's ``attention_layers`` & co. count them."""

    blocks: int
    softmax_attention: int
    """Layers with softmax attention (full, sliding, chunked, latent, sparse)."""
    windowed_or_chunked: int
    """Of those, the ones limited to a sliding window or a local chunk."""
    linear_or_ssm: int
    """Token mixers with a fixed per-sequence state (Gated DeltaNet, Mamba-2)."""
    ffn: int
    """Dense MLP and MoE layers."""
    by_class: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "blocks": self.blocks,
            "softmax_attention_layers": self.softmax_attention,
            "windowed_or_chunked_layers": self.windowed_or_chunked,
            "linear_attention_or_ssm_layers": self.linear_or_ssm,
            "ffn_layers": self.ffn,
            "by_class": dict(self.by_class),
        }


class ModelSpec(BaseModel):
    """One model, as an infercast model spec (v1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_id: str = Field(
        pattern=_ID_PATTERN, description="File stem: the HF id with '/' replaced by '_'."
    )
    hf_model_id: str = Field(pattern=_HF_ID_PATTERN, description="Hugging Face id (org/name).")
    name: str = Field(min_length=1, max_length=200, description="Human-readable name.")
    hidden_size: Annotated[int, Field(gt=0, le=1 << 20, strict=True)]
    num_layers: Annotated[int, Field(gt=0, le=100_000, strict=True)] = Field(
        description="Transformer blocks (decoder or encoder layers)."
    )
    vocab_size: Annotated[int, Field(gt=0, le=1 << 24, strict=True)]
    total_params: Annotated[int, Field(gt=0, strict=True)] = Field(
        description="Every parameter counted once: the sum over layer_types of count × "
        "per-instance parameters (a tied LM head counts 0)."
    )
    total_params_formatted: str = Field(
        pattern=r"^\d+(\.\d+)?[KMBT]$", description="total_params rounded, e.g. '70.6B'."
    )
    layer_types: list[LayerType] = Field(
        min_length=1,
        max_length=MAX_LAYER_TYPES,
        description=f"Distinct layer entries (at most {MAX_LAYER_TYPES}: each costs estimate "
        "time and result size; real models have under a dozen).",
    )
    max_context_tokens: Annotated[int, Field(gt=0, le=1 << 27, strict=True)] | None = Field(
        default=None,
        description="Optional: the longest sequence (prompt + output tokens) the model is "
        "configured for (config.json max_position_embeddings, GGUF <arch>.context_length); "
        "isl + osl beyond it is an error. Absent: no limit is declared.",
    )
    kv_cache_dtype: str | None = Field(
        default=None,
        description="KV-cache format the checkpoint ships (ModelOpt fp8/nvfp4 checkpoints carry "
        "fp8 KV scales): used when an estimate names no kv_dtype, said in its notes.",
    )
    validated: bool = Field(description="Parameter counts checked against an independent count.")
    validation_notes: str | None = None
    validation_sources: list[str] | None = None

    # ---- derived figures (never stored) ----

    def layers_of(self, *classes: str) -> list[Any]:
        return [lt for lt in self.layer_types if lt.layer_class in classes]

    def layers_with(self, role: str) -> list[Any]:
        """The entries whose class has this ``role`` (attention, ffn, norm, embedding, ...)."""
        return [lt for lt in self.layer_types if lt.layer_specs.role == role]

    @cached_property
    def computed_total_params(self) -> int:
        return sum(lt.parameter_count for lt in self.layer_types)

    @cached_property
    def routed_expert_params(self) -> int:
        return sum(lt.count * lt.layer_specs.routed_expert_parameters() for lt in self.layer_types)

    @cached_property
    def active_params(self) -> int:
        """Every parameter except routed experts, plus top_k/num_experts of those."""
        return sum(lt.count * lt.layer_specs.active_parameters() for lt in self.layer_types)

    @cached_property
    def matmul_params_per_token(self) -> int:
        return sum(lt.count * lt.layer_specs.matmul_params_per_token() for lt in self.layer_types)

    @cached_property
    def kv_cache_elements_per_token(self) -> int:
        """K and V elements one token adds across all layers at full context."""
        return sum(
            lt.count * lt.layer_specs.kv_cache_elements_per_token() for lt in self.layer_types
        )

    @cached_property
    def state_elements_per_sequence(self) -> int:
        """Fixed recurrent + conv state one sequence holds across all linear/SSM layers."""
        return sum(
            lt.count * lt.layer_specs.state_elements_per_sequence() for lt in self.layer_types
        )

    def state_bytes_per_sequence(self, state_dtype: str = "bf16") -> float:
        return dtype(state_dtype).nbytes(self.state_elements_per_sequence)

    def layer_census(self) -> LayerCensus:
        attention = self.layers_with("attention")
        by_class: dict[str, int] = {}
        for lt in self.layer_types:
            by_class[lt.layer_class] = by_class.get(lt.layer_class, 0) + lt.count
        return LayerCensus(
            blocks=self.num_layers,
            softmax_attention=sum(lt.count for lt in attention),
            windowed_or_chunked=sum(lt.count for lt in attention if lt.layer_specs.is_windowed),
            linear_or_ssm=self.mixer_layer_count,
            ffn=self.ffn_layer_count,
            by_class=by_class,
        )

    def kv_cache_bytes_per_token(self, kv_dtype: str = "bf16") -> float:
        """KV-cache bytes one token adds at full context (sliding windows not applied)."""
        return dtype(kv_dtype).nbytes(self.kv_cache_elements_per_token)

    @property
    def moe_layers(self) -> list[MoELayerSpecs]:
        """Specs of the entries that route tokens to experts (have a Router op)."""
        return [lt.layer_specs for lt in self.moe_entries]

    @property
    def moe_entries(self) -> list[Any]:
        return [
            lt
            for lt in self.layer_types
            if any(isinstance(op, Router) for op in lt.layer_specs.ops())
        ]

    @cached_property
    def is_moe(self) -> bool:
        """Once per spec (frozen): plan validation and the plan space ask it per plan."""
        return bool(self.moe_layers)

    @property
    def is_truly_sparse(self) -> bool:
        return any(m.is_truly_sparse for m in self.moe_layers)

    @property
    def is_encoder_only(self) -> bool:
        """No causal attention: no decode phase and no KV cache (BERT)."""
        attention = self.layers_with("attention")
        return bool(attention) and not any(lt.layer_specs.causal for lt in attention)

    @property
    def attention_layer_count(self) -> int:
        return sum(lt.count for lt in self.layers_with("attention"))

    @property
    def mixer_layer_count(self) -> int:
        return sum(lt.count for lt in self.layers_with("mixer"))

    @property
    def ffn_layer_count(self) -> int:
        return sum(lt.count for lt in self.layers_with("ffn"))

    def to_json_dict(self) -> dict[str, Any]:
        """The spec as infercast model spec (v1) JSON (aliases; optional specs at their defaults
        omitted)."""
        data = self.model_dump(by_alias=True, exclude_none=True)
        data["layer_types"] = [_layer_json(layer) for layer in self.layer_types]
        return data


def _layer_json(layer: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": layer.name,
        "class": layer.layer_class,
        "count": layer.count,
        "specs": layer.layer_specs.model_dump(exclude_defaults=True),
    }
    if layer.parallelism is not None:
        entry["parallelism"] = list(layer.parallelism)
    return entry

"""Model specs: the infercast model spec (v1) JSON format, its layer classes, validation and
the registry."""

from infercast.specs.layer_classes import LAYER_CLASSES, PARALLELISM_KINDS, LayerSpecs
from infercast.specs.registry import Registry, default_registry
from infercast.specs.schema import LayerType, ModelSpec
from infercast.specs.validation import (
    Problem,
    SpecError,
    format_params,
    load_spec_file,
    parse_spec,
)

__all__ = [
    "LAYER_CLASSES",
    "PARALLELISM_KINDS",
    "LayerSpecs",
    "LayerType",
    "ModelSpec",
    "Problem",
    "Registry",
    "SpecError",
    "default_registry",
    "format_params",
    "load_spec_file",
    "parse_spec",
]

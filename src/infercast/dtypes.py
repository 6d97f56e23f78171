"""Numeric formats for weights, activations and the KV cache.

Every byte figure in infercast comes from here, so block-scale overheads are stated
once: a block-scaled format stores ``bits`` per element plus one ``scale_bits`` scale
per ``block_size`` elements. Peak-FLOPs look-ups use ``compute_class``: the tensor-core
format a matmul with these weights really runs at when the hardware supports it
(``fallback_compute_class`` otherwise, e.g. mxfp4 weights on Hopper are dequantised
and multiplied in bf16).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

__all__ = [
    "COMPUTE_CLASS_BYTES",
    "DTYPES",
    "DType",
    "UnknownDTypeError",
    "dtype",
    "dtype_names",
    "run_compute_class",
]

COMPUTE_CLASS_BYTES = {"tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "fp4": 0.5}
"""Bytes per element of each tensor-core input format (a ``compute_class``)."""


def run_compute_class(compute_class: str, fallback: str, available: Collection[str]) -> str:
    """The tensor-core format a matmul of ``compute_class`` really runs at on a part whose
    native formats are ``available``: its own, else ``fallback`` (mxfp4 weights on Hopper are
    dequantised to bf16), else bf16, which every part has."""
    for cls_ in (compute_class, fallback):
        if cls_ in available:
            return cls_
    return "bf16"


@dataclass(frozen=True)
class DType:
    name: str
    bits: int
    """Bits per stored element, scales excluded."""
    block_size: int
    """Elements sharing one scale; 0 when the format has no per-block scale."""
    scale_bits: int
    """Bits of one block scale (e.g. 8 for MX's E8M0, 32 for fp8's 128x128 fp32 scale)."""
    compute_class: str
    """Tensor-core format the matmul runs at where supported: bf16, fp16, fp8, int8, fp4."""
    fallback_compute_class: str
    """Format used when the hardware has no peak for ``compute_class`` (weight-only)."""
    description: str
    _bytes_per_element: float = field(init=False, repr=False, compare=False)
    """``bytes_per_element``, computed once: ``nbytes`` is on every step's hot path."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_bytes_per_element", self.bits_per_element / 8.0)

    @property
    def bits_per_element(self) -> float:
        """Average stored bits per element, block scales included."""
        if self.block_size == 0:
            return float(self.bits)
        return self.bits + self.scale_bits / self.block_size

    @property
    def bytes_per_element(self) -> float:
        return self._bytes_per_element

    def nbytes(self, elements: int | float) -> float:
        """Bytes needed to store ``elements`` values in this format."""
        return elements * self._bytes_per_element


DTYPES: dict[str, DType] = {
    d.name: d
    for d in (
        DType("fp32", 32, 0, 0, "tf32", "tf32", "IEEE single precision"),
        DType("bf16", 16, 0, 0, "bf16", "bf16", "bfloat16"),
        DType("fp16", 16, 0, 0, "fp16", "bf16", "IEEE half precision"),
        DType(
            "fp8",
            8,
            128 * 128,
            32,
            "fp8",
            "bf16",
            "FP8 E4M3 with one fp32 scale per 128x128 block (DeepSeek-style block scaling; "
            "per-tensor scaling costs the same to within 0.02 %)",
        ),
        DType("int8", 8, 0, 0, "int8", "bf16", "INT8 with per-channel scales (negligible)"),
        DType(
            "int4",
            4,
            128,
            32,
            "bf16",
            "bf16",
            "INT4 weight-only (GPTQ/AWQ): fp16 scale + fp16 zero point per 128-element group; "
            "matmuls dequantise to bf16",
        ),
        DType(
            "mxfp4",
            4,
            32,
            8,
            "fp4",
            "bf16",
            "OCP MXFP4: E2M1 with one E8M0 scale per 32 elements",
        ),
        DType(
            "nvfp4",
            4,
            16,
            8,
            "fp4",
            "bf16",
            "NVIDIA NVFP4: E2M1 with one FP8 E4M3 scale per 16 elements "
            "(the per-tensor fp32 scale is negligible)",
        ),
    )
}

_ALIASES = {
    "bfloat16": "bf16",
    "float16": "fp16",
    "half": "fp16",
    "float32": "fp32",
    "float": "fp32",
    "e4m3": "fp8",
    "fp8_e4m3": "fp8",
    "float8_e4m3fn": "fp8",
    "mxfp4": "mxfp4",
    "fp4": "nvfp4",
}


class UnknownDTypeError(ValueError):
    """A dtype name that infercast does not model."""


def dtype_names() -> list[str]:
    return list(DTYPES)


def dtype(name: str) -> DType:
    """Look a format up by name (case-insensitive, common aliases accepted)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    try:
        return DTYPES[key]
    except KeyError:
        raise UnknownDTypeError(f"unknown dtype {name!r}; known: {', '.join(DTYPES)}") from None

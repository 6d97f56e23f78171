"""The GGUF header's limits, error and records (see :mod:`infercast.importers.gguf_metadata`).

Every limit is checked by the parser (:mod:`.gguf_parser`) before it allocates or loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from gguf import (
    GGUF_MAGIC,
    GGUFReader,
    GGUFValueType,
)

from infercast.errors import InvalidInputError

# ---- limits (all checked before allocating or looping) ----------------------------------------
DEFAULT_MAX_HEADER_BYTES: Final = 64 * 2**20
"""Largest header read; real headers (incl. a 256k-token vocab) are a few MiB to ~20 MiB."""
MAX_KV_COUNT: Final = 65_536
MAX_TENSOR_COUNT: Final = 262_144
"""Tensors in one header (DeepSeek-V3 has ~1,800; 2^18 is over a hundred times that)."""
MAX_STRING_BYTES: Final = 2**20
"""Longest string value that is decoded (strings inside skipped arrays are only bounded by size)."""
MAX_NAME_BYTES: Final = 65_535
"""Longest metadata key or tensor name (the GGUF spec caps keys at 2^16 - 1 bytes)."""
MAX_ARRAY_DEPTH: Final = 2
"""An array of arrays is accepted; an array of arrays of arrays is not."""
MAX_DIMS: Final = 8
MATERIALISE_MAX_ITEMS: Final = 1024
"""Arrays longer than this are skipped and stored as :class:`ArraySummary`."""
MAX_TENSOR_SHAPES: Final = 65_536
MAX_ARRAY_ITEMS: Final = 4_000_000
"""Strings and arrays inside arrays, over the whole header: each one costs a loop step, so the
work of a header is bounded by items, not only by bytes (5 M nested empty arrays fit in 64 MiB).
Real headers hold well under 1 M (a 256k vocab plus its merges)."""
MAX_NESTED_ARRAYS: Final = 65_536
"""Arrays inside arrays over the whole header (real headers have none or a handful)."""
"""Tensor shapes kept in :attr:`GGUFMetadata.tensor_shapes`; type counts always cover all."""

_CHUNK: Final = 2**20
_INT64_MAX: Final = 2**63 - 1
_SUPPORTED_VERSIONS: Final = (2, 3)
_MAGIC: Final = GGUF_MAGIC.to_bytes(4, "little")  # b"GGUF" in file order, either endianness

# Scalar value types → numpy dtype, from the gguf package (bool is validated separately).
_SCALAR_DTYPES: Final[dict[GGUFValueType, np.dtype[Any]]] = {
    vt: np.dtype(t) for vt, t in GGUFReader.gguf_scalar_to_np.items()
}
# Smallest encoding of one array item, used to bound a count by the bytes left.
_MIN_ITEM_BYTES: Final[dict[GGUFValueType, int]] = {
    **{vt: dt.itemsize for vt, dt in _SCALAR_DTYPES.items()},
    GGUFValueType.STRING: 8,  # u64 length + no bytes
    GGUFValueType.ARRAY: 12,  # u32 item type + u64 count + no items
}
_MIN_KV_BYTES: Final = 8 + 4 + 1  # empty key, value type, 1-byte value
_MIN_TENSOR_INFO_BYTES: Final = 8 + 4 + 4 + 8  # empty name, n_dims=0, type, offset


class GGUFFormatError(InvalidInputError):
    """The bytes are not a usable GGUF header; says which file, where, and what is wrong."""

    def __init__(self, source: str, offset: int, problem: str) -> None:
        self.source = source
        self.offset = offset
        self.problem = problem
        super().__init__(f"{source}: at byte {offset}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.source, self.offset, self.problem))


@dataclass(frozen=True, slots=True)
class ArraySummary:
    """Stands in for a long array (e.g. ``tokenizer.ggml.tokens``) that was skipped, not read."""

    type_name: str
    """Item type, a ``gguf.GGUFValueType`` name such as ``"STRING"`` or ``"FLOAT32"``."""
    length: int

    def __str__(self) -> str:
        return f"<{self.type_name}[{self.length}]>"


@dataclass(frozen=True)
class GGUFMetadata:
    """Everything in a GGUF header that an importer needs; no tensor data."""

    source: str
    """File name (or upload name) the header was read from."""
    version: int
    byte_order: Literal["little", "big"]
    tensor_count: int
    architecture: str
    """Value of ``general.architecture``, e.g. ``"llama"``; the prefix of most keys."""
    metadata: dict[str, Any]
    """Key → int, float, bool, str, list of those (or of lists), or :class:`ArraySummary`."""
    tensor_types: dict[str, int]
    """ggml type name (``"Q4_K"``, ``"F16"``, ``"MXFP4"``...) → number of tensors of that type."""
    tensor_elements: dict[str, int]
    """ggml type name → total number of weights stored in that type."""
    tensor_bytes: dict[str, int]
    """ggml type name → bytes of tensor data in that type (from the gguf block sizes)."""
    tensor_shapes: dict[str, tuple[int, ...]]
    """Tensor name → dims in ggml order (``ne[0]`` first, i.e. reversed numpy order)."""
    tensor_shapes_truncated: bool
    """True when more than :data:`MAX_TENSOR_SHAPES` tensors exist and later shapes were dropped."""
    alignment: int
    header_bytes: int
    """Bytes from the start of the file to the end of the tensor-info section."""

    def arch_get(self, suffix: str, default: Any = None) -> Any:
        """``metadata[f"{architecture}.{suffix}"]``, e.g. ``arch_get("block_count")``."""
        return self.metadata.get(f"{self.architecture}.{suffix}", default)


def os_reason(exc: Exception) -> str:
    """The reason an OS call failed, in a few words."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def fmt_int(n: int) -> str:
    """Show hostile sizes readably: 9223372036854775808 → '2^63'."""
    if n >= 2**20 and n & (n - 1) == 0:
        return f"2^{n.bit_length() - 1}"
    return str(n)


def fmt_size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n}-byte"


def short_repr(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


class TensorTally:
    """Per-type counts for all tensors, shapes for the first :data:`MAX_TENSOR_SHAPES`."""

    def __init__(self) -> None:
        self.types: dict[str, int] = {}
        self.elements: dict[str, int] = {}
        self.nbytes: dict[str, int] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.truncated = False

    def add(
        self, name: str, dims: tuple[int, ...], type_name: str, elements: int, nbytes: int
    ) -> None:
        self.types[type_name] = self.types.get(type_name, 0) + 1
        self.elements[type_name] = self.elements.get(type_name, 0) + elements
        self.nbytes[type_name] = self.nbytes.get(type_name, 0) + nbytes
        if len(self.shapes) < MAX_TENSOR_SHAPES:
            self.shapes[name] = dims
        else:
            self.truncated = True

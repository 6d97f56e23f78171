"""The sequential, bounded GGUF header parser behind :func:`read_gguf_metadata`."""

from __future__ import annotations

import struct
from typing import Any, BinaryIO, Literal, NoReturn

import numpy as np
from gguf import (
    GGML_QUANT_SIZES,
    GGUF_DEFAULT_ALIGNMENT,
    GGMLQuantizationType,
    GGUFValueType,
    Keys,
)

from infercast.errors import InvalidInputError
from infercast.importers.gguf_format import (
    _CHUNK,
    _INT64_MAX,
    _MAGIC,
    _MIN_ITEM_BYTES,
    _MIN_KV_BYTES,
    _MIN_TENSOR_INFO_BYTES,
    _SCALAR_DTYPES,
    _SUPPORTED_VERSIONS,
    MATERIALISE_MAX_ITEMS,
    MAX_ARRAY_DEPTH,
    MAX_ARRAY_ITEMS,
    MAX_DIMS,
    MAX_KV_COUNT,
    MAX_NAME_BYTES,
    MAX_NESTED_ARRAYS,
    MAX_STRING_BYTES,
    MAX_TENSOR_COUNT,
    ArraySummary,
    GGUFFormatError,
    GGUFMetadata,
    TensorTally,
    fmt_int,
    fmt_size,
    short_repr,
)
from infercast.importers.gguf_format import (
    os_reason as _os_reason,
)

__all__ = ["Parser"]


class _Parser:
    """Sequential reader over a window of the file; ``pos`` is the absolute byte offset."""

    def __init__(self, stream: BinaryIO, size: int, name: str, max_header_bytes: int) -> None:
        self._stream = stream
        self._size = size
        self._name = name
        self._max_header = max_header_bytes
        self._end = min(size, max_header_bytes)  # no read ever goes past this
        self._order: Literal["little", "big"] = "little"
        self._dtypes = _SCALAR_DTYPES
        self.pos = 0
        self._buf = b""
        self._buf_start = 0
        self._stream_pos = 0
        self._items_left = MAX_ARRAY_ITEMS
        self._nested_left = MAX_NESTED_ARRAYS

    # -- low level ------------------------------------------------------------------------------

    def _fail(self, problem: str, at: int | None = None) -> NoReturn:
        raise GGUFFormatError(self._name, self.pos if at is None else at, problem)

    def _require(self, n: int, what: str, at: int | None = None) -> None:
        """Fail unless ``n`` more bytes exist in the file and within ``max_header_bytes``."""
        if n <= self._end - self.pos:
            return
        left = self._size - self.pos
        if n > left:
            self._fail(
                f"{what} needs {fmt_int(n)} bytes but only {left} remain "
                f"(file is {self._size} bytes; truncated or corrupt)",
                at,
            )
        self._fail(
            f"{what} needs {fmt_int(n)} bytes, which would take the header past "
            f"max_header_bytes={self._max_header}",
            at,
        )

    def _take(self, n: int, what: str) -> bytes:
        self._require(n, what)
        off = self.pos - self._buf_start
        if off < 0 or off + n > len(self._buf):
            self._fill(n)
            off = 0
        self.pos += n
        return self._buf[off : off + n]

    def _skip(self, n: int, what: str) -> None:
        self._require(n, what)
        self.pos += n

    def _fill(self, n: int) -> None:
        """Make ``n`` bytes from ``pos`` available, reading ahead at most one chunk."""
        off = self.pos - self._buf_start
        tail = self._buf[off:] if 0 <= off < len(self._buf) else b""
        start = self.pos + len(tail)
        want = min(max(n, _CHUNK), self._end - self.pos) - len(tail)
        chunks: list[bytes] = []
        got = 0
        try:
            if self._stream_pos != start:
                self._stream.seek(start)
            while got < want:
                chunk = self._stream.read(want - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        except OSError as exc:
            raise InvalidInputError(
                f"{self._name}: at byte {start + got}: read failed: {_os_reason(exc)}"
            ) from None
        self._stream_pos = start + got
        if len(tail) + got < n:
            self._fail(f"file ended at byte {start + got} while reading (did it change?)")
        self._buf = tail + b"".join(chunks)
        self._buf_start = self.pos

    def _u32(self, what: str) -> int:
        return int.from_bytes(self._take(4, what), self._order)

    def _u64(self, what: str) -> int:
        return int.from_bytes(self._take(8, what), self._order)

    def _string(self, what: str, max_len: int) -> str:
        at = self.pos
        n = self._u64(f"{what} string length")
        if n > max_len:
            self._fail(
                f"{what} string length {fmt_int(n)} exceeds the {fmt_size(max_len)} limit", at
            )
        raw = self._take(n, f"{what} string of length {n}")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._fail(
                f"{what} is not valid UTF-8 ({exc.reason} at string byte {exc.start})", at + 8
            )

    def _value_type(self, what: str) -> GGUFValueType:
        at = self.pos
        raw = self._u32(what)
        try:
            return GGUFValueType(raw)
        except ValueError:
            known = ", ".join(f"{t.value}={t.name}" for t in GGUFValueType)
            self._fail(f"{what}: unknown value type {fmt_int(raw)} (known: {known})", at)

    def _scalars(self, vtype: GGUFValueType, count: int, what: str) -> list[Any]:
        dtype = self._dtypes[vtype]
        at = self.pos
        raw = self._take(count * dtype.itemsize, what)
        if vtype is GGUFValueType.BOOL:
            bad = raw.translate(None, b"\x00\x01")
            if bad:
                i = next(j for j, b in enumerate(raw) if b > 1)
                self._fail(f"{what}: invalid bool byte 0x{raw[i]:02x} (must be 0 or 1)", at + i)
        return np.frombuffer(raw, dtype=dtype, count=count).tolist()

    # -- values -----------------------------------------------------------------------------------

    def _value(self, vtype: GGUFValueType, what: str) -> Any:
        if vtype is GGUFValueType.STRING:
            return self._string(what, MAX_STRING_BYTES)
        if vtype is GGUFValueType.ARRAY:
            return self._array(what, depth=0, materialise=True)
        return self._scalars(vtype, 1, what)[0]

    def _array(self, what: str, depth: int, materialise: bool) -> list[Any] | ArraySummary:
        at = self.pos
        itype = self._value_type(f"{what} array item type")
        if itype is GGUFValueType.ARRAY and depth + 1 >= MAX_ARRAY_DEPTH:
            self._fail(f"{what}: arrays nested more than {MAX_ARRAY_DEPTH} deep", at)
        count_at = self.pos
        count = self._u64(f"{what} array length")
        self._require(
            count * _MIN_ITEM_BYTES[itype],
            f"{what}: array of {fmt_int(count)} {itype.name} items",
            count_at,
        )
        if itype is GGUFValueType.STRING or itype is GGUFValueType.ARRAY:
            self._charge(itype, count, what, count_at)
        if not materialise or count > MATERIALISE_MAX_ITEMS:
            self._skip_items(itype, count, what, depth)
            return ArraySummary(itype.name, count)
        if itype is GGUFValueType.STRING:
            return [self._string(f"{what}[{j}]", MAX_STRING_BYTES) for j in range(count)]
        if itype is GGUFValueType.ARRAY:
            return [self._array(f"{what}[{j}]", depth + 1, True) for j in range(count)]
        return self._scalars(itype, count, f"{what} items")

    def _charge(self, itype: GGUFValueType, count: int, what: str, at: int) -> None:
        """Count items that each cost a loop step against the header's budgets."""
        self._items_left -= count
        if itype is GGUFValueType.ARRAY:
            self._nested_left -= count
            if self._nested_left < 0:
                self._fail(
                    f"{what}: more than {fmt_int(MAX_NESTED_ARRAYS)} arrays inside arrays "
                    "in the header",
                    at,
                )
        if self._items_left < 0:
            self._fail(
                f"{what}: more than {fmt_int(MAX_ARRAY_ITEMS)} strings and arrays inside "
                "arrays in the header",
                at,
            )

    def _skip_items(self, itype: GGUFValueType, count: int, what: str, depth: int) -> None:
        if itype is GGUFValueType.STRING:
            # Hot loop (a 256k-token vocab has 256k strings): messages are built only on failure.
            u64 = struct.Struct("<Q" if self._order == "little" else ">Q").unpack_from
            for j in range(count):
                at = self.pos
                off = at - self._buf_start
                if off + 8 <= len(self._buf):  # buffered bytes never extend past the limits
                    (n,) = u64(self._buf, off)
                    self.pos += 8
                else:
                    n = self._u64(f"{what}[{j}] string length")
                if n > self._end - self.pos:
                    self._require(n, f"{what}[{j}] string of length {fmt_int(n)}", at)
                self.pos += n
        elif itype is GGUFValueType.ARRAY:
            for j in range(count):
                self._array(f"{what}[{j}]", depth + 1, materialise=False)
        else:
            self._skip(count * self._dtypes[itype].itemsize, f"{what} items")

    # -- sections ---------------------------------------------------------------------------------

    def parse(self) -> GGUFMetadata:
        magic = self._take(4, "magic")
        if magic != _MAGIC:
            self._fail(f"not a GGUF file: magic is {magic!r}, expected {_MAGIC!r}", 0)
        version = self._read_version()
        tensor_count = self._u64("tensor_count")
        kv_count = self._u64("kv_count")
        if tensor_count > MAX_TENSOR_COUNT:
            self._fail(
                f"tensor_count {fmt_int(tensor_count)} exceeds the limit of {MAX_TENSOR_COUNT}", 8
            )
        if kv_count > MAX_KV_COUNT:
            self._fail(f"kv_count {fmt_int(kv_count)} exceeds the limit of {MAX_KV_COUNT}", 16)
        self._require(
            kv_count * _MIN_KV_BYTES + tensor_count * _MIN_TENSOR_INFO_BYTES,
            f"{kv_count} metadata entries and {tensor_count} tensor infos",
        )
        metadata = self._read_kvs(kv_count)
        architecture = self._architecture(metadata)
        alignment = self._alignment(metadata)
        tensors = self._read_tensor_infos(tensor_count, alignment)
        return GGUFMetadata(
            source=self._name,
            version=version,
            byte_order=self._order,
            tensor_count=tensor_count,
            architecture=architecture,
            metadata=metadata,
            tensor_types=tensors.types,
            tensor_elements=tensors.elements,
            tensor_bytes=tensors.nbytes,
            tensor_shapes=tensors.shapes,
            tensor_shapes_truncated=tensors.truncated,
            alignment=alignment,
            header_bytes=self.pos,
        )

    def _read_version(self) -> int:
        raw = self._take(4, "version")
        little, big = int.from_bytes(raw, "little"), int.from_bytes(raw, "big")
        if little in _SUPPORTED_VERSIONS:
            return little
        if big in _SUPPORTED_VERSIONS:
            # Big-endian file (written on/for a big-endian host): same layout, swapped numbers.
            self._order = "big"
            self._dtypes = {vt: dt.newbyteorder(">") for vt, dt in _SCALAR_DTYPES.items()}
            return big
        if 1 in (little, big):
            self._fail(
                "GGUF version 1 is not supported (only versions 2 and 3); "
                "re-convert the model with a current llama.cpp",
                4,
            )
        self._fail(f"unsupported GGUF version {fmt_int(little)} (supported: 2, 3)", 4)

    def _read_kvs(self, kv_count: int) -> dict[str, Any]:
        metadata: dict[str, Any] = {}
        for i in range(kv_count):
            at = self.pos
            key = self._string(f"metadata key #{i}", MAX_NAME_BYTES)
            if key in metadata:
                self._fail(f"duplicate metadata key {short_repr(key)} (key #{i})", at)
            what = f"metadata key #{i} {short_repr(key)}"
            vtype = self._value_type(f"{what} value type")
            metadata[key] = self._value(vtype, what)
        return metadata

    def _architecture(self, metadata: dict[str, Any]) -> str:
        arch = metadata.get(Keys.General.ARCHITECTURE)
        if arch is None:
            self._fail(f"metadata has no {Keys.General.ARCHITECTURE!r} key")
        if not isinstance(arch, str) or not arch:
            self._fail(f"{Keys.General.ARCHITECTURE!r} must be a non-empty string, got {arch!r}")
        return arch

    def _alignment(self, metadata: dict[str, Any]) -> int:
        align = metadata.get(Keys.General.ALIGNMENT, GGUF_DEFAULT_ALIGNMENT)
        if (
            isinstance(align, bool)
            or not isinstance(align, int)
            or align <= 0
            or align & (align - 1)
        ):
            self._fail(f"{Keys.General.ALIGNMENT!r} must be a positive power of two, got {align!r}")
        return align

    def _read_tensor_infos(self, tensor_count: int, alignment: int) -> TensorTally:
        tally = TensorTally()
        seen: set[str] = set()
        for i in range(tensor_count):
            at = self.pos
            name = self._string(f"tensor #{i} name", MAX_NAME_BYTES)
            if name in seen:
                self._fail(f"duplicate tensor name {short_repr(name)} (tensor #{i})", at)
            seen.add(name)
            what = f"tensor #{i} {short_repr(name)}"
            dims_at = self.pos
            n_dims = self._u32(f"{what} n_dims")
            if n_dims > MAX_DIMS:
                self._fail(
                    f"{what}: n_dims {fmt_int(n_dims)} exceeds the limit of {MAX_DIMS}", dims_at
                )
            dims_at = self.pos
            raw = self._take(8 * n_dims, f"{what} dims")
            dims = tuple(
                int.from_bytes(raw[k : k + 8], self._order) for k in range(0, 8 * n_dims, 8)
            )
            elements = 1
            for k, d in enumerate(dims):
                if d > _INT64_MAX:
                    self._fail(
                        f"{what}: dimension {k} is {fmt_int(d)} (> 2^63 - 1)", dims_at + 8 * k
                    )
                elements *= d
                if elements > _INT64_MAX:
                    self._fail(f"{what}: element count overflows int64 (dims {dims})", dims_at)
            type_at = self.pos
            type_id = self._u32(f"{what} ggml type")
            try:
                qtype = GGMLQuantizationType(type_id)
            except ValueError:
                self._fail(f"{what}: unknown ggml type id {fmt_int(type_id)}", type_at)
            block_size, type_size = GGML_QUANT_SIZES[qtype]
            ne0 = dims[0] if dims else 1
            if ne0 % block_size:
                self._fail(
                    f"{what}: first dimension {ne0} is not a multiple of the "
                    f"{qtype.name} block size {block_size}",
                    dims_at,
                )
            offset_at = self.pos
            offset = self._u64(f"{what} data offset")
            if offset % alignment:
                self._fail(
                    f"{what}: data offset {fmt_int(offset)} is not a multiple of "
                    f"the alignment {alignment}",
                    offset_at,
                )
            tally.add(name, dims, qtype.name, elements, elements // block_size * type_size)
        return tally


Parser = _Parser

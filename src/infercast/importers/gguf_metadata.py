"""Defensive, bounded reader for the header of a GGUF file (metadata + tensor infos).

Importing an architecture from a ``.gguf`` file needs only the header, never the tensor data,
and the file may come from an untrusted upload. So the parser here:

* reads sequentially through the end of the tensor-info section with small buffered reads
  (never ``mmap`` or ``read()`` of the whole file) and never touches tensor data;
* checks every length and count against the bytes left in the file, against
  ``max_header_bytes`` and against hard limits *before* allocating or looping;
* keeps memory bounded: long arrays (tokenizer vocab, scores, merges) are skipped and summarised
  as :class:`ArraySummary`, and at most :data:`MAX_TENSOR_SHAPES` tensor shapes are kept;
* raises only :class:`GGUFFormatError` for bad content (message: file, byte offset, problem) and
  :class:`~infercast.errors.InvalidInputError` for a file that cannot be opened or read.

Value types and ggml tensor types come from the ``gguf`` package's tables, not hand copies.
Both little- and big-endian GGUF (versions 2 and 3) are accepted; version 1 is rejected.
"""

from __future__ import annotations

import io
import os
import stat
from typing import BinaryIO

from infercast.errors import InvalidInputError
from infercast.importers.gguf_format import (
    DEFAULT_MAX_HEADER_BYTES,
    MAX_KV_COUNT,
    ArraySummary,
    GGUFFormatError,
    GGUFMetadata,
)
from infercast.importers.gguf_format import os_reason as _os_reason
from infercast.importers.gguf_parser import Parser as _Parser

__all__ = [
    "DEFAULT_MAX_HEADER_BYTES",
    "MAX_KV_COUNT",
    "ArraySummary",
    "GGUFFormatError",
    "GGUFMetadata",
    "read_gguf_metadata",
    "read_gguf_metadata_bytes",
    "read_gguf_metadata_stream",
]
"""The readers and the records they return; every limit is in :mod:`.gguf_format`."""


def read_gguf_metadata(
    path: str | os.PathLike[str], *, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
) -> GGUFMetadata:
    """Read a ``.gguf`` file's header (metadata and tensor infos), never its tensor data."""
    name = os.fsdecode(os.fspath(path))
    _check_limit_arg(max_header_bytes)
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{name}: cannot open GGUF file: {_os_reason(exc)}") from None
    if not stat.S_ISREG(st.st_mode):
        # FIFOs and devices could block or never end; only regular files are read.
        raise InvalidInputError(f"{name}: cannot open GGUF file: not a regular file")
    try:
        stream = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the with below
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{name}: cannot open GGUF file: {_os_reason(exc)}") from None
    with stream:
        try:
            size = os.fstat(stream.fileno()).st_size
        except OSError as exc:
            raise InvalidInputError(f"{name}: cannot read GGUF file: {_os_reason(exc)}") from None
        return _Parser(stream, size, name, max_header_bytes).parse()


def read_gguf_metadata_bytes(
    data: bytes | bytearray | memoryview,
    *,
    name: str = "<upload>",
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> GGUFMetadata:
    """Parse a GGUF header from memory, e.g. an upload of just the first part of a file."""
    _check_limit_arg(max_header_bytes)
    buf = bytes(data)
    return _Parser(io.BytesIO(buf), len(buf), name, max_header_bytes).parse()


# ---- implementation ---------------------------------------------------------------------------


def _check_limit_arg(max_header_bytes: int) -> None:
    if not isinstance(max_header_bytes, int) or max_header_bytes < 24:
        raise InvalidInputError(
            f"max_header_bytes must be an integer >= 24, got {max_header_bytes!r}"
        )


def read_gguf_metadata_stream(
    stream: BinaryIO,
    size: int,
    *,
    name: str = "<upload>",
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> GGUFMetadata:
    """Parse a GGUF header from a seekable stream positioned at byte 0 (an upload's spooled
    file), so the upload is never copied into memory whole."""
    _check_limit_arg(max_header_bytes)
    return _Parser(stream, size, name, max_header_bytes).parse()

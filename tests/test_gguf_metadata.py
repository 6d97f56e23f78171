"""Tests for the bounded GGUF header reader: exact values, no tensor-data reads, hostile input."""

from __future__ import annotations

import functools
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infercast.errors import InvalidInputError
from infercast.importers.gguf_metadata import (
    MAX_KV_COUNT,
    ArraySummary,
    GGUFFormatError,
    GGUFMetadata,
    read_gguf_metadata,
    read_gguf_metadata_bytes,
)

VT = gguf.GGUFValueType
QT = gguf.GGMLQuantizationType
VOCAB = 50_000


# ---- fixtures built with gguf.GGUFWriter --------------------------------------------------------


def _write_llama(path: Path, *, endianess: gguf.GGUFEndian = gguf.GGUFEndian.LITTLE) -> None:
    w = gguf.GGUFWriter(path, "llama", endianess=endianess)
    w.add_name("tiny-llama")
    w.add_context_length(4096)
    w.add_block_count(2)
    w.add_embedding_length(64)
    w.add_feed_forward_length(176)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_bool("test.flag", True)
    w.add_uint64("test.big", 2**40 + 3)
    w.add_int32("test.neg", -7)
    w.add_array("test.small", [1, 2, 3])
    w.add_array("test.nested", [[1, 2], ["a", "b", "c"]])
    w.add_tokenizer_model("llama")
    w.add_token_list([f"tok{i}" for i in range(VOCAB)])
    w.add_token_scores([float(i) for i in range(VOCAB)])
    w.add_tensor("token_embd.weight", np.ones((4, 64), np.float32))
    w.add_tensor("blk.0.attn_q.weight", np.ones((64, 32), np.float16))
    w.add_tensor("blk.0.attn_k.weight", np.ones((64, 32), np.float16))
    # Q8_0 blocks: 32 weights in 34 bytes; GGUFWriter takes the raw byte shape.
    w.add_tensor("blk.0.ffn_up.weight", np.zeros((3, 2 * 34), np.uint8), raw_dtype=QT.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@functools.cache
def _small_valid_file() -> bytes:
    """A compact valid file exercising every value kind, for the property tests."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "small.gguf"
        w = gguf.GGUFWriter(path, "llama")
        w.add_block_count(2)
        w.add_uint8("t.u8", 7)
        w.add_int16("t.i16", -3)
        w.add_float64("t.f64", 0.5)
        w.add_bool("t.bool", False)
        w.add_string("t.str", "héllo")
        w.add_array("t.arr", [1.5, 2.5])
        w.add_array("t.nested", [[1, 2], ["x"]])
        w.add_array("t.long", list(range(1500)))
        w.add_tensor("a", np.ones((2, 32), np.float32))
        w.add_tensor("b", np.zeros((1, 34), np.uint8), raw_dtype=QT.Q8_0)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        return path.read_bytes()


@pytest.fixture(scope="module")
def llama_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gguf") / "tiny-llama.gguf"
    _write_llama(path)
    return path


# ---- hand-built headers for hostile cases --------------------------------------------------------


def _s(text: str | bytes, length: int | None = None) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw) if length is None else length) + raw


def _kv(key: str | bytes, vtype: int, payload: bytes) -> bytes:
    return _s(key) + struct.pack("<I", vtype) + payload


ARCH_KV = _kv("general.architecture", VT.STRING, _s("llama"))


def _header(n_tensors: int, n_kv: int, version: int = 3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv)


def _tensor(name: str, dims: tuple[int, ...], qtype: int = QT.F32, offset: int = 0) -> bytes:
    return (
        _s(name)
        + struct.pack("<I", len(dims))
        + b"".join(struct.pack("<Q", d) for d in dims)
        + struct.pack("<IQ", qtype, offset)
    )


def _parse(data: bytes, **kwargs: Any) -> GGUFMetadata:
    return read_gguf_metadata_bytes(data, name="evil.gguf", **kwargs)


# ---- happy paths ---------------------------------------------------------------------------------


def test_reads_llama_header_exactly(llama_path: Path) -> None:
    m = read_gguf_metadata(llama_path)
    assert m.version == 3
    assert m.byte_order == "little"
    assert m.architecture == "llama"
    assert m.tensor_count == 4
    md = m.metadata
    assert md["general.architecture"] == "llama"
    assert md["general.name"] == "tiny-llama"
    assert md["llama.context_length"] == 4096
    assert md["llama.block_count"] == 2
    assert md["llama.embedding_length"] == 64
    assert md["llama.feed_forward_length"] == 176
    assert md["llama.attention.head_count"] == 4
    assert md["llama.attention.head_count_kv"] == 2
    assert md["llama.rope.freq_base"] == 10000.0
    assert md["llama.attention.layer_norm_rms_epsilon"] == float(np.float32(1e-5))
    assert md["test.flag"] is True
    assert md["test.big"] == 2**40 + 3
    assert md["test.neg"] == -7
    assert md["test.small"] == [1, 2, 3]
    assert md["test.nested"] == [[1, 2], ["a", "b", "c"]]
    assert md["tokenizer.ggml.model"] == "llama"
    assert m.arch_get("block_count") == 2
    assert m.arch_get("missing", 5) == 5


def test_long_arrays_are_summarised_not_materialised(llama_path: Path) -> None:
    md = read_gguf_metadata(llama_path).metadata
    assert md["tokenizer.ggml.tokens"] == ArraySummary("STRING", VOCAB)
    assert md["tokenizer.ggml.scores"] == ArraySummary("FLOAT32", VOCAB)
    assert str(md["tokenizer.ggml.tokens"]) == f"<STRING[{VOCAB}]>"


def test_tensor_types_counts_and_shapes(llama_path: Path) -> None:
    m = read_gguf_metadata(llama_path)
    assert m.tensor_types == {"F32": 1, "F16": 2, "Q8_0": 1}
    assert m.tensor_elements == {"F32": 256, "F16": 4096, "Q8_0": 192}
    assert m.tensor_bytes == {"F32": 1024, "F16": 8192, "Q8_0": 6 * 34}
    # ggml order: ne[0] (the contiguous dimension) first, i.e. numpy shape reversed.
    assert m.tensor_shapes == {
        "token_embd.weight": (64, 4),
        "blk.0.attn_q.weight": (32, 64),
        "blk.0.attn_k.weight": (32, 64),
        "blk.0.ffn_up.weight": (64, 3),
    }
    assert m.tensor_shapes_truncated is False
    assert m.alignment == 32


def test_agrees_with_gguf_reference_reader(tmp_path: Path) -> None:
    path = tmp_path / "small.gguf"
    path.write_bytes(_small_valid_file())
    ours = read_gguf_metadata(path)
    ref = gguf.GGUFReader(path)
    for key, field in ref.fields.items():
        if key.startswith("GGUF.") or key == "t.nested":  # reader pseudo-keys; it flattens
            continue
        value = ours.metadata[key]
        if isinstance(value, ArraySummary):
            assert value.length == len(field.data), key
        else:
            assert value == field.contents(), key
    assert len(ref.tensors) == ours.tensor_count
    for t in ref.tensors:
        assert ours.tensor_shapes[t.name] == tuple(int(d) for d in t.shape)
    ref_bytes: dict[str, int] = {}
    for t in ref.tensors:
        ref_bytes[t.tensor_type.name] = ref_bytes.get(t.tensor_type.name, 0) + int(t.n_bytes)
    assert ours.tensor_bytes == ref_bytes


def test_big_endian_file_is_supported(tmp_path: Path, llama_path: Path) -> None:
    path = tmp_path / "be.gguf"
    _write_llama(path, endianess=gguf.GGUFEndian.BIG)
    big, little = read_gguf_metadata(path), read_gguf_metadata(llama_path)
    assert big.byte_order == "big"
    assert big.metadata == little.metadata
    assert big.tensor_shapes == little.tensor_shapes
    assert big.tensor_types == little.tensor_types


def test_version_2_is_accepted() -> None:
    m = _parse(_header(0, 1, version=2) + ARCH_KV)
    assert (m.version, m.architecture, m.tensor_count) == (2, "llama", 0)


def test_header_only_prefix_parses_identically(llama_path: Path) -> None:
    """The tensor data is never needed: the bytes up to header_bytes give the same result."""
    full = read_gguf_metadata(llama_path)
    data = llama_path.read_bytes()
    assert full.header_bytes < len(data)
    head = read_gguf_metadata_bytes(data[: full.header_bytes], name=full.source)
    assert head == full


def test_tensor_data_is_never_read(tmp_path: Path, llama_path: Path) -> None:
    """A 10 GiB sparse file parses fast, and reads stop at max_header_bytes = header size."""
    path = tmp_path / "huge.gguf"
    path.write_bytes(llama_path.read_bytes())
    with path.open("r+b") as f:
        f.truncate(10 * 2**30)
    start = time.perf_counter()
    m = read_gguf_metadata(path)
    assert time.perf_counter() - start < 2.0
    assert m.metadata["llama.block_count"] == 2
    assert read_gguf_metadata(path, max_header_bytes=m.header_bytes) == m
    with pytest.raises(GGUFFormatError, match="max_header_bytes"):
        read_gguf_metadata(path, max_header_bytes=m.header_bytes - 1)


def test_tensor_data_region_removed(tmp_path: Path) -> None:
    """A file written without its tensor data (header + tensor infos only) still parses."""
    path = tmp_path / "nodata.gguf"
    w = gguf.GGUFWriter(path, "qwen2")
    w.add_block_count(3)
    w.add_tensor_info("w", (64, 144), np.dtype(np.uint8), 64 * 144, raw_dtype=QT.Q4_K)
    w.add_tensor_info("x", (64, 17), np.dtype(np.uint8), 64 * 17, raw_dtype=QT.MXFP4)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()
    m = read_gguf_metadata(path)
    assert m.architecture == "qwen2"
    assert m.tensor_types == {"Q4_K": 1, "MXFP4": 1}
    assert m.tensor_shapes == {"w": (256, 64), "x": (32, 64)}


def test_shapes_beyond_limit_are_dropped_but_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    import infercast.importers.gguf_format as mod  # where the tally reads the limit

    monkeypatch.setattr(mod, "MAX_TENSOR_SHAPES", 2)
    data = _header(3, 1) + ARCH_KV + b"".join(_tensor(n, (4,)) for n in "abc")
    m = _parse(data)
    assert m.tensor_types == {"F32": 3}
    assert list(m.tensor_shapes) == ["a", "b"]
    assert m.tensor_shapes_truncated


# ---- hostile inputs ----------------------------------------------------------------------

_U64_HUGE = 2**63

HOSTILE: list[tuple[str, bytes, str]] = [
    ("empty", b"", "at byte 0: magic needs 4 bytes but only 0 remain"),
    ("bad magic", b"GGML" + bytes(20), "not a GGUF file"),
    ("version 1", _header(0, 0, version=1), "at byte 4: GGUF version 1 is not supported"),
    ("version 99", _header(0, 0, version=99), "unsupported GGUF version 99"),
    ("truncated counts", _header(0, 0)[:20], "kv_count needs 8 bytes but only 4 remain"),
    (
        "huge kv_count",
        _header(0, 2**40),
        f"at byte 16: kv_count 2^40 exceeds the limit of {MAX_KV_COUNT}",
    ),
    ("huge tensor_count", _header(2**62, 1), "at byte 8: tensor_count 2^62 exceeds the limit"),
    (
        "counts vs size",
        _header(1000, 60000) + ARCH_KV,
        "60000 metadata entries and 1000 tensor infos",
    ),
    (
        "huge key length",
        _header(0, 1) + struct.pack("<Q", _U64_HUGE) + bytes(8),
        "at byte 24: metadata key #0 string length 2^63 exceeds the 65535-byte limit",
    ),
    (
        "huge value string",
        _header(0, 1) + _s("general.architecture") + struct.pack("<IQ", VT.STRING, _U64_HUGE),
        "string length 2^63 exceeds the 1 MiB limit",
    ),
    (
        "string past eof",
        _header(0, 1) + _s("general.architecture") + struct.pack("<IQ", VT.STRING, 1000) + b"ll",
        "needs 1000 bytes but only 2 remain",
    ),
    ("invalid utf-8 key", _header(0, 1) + _kv(b"\xff\xfe", VT.UINT8, b"\x00"), "not valid UTF-8"),
    ("unknown value type", _header(0, 1) + _kv("k", 13, b""), "unknown value type 13"),
    (
        "huge array",
        _header(0, 2) + ARCH_KV + _kv("a", VT.ARRAY, struct.pack("<IQ", VT.STRING, 2**61)),
        "array of 2^61 STRING items needs 2^64 bytes",
    ),
    (
        "array nested 3 deep",
        _header(0, 2)
        + ARCH_KV
        + _kv("a", VT.ARRAY, struct.pack("<IQ", VT.ARRAY, 1) + struct.pack("<IQ", VT.ARRAY, 1)),
        "arrays nested more than 2 deep",
    ),
    (
        "unknown array item type",
        _header(0, 2) + ARCH_KV + _kv("a", VT.ARRAY, struct.pack("<IQ", 77, 0)),
        "array item type: unknown value type 77",
    ),
    ("bad bool", _header(0, 2) + ARCH_KV + _kv("b", VT.BOOL, b"\x02"), "invalid bool byte 0x02"),
    (
        "duplicate key",
        _header(0, 2) + ARCH_KV + ARCH_KV,
        "duplicate metadata key 'general.architecture'",
    ),
    ("missing arch", _header(0, 1) + _kv("x", VT.UINT8, b"\x01"), "no 'general.architecture' key"),
    (
        "arch not str",
        _header(0, 1) + _kv("general.architecture", VT.UINT8, b"\x01"),
        "non-empty string",
    ),
    (
        "bad alignment",
        _header(0, 2) + ARCH_KV + _kv("general.alignment", VT.UINT32, struct.pack("<I", 24)),
        "'general.alignment' must be a positive power of two, got 24",
    ),
    (
        "n_dims too big",
        _header(1, 1) + ARCH_KV + _tensor("t", (1,) * 9),
        "n_dims 9 exceeds the limit of 8",
    ),
    (
        "unknown ggml type",
        _header(1, 1) + ARCH_KV + _tensor("t", (32,), qtype=4),
        "unknown ggml type id 4",
    ),
    (
        "duplicate tensor",
        _header(2, 1) + ARCH_KV + _tensor("t", (4,)) + _tensor("t", (4,), offset=32),
        "duplicate tensor name 't'",
    ),
    ("dim too big", _header(1, 1) + ARCH_KV + _tensor("t", (2**63,)), "dimension 0 is 2^63"),
    ("element overflow", _header(1, 1) + ARCH_KV + _tensor("t", (2**32, 2**32)), "overflows int64"),
    (
        "block size",
        _header(1, 1) + ARCH_KV + _tensor("t", (100,), qtype=QT.Q4_K),
        "first dimension 100 is not a multiple of the Q4_K block size 256",
    ),
    (
        "unaligned offset",
        _header(1, 1) + ARCH_KV + _tensor("t", (4,), offset=7),
        "not a multiple of the alignment 32",
    ),
    (
        "truncated tensor info",
        (_header(1, 1) + ARCH_KV + _tensor("t", (4,)))[:-3],
        "data offset needs 8 bytes",
    ),
]


@pytest.mark.parametrize(
    ("data", "fragment"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE]
)
def test_hostile_input_raises_clear_error(data: bytes, fragment: str) -> None:
    with pytest.raises(GGUFFormatError) as info:
        _parse(data)
    message = str(info.value)
    assert message.startswith("evil.gguf: at byte "), message
    assert fragment in message, message
    assert isinstance(info.value, InvalidInputError)
    assert message == f"evil.gguf: at byte {info.value.offset}: {info.value.problem}"


def test_error_offset_points_at_the_bad_field() -> None:
    data = _header(0, 2) + ARCH_KV + _kv("k", 13, b"")
    with pytest.raises(GGUFFormatError) as info:
        _parse(data)
    assert info.value.offset == len(data) - 4


def test_big_endian_hostile_count_is_caught() -> None:
    data = b"GGUF" + struct.pack(">IQQ", 3, 0, 2**40)
    with pytest.raises(GGUFFormatError, match="kv_count 2\\^40 exceeds"):
        _parse(data)


def test_header_larger_than_limit(llama_path: Path) -> None:
    with pytest.raises(GGUFFormatError, match="past max_header_bytes=1000"):
        read_gguf_metadata(llama_path, max_header_bytes=1000)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(InvalidInputError, match=r"nope\.gguf: cannot open GGUF file"):
        read_gguf_metadata(missing)
    with pytest.raises(InvalidInputError, match="not a regular file"):
        read_gguf_metadata(tmp_path)


def test_bad_limit_argument() -> None:
    with pytest.raises(InvalidInputError, match="max_header_bytes"):
        read_gguf_metadata_bytes(b"", max_header_bytes=0)


# ---- property tests ----------------------------------------------------------------------

_PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_V3_PREFIX = b"GGUF" + struct.pack("<I", 3)


def _parse_or_format_error(data: bytes) -> GGUFMetadata | None:
    try:
        return _parse(data)
    except GGUFFormatError:
        return None


@_PROPS
@given(st.binary(max_size=512) | st.binary(max_size=512).map(lambda b: _V3_PREFIX + b))
def test_arbitrary_bytes_only_raise_format_error(data: bytes) -> None:
    _parse_or_format_error(data)


@_PROPS
@given(st.data())
def test_any_truncation_fails_cleanly_or_parses_identically(data: st.DataObject) -> None:
    valid = _small_valid_file()
    full = _parse(valid)
    cut = data.draw(st.integers(0, len(valid)))
    result = _parse_or_format_error(valid[:cut])
    assert (result is None) == (cut < full.header_bytes)
    if result is not None:
        assert result == full


@_PROPS
@given(st.data())
def test_single_byte_mutations_never_escape(data: st.DataObject) -> None:
    valid = _small_valid_file()
    header_bytes = _parse(valid).header_bytes
    where = data.draw(st.integers(0, header_bytes - 1))
    value = data.draw(st.integers(0, 255))
    mutated = bytearray(valid)
    mutated[where] = value
    _parse_or_format_error(bytes(mutated))


def test_small_valid_file_content() -> None:
    m = _parse(_small_valid_file())
    assert m.metadata["t.str"] == "héllo"
    assert m.metadata["t.arr"] == [1.5, 2.5]
    assert m.metadata["t.nested"] == [[1, 2], ["x"]]
    assert m.metadata["t.long"] == ArraySummary("INT32", 1500)
    assert m.tensor_types == {"F32": 1, "Q8_0": 1}

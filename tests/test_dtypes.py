"""Byte sizes of every numeric format, with the block-scale arithmetic written out."""

import pytest

from infercast.dtypes import DTYPES, UnknownDTypeError, dtype


@pytest.mark.parametrize(
    ("name", "bits_per_element"),
    [
        ("fp32", 32.0),
        ("bf16", 16.0),
        ("fp16", 16.0),
        ("int8", 8.0),
        ("fp8", 8 + 32 / (128 * 128)),  # one fp32 scale per 128x128 block
        ("int4", 4 + 32 / 128),  # fp16 scale + fp16 zero per 128-element group
        ("mxfp4", 4 + 8 / 32),  # one E8M0 scale per 32 elements = 4.25 bits
        ("nvfp4", 4 + 8 / 16),  # one FP8 scale per 16 elements = 4.5 bits
    ],
)
def test_bits_per_element_include_block_scales(name: str, bits_per_element: float) -> None:
    assert dtype(name).bits_per_element == pytest.approx(bits_per_element)


def test_nbytes_of_a_billion_mxfp4_weights() -> None:
    # 1e9 elements x 4.25 bits / 8 = 531.25 MB
    assert dtype("mxfp4").nbytes(1_000_000_000) == pytest.approx(531_250_000)


def test_aliases_and_case() -> None:
    assert dtype("BFloat16").name == "bf16"
    assert dtype("float8_e4m3fn").name == "fp8"
    assert dtype(" FP16 ").name == "fp16"


def test_unknown_dtype_names_the_input_and_the_choices() -> None:
    with pytest.raises(UnknownDTypeError, match=r"'fp3'.*bf16.*nvfp4"):
        dtype("fp3")


def test_compute_classes_fall_back_to_bf16_when_weight_only() -> None:
    assert dtype("mxfp4").compute_class == "fp4"
    assert dtype("mxfp4").fallback_compute_class == "bf16"
    assert dtype("int4").compute_class == "bf16"
    assert set(DTYPES) == {"fp32", "bf16", "fp16", "fp8", "int8", "int4", "mxfp4", "nvfp4"}

"""Hardware catalog: datasheet figures, sourcing, validation, look-ups and the CLI.

Expected figures are written from the vendors' datasheets/whitepapers, not computed by the
code under test.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from infercast.errors import InvalidInputError, UnknownIdError
from infercast.hardware import (
    Efficiency,
    Hardware,
    HardwareFileError,
    get_hardware,
    list_hardware,
    load_hardware_file,
    parse_hardware,
)
from infercast.interfaces.cli.app import app

EXPECTED_IDS = {
    "a100",
    "b200",
    "b300",
    "gb200",
    "gb300",
    "h100",
    "h200",
    "l40s",
    "mi300x",
    "mi325x",
    "mi355x",
}
T = 1e12
P = 1e15
G = 1e9


def _h100_data() -> dict[str, Any]:
    path = resources.files("infercast.hardware") / "catalog" / "h100.json"
    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ catalog contents


def test_every_catalog_part_loads_sorted() -> None:
    parts = list_hardware()
    ids = [hw.id for hw in parts]
    assert ids == sorted(ids)
    assert set(ids) >= EXPECTED_IDS
    assert all(isinstance(hw, Hardware) for hw in parts)


def test_every_catalog_file_is_one_part_named_by_id() -> None:
    folder = resources.files("infercast.hardware") / "catalog"
    files = sorted(e.name for e in folder.iterdir() if e.name.endswith(".json"))
    assert files == sorted(f"{hw.id}.json" for hw in list_hardware())


@pytest.mark.parametrize(
    ("hw_id", "figure", "expected"),
    [
        # NVIDIA H100 whitepaper / datasheet (SXM5): dense = half the sparse datasheet figure
        ("h100", "memory_bytes", 80e9),
        ("h100", "memory_bandwidth_bytes_per_s", 3.35e12),
        ("h100", "peak_flops.bf16", 989.4 * T),
        ("h100", "peak_flops.fp16", 989.4 * T),
        ("h100", "peak_flops.fp8", 1978.9 * T),
        ("h100", "peak_flops.tf32", 494.7 * T),
        ("h100", "peak_flops.int8", 1978.9 * T),
        ("h100", "scale_up.bandwidth_bytes_per_s", 450 * G),
        ("h100", "scale_up.domain_size", 8),
        ("h100", "scale_out.bandwidth_bytes_per_s", 50 * G),
        ("h100", "tdp_w", 700),
        # H200 SXM: H100 compute, 141 GB HBM3e at 4.8 TB/s
        ("h200", "memory_bytes", 141e9),
        ("h200", "memory_bandwidth_bytes_per_s", 4.8e12),
        ("h200", "peak_flops.bf16", 989.4 * T),
        ("h200", "peak_flops.fp8", 1978.9 * T),
        # A100 SXM 80GB
        ("a100", "memory_bytes", 80e9),
        ("a100", "memory_bandwidth_bytes_per_s", 2.039e12),
        ("a100", "peak_flops.bf16", 312 * T),
        ("a100", "peak_flops.tf32", 156 * T),
        ("a100", "peak_flops.int8", 624 * T),
        ("a100", "scale_up.bandwidth_bytes_per_s", 300 * G),
        # L40S (PCIe, GDDR6)
        ("l40s", "memory_bytes", 48e9),
        ("l40s", "memory_bandwidth_bytes_per_s", 864 * G),
        ("l40s", "peak_flops.bf16", 362.05 * T),
        ("l40s", "peak_flops.fp8", 733 * T),
        ("l40s", "scale_up.bandwidth_bytes_per_s", 32 * G),
        ("l40s", "scale_up.domain_size", 8),
        # HGX B200: 2.25 / 4.5 / 9 PF dense bf16 / fp8 / fp4, 180 GB, 8 TB/s, NVLink 5
        ("b200", "memory_bytes", 180e9),
        ("b200", "memory_bandwidth_bytes_per_s", 8e12),
        ("b200", "peak_flops.bf16", 2.25 * P),
        ("b200", "peak_flops.fp8", 4.5 * P),
        ("b200", "peak_flops.fp4", 9 * P),
        ("b200", "scale_up.bandwidth_bytes_per_s", 900 * G),
        ("b200", "scale_up.domain_size", 8),
        # HGX B300: 288 GB, fp4 13.5 PF dense (108 PF / 8), fp8/bf16 as B200
        ("b300", "memory_bytes", 288e9),
        ("b300", "peak_flops.bf16", 2.25 * P),
        ("b300", "peak_flops.fp8", 4.5 * P),
        ("b300", "peak_flops.fp4", 13.5 * P),
        ("b300", "scale_out.bandwidth_bytes_per_s", 100 * G),
        # GB200 NVL72 per GPU
        ("gb200", "memory_bytes", 186e9),
        ("gb200", "memory_bandwidth_bytes_per_s", 8e12),
        ("gb200", "peak_flops.bf16", 2.5 * P),
        ("gb200", "peak_flops.fp8", 5 * P),
        ("gb200", "peak_flops.fp4", 10 * P),
        ("gb200", "scale_up.bandwidth_bytes_per_s", 900 * G),
        ("gb200", "scale_up.domain_size", 72),
        # GB300 NVL72 per GPU: fp4 15 PF dense (1,080 PF / 72)
        ("gb300", "memory_bytes", 288e9),
        ("gb300", "peak_flops.bf16", 2.5 * P),
        ("gb300", "peak_flops.fp8", 5 * P),
        ("gb300", "peak_flops.fp4", 15 * P),
        ("gb300", "scale_up.domain_size", 72),
        # AMD MI300X: 192 GB HBM3, 5.3 TB/s, 7 x 64 GB/s Infinity Fabric per direction
        ("mi300x", "memory_bytes", 192e9),
        ("mi300x", "memory_bandwidth_bytes_per_s", 5.3e12),
        ("mi300x", "peak_flops.bf16", 1307.4 * T),
        ("mi300x", "peak_flops.fp8", 2614.9 * T),
        ("mi300x", "scale_up.bandwidth_bytes_per_s", 448 * G),
        ("mi300x", "scale_up.domain_size", 8),
        ("mi300x", "tdp_w", 750),
        # MI325X: 256 GB HBM3e, 6 TB/s, MI300X compute
        ("mi325x", "memory_bytes", 256e9),
        ("mi325x", "memory_bandwidth_bytes_per_s", 6e12),
        ("mi325x", "peak_flops.bf16", 1307.4 * T),
        ("mi325x", "peak_flops.fp8", 2614.9 * T),
        # MI355X: 288 GB, 8 TB/s, 2.5 / 5 / 10 PF dense (2,516.6 / 5,033.2 / 10,066.3 TF)
        ("mi355x", "memory_bytes", 288e9),
        ("mi355x", "memory_bandwidth_bytes_per_s", 8e12),
        ("mi355x", "peak_flops.bf16", 2516.6 * T),
        ("mi355x", "peak_flops.fp8", 5033.2 * T),
        ("mi355x", "peak_flops.fp4", 10066.3 * T),
    ],
)
def test_datasheet_figures(hw_id: str, figure: str, expected: float) -> None:
    assert get_hardware(hw_id).figures()[figure] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("hw_id", "absent"),
    [
        ("h100", "fp4"),
        ("h200", "fp4"),
        ("a100", "fp8"),
        ("a100", "fp4"),
        ("l40s", "fp4"),
        ("mi300x", "fp4"),
        ("mi325x", "fp4"),
    ],
)
def test_parts_lack_formats_they_do_not_have(hw_id: str, absent: str) -> None:
    hw = get_hardware(hw_id)
    assert absent not in hw.peak_flops
    assert not hw.supports(absent)


def test_memory_is_marketed_decimal_capacity() -> None:
    assert get_hardware("h100").memory_bytes == 80_000_000_000
    assert get_hardware("h200").memory_bytes == 141_000_000_000
    assert isinstance(get_hardware("h100").memory_bytes, int)


@pytest.mark.parametrize("hw", list_hardware(), ids=lambda h: h.id)
def test_lower_precision_is_at_least_twice_as_fast(hw: Hardware) -> None:
    pf = hw.peak_flops
    rounding = 1 - 1e-4  # datasheets round to 0.1 TFLOPS (MI355X: 10,066.3 vs 2 x 5,033.2)
    if "fp8" in pf:
        assert pf["fp8"] >= 2 * pf["bf16"] * rounding
    if "fp4" in pf and "fp8" in pf:
        assert pf["fp4"] >= 2 * pf["fp8"] * rounding
    assert pf.get("fp16", pf["bf16"]) == pf["bf16"]


@pytest.mark.parametrize("hw", list_hardware(), ids=lambda h: h.id)
def test_figures_are_physically_plausible(hw: Hardware) -> None:
    assert 16e9 <= hw.memory_bytes <= 1e12
    assert 0.5e12 <= hw.memory_bandwidth_bytes_per_s <= 20e12
    assert 100e12 <= hw.peak_flops["bf16"] <= 10e15
    assert hw.scale_up.bandwidth_bytes_per_s > hw.scale_out.bandwidth_bytes_per_s
    assert hw.scale_up.domain_size in (8, 72)
    assert 0 < hw.scale_up.latency_s <= hw.scale_out.latency_s < 1e-4


def _numeric_leaves(data: Any, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_numeric_leaves(value, f"{prefix}{key}."))
    elif isinstance(data, int | float) and not isinstance(data, bool):
        out[prefix.rstrip(".")] = data
    return out


@pytest.mark.parametrize("hw", list_hardware(), ids=lambda h: h.id)
def test_every_numeric_field_has_a_source(hw: Hardware) -> None:
    # Walk the serialised part independently of Hardware.figures(); efficiency parameters
    # are modelling defaults justified in efficiency.notes, not datasheet figures.
    dumped = hw.model_dump(exclude={"efficiency", "sources"})
    leaves = _numeric_leaves(dumped)
    assert "peak_flops.bf16" in leaves and "scale_up.latency_s" in leaves
    for figure in leaves:
        source = hw.source_for(figure)
        assert source and len(source) > 10, f"{hw.id}: {figure} has no source"
    assert set(leaves) == set(hw.figures())
    assert hw.efficiency.notes


# ------------------------------------------------------------------ look-ups


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("h100", "h100"),
        ("H100", "h100"),
        ("H100-SXM", "h100"),
        ("h100_sxm", "h100"),
        ("h100 sxm5 80gb", "h100"),
        ("B200", "b200"),
        ("gb200-nvl72", "gb200"),
        ("GB200_NVL72", "gb200"),
        ("gb300-nvl72", "gb300"),
        ("MI300X", "mi300x"),
        ("instinct-mi355x", "mi355x"),
        ("A100-SXM4-80GB", "a100"),
        ("L40S", "l40s"),
    ],
)
def test_aliases(name: str, expected: str) -> None:
    assert get_hardware(name).id == expected


def test_unknown_id_raises_with_suggestions() -> None:
    with pytest.raises(UnknownIdError) as info:
        get_hardware("h10")
    err = info.value
    assert err.kind == "hardware"
    assert err.requested == "h10"
    assert "h100" in err.suggestions
    assert "did you mean" in str(err) and "h100" in str(err)


def test_unknown_id_suggests_for_vendor_style_names() -> None:
    with pytest.raises(UnknownIdError) as info:
        get_hardware("mi300a")
    assert info.value.suggestions[0] == "mi300x"


def test_catalog_is_loaded_once_and_parts_are_immutable() -> None:
    hw = get_hardware("h100")
    assert get_hardware("H100-SXM") is hw
    with pytest.raises(ValidationError):
        hw.memory_bytes = 1  # type: ignore[misc]


# ------------------------------------------------------------------ peak look-up by dtype


def test_peak_flops_for_uses_compute_class_then_fallback() -> None:
    h100, b200, a100 = get_hardware("h100"), get_hardware("b200"), get_hardware("a100")
    assert h100.peak_flops_for("fp8", "bf16") == (1978.9 * T, "fp8")
    assert h100.peak_flops_for("fp4", "bf16") == (989.4 * T, "bf16")
    assert b200.peak_flops_for("fp4", "bf16") == (9 * P, "fp4")
    assert a100.peak_flops_for("fp8", "fp16") == (312 * T, "fp16")
    # neither class present: bf16, which every part has
    assert a100.peak_flops_for("fp4", "fp8") == (312 * T, "bf16")


def test_peak_flops_for_dtype() -> None:
    assert get_hardware("h100").peak_flops_for_dtype("mxfp4") == (989.4 * T, "bf16")
    assert get_hardware("gb200").peak_flops_for_dtype("nvfp4") == (10 * P, "fp4")
    assert get_hardware("mi300x").peak_flops_for_dtype("fp8") == (2614.9 * T, "fp8")
    assert get_hardware("a100").peak_flops_for_dtype("fp32") == (156 * T, "tf32")


# ------------------------------------------------------------------ efficiency


def test_efficiency_defaults_and_bounds() -> None:
    eff = Efficiency()
    assert (eff.compute, eff.memory_bandwidth, eff.collective) == (0.70, 0.80, 0.70)
    assert eff.step_overhead_s == 2.0e-3
    assert eff.kernel_gap_s == 1.5e-6 and eff.eager_launch_s == 6.0e-6
    assert eff.collective_latency_s == 1.0e-5
    assert "compute" in eff.notes
    for bad in (
        {"compute": 0.0},
        {"compute": 1.2},
        {"memory_bandwidth": -0.1},
        {"collective": 1.01},
        {"step_overhead_s": -1e-3},
        {"step_overhead_s": 5.0},
        {"kernel_gap_s": -1e-6},
        {"eager_launch_s": 0.5},
        {"collective_latency_s": -1e-6},
    ):
        with pytest.raises(ValidationError) as info:
            Efficiency(**bad)
        assert next(iter(bad)) in str(info.value)


def test_with_efficiency_validates_and_copies() -> None:
    hw = get_hardware("h100")
    tuned = hw.with_efficiency(compute=0.75, step_overhead_s=1e-3)
    assert tuned.efficiency.compute == 0.75
    assert tuned.efficiency.memory_bandwidth == hw.efficiency.memory_bandwidth
    assert hw.efficiency.compute == 0.70
    with pytest.raises(ValidationError):
        hw.with_efficiency(compute=2.0)


def test_amd_parts_have_lower_default_compute_efficiency() -> None:
    assert get_hardware("mi300x").efficiency.compute == 0.55
    assert get_hardware("h100").efficiency.compute == 0.70


# ------------------------------------------------------------------ validation of files


def test_unknown_top_level_key_is_rejected_naming_it() -> None:
    data = _h100_data() | {"hbm_stacks": 5}
    with pytest.raises(HardwareFileError) as info:
        parse_hardware(data, source="custom.json")
    msg = str(info.value)
    assert "custom.json" in msg and "hbm_stacks" in msg and "unknown key" in msg
    assert isinstance(info.value, InvalidInputError)


def test_unknown_nested_key_is_rejected_naming_field(tmp_path: Path) -> None:
    data = _h100_data()
    data["scale_up"]["bandwith_bytes_per_s"] = 1.0
    data["efficiency"] = {"computee": 0.5}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    with pytest.raises(HardwareFileError) as info:
        load_hardware_file(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "scale_up.bandwith_bytes_per_s: unknown key" in msg
    assert "efficiency.computee: unknown key" in msg


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"id": "x",')
    with pytest.raises(HardwareFileError, match=r"bad\.json.*not valid JSON"):
        load_hardware_file(path)


def test_unknown_compute_class_is_rejected() -> None:
    data = _h100_data()
    data["peak_flops"]["fp6"] = 1e15
    with pytest.raises(HardwareFileError, match=r"peak_flops\.fp6"):
        parse_hardware(data)


def test_bf16_peak_is_required_and_peaks_positive() -> None:
    data = _h100_data()
    del data["peak_flops"]["bf16"]
    data["sources"] = [s for s in data["sources"] if s["figure"] != "peak_flops.bf16"]
    with pytest.raises(HardwareFileError, match="'bf16' peak is required"):
        parse_hardware(data)
    data = _h100_data()
    data["peak_flops"]["fp8"] = 0
    with pytest.raises(HardwareFileError, match="fp8"):
        parse_hardware(data)


def test_missing_source_is_rejected_naming_the_figure() -> None:
    data = _h100_data()
    data["sources"] = [s for s in data["sources"] if s["figure"] != "memory_bytes"]
    with pytest.raises(HardwareFileError, match="figures without a source: memory_bytes"):
        parse_hardware(data)


def test_source_for_unknown_figure_is_rejected() -> None:
    data = _h100_data()
    data["sources"].append({"figure": "peak_flops.fp4", "source": "nowhere"})
    with pytest.raises(HardwareFileError, match=r"unknown figures: peak_flops\.fp4"):
        parse_hardware(data)


def test_parent_source_covers_children() -> None:
    data = _h100_data()
    data["sources"] = [s for s in data["sources"] if not s["figure"].startswith("peak_flops")]
    data["sources"].append({"figure": "peak_flops", "source": "H100 whitepaper table"})
    hw = parse_hardware(data)
    assert hw.source_for("peak_flops.fp8") == "H100 whitepaper table"


# ------------------------------------------------------------------ CLI

runner = CliRunner()


def test_cli_list() -> None:
    result = runner.invoke(app, ["hardware", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for hw_id in EXPECTED_IDS:
        assert hw_id in result.output
    assert "989.4" in result.output  # H100 bf16 dense TFLOPS
    assert "13,500" in result.output  # B300 fp4 dense TFLOPS


def test_cli_list_json() -> None:
    result = runner.invoke(app, ["hardware", "list", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_id = {d["id"]: d for d in data}
    assert set(by_id) >= EXPECTED_IDS
    assert by_id["h100"]["peak_flops"]["bf16"] == 989.4e12
    assert by_id["gb200"]["scale_up"]["domain_size"] == 72


def test_cli_show_by_alias() -> None:
    result = runner.invoke(app, ["hardware", "show", "H100-SXM"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "NVIDIA H100 SXM5 80GB" in out
    assert "peak_flops.bf16" in out and "989.4" in out and "TFLOPS" in out
    assert "H100 Tensor Core GPU Architecture whitepaper" in out  # a source
    assert "step_overhead_s" in out and "kernel_gap_s" in out
    assert "GB/s per direction" in out


def test_cli_show_json_has_sources_and_efficiency() -> None:
    result = runner.invoke(app, ["hardware", "show", "mi300x", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id"] == "mi300x"
    assert data["efficiency"]["compute"] == 0.55
    figures = {f["figure"]: f for f in data["figures"]}
    assert figures["memory_bytes"]["display_value"] == 192
    assert figures["memory_bytes"]["unit"] == "GB"
    assert all(f["source"] for f in data["figures"])


def test_cli_show_unknown_id_exits_2_with_message() -> None:
    result = runner.invoke(app, ["hardware", "show", "h10"])
    assert result.exit_code == 2
    assert "unknown hardware 'h10'" in result.output
    assert "h100" in result.output
    assert "Traceback" not in result.output

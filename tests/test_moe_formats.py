"""A calibration set records the expert formats its ``moe_compute`` was measured on, and an
estimate whose experts are in another format says so (issue 11: a fitted number must not pass
silently for a format it never saw)."""

from __future__ import annotations

import json

import infercast
from conftest import REPO
from infercast.estimation.params import resolve_params
from infercast.hardware import get_hardware

_SET = {
    "compute": 0.7,
    "moe_compute": 0.2,
    "frameworks": ["vllm"],
    "moe_formats": ["mxfp4"],
}
_NOTE = (
    "MoE GEMM efficiency 0.20 was fitted on mxfp4 experts only: this estimate's fp8 experts "
    "are a format no measurement of that set holds"
)


def test_an_unmeasured_expert_format_is_named() -> None:
    calibration = {"sets": {"h200/vllm": _SET}}
    _, notes = resolve_params(get_hardware("h200"), "vllm", calibration, "fp8")
    assert _NOTE in notes
    for same in ("mxfp4", None):
        _, notes = resolve_params(get_hardware("h200"), "vllm", calibration, same)
        assert not any(n.startswith("MoE GEMM efficiency") for n in notes)
    # A set without MoE measurements (no moe_formats) says nothing of them.
    bare = {k: v for k, v in _SET.items() if k != "moe_formats"}
    _, notes = resolve_params(get_hardware("h200"), "vllm", {"sets": {"h200/vllm": bare}}, "fp8")
    assert not any(n.startswith("MoE GEMM efficiency") for n in notes)


def test_the_shipped_fit_names_its_expert_formats() -> None:
    # Every MoE row of the shared calibration file is gpt-oss-120b with mxfp4 experts; a set
    # without MoE rows (h100/trtllm: Qwen3-32B and Llama-3.1-8B) keeps its parent's
    # moe_compute, and so its parent's formats.
    path = REPO / "src" / "infercast" / "estimation" / "calibration.json"
    sets = json.loads(path.read_text(encoding="utf-8"))["sets"]
    assert sets["h200/*"]["moe_formats"] == ["mxfp4"]
    assert sets["h100/trtllm"]["moe_formats"] == ["mxfp4"]
    deepseek = infercast.estimate(
        "deepseek-ai/DeepSeek-R1", "h200", tp=8, isl=1024, osl=256, concurrency=8
    )
    assert any(n.startswith("MoE GEMM efficiency 0.22 was fitted on mxfp4") for n in deepseek.notes)
    gpt_oss = infercast.estimate(
        "openai/gpt-oss-120b", "h200", tp=1, isl=1024, osl=256, concurrency=8
    )
    assert not any(n.startswith("MoE GEMM efficiency") for n in gpt_oss.notes)

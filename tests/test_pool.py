"""The cross-generation pool: the lookup (hardware, framework) → hardware → generation → pool →
catalog defaults, its notes, and the pool's fit (never keyed on a model).

The lookups use hand-written calibration dicts, so every expected figure is read off the dict
or the hardware catalog's JSON. The fit tests use a few dozen rows of the shared calibration
set and one objective evaluation per set: they check which sets exist and what they record, not
fitted values.
"""

from __future__ import annotations

import json

import pytest

from conftest import BENCHMARKS_CSV
from infercast.estimation.calibration import fit_calibration
from infercast.estimation.params import resolve_params
from infercast.estimation.pool import POOL_KEY, pool_needed
from infercast.estimation.reconcile import BenchmarkRow, read_benchmark_csv
from infercast.hardware import get_hardware

POOL = {
    "compute": 0.5,
    "memory_bandwidth": 0.85,
    "kernel_gap_s": 2e-6,
    "request_overhead_s": 0.03,
    "burstiness": 0.2,
    "by_framework": {"trtllm": {"request_overhead_s": 0.09, "burstiness": 0.12}},
    "rows": 100,
    "frameworks": ["trtllm", "vllm"],
    "vendors": ["NVIDIA"],
    "parts": ["b200", "h100"],
}
BLACKWELL_REASON = "measurements of 1 model architecture(s) with ≥ 5 configurations (needs 2)"


def _calibration(**sets: dict) -> dict:
    return {
        "sets": {POOL_KEY: POOL, **sets},
        "unfitted": {"generation:blackwell": f"{BLACKWELL_REASON}: estimates use pool"},
    }


def test_a_part_without_any_set_uses_the_pool() -> None:
    # A100: no set of its own, no Ampere generation set; NVIDIA, as are the pool's rows.
    params, notes = resolve_params(get_hardware("a100"), "vllm", _calibration())
    assert params.source == "calibrated (pool)"
    assert params.efficiency.compute == 0.5
    assert params.efficiency.memory_bandwidth == 0.85
    assert params.efficiency.kernel_gap_s == 2e-6
    assert params.efficiency.request_overhead_s == 0.03
    assert params.burstiness == 0.2
    # What the pool does not hold stays the catalog's: the schema default step overhead, 2 ms.
    assert params.efficiency.step_overhead_s == 2e-3
    assert (
        "no calibration for a100; the ampere generation has none either: used the pool fitted over "
        "every measured part (b200, h100)"
    ) in notes


def test_a_generation_with_one_architecture_falls_back_to_the_pool() -> None:
    # The Blackwell generation was not fitted (one architecture): b200 is priced by the pool,
    # with the pool's own TRT-LLM server figures, and the note says why.
    params, notes = resolve_params(get_hardware("b200"), "trtllm", _calibration())
    assert params.source == "calibrated (pool)"
    assert params.efficiency.request_overhead_s == 0.09
    assert params.burstiness == 0.12
    assert params.efficiency.compute == 0.5
    assert (
        f"no calibration for b200; the blackwell generation has none either ({BLACKWELL_REASON}): "
        "used the pool fitted over every measured part (b200, h100)"
    ) in notes


def test_a_fitted_generation_comes_before_the_pool() -> None:
    generation = {"compute": 0.6, "frameworks": ["vllm"]}
    params, notes = resolve_params(
        get_hardware("gb300"), "vllm", _calibration(**{"generation:blackwell": generation})
    )
    assert params.source == "calibrated (generation:blackwell)"
    assert params.efficiency.compute == 0.6
    assert notes == [
        "vLLM picks its step budget and batch cap from the GPU: 8192-token steps, at most 1024 "
        "sequences per instance, on 268 GiB",
        "no calibration for gb300: used the blackwell generation's fit pooled over its measured "
        "parts",
    ]


def test_a_measured_part_without_a_set_is_not_called_uncalibrated() -> None:
    # b200 has rows, but of one architecture: "no calibration for b200" would be untrue.
    narrow = "measurements of 1 model architecture(s) with ≥ 5 configurations (needs 2)"
    calibration = _calibration(**{"generation:blackwell": {"compute": 0.6}})
    calibration["unfitted"]["b200/*"] = f"{narrow}: estimates use generation:blackwell"
    _, notes = resolve_params(get_hardware("b200"), "vllm", calibration)
    assert notes[1:] == [
        f"b200 is measured, but too narrowly for a set of its own ({narrow}): used the "
        "blackwell generation's fit pooled over its measured parts"
    ]
    del calibration["sets"]["generation:blackwell"]
    _, notes = resolve_params(get_hardware("b200"), "vllm", calibration)
    assert notes[1].startswith(
        f"b200 is measured, but too narrowly for a set of its own ({narrow}); the blackwell "
        f"generation has none either ({BLACKWELL_REASON}): used the pool"
    )


def test_the_pool_does_not_price_a_vendor_it_never_measured() -> None:
    # MI300X keeps its catalog's ROCm costs (mi300x.json: kernel gap 6 µs, compute 0.55).
    params, notes = resolve_params(get_hardware("mi300x"), "vllm", _calibration())
    assert params.source == "catalog defaults"
    assert params.efficiency.kernel_gap_s == 6e-6
    assert params.efficiency.compute == 0.55
    assert (
        "mi300x has no calibration data and the pooled fit holds no AMD part: catalog default "
        "efficiencies used"
    ) in notes


def test_without_a_pool_the_catalog_defaults_are_used() -> None:
    params, notes = resolve_params(get_hardware("a100"), "vllm", {"sets": {}})
    assert params.source == "catalog defaults"
    assert notes == [
        "vLLM picks its step budget and batch cap from the GPU: 2048-token steps, at most 256 "
        "sequences per instance, on 75 GiB (NVIDIA A100 SXM4 80GB: by its device name, "
        "whatever its memory)",
        "a100 has no calibration data: catalog default efficiencies used",
    ]


def test_a_pool_of_one_engine_says_so() -> None:
    one_engine = {**POOL, "frameworks": ["vllm"], "by_framework": {}}
    _, notes = resolve_params(get_hardware("l40s"), "sglang", {"sets": {POOL_KEY: one_engine}})
    assert "that fallback set comes from vllm measurements only" in notes


def test_the_pool_is_fitted_only_where_a_generation_has_no_set() -> None:
    assert pool_needed(None, {}) is True  # the full calibration always fits it
    path = {"h100/vllm", "h100/*", "generation:hopper", POOL_KEY}
    assert pool_needed(path, {"generation:hopper": {}}) is False
    assert pool_needed(path, {}) is True
    assert pool_needed(path - {POOL_KEY}, {}) is False


@pytest.fixture(scope="module")
def rows() -> list[BenchmarkRow]:
    """20 configurations each of gpt-oss-120b and Qwen3-32B on H100 (vLLM: two architectures,
    so Hopper is fitted) and 20 of gpt-oss-120b on B200 (one architecture: no Blackwell set)."""
    every = read_benchmark_csv(BENCHMARKS_CSV)

    def pick(hardware: str, model: str) -> list[BenchmarkRow]:
        chosen = [
            r
            for r in every
            if r.text("hardware") == hardware
            and r.text("framework") == "vllm"
            and r.text("model") == model
        ]
        return chosen[:20]

    return (
        pick("h100", "openai/gpt-oss-120b")
        + pick("h100", "Qwen/Qwen3-32B")
        + pick("b200", "openai/gpt-oss-120b")
    )


@pytest.fixture(scope="module")
def fitted(rows: list[BenchmarkRow]) -> dict:
    return fit_calibration(rows, max_evaluations=1)


def test_the_full_fit_holds_the_pool_over_every_row(fitted: dict) -> None:
    sets = fitted["sets"]
    assert "generation:blackwell" not in sets
    assert fitted["unfitted"]["generation:blackwell"].endswith(": estimates use pool")
    pool = sets[POOL_KEY]
    hopper = sets["generation:hopper"]
    assert pool["rows"] == hopper["rows"] + 20  # the B200 configurations are distinct
    assert pool["vendors"] == ["NVIDIA"] and pool["parts"] == ["b200", "h100"]
    assert pool["pooled_toward"] == "catalog defaults"
    assert 0.3 <= pool["compute"] <= 0.9 and 0.75 <= pool["memory_bandwidth"] <= 0.92
    params, _ = resolve_params(get_hardware("b200"), "vllm", fitted)
    assert params.source == "calibrated (pool)"


def test_the_pool_leaves_the_generation_fits_unchanged(rows: list[BenchmarkRow], fitted: dict):
    alone = fit_calibration(rows, max_evaluations=1, only={"generation:hopper"})
    assert alone["sets"] == {"generation:hopper": fitted["sets"]["generation:hopper"]}


def test_a_restricted_fit_adds_the_pool_only_when_it_is_reached(rows: list[BenchmarkRow]):
    hopper = {"h100/vllm", "h100/*", "generation:hopper", POOL_KEY}
    assert POOL_KEY not in fit_calibration(rows, max_evaluations=1, only=hopper)["sets"]
    blackwell = {"b200/vllm", "b200/*", "generation:blackwell", POOL_KEY}
    assert list(fit_calibration(rows, max_evaluations=1, only=blackwell)["sets"]) == [POOL_KEY]


def test_the_pool_is_never_keyed_on_a_model(rows: list[BenchmarkRow], fitted: dict) -> None:
    text = json.dumps(fitted["sets"][POOL_KEY]).lower()
    for model in {r.text("model") for r in rows}:
        for part in (model, model.split("/")[-1], model.split("/")[0]):
            assert part.lower() not in text
    # Its keys are the parameters and what it records about its rows: parts, never models.
    parameters = {"compute", "memory_bandwidth", "collective", "collective_latency_s"}
    parameters |= {"step_overhead_s", "kernel_gap_s", "eager_launch_s", "moe_compute"}
    parameters |= {"request_overhead_s", "burstiness"}
    records = {"rows", "frameworks", "vendors", "parts", "fitted", "pooled_toward"}
    records |= {"moe_formats"}  # the expert weight formats measured: formats, never models
    assert set(fitted["sets"][POOL_KEY]) <= parameters | records | {"median_abs_error_pct"}


def test_every_set_records_the_expert_formats_it_measured(fitted: dict) -> None:
    # Every MoE row of the shared file is gpt-oss-120b with mxfp4 experts (its moe_dtype
    # column); the fixture's sets all hold some, a copy of a set ("same_rows_as") included.
    for key, fit in fitted["sets"].items():
        assert fit["moe_formats"] == ["mxfp4"], key


def test_a_set_without_moe_rows_names_its_parents_expert_formats() -> None:
    # h100/trtllm holds Qwen3-32B and Llama-3.1-8B only (two architectures, so it is fitted):
    # it keeps h100/*'s moe_compute, measured on gpt-oss-120b's mxfp4 experts.
    every = read_benchmark_csv(BENCHMARKS_CSV)

    def pick(framework: str, model: str) -> list[BenchmarkRow]:
        chosen = [
            r
            for r in every
            if r.text("hardware") == "h100"
            and r.text("framework") == framework
            and r.text("model") == model
        ]
        return chosen[:20]

    rows = (
        pick("vllm", "openai/gpt-oss-120b")
        + pick("trtllm", "Qwen/Qwen3-32B")
        + pick("trtllm", "meta-llama/Llama-3.1-8B-Instruct")
    )
    only = {"generation:hopper", "h100/*", "h100/trtllm"}
    sets = fit_calibration(rows, max_evaluations=1, only=only)["sets"]
    assert "moe_compute" not in sets["h100/trtllm"]["fitted"]
    assert sets["h100/trtllm"]["moe_formats"] == ["mxfp4"]
    assert sets["h100/*"]["moe_formats"] == ["mxfp4"]


def test_a_fallback_set_takes_an_unmeasured_engines_figures_from_the_nearest_that_has_them() -> (
    None
):
    # h200/* was fitted on SGLang and vLLM only: TensorRT-LLM's server and harness figures
    # (request overhead, burstiness) come from the pool, which measured it, not from h200/*'s
    # mean over two other engines; the part's efficiencies stay h200/*'s.
    h200 = {
        "compute": 0.7,
        "memory_bandwidth": 0.88,
        "request_overhead_s": 0.02,
        "burstiness": 0.05,
        "by_framework": {
            "sglang": {"request_overhead_s": 0.03, "burstiness": 0.08},
            "vllm": {"request_overhead_s": 0.01, "burstiness": 0.02},
        },
        "frameworks": ["sglang", "vllm"],
    }
    single = {
        "compute": 0.6,
        "request_overhead_s": 0.07,
        "burstiness": 0.3,
        "frameworks": ["sglang"],
    }
    calibration = {"sets": {"h200/*": h200, "h200/sglang": single, POOL_KEY: POOL}}
    params, notes = resolve_params(get_hardware("h200"), "trtllm", calibration)
    assert params.source == "calibrated (h200/*)"
    assert (params.efficiency.compute, params.efficiency.memory_bandwidth) == (0.7, 0.88)
    assert (params.efficiency.request_overhead_s, params.burstiness) == (0.09, 0.12)
    assert (
        "trtllm's own server figures (request overhead, burstiness) from pool, the nearest set "
        "that measured trtllm"
    ) in notes
    # an engine the fallback set measured keeps its own entry there
    params, notes = resolve_params(get_hardware("h200"), "vllm", calibration)
    assert (params.efficiency.request_overhead_s, params.burstiness) == (0.01, 0.02)
    assert not [n for n in notes if "own server figures" in n]
    # a set of one engine holds that engine's figures itself
    params, notes = resolve_params(get_hardware("h200"), "sglang", calibration)
    assert params.source == "calibrated (h200/sglang)"
    assert (params.efficiency.request_overhead_s, params.burstiness) == (0.07, 0.3)
    assert not [n for n in notes if "own server figures" in n]


def test_an_unmeasured_engine_takes_its_step_overhead_from_a_sibling_part() -> None:
    # audit: h200/* (SGLang and vLLM rows, 0.73 ms per step) made TensorRT-LLM's memory-bound
    # decode slower on H200 than on H100. The host cost per step is the engine's: TRT-LLM's
    # own set on H100 (same GH100 die and host) gives it; the part's efficiencies stay h200/*'s.
    h200 = {"compute": 0.7, "step_overhead_s": 7e-4, "frameworks": ["sglang", "vllm"], "rows": 60}
    h100 = {"compute": 0.5, "step_overhead_s": 1e-4, "frameworks": ["trtllm"], "rows": 300}
    b200 = {"compute": 0.4, "step_overhead_s": 9e-4, "frameworks": ["trtllm"], "rows": 900}
    calibration = {"sets": {"h200/*": h200, "h100/trtllm": h100, "b200/trtllm": b200}}
    params, notes = resolve_params(get_hardware("h200"), "trtllm", calibration)
    assert params.source == "calibrated (h200/*)"
    assert params.efficiency.compute == 0.7
    assert params.efficiency.step_overhead_s == 1e-4  # Hopper's, not Blackwell's b200/trtllm
    assert (
        "trtllm's per-step host overhead from h100/trtllm, the same generation's part measured "
        "with trtllm (h200/* holds none of trtllm's steps)"
    ) in notes
    # an engine h200/* measured keeps h200/*'s own
    params, _ = resolve_params(get_hardware("h200"), "vllm", calibration)
    assert params.efficiency.step_overhead_s == 7e-4


def test_trtllm_decodes_faster_on_h200_than_on_h100() -> None:
    # same die, 4.8 vs 3.35 TB/s of HBM: a memory-bound decode step can only get faster
    from infercast.estimation.estimate import estimate

    args = {"framework": "trtllm", "isl": 128, "osl": 128, "concurrency": 1}
    h100 = estimate("openai/gpt-oss-20b", "h100", **args).tpot_ms
    h200 = estimate("openai/gpt-oss-20b", "h200", **args).tpot_ms
    assert h200 < h100

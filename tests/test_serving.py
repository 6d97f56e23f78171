"""The closed-loop serving model, the parameter resolution and the calibration fit.

The serving equations are in ``estimation/serving.py``; these tests check the identities they
promise (Little's law closes the loop, TTFT adds the per-request overhead, the prefill queue
batches prompts) and that calibration recovers parameters it is given.
"""

from __future__ import annotations

import math

import pytest

import infercast
from infercast.engines import ENGINES
from infercast.errors import UnknownIdError
from infercast.estimation.calibration import fit_calibration
from infercast.estimation.estimate import prepare, serving_point
from infercast.estimation.params import DEFAULT_BURSTINESS, resolve_params
from infercast.estimation.reconcile import BenchmarkRow
from infercast.hardware import get_hardware

LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
QWEN3_8B = "Qwen/Qwen3-8B"


def _calibration(**figures: float) -> dict:
    return {"sets": {"h100/vllm": figures}}


@pytest.mark.parametrize(
    ("model", "tp", "isl", "osl", "concurrency"),
    [
        (LLAMA_8B, 1, 1024, 1024, 1),
        (LLAMA_8B, 2, 8192, 128, 64),
        ("openai/gpt-oss-120b", 4, 1024, 8192, 256),
        ("Qwen/Qwen3-30B-A3B", 2, 4096, 512, 32),
    ],
)
def test_littles_law_closes_the_loop(model: str, tp: int, isl: int, osl: int, concurrency: int):
    # C = X · (TTFT + (osl − 1) · TPOT): every client is either waiting for its first token
    # or reading the others.
    r = infercast.estimate(
        model, "h100", tp=tp, isl=isl, osl=osl, concurrency=concurrency, framework="vllm"
    )
    in_flight = r.requests_per_s * (r.ttft_ms + (osl - 1) * r.tpot_ms) / 1e3
    assert in_flight == pytest.approx(concurrency, rel=1e-3)
    assert r.output_tokens_per_s_per_gpu == pytest.approx(r.requests_per_s * osl / tp)
    assert r.total_tokens_per_s_per_gpu == pytest.approx(r.requests_per_s * (isl + osl) / tp)
    assert r.tokens_per_s_per_user == pytest.approx(1e3 / r.tpot_ms)


def test_request_overhead_adds_to_ttft_one_for_one():
    # At concurrency 1 nothing queues: raising the per-request overhead by 50 ms raises TTFT
    # by 50 ms and leaves TPOT (nearly: fewer prefill steps per second) alone.
    def point(overhead: float):
        dep = prepare(
            LLAMA_8B,
            "h100",
            framework="vllm",
            calibration=_calibration(request_overhead_s=overhead, burstiness=0.0),
        )
        return serving_point(dep, 1024, 256, 1)

    low, high = point(0.0), point(0.05)
    assert high.ttft_s - low.ttft_s == pytest.approx(0.05, rel=1e-3)
    assert high.tpot_s == pytest.approx(low.tpot_s, rel=2e-3)


def test_calibrated_burstiness_and_overheads_are_used():
    hw = get_hardware("h100")
    params, notes = resolve_params(
        hw, "vllm", _calibration(burstiness=0.37, request_overhead_s=0.02, moe_compute=0.3)
    )
    assert params.burstiness == 0.37
    assert params.efficiency.request_overhead_s == 0.02
    assert params.efficiency.moe_compute == 0.3
    assert params.source == "calibrated (h100/vllm)"
    # A known framework the calibration lacks falls back to the defaults, said in the notes.
    fallback, notes = resolve_params(hw, "sglang", {"sets": {}})
    assert fallback.burstiness == DEFAULT_BURSTINESS
    assert fallback.framework.name == "sglang"
    assert any("no calibration data" in n for n in notes)


def test_unknown_framework_is_an_error_with_suggestions():
    hw = get_hardware("h100")
    with pytest.raises(UnknownIdError) as info:
        resolve_params(hw, "vllmm", {"sets": {}})
    assert info.value.suggestions[0] == "vllm"
    assert set(info.value.suggestions) == set(ENGINES)  # every known engine, generic included
    assert "generic" in info.value.suggestions
    assert "unknown framework 'vllmm'" in str(info.value)


def test_moe_compute_only_slows_moe_layers():
    def prefill_ms(model: str, moe_compute: float) -> float:
        dep = prepare(
            model, "h100", framework="vllm", calibration=_calibration(moe_compute=moe_compute)
        )
        from infercast.layers import StepShape

        shape = StepShape(
            prefill_tokens=8192, prefill_seqs=1, prefill_context=4096.5, prefill_chunk=8192
        )
        return dep.timer.step_time(shape).time_s

    # A dense model does not notice the MoE GEMM efficiency ...
    assert prefill_ms(LLAMA_8B, 0.2) == prefill_ms(LLAMA_8B, 0.9)
    # ... a MoE model's compute-bound prefill does.
    assert prefill_ms("Qwen/Qwen3-30B-A3B", 0.2) > 1.5 * prefill_ms("Qwen/Qwen3-30B-A3B", 0.9)


def test_burstiness_lengthens_ttft_only_with_company():
    def ttft(burstiness: float, concurrency: int) -> float:
        dep = prepare(
            LLAMA_8B, "h100", framework="vllm", calibration=_calibration(burstiness=burstiness)
        )
        return serving_point(dep, 2048, 256, concurrency).ttft_s

    assert ttft(0.5, 1) == pytest.approx(ttft(0.0, 1), rel=1e-6)
    assert ttft(0.5, 64) > 1.5 * ttft(0.0, 64)


def test_an_encoder_batches_prompts_up_to_the_step_budget():
    # BERT-base has no decode: at concurrency 64 × 512 tokens the engine packs 16 prompts into
    # each 8192-token step, so (with no per-request overhead outside the engine) it serves far
    # more than one prompt per single-prompt step.
    from infercast.layers import StepShape

    dep = prepare(
        "google-bert/bert-base-uncased",
        "h100",
        framework="vllm",
        calibration=_calibration(request_overhead_s=0.0),
    )
    point = serving_point(dep, 512, 0, 64)
    one_prompt = StepShape(
        prefill_tokens=512, prefill_seqs=1, prefill_context=512, prefill_chunk=512
    )
    one_prompt_step_s = dep.timer.step_time(one_prompt).time_s
    assert point.requests_per_s > 4 / one_prompt_step_s
    assert math.isfinite(point.ttft_s) and point.ttft_s > 0


def _synthetic_rows(truth: dict[str, float]) -> list[BenchmarkRow]:
    """Measurements the model itself produces with known parameters (a recovery test)."""
    rows = []
    line = 2
    for model, tp in ((m, tp) for m in (LLAMA_8B, QWEN3_8B) for tp in (1, 2, 4)):
        dep = prepare(model, "h100", tp=tp, framework="vllm", calibration=_calibration(**truth))
        for isl, osl, conc in ((1024, 256, 1), (1024, 256, 16), (4096, 128, 32), (2048, 512, 64),
                               (8192, 256, 8), (512, 1024, 128)):  # fmt: skip
            p = serving_point(dep, isl, osl, conc)
            values = {
                "model": model,
                "hardware": "h100",
                "framework": "vllm",
                "isl": str(isl),
                "osl": str(osl),
                "concurrency": str(conc),
                "gpus": str(tp),
                "attention_tp": str(tp),
                "attention_dp": "1",
                "pp": "1",
                "ttft_ms": repr(p.ttft_s * 1e3),
                "tpot_ms": repr(p.tpot_s * 1e3),
                "output_tokens_per_s_per_gpu": repr(p.requests_per_s * osl / tp),
            }
            rows.append(BenchmarkRow(line=line, values=values))
            line += 1
    return rows


def test_calibration_recovers_the_parameters_it_was_given():
    truth = {
        "compute": 0.55,
        "memory_bandwidth": 0.85,
        "collective": 0.7,
        "collective_latency_s": 1.2e-5,
        "step_overhead_s": 0.003,
        "kernel_gap_s": 2e-6,
        "request_overhead_s": 0.02,
        "burstiness": 0.2,
    }
    fitted = fit_calibration(_synthetic_rows(truth), max_evaluations=60)
    sets = fitted["sets"]
    # One hardware of one generation under one framework: the generation set is the only fit,
    # the hardware and (hardware, framework) sets and the pool are copies of it (same rows).
    assert list(sets) == ["generation:hopper", "h100/*", "h100/vllm", "pool"]
    assert sets["h100/*"]["same_rows_as"] == "generation:hopper"
    assert sets["pool"]["same_rows_as"] == "generation:hopper"
    got = sets["generation:hopper"]
    assert got["rows"] == 36
    assert got["median_abs_error_pct"] < 1.5
    assert got["compute"] == pytest.approx(truth["compute"], rel=0.1)
    assert got["memory_bandwidth"] == pytest.approx(truth["memory_bandwidth"], rel=0.1)
    # Per-step and per-kernel overheads are nearly collinear (both fixed per step): what is
    # identified is each model's fixed time per step. Llama-3.1-8B launches 32 × (5 attention
    # + 3 MLP) + 65 norms + embedding + LM head = 323 kernels (estimation/kernels.py).
    kernels = 32 * (5 + 3) + 65 + 1 + 1

    def fixed_per_step(p: dict) -> float:
        return p["step_overhead_s"] + kernels * p["kernel_gap_s"]

    assert fixed_per_step(got) == pytest.approx(fixed_per_step(truth), rel=0.1)
    assert got["request_overhead_s"] == pytest.approx(truth["request_overhead_s"], abs=0.005)


def test_one_architecture_does_not_leave_the_prior():
    # Rows of a single model cannot tell the part's efficiency from the model's errors: the
    # sets stay unfitted, and say why.
    rows = [r for r in _synthetic_rows({"compute": 0.55}) if r.values["model"] == LLAMA_8B]
    fitted = fit_calibration(rows, max_evaluations=2)
    assert fitted["sets"] == {}
    assert "1 model architecture" in fitted["unfitted"]["generation:hopper"]


@pytest.mark.parametrize("concurrency", [1, 8, 64])
def test_reconcile_and_estimate_predict_the_same(concurrency: int):
    # Reconcile and calibration use serving_point; users see estimate(). Both go through one
    # admission rule, so a benchmark row is predicted exactly as the user would be told — here
    # near the memory limit (Llama-3.3-70B in bf16 on 2×H100 holds only a few sequences).
    kwargs = {"tp": 2, "framework": "vllm"}
    model, isl, osl = "meta-llama/Llama-3.3-70B-Instruct", 4096, 512
    r = infercast.estimate(model, "h100", isl=isl, osl=osl, concurrency=concurrency, **kwargs)
    p = serving_point(prepare(model, "h100", **kwargs), isl, osl, concurrency)
    assert p.requests_per_s == pytest.approx(r.requests_per_s, rel=1e-12)
    assert p.ttft_s * 1e3 == pytest.approx(r.ttft_ms, rel=1e-12)
    assert p.tpot_s * 1e3 == pytest.approx(r.tpot_ms, rel=1e-12)


@pytest.mark.parametrize(
    ("model", "plan"),
    [
        (LLAMA_8B, {"tp": 2, "framework": "sglang"}),  # eager prefill: launch floors apply
        ("Qwen/Qwen3-30B-A3B", {"tp": 2, "ep": 2, "pp": 2, "framework": "vllm"}),
    ],
)
def test_solver_step_time_is_the_reported_step_time(model: str, plan: dict) -> None:
    """The solver's step time (no per-layer records, memoised) is the reported one to the
    bit, for mixed, prefill-only and decode-only steps, and a repeated shape returns it."""
    from infercast.layers import StepShape

    timer = prepare(model, "h100", **plan).timer
    shapes = [
        StepShape(
            prefill_tokens=512.0,
            prefill_seqs=0.5,
            prefill_context=512.5,
            prefill_chunk=512.0,
            decode_seqs=37.0,
            decode_context=1536.0,
        ),
        StepShape(
            prefill_tokens=2048.0, prefill_seqs=2.0, prefill_context=512.5, prefill_chunk=1024.0
        ),
        StepShape(decode_seqs=64.0, decode_context=1536.0),
    ]
    for shape in shapes:
        reported = timer.step_time(shape, detail=True)
        assert timer.step_s(shape) == reported.time_s
        assert timer.step_s(shape) == reported.time_s
        parts = sum(t.time_s for t in reported.layers) + reported.step_overhead_s
        assert reported.time_s == pytest.approx(parts + reported.pipeline_s, rel=1e-12)
        assert reported.time_s > 0.0

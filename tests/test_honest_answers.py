"""Honest answers (issue 8 items 7–9): queueing is its own verdict, weight_dtype means every
weight, and impossible input is an error naming the limit — in the Python API, CLI and HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import infercast
from infercast.errors import InvalidInputError, UnknownIdError
from infercast.interfaces.api import create_app
from infercast.interfaces.cli.app import app as cli
from infercast.specs.registry import default_registry

LLAMA70 = "meta-llama/Llama-3.3-70B-Instruct"
QWEN235 = "Qwen/Qwen3-235B-A22B"
runner = CliRunner()


def cli_run(*args: str) -> Any:
    result = runner.invoke(cli, list(args), env={"INFERCAST_MODELS_PATH": "", "COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(models_dirs=[]), base_url="http://localhost")


# ---- item 7: "queues" ---------------------------------------------------------------------------


def test_two_of_64_admitted_is_queues_not_fits() -> None:
    r = infercast.estimate(LLAMA70, "h100", tp=2, isl=1024, osl=1024, concurrency=64)
    assert r.fits  # memory fits …
    # … but the KV room left (80 layers × 2 × 4 KV heads × 128 × 2 B = 163,840 B per token per
    # GPU) holds 3 sequences at their life-time mean 1024 + 512 tokens (KV paged on demand);
    # it would hold 2 at the full 2048.
    m = r.memory
    free = m.capacity_bytes - m.weights_bytes - m.activations_bytes - m.reserve_bytes
    assert int(free // (163840 * 1536)) == 3 and int(free // (163840 * 2048)) == 2
    assert r.admitted_concurrency == r.max_concurrency == 3  # only 3 run at once
    assert r.fit is not None and r.fit.status == "queues" and r.fit.limit == "kv_cache"
    assert r.fit.queued_requests == 61
    # Little's law in the closed loop: 61 of 64 cycling requests are waiting.
    assert r.fit.queue_wait_ms == pytest.approx(61 / r.requests_per_s * 1e3)
    assert r.fit.queue_wait_ms < r.ttft_ms
    advice = " ".join(r.fit.advice)
    assert "Only 3 of 64" in advice and "kv_dtype fp8" in advice


def test_all_admitted_fits_and_weights_too_big_does_not_fit() -> None:
    fits = infercast.estimate(LLAMA70, "h100", tp=2, isl=1024, osl=1024, concurrency=2)
    assert fits.fit is not None and fits.fit.status == "fits"
    assert (fits.admitted_concurrency, fits.fit.queue_wait_ms) == (2, 0.0)
    big = infercast.estimate(LLAMA70, "h100", tp=1, isl=1024, osl=1024, concurrency=2)
    assert not big.fits and big.fit is not None and big.fit.status == "does_not_fit"
    assert big.fit_reason.startswith("does not fit")


@pytest.mark.parametrize(
    ("model", "formats", "said", "not_said"),
    [
        # bf16 Llama-70B (141 GB) on one H100: fp8 halves it.
        (LLAMA70, {}, "use fp8 weights or pick", "4-bit"),
        # DeepSeek-R1 ships fp8 (169 GB at TP4 > 141 GB): fp8 is no advice, 4 bits is.
        ("deepseek-ai/DeepSeek-R1", {"tp": 4}, "use 4-bit weights (e.g. nvfp4 or mxfp4)", "fp8 w"),
        # Already 4-bit everywhere: no smaller format to suggest.
        (LLAMA70, {"weight_dtype": "nvfp4", "hardware": "l40s"}, "(raise TP or PP) or pick", "bit"),
    ],
)
def test_does_not_fit_advice_suggests_only_smaller_formats(
    model: str, formats: dict[str, Any], said: str, not_said: str
) -> None:
    args = {"hardware": "h200" if "DeepSeek" in model else "h100", **formats}
    result = infercast.estimate(model, isl=1024, osl=1024, concurrency=2, **args)
    assert result.fit is not None and result.fit.status == "does_not_fit"
    advice = " ".join(result.fit.advice)
    assert said in advice and not_said not in advice, advice


def test_one_sequence_is_singular_in_the_memory_sum() -> None:
    one = infercast.estimate(LLAMA70, "h100", tp=2, isl=1024, osl=1024, concurrency=1)
    assert "(1 sequence)" in one.fit_reason
    cp = infercast.estimate(LLAMA70, "h100", tp=2, dp=2, cp=2, isl=8192, osl=64, concurrency=1)
    assert "(1/2 of 1 sequence)" in cp.fit_reason
    two = infercast.estimate(LLAMA70, "h100", tp=2, isl=1024, osl=1024, concurrency=2)
    assert "(2 sequences)" in two.fit_reason


def test_engine_batch_cap_queues_and_says_what_to_change() -> None:
    # TinyLlama on an H200 holds thousands of KV caches; the engine batches 1,024 sequences.
    r = infercast.estimate(
        "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "h200", isl=128, osl=128, concurrency=2000
    )
    assert r.max_concurrency > 2000 and r.admitted_concurrency == 1024
    assert r.fit is not None and r.fit.status == "queues" and r.fit.limit == "batch_cap"
    assert "max_num_seqs" in " ".join(r.fit.advice)


@pytest.mark.parametrize(
    ("wait_ms", "said"),
    [(7162.4, "7,162 ms"), (21574.0, "21.6 s"), (640426.0, "10.7 min")],
)
def test_queue_wait_is_said_in_readable_units(wait_ms: float, said: str) -> None:
    # 21,574 ms = 21.6 s; 640,426 ms / 60,000 = 10.67 min: long waits were printed in ms.
    from infercast.estimation.report import _duration

    assert _duration(wait_ms) == said


def test_queues_state_in_api_and_cli_first(client: TestClient) -> None:
    body = {"model": LLAMA70, "hardware": "h100", "tp": 2, "isl": 1024, "osl": 1024}
    got = client.post("/estimate", json={**body, "concurrency": 64}).json()
    assert got["fit"]["status"] == "queues" and got["admitted_concurrency"] == 3
    out = cli_run(
        "estimate", "--model", LLAMA70, "--hardware", "h100", "--tp", "2",
        "--isl", "1024", "--osl", "1024", "--concurrency", "64",
    ).stdout  # fmt: skip
    assert out.index("queues: Only 3 of 64") < out.index("Serving performance")
    assert "admitted at once: 3 of 64" in out


def test_does_not_fit_is_printed_before_the_performance_table() -> None:
    result = cli_run(
        "estimate", "--model", LLAMA70, "--hardware", "h100",
        "--isl", "1024", "--osl", "1024", "--concurrency", "8",
    )  # fmt: skip
    out = result.stdout
    assert result.exit_code == 0
    assert out.index("does not fit: the weights alone") < out.index("Serving performance")


# ---- item 8: weight_dtype sets every weight ------------------------------------------------------


def test_weight_dtype_fp8_quantizes_the_experts_too() -> None:
    spec = default_registry().get(QWEN235)
    bf16 = infercast.estimate(QWEN235, "h200", tp=8, isl=1024, osl=1024, concurrency=8)
    fp8 = infercast.estimate(
        QWEN235, "h200", tp=8, weight_dtype="fp8", isl=1024, osl=1024, concurrency=8
    )
    assert fp8.dtypes.weight_dtype == fp8.dtypes.moe_dtype == "fp8"
    both = infercast.estimate(
        QWEN235, "h200", tp=8, weight_dtype="fp8", moe_dtype="fp8", isl=1024, osl=1024,
        concurrency=8,
    )  # fmt: skip
    assert fp8.memory.weights_bytes == both.memory.weights_bytes
    # 1 byte instead of 2 for all but the 16-bit embedding, LM head, router and norms
    assert fp8.memory.weights_bytes / bf16.memory.weights_bytes == pytest.approx(0.5, abs=0.02)
    assert bf16.memory.weights_bytes / 1e9 == pytest.approx(
        spec.total_params * 2 / 8 / 1e9, rel=0.02
    )
    assert fp8.memory.weights_bytes / 1e9 == pytest.approx(29.7, abs=0.1)
    formats = {lt.name: lt.weight_dtype for lt in fp8.layers}
    assert formats["moe"] == formats["attention"] == "fp8" and formats["lm_head"] == "bf16"


def test_moe_dtype_overrides_the_experts_only() -> None:
    r = infercast.estimate(
        QWEN235,
        "h200",
        tp=8,
        weight_dtype="fp8",
        moe_dtype="nvfp4",
        isl=1024,
        osl=1024,
        concurrency=8,
    )
    formats = {lt.name: lt.weight_dtype for lt in r.layers}
    assert (formats["attention"], formats["moe"]) == ("fp8", "nvfp4")
    out = cli_run(
        "estimate", "--model", QWEN235, "--hardware", "h200", "--tp", "8",
        "--weight-dtype", "fp8", "--moe-dtype", "nvfp4",
        "--isl", "1024", "--osl", "1024", "--concurrency", "8",
    ).stdout  # fmt: skip
    assert "weights fp8, experts nvfp4" in out
    assert re.search(r"weight formats: attention fp8, moe nvfp4, lm_head bf16", out)


# ---- item 9: impossible input --------------------------------------------------------------------


def test_osl_zero_on_a_decoder_is_an_error(client: TestClient) -> None:
    with pytest.raises(InvalidInputError, match="osl must be at least 1"):
        infercast.estimate(LLAMA70, "h200", tp=8, isl=1024, osl=0, concurrency=1)
    body = {"model": LLAMA70, "hardware": "h200", "tp": 8, "isl": 1024, "osl": 0}
    got = client.post("/estimate", json={**body, "concurrency": 1})
    assert got.status_code == 422 and got.json()["problems"][0]["field"] == "osl"
    result = cli_run(
        "estimate", "--model", LLAMA70, "--hardware", "h200", "--tp", "8",
        "--isl", "1024", "--osl", "0", "--concurrency", "1",
    )  # fmt: skip
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    # an encoder has no decode: osl 0 is its only meaningful value
    bert = infercast.estimate(
        "google-bert/bert-base-uncased", "h100", isl=512, osl=0, concurrency=8
    )
    assert bert.tpot_ms is None


def test_unknown_framework_is_an_error_with_suggestions(client: TestClient) -> None:
    with pytest.raises(UnknownIdError) as info:
        infercast.estimate(LLAMA70, "h200", tp=8, framework="vllmm", isl=8, osl=8, concurrency=1)
    assert info.value.suggestions[0] == "vllm" and "generic" in info.value.suggestions
    body = {"model": LLAMA70, "hardware": "h200", "tp": 8, "isl": 8, "osl": 8, "concurrency": 1}
    got = client.post("/estimate", json={**body, "framework": "vllmm"})
    assert got.status_code == 404 and got.json()["suggestions"][0] == "vllm"
    result = cli_run(
        "estimate", "--model", LLAMA70, "--hardware", "h200", "--tp", "8",
        "--framework", "vllmm", "--isl", "8", "--osl", "8", "--concurrency", "1",
    )  # fmt: skip
    assert result.exit_code == 2 and "did you mean: vllm" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_gpus_inconsistent_with_the_plan_is_an_error() -> None:
    result = cli_run(
        "estimate", "--model", QWEN235, "--hardware", "h200", "--tp", "4", "--ep", "2",
        "--gpus", "8", "--isl", "8", "--osl", "8", "--concurrency", "1",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "gpus=8 but tp × dp × pp = 4×1×1 = 4" in result.output


def test_a_lone_long_prompt_holds_the_activations_of_one_chunk() -> None:
    """Chunked prefill (8,192-token steps): at C = 1 a 32k prompt is 4 chunks of 8,192 tokens,
    so its peak activations are those of an 8,192-token prompt, not 4× them."""
    model = "meta-llama/Llama-3.1-8B-Instruct"
    chunk = infercast.estimate(model, "h100", isl=8192, osl=16, concurrency=1)
    long = infercast.estimate(model, "h100", isl=32768, osl=16, concurrency=1)
    assert long.memory.activations_bytes == chunk.memory.activations_bytes
    short = infercast.estimate(model, "h100", isl=1024, osl=16, concurrency=1)
    assert short.memory.activations_bytes == pytest.approx(chunk.memory.activations_bytes / 8)

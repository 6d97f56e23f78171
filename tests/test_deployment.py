"""The deployment object, the fields generated from it, and the report stage's metrics/verdict."""

from __future__ import annotations

import pytest

import infercast
from infercast.deployment import FIELD_NAMES, FIELDS, Deployment, Workload
from infercast.errors import InvalidInputError
from infercast.estimation.reconcile import _COLUMNS
from infercast.estimation.report import metrics
from infercast.estimation.result import EstimateRequest
from infercast.estimation.serving import ServingPoint
from infercast.interfaces.cli.estimate import DEPLOYMENT_PARAMETERS
from infercast.parallel import PlanError


def test_of_groups_the_flat_fields() -> None:
    dep = Deployment.of(
        model="m", hardware="h100", tp=2, dp=2, ep=4, kv_dtype="fp8", isl=10, osl=5, concurrency=3
    )
    assert (dep.plan.tp, dep.plan.dp, dep.plan.ep, dep.plan.moe_tp) == (2, 2, 4, 1)
    assert dep.formats.kv_dtype == "fp8"
    assert dep.workload == Workload(10, 5, 3)
    assert dep.fields()["gpus"] == 4
    assert list(dep.fields()) == list(FIELD_NAMES)


def test_of_names_what_is_wrong() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown deployment field.*tpp"):
        Deployment.of(model="m", hardware="h100", tpp=2)
    with pytest.raises(InvalidInputError, match="osl must be an integer ≥ 0, got -1"):
        Deployment.of(model="m", hardware="h100", isl=1, osl=-1, concurrency=1)
    with pytest.raises(PlanError, match="cp=2 must divide dp=1"):
        Deployment.of(model="m", hardware="h100", cp=2)


def test_every_interface_spells_the_same_fields() -> None:
    assert list(EstimateRequest.model_fields) == list(FIELD_NAMES)
    cli = [p.name for p in DEPLOYMENT_PARAMETERS if p.name not in ("json_output", "models_dir")]
    assert sorted(cli) == sorted(FIELD_NAMES)
    assert {column: f.name for column, f in _COLUMNS.items()} == {
        "model": "model",
        "hardware": "hardware",
        "gpus": "gpus",
        "attention_tp": "tp",
        "attention_dp": "dp",
        "pp": "pp",
        "moe_ep": "ep",
        "moe_tp": "moe_tp",
        "gemm_dtype": "weight_dtype",
        "moe_dtype": "moe_dtype",
        "kv_dtype": "kv_dtype",
        "framework": "framework",
        "isl": "isl",
        "osl": "osl",
        "concurrency": "concurrency",
    }
    assert all(f.description and f.flags and f.help for f in FIELDS)


POINT = ServingPoint(
    requests_per_s=2.0,
    tpot_s=0.01,
    ttft_s=0.1,
    decode_seqs=1.0,
    prefill_chunk_tokens=100.0,
    prefill_step_s=0.02,
    decode_step_s=0.01,
    prefill_fraction=0.5,
    queued_outside_s=0.0,
)


def test_metrics_of_a_point() -> None:
    m = metrics(POINT, Workload(100, 11, 4), gpus=2)
    # TTFT 100 ms; TPOT 10 ms; e2e 100 + 10 tokens × 10 ms; 2 req/s × 11 tokens / 2 GPUs.
    assert (m.ttft_ms, m.tpot_ms) == pytest.approx((100.0, 10.0))
    assert m.e2e_latency_ms == pytest.approx(200.0)
    assert m.output_tokens_per_s_per_gpu == pytest.approx(11.0)
    assert m.total_tokens_per_s_per_gpu == pytest.approx(111.0)
    assert m.tokens_per_s_per_user == pytest.approx(100.0)


def test_metrics_of_an_encoder() -> None:
    m = metrics(POINT, Workload(100, 11, 4), gpus=2, encoder=True)
    assert m.tpot_ms is None and m.output_tokens_per_s_per_gpu == 0.0
    assert m.total_tokens_per_s_per_gpu == pytest.approx(100.0)  # 2 × 100 / 2
    assert m.e2e_latency_ms == pytest.approx(100.0)


def test_fit_verdicts() -> None:
    small = infercast.estimate(
        "meta-llama/Llama-3.1-8B-Instruct", "h100", isl=1024, osl=128, concurrency=1
    )
    assert small.fit is not None and small.fit.status == "fits" and small.fit.limit is None
    assert small.plan.label == "TP1"
    # 405 B parameters in bf16 over 2 GPUs: ~405 GB each, far beyond an L40S's 48 GB.
    big = infercast.estimate(
        "meta-llama/Llama-3.1-405B-Instruct", "l40s", tp=2, isl=1024, osl=128, concurrency=1
    )
    assert big.fit is not None and (big.fit.status, big.fit.limit) == ("does_not_fit", "weights")
    assert big.fit.excess_bytes > 350e9
    # 4096 requests of TinyLlama: far more KV room than the engine's 1024-sequence batch cap.
    many = infercast.estimate(
        "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "h100", isl=1024, osl=256, concurrency=4096
    )
    assert many.fit is not None and (many.fit.status, many.fit.limit) == ("queues", "batch_cap")
    assert many.fit.queued_requests == 4096 - 1024

"""``POST /search`` and ``POST /launch``: the same answers as the Python API, bounded, 4xx for
bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import infercast
from infercast.interfaces.api import create_app
from infercast.interfaces.api.routes import search as search_route
from infercast.planning import search

LLAMA8 = "meta-llama/Llama-3.1-8B-Instruct"
BODY: dict[str, Any] = {
    "model": LLAMA8,
    "hardware": ["h100"],
    "max_gpus": 2,
    "isl": 1024,
    "osl": 256,
    "ttft_max_ms": 600,
    "tpot_max_ms": 20,
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(models_dirs=[]), base_url="http://localhost")  # an allowed Host


def test_search_equals_the_python_api(client: TestClient) -> None:
    response = client.post("/search", json=BODY)
    assert response.status_code == 200, response.text
    data = response.json()
    assert set(data) >= {"plans", "pareto", "evaluated", "rejected"}
    expected = search(**{**BODY, "hardware": BODY["hardware"]})
    assert data["evaluated"] == expected.evaluated
    assert [p["label"] for p in data["plans"]] == [p.label for p in expected.plans]
    first = data["plans"][0]
    result = infercast.estimate(**first["estimate_args"])
    assert first["tpot_ms"] == result.tpot_ms and first["ttft_ms"] == result.ttft_ms
    # The estimate arguments are a valid POST /estimate body.
    same = client.post("/estimate", json=first["estimate_args"]).json()
    assert same["output_tokens_per_s_per_gpu"] == first["output_tokens_per_s_per_gpu"]


def test_search_is_bounded(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_route, "API_MAX_PLANS", 2)
    data = client.post("/search", json={**BODY, "max_gpus": 8, "max_plans": 500}).json()
    assert data["evaluated"] == 2 and data["truncated"] is True


def test_search_lists_each_part_once_however_named(client: TestClient) -> None:
    # One part under three names: its 4 plans (1 GPU: TP1; 2 GPUs: TP2, DP2, PP2) once each.
    body = {**BODY, "hardware": ["h100", "h100", "H100-SXM"]}
    data = client.post("/search", json=body).json()
    assert data["evaluated"] == 4
    labels = [p["label"] for p in data["plans"]]
    assert len(labels) == 4 and len(set(labels)) == 4
    assert [p["hardware"] for p in data["best_per_hardware"]] == ["h100"]
    assert (
        "hardware: h100, h100, H100-SXM name the same part (h100): searched once" in data["notes"]
    )


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"model": "no/such-model"}, 404, "model"),
        ({"hardware": ["h1000"]}, 404, "hardware"),
        ({"tpot_max_ms": -5}, 422, "tpot_max_ms"),
        ({"max_gpus": 0}, 422, "max_gpus"),
        ({"max_gpus": 10**6}, 422, "max_gpus"),
        ({"hardware": []}, 422, "hardware"),
        ({"objective": "cost"}, 422, "price"),
        ({"kv_dtypes": ["fp7"]}, 422, "kv_dtypes"),
        ({"surprise": 1}, 422, "surprise"),
    ],
)
def test_search_bad_input_is_4xx(
    client: TestClient, change: dict[str, Any], status: int, needle: str
) -> None:
    response = client.post("/search", json={**BODY, **change})
    assert response.status_code == status, response.text
    assert needle in response.text


def test_launch_route(client: TestClient) -> None:
    body = {"engine": "sglang", "model": "deepseek-ai/DeepSeek-R1", "dp": 8, "ep": 8}
    data = client.post("/launch", json=body).json()
    assert data["argv"][:3] == ["python", "-m", "sglang.launch_server"]
    assert "--enable-dp-attention" in data["argv"] and data["version"] == "SGLang 0.5.1"
    response = client.post("/launch", json={"engine": "vllm", "model": LLAMA8, "dp": 2, "cp": 2})
    assert response.status_code == 422 and "context parallelism" in response.text


def test_launch_takes_a_plans_estimate_args(client: TestClient) -> None:
    """A search plan's `estimate_args` (the flags `infercast launch` takes) plus `engine` was a
    422 "hardware: unknown field": the API's launch body and the CLI's options differed."""
    plan = client.post("/search", json=BODY).json()["plans"][0]
    body = {**plan["estimate_args"], "engine": "vllm"}
    assert {"hardware", "gpus", "framework", "moe_dtype"} <= set(body)
    response = client.post("/launch", json=body)
    assert response.status_code == 200, response.text
    argv = response.json()["argv"]
    assert argv[:2] == ["vllm", "serve"]
    assert f"--max-num-seqs {plan['concurrency']}" in response.json()["command"]
    # the extra fields are checked as POST /estimate checks them, not ignored
    bad = {"engine": "vllm", "model": LLAMA8, "hardware": "b200", "gpus": 8, "tp": 4}
    response = client.post("/launch", json=bad)
    assert response.status_code == 422 and "use dp=2" in response.text
    response = client.post("/launch", json={**bad, "gpus": None, "hardware": "h800"})
    assert response.status_code == 404 and "h200" in response.json()["suggestions"]
    response = client.post("/launch", json={"engine": "vllm", "model": LLAMA8, "gpus": 3})
    assert response.status_code == 422 and "gpus=3" in response.text


@pytest.mark.parametrize(
    ("path", "change", "field"),
    [
        ("/search", {"price_per_gpu_hour": {"h100": -1}}, "price_per_gpu_hour"),
        ("/search", {"frameworks": ["vllmm"]}, "frameworks"),
        ("/search", {"moe_dtypes": ["fp8"]}, "moe_dtypes"),
        (
            "/launch",
            {"engine": "trtllm", "tp": 2, "concurrency": 1, "kv_dtype": "int4"},
            "kv_dtype",
        ),
    ],
)
def test_a_search_or_launch_error_names_its_field(
    client: TestClient, path: str, change: dict[str, Any], field: str
) -> None:
    """These said ``"field": "request"`` though the message began with the field at fault
    (e.g. "price_per_gpu_hour[h100] must be > 0, got -1.0")."""
    body: dict[str, Any] = {"model": "Qwen/Qwen3-8B", "isl": 1024, "osl": 128}
    body["hardware"] = ["h100"] if path == "/search" else "h100"
    response = client.post(path, json={**body, **change})
    assert response.status_code == 422
    (problem,) = response.json()["problems"]
    assert problem["field"] == field and problem["message"].startswith(field)

"""The server owns the rules: sweeps, valid degrees, formats per role, plan line and advice."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from conftest import HF_CONFIGS

LLAMA = "meta-llama/Llama-3.1-8B-Instruct"
BODY = {"model": LLAMA, "hardware": "h100", "isl": 1024, "osl": 128}


def test_sweep_answers_every_concurrency_in_order(api_client: TestClient) -> None:
    reply = api_client.post("/estimate/sweep", json={**BODY, "concurrencies": [4, 1, 16]})
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [r["concurrency"] for r in results] == [4, 1, 16]
    single = api_client.post("/estimate", json={**BODY, "concurrency": 1}).json()
    assert results[1] == single


def test_sweep_rejects_what_estimate_rejects(api_client: TestClient) -> None:
    bad_plan = api_client.post("/estimate/sweep", json={**BODY, "tp": 3, "concurrencies": [1]})
    assert bad_plan.status_code == 422
    assert "32 attention heads are not divisible by tp=3" in bad_plan.json()["detail"]
    assert api_client.post("/estimate/sweep", json={**BODY, "concurrencies": []}).status_code == 422
    unknown = api_client.post("/estimate/sweep", json={**BODY, "concurrencies": [1], "x": 1})
    assert unknown.status_code == 422


def test_valid_expert_degrees_per_group(api_client: TestClient) -> None:
    constraints = api_client.get(
        "/api/layers", params={"model_id": "mistralai/Mixtral-8x7B-v0.1"}
    ).json()["constraints"]
    by_group = constraints["valid_ep_by_group"]
    # 8 experts of width 14336: ep must divide 8 and tp×dp; moe_tp = tp×dp/ep divides 14336.
    assert by_group["8"] == [1, 2, 4, 8]
    assert by_group["16"] == [1, 2, 4, 8]
    # 6 GPUs: moe_tp = 6 or 3 (ep 1 or 2) does not divide 14336 = 2^11·7: none works.
    assert by_group["6"] == []
    dense = api_client.get("/api/layers", params={"model_id": LLAMA}).json()["constraints"]
    assert dense["valid_ep_by_group"] == {}
    # CP ranks are DP ranks: cp must divide dp.
    assert dense["valid_cp_by_dp"]["8"] == [1, 2, 4, 8]
    assert dense["valid_cp_by_dp"]["6"] == [1, 2, 3, 6]
    assert dense["valid_cp_by_dp"]["1"] == [1]


def _shapes(plans: list[dict[str, int]], gpus: int) -> list[tuple[int, int]]:
    return [(p["dp"], p["pp"]) for p in plans if p["gpus"] == gpus]


def test_dp_and_pp_choices_per_tp(api_client: TestClient) -> None:
    # A 2-layer Llama with 6 query heads, 2 KV heads, MLP width 1536 = 6·256.
    config = json.loads((HF_CONFIGS / "TinyLlama_TinyLlama-1.1B-Chat-v1.0.json").read_text())
    config.update(num_hidden_layers=2, num_attention_heads=6, num_key_value_heads=2,
                  hidden_size=384, intermediate_size=1536)  # fmt: skip
    upload = api_client.post(
        "/import",
        files={"file": ("config.json", json.dumps(config).encode(), "application/json")},
        data={"hf_model_id": "acme/two-layer-six-heads"},
    )
    assert upload.status_code == 200, upload.text
    constraints = api_client.get(
        "/api/layers", params={"model_id": "acme/two-layer-six-heads"}
    ).json()["constraints"]
    plans = constraints["plans_by_tp"]
    # tp 3 splits the 6 heads but neither divides nor is a multiple of the 2 KV heads.
    assert constraints["valid_tp"] == [1, 2, 6] and sorted(plans, key=int) == ["1", "2", "6"]
    assert constraints["sequence_parallel_tp"] == [2, 6]  # SP splits a TP group: none at tp 1
    # 8 GPUs at tp 2: dp·pp = 4, and pp ≤ 2 layers rules out dp 1 (pp 4).
    assert _shapes(plans["2"], 8) == [(2, 2), (4, 1)]
    assert _shapes(plans["2"], 6) == [(3, 1)]  # pp 3 > 2 layers
    assert _shapes(plans["6"], 12) == [(1, 2), (2, 1)]
    assert _shapes(plans["1"], 1) == [(1, 1)]
    assert plans["6"][0] == {"dp": 1, "pp": 1, "gpus": 6}
    # Up to 128 GPUs at tp 6: dp ≤ 21 with pp 1, dp ≤ 10 with pp 2.
    assert len(plans["6"]) == 128 // 6 + 128 // 12
    assert all(p["gpus"] <= 128 and p["pp"] <= 2 for tp in plans for p in plans[tp])


def test_dp_choices_need_a_working_expert_degree(api_client: TestClient) -> None:
    constraints = api_client.get(
        "/api/layers", params={"model_id": "mistralai/Mixtral-8x7B-v0.1"}
    ).json()["constraints"]
    # 6 GPUs at tp 1: dp 6 and dp 3 leave moe_tp = 6 or 3 (ep 1 or 2), which does not divide
    # an expert's width 14336 = 2^11·7; dp 1 and dp 2 work (ep 1).
    assert _shapes(constraints["plans_by_tp"]["1"], 6) == [(1, 6), (2, 3)]
    assert _shapes(constraints["plans_by_tp"]["8"], 16) == [(1, 2), (2, 1)]


def test_formats_per_role(api_client: TestClient) -> None:
    formats = api_client.get("/api/options").json()["formats"]
    assert {"int4", "mxfp4", "nvfp4"} <= set(formats["weight_dtype"])
    assert not {"int4", "mxfp4", "nvfp4"} & set(formats["kv_dtype"])
    assert "fp8" in formats["kv_dtype"]
    fields = {f["name"]: f for f in api_client.get("/api/options").json()["deployment_fields"]}
    assert fields["tp"] == {
        "name": "tp",
        "part": "plan",
        "type": "integer",
        "required": False,
        "default": 1,
        "minimum": 1,
        "maximum": 1024,
        "description": "Attention tensor-parallel degree.",
    }


def test_plan_line_and_advice(api_client: TestClient) -> None:
    moe = api_client.post(
        "/estimate",
        json={"model": "Qwen/Qwen3-30B-A3B", "hardware": "h100", "tp": 2, "ep": 2,
              "isl": 1024, "osl": 128, "concurrency": 4},
    ).json()  # fmt: skip
    assert moe["plan"]["line"] == "h100 × 2 · TP2 DP1 PP1 EP2"
    assert moe["plan"]["label"] == "TP2 (MoE TP1×EP2)"
    big = api_client.post(
        "/estimate",
        json={"model": "meta-llama/Llama-3.1-405B-Instruct", "hardware": "l40s", "tp": 2,
              "isl": 1024, "osl": 128, "concurrency": 1},
    ).json()  # fmt: skip
    assert big["fit"]["status"] == "does_not_fit"
    first, second = big["fit"]["advice"]
    assert first.startswith("Over by ") and first.endswith(" GB per GPU.")
    assert second.startswith("Spread the weights over more GPUs")


def test_an_invalid_tp_suggests_the_valid_ones(api_client: TestClient) -> None:
    """`tp: 3` for gpt-oss-120b was a 422 with empty suggestions; `infercast estimate` lists the
    valid degrees. 64 query heads, 8 KV heads and MLP widths divisible by 64: 1, 2, ..., 64."""
    body = {
        "model": "openai/gpt-oss-120b",
        "hardware": "b200",
        "tp": 3,
        "isl": 1024,
        "osl": 1024,
        "concurrency": 64,
    }
    response = api_client.post("/estimate", json=body)
    assert response.status_code == 422
    assert response.json()["suggestions"] == ["1", "2", "4", "8", "16", "32", "64"]
    other = api_client.post("/estimate", json={**body, "tp": 4, "pp": 100})
    assert other.status_code == 422 and other.json()["suggestions"] == []  # a pp problem

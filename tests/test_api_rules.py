"""The server owns the rules: sweeps, valid degrees, formats per role, plan line and advice."""

from __future__ import annotations

from fastapi.testclient import TestClient

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

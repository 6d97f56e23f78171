"""HTTP API: every endpoint, every error path, path-traversal proofs, size limits and CORS.

Raw-path cases go straight to the ASGI app with the scope a server (uvicorn) would build, so no
client-side URL normalisation hides what the app really receives.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import infercast
from conftest import BENCHMARKS_CSV, HF_CONFIGS
from infercast.estimation.result import EstimateResult
from infercast.hardware import get_hardware
from infercast.interfaces.api import create_app
from infercast.interfaces.api.limits import DEFAULT_BODY_LIMIT, JSON_UPLOAD_LIMIT
from infercast.interfaces.api.warmup import asgi_call
from infercast.specs import Registry, load_spec_file
from infercast.specs.registry import MODELS_PATH_ENV, builtin_catalog_dir

DENSE = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
DENSE_ID = "TinyLlama_TinyLlama-1.1B-Chat-v1.0"
MOE = "Qwen/Qwen3-30B-A3B"

TINYLLAMA_CONFIG = HF_CONFIGS / "TinyLlama_TinyLlama-1.1B-Chat-v1.0.json"

BASE = {"model": DENSE, "hardware": "h100", "isl": 1024, "osl": 128, "concurrency": 8}


@pytest.fixture(autouse=True)
def _no_env_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODELS_PATH_ENV, raising=False)
    monkeypatch.delenv("INFERCAST_CORS_ORIGINS", raising=False)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(MODELS_PATH_ENV, raising=False)
        return create_app()


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def _error(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail", "problems", "suggestions"}, body
    if error:
        assert body["error"] == error, body
    return body


def _fields(body: dict[str, Any]) -> dict[str, str]:
    return {p["field"]: p["rule"] for p in body["problems"]}


# ---- raw ASGI requests (what uvicorn would hand the app) ------------------------------------


def asgi_request(
    app: FastAPI,
    method: str,
    raw_path: str,
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    chunks: list[bytes] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request through the ASGI app; the path is percent-decoded once, as uvicorn does."""
    parts = list(chunks) if chunks is not None else [body]
    messages = anyio.run(asgi_call, app, method, raw_path, parts, headers)
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    hdrs = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], hdrs, content


# ---- health, models, hardware ---------------------------------------------------------------


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["models"] >= 10 and body["hardware"] >= 5


def test_list_models(client: TestClient) -> None:
    models = {m["hf_model_id"]: m for m in client.get("/models").json()}
    dense, moe = models[DENSE], models[MOE]
    assert dense["model_id"] == DENSE_ID and dense["is_moe"] is False
    assert dense["total_params"] == dense["active_params"] > 1_000_000_000
    assert moe["is_moe"] is True and moe["active_params"] < moe["total_params"]
    assert {m["source"] for m in models.values()} == {"built-in"}


@pytest.mark.parametrize("model_id", [DENSE_ID, DENSE, DENSE.lower(), DENSE_ID.upper()])
def test_get_model_in_seed_format(client: TestClient, model_id: str) -> None:
    response = client.get(f"/models/{model_id}")
    assert response.status_code == 200
    body = response.json()
    on_disk = json.loads((builtin_catalog_dir() / f"{DENSE_ID}.json").read_text())
    assert body == Registry.load().get(DENSE_ID).to_json_dict()
    assert list(body)[:3] == ["model_id", "hf_model_id", "name"]
    assert body["model_id"] == on_disk["model_id"] and body["layer_types"][0]["class"]
    for entry in body["layer_types"]:
        assert set(entry) <= {"name", "class", "count", "specs", "parallelism"}


def test_unknown_model_suggests(client: TestClient) -> None:
    body = _error(client.get("/models/TinyLlama_TinyLlama-1.1B"), 404, "unknown_id")
    assert DENSE in body["suggestions"]
    assert "unknown model" in body["detail"]


def test_hardware(client: TestClient) -> None:
    parts = {p["id"]: p for p in client.get("/hardware").json()}
    assert parts["h100"]["memory_bytes"] == get_hardware("h100").memory_bytes
    assert client.get("/hardware/H100-SXM").json()["id"] == "h100"
    full = client.get("/hardware/h100").json()
    assert full["sources"] and full["efficiency"]["compute"] > 0
    body = _error(client.get("/hardware/h10"), 404, "unknown_id")
    assert "h100" in body["suggestions"]
    _error(client.get("/hardware/%2e%2e"), 422, "invalid_input")


# ---- path traversal --------------------------------------------------------------------------

TRAVERSAL_IDS = [
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "%2e%2e/%2e%2e/specs/catalog/TinyLlama_TinyLlama-1.1B-Chat-v1.0.json",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "....//....//etc/passwd",
    "..\\..\\windows\\win.ini",
    "C:%5CWindows%5Cwin.ini",
    "TinyLlama_TinyLlama-1.1B-Chat-v1.0%00.json",
    "%00",
    "catalog/TinyLlama_TinyLlama-1.1B-Chat-v1.0.json",
    "~/.ssh/id_rsa",
    "a" * 400,
]


def _leaks(content: bytes) -> list[str]:
    text = content.decode("utf-8", "replace")
    markers = [
        "root:x:",
        "[fonts]",
        '"layer_types"',
        "from __future__",
        "Traceback",
        str(builtin_catalog_dir()),
        str(Path(infercast.__file__).parent),
        "/etc/passwd",
        "\x00",
    ]
    return [m for m in markers if m in text]


@pytest.mark.parametrize("model_id", TRAVERSAL_IDS)
def test_model_path_traversal(app: FastAPI, model_id: str) -> None:
    status, headers, content = asgi_request(app, "GET", f"/models/{model_id}")
    assert status in (404, 422), (status, content)
    assert headers["content-type"] == "application/json"
    assert json.loads(content)["error"] in {"unknown_id", "invalid_input", "not_found"}
    assert not _leaks(content)


@pytest.mark.parametrize("model_id", TRAVERSAL_IDS)
def test_traversal_in_query_and_body(client: TestClient, model_id: str) -> None:
    decoded = unquote(model_id)
    response = client.get("/api/layers", params={"model_id": decoded})
    assert response.status_code in (404, 422) and not _leaks(response.content)
    response = client.post("/estimate", json={**BASE, "model": decoded})
    assert response.status_code in (404, 422) and not _leaks(response.content)
    response = client.post("/estimate", json={**BASE, "hardware": decoded})
    assert response.status_code in (404, 422) and not _leaks(response.content)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../api/app.py",
        "/static/..%2f..%2fapi%2fapp.py",
        "/static/%2e%2e/%2e%2e/api/app.py",
        "/static/%252e%252e%252f__init__.py",
        "/static/..%5c..%5c__init__.py",
        "/static//etc/passwd",
        "/static/index.html%00.py",
        "/hardware/..%2fh100",
        "/hardware/%00",
    ],
)
def test_static_and_hardware_traversal(app: FastAPI, path: str) -> None:
    status, _, content = asgi_request(app, "GET", path)
    assert status in (404, 422), (status, content[:200])
    assert not _leaks(content)


# ---- layers, options -------------------------------------------------------------------------


def test_layers_of_a_model(client: TestClient) -> None:
    body = client.get("/api/layers", params={"model_id": MOE}).json()
    assert body["model_id"] == "Qwen_Qwen3-30B-A3B" and body["is_moe"] is True
    by_class = {lt["layer_class"]: lt for lt in body["layer_types"]}
    assert "expert_parallel" in by_class["MoELayer"]["available_parallelism"]
    assert by_class["NormLayer"]["available_parallelism"] == []
    constraints = body["constraints"]
    assert constraints["num_experts"] == 128
    heads = constraints["attention_heads"]
    assert all(h % tp == 0 for tp in constraints["valid_tp"] for h in heads)
    assert 3 not in constraints["valid_tp"] and 128 in constraints["valid_ep"]


def test_layer_library_and_errors(client: TestClient) -> None:
    body = client.get("/api/layers").json()
    classes = {c["layer_class"]: c for c in body["layer_classes"]}
    assert classes["MoELayer"]["supported_parallelism"] == ["tensor_parallel", "expert_parallel"]
    assert "num_experts" in classes["MoELayer"]["required_specs"]
    _error(client.get("/api/layers", params={"model_id": "nope/nope"}), 404, "unknown_id")
    body = _error(client.get("/api/layers", params={"model_id": "../x"}), 422, "invalid_input")
    assert _fields(body) == {"model_id": "pattern"}


def test_options(client: TestClient) -> None:
    body = client.get("/api/options").json()
    assert "bf16" in body["dtypes"] and "fp8" in body["dtypes"]
    assert body["concurrency_sweep"][0] == 1 and body["concurrency_sweep"][-1] == 512


# ---- estimate --------------------------------------------------------------------------------


def test_estimate_matches_python_api(client: TestClient) -> None:
    response = client.post("/estimate", json={**BASE, "tp": 2, "gpus": 2})
    assert response.status_code == 200, response.text
    result = EstimateResult.model_validate(response.json())
    direct = infercast.estimate(DENSE, "h100", gpus=2, tp=2, isl=1024, osl=128, concurrency=8)
    assert response.json() == json.loads(direct.model_dump_json())
    assert result.plan.tp == 2 and result.ttft_ms > 0 and result.memory.capacity_bytes > 0
    # answered again from the cache: identical
    assert client.post("/estimate", json={**BASE, "tp": 2, "gpus": 2}).json() == response.json()


def test_estimate_moe(client: TestClient) -> None:
    body = {**BASE, "model": MOE, "tp": 2, "dp": 2, "ep": 4, "gpus": 4}
    response = client.post("/estimate", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["plan"]["ep"] == 4


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"tp": 0}, "tp", "greater_than_equal"),
        ({"concurrency": 0}, "concurrency", "greater_than_equal"),
        ({"isl": -5}, "isl", "greater_than_equal"),
        ({"isl": 10**12}, "isl", "less_than_equal"),
        ({"osl": "many"}, "osl", "int_type"),
        ({"tp": 1.5}, "tp", "int_type"),
        ({"isl": True}, "isl", "int_type"),  # strict: a boolean is not 1
        ({"isl": "1024"}, "isl", "int_type"),  # strict: a string is not a number
        ({"tp": 2.0}, "tp", "int_type"),
        ({"sp": "true"}, "sp", "bool_type"),
        ({"gpus": None, "isl": None}, "isl", "int_type"),
        ({"bogus": 1}, "bogus", "extra_forbidden"),
        ({"model": 7}, "model", "string_type"),
    ],
)
def test_estimate_invalid_fields(
    client: TestClient, change: dict[str, Any], field: str, rule: str
) -> None:
    body = _error(client.post("/estimate", json={**BASE, **change}), 422, "invalid_input")
    assert _fields(body).get(field) == rule, body
    assert field in body["detail"]


def test_estimate_missing_field(client: TestClient) -> None:
    body = {k: v for k, v in BASE.items() if k != "isl"}
    assert _fields(_error(client.post("/estimate", json=body), 422)) == {"isl": "missing"}


@pytest.mark.parametrize(
    "content",
    [b"{", b"[]", b"null", b'"text"', b"\xff\xfe", b'{"model": "\\ud800"}', b"[" * 5000],
)
def test_estimate_malformed_body(client: TestClient, content: bytes) -> None:
    response = client.post(
        "/estimate", content=content, headers={"content-type": "application/json"}
    )
    _error(response, 422, "invalid_input")


def test_estimate_unknown_ids(client: TestClient) -> None:
    body = _error(client.post("/estimate", json={**BASE, "model": "TinyLlama"}), 404, "unknown_id")
    assert DENSE in body["suggestions"]
    body = _error(client.post("/estimate", json={**BASE, "hardware": "h1000"}), 404)
    assert "h100" in body["suggestions"]


@pytest.mark.parametrize(
    "change",
    [
        {"tp": 3},  # 32 heads are not divisible by 3
        {"tp": 2, "gpus": 4},  # gpus must equal tp × dp × pp
        {"ep": 2},  # dense model: no experts
        {"weight_dtype": "fp7"},
        {"kv_dtype": "nonsense"},
        {"pp": 64},  # more stages than layers
    ],
)
def test_estimate_invalid_plan_is_422(client: TestClient, change: dict[str, Any]) -> None:
    body = _error(client.post("/estimate", json={**BASE, **change}), 422)
    assert body["detail"] and body["problems"]


def test_layer_metrics(client: TestClient) -> None:
    response = client.post("/layers/metrics", json={**BASE, "tp": 2, "gpus": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plan"]["tp"] == 2 and body["prefill"]["time_ms"] > 0
    names = {layer["name"] for layer in body["layers"]}
    assert {"attention", "feedforward"} <= names or len(names) >= 3
    for layer in body["layers"]:
        assert layer["prefill"]["time_ms"] >= 0 and layer["decode"]["time_ms"] >= 0
        assert set(layer["prefill"]) >= {"compute_ms", "memory_ms", "communication_ms"}
    _error(client.post("/layers/metrics", json={**BASE, "tp": 0}), 422)
    _error(client.post("/layers/metrics", json={**BASE, "model": "x/y"}), 404)


# ---- import ----------------------------------------------------------------------------------


def _upload(client: TestClient, content: bytes, name: str = "config.json", **form: str) -> Any:
    return client.post("/import", files={"file": (name, content, "application/json")}, data=form)


def test_import_config_json_then_estimate(tmp_path: Path) -> None:
    client = TestClient(create_app(models_dirs=[tmp_path]), base_url="http://localhost")
    config = TINYLLAMA_CONFIG.read_bytes()
    response = _upload(client, config, hf_model_id="acme/tiny-import")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_id"] == "acme_tiny-import" and body["source_format"] == "config.json"
    assert body["saved"] is False and body["saved_as"] is None
    assert body["spec"]["total_params"] == Registry.load().get(DENSE).total_params
    # usable at once, in memory only
    assert client.get("/models/acme/tiny-import").json() == body["spec"]
    listed = {m["model_id"]: m for m in client.get("/models").json()}
    assert listed["acme_tiny-import"]["source"] == "imported"
    assert client.post("/estimate", json={**BASE, "model": "acme/tiny-import"}).status_code == 200
    assert not list(tmp_path.iterdir())


def test_import_without_id_gets_a_stable_name(client: TestClient) -> None:
    first = _upload(client, TINYLLAMA_CONFIG.read_bytes()).json()
    second = _upload(client, TINYLLAMA_CONFIG.read_bytes()).json()
    assert first["hf_model_id"] == second["hf_model_id"]
    assert first["hf_model_id"].startswith("imported/llama-") and first["warnings"]


def test_import_seed_spec(client: TestClient) -> None:
    spec = json.loads((builtin_catalog_dir() / f"{DENSE_ID}.json").read_bytes())
    spec.update(model_id="acme_seed-copy", hf_model_id="acme/seed-copy")
    body = _upload(client, json.dumps(spec).encode()).json()
    assert body["source_format"] == "spec" and body["model_id"] == "acme_seed-copy"


def test_import_never_shadows_a_builtin_id(tmp_path: Path) -> None:
    """A built-in id, in any case, as model_id or HF id, is a 409 naming it; nothing changes."""
    client = TestClient(create_app(models_dirs=[tmp_path]), base_url="http://localhost")
    builtin = json.loads((builtin_catalog_dir() / f"{DENSE_ID}.json").read_bytes())
    hf_id = builtin["hf_model_id"]
    before = client.get(f"/models/{hf_id}").json()
    renamed = {**builtin, "model_id": DENSE_ID.lower(), "hf_model_id": hf_id.lower()}
    cases = [
        (json.dumps(builtin).encode(), {}),
        (json.dumps(renamed).encode(), {}),
        (TINYLLAMA_CONFIG.read_bytes(), {"hf_model_id": hf_id.upper()}),
        (TINYLLAMA_CONFIG.read_bytes(), {"hf_model_id": hf_id.swapcase(), "save": "true"}),
    ]
    for content, form in cases:
        body = _error(_upload(client, content, **form), 409, "conflict")
        assert hf_id in body["detail"]
    assert client.get(f"/models/{hf_id}").json() == before
    assert client.get(f"/models/{hf_id.upper()}").json() == before
    assert not list(tmp_path.iterdir())


def _gguf_header() -> bytes:
    from gguf import GGUFWriter

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiny.gguf"
        writer = GGUFWriter(str(path), "llama")
        writer.add_block_count(2)
        writer.add_embedding_length(64)
        writer.add_head_count(4)
        writer.add_head_count_kv(2)
        writer.add_feed_forward_length(128)
        writer.add_vocab_size(256)
        writer.add_context_length(512)
        writer.add_string("general.name", "Tiny GGUF")
        writer.add_tensor("token_embd.weight", np.zeros((256, 64), dtype=np.float16))
        writer.add_tensor("output.weight", np.zeros((256, 64), dtype=np.float16))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return path.read_bytes()[:4096]  # the header only: tensor data is not needed


def test_import_gguf_header(client: TestClient) -> None:
    response = client.post(
        "/import",
        files={"file": ("tiny.gguf", _gguf_header(), "application/octet-stream")},
        data={"hf_model_id": "acme/tiny-gguf"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source_format"] == "gguf" and body["spec"]["num_layers"] == 2


def test_import_save(tmp_path: Path) -> None:
    client = TestClient(create_app(models_dirs=[tmp_path]), base_url="http://localhost")
    config = TINYLLAMA_CONFIG.read_bytes()
    body = _upload(client, config, hf_model_id="acme/saved-model", save="true").json()
    assert body["saved"] is True and body["saved_as"] == "acme_saved-model.json"
    assert [p.name for p in tmp_path.iterdir()] == ["acme_saved-model.json"]
    assert load_spec_file(tmp_path / "acme_saved-model.json").model_id == "acme_saved-model"
    listed = {m["model_id"]: m["source"] for m in client.get("/models").json()}
    assert listed["acme_saved-model"] == "user"
    # not overwritten unless asked
    _error(_upload(client, config, hf_model_id="acme/saved-model", save="true"), 409, "conflict")
    again = _upload(client, config, hf_model_id="acme/saved-model", save="true", overwrite="true")
    assert again.status_code == 200
    # a fresh process over the same directory sees it
    fresh = TestClient(create_app(models_dirs=[tmp_path]), base_url="http://localhost")
    assert fresh.get("/models/acme/saved-model").is_success


def test_import_save_needs_a_models_dir(client: TestClient) -> None:
    response = _upload(client, TINYLLAMA_CONFIG.read_bytes(), hf_model_id="a/b", save="true")
    body = _error(response, 422, "invalid_input")
    assert _fields(body) == {"save": "models_dir_required"}


@pytest.mark.parametrize(
    ("content", "form", "field"),
    [
        (b"", {}, "file"),
        (b"not json", {}, "file"),
        (b"[1, 2]", {}, "file"),
        (b"{}", {}, "invalid_input"),
        (b'{"model_type": "evil_remote", "auto_map": {"AutoConfig": "x.Y"}}', {}, "file"),
        (b"\xff\xfe\x00binary", {}, "file"),
        (b"GGUF\x03\x00\x00\x00truncated", {}, "file"),
        (b'{"model_type": "llama"}', {}, "file"),
        (b'{"model_type": "llama"}', {"hf_model_id": "../../etc/passwd"}, "hf_model_id"),
    ],
)
def test_import_rejects(
    client: TestClient, content: bytes, form: dict[str, str], field: str
) -> None:
    body = _error(_upload(client, content, name="../../etc/passwd", **form), 422)
    assert field in _fields(body) or body["error"] == field
    assert not _leaks(json.dumps(body).encode())


def test_import_ignores_remote_code(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """auto_map / trust_remote_code name code to run: nothing is imported or evaluated."""
    import builtins

    real_import = builtins.__import__

    def guarded(name: str, *args: Any, **kwargs: Any) -> Any:
        assert not name.startswith("evil"), "uploaded config triggered an import"
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", guarded)
    config = json.loads(TINYLLAMA_CONFIG.read_text())
    config.update(
        auto_map={"AutoConfig": "evil.Config", "AutoModelForCausalLM": "evil.Model"},
        trust_remote_code=True,
    )
    response = _upload(client, json.dumps(config).encode(), hf_model_id="acme/remote")
    assert response.status_code in (200, 422)


def test_import_missing_file(client: TestClient) -> None:
    body = _error(client.post("/import", data={"save": "false"}), 422)
    assert _fields(body) == {"file": "missing"}


def test_import_size_limit(client: TestClient) -> None:
    big = b'{"model_type": "llama", "pad": "' + b"x" * JSON_UPLOAD_LIMIT + b'"}'
    body = _error(_upload(client, big), 413, "too_large")
    assert "4,194,304" in body["detail"]


# ---- reconcile -------------------------------------------------------------------------------


def _csv(client: TestClient, content: bytes) -> Any:
    return client.post("/reconcile", files={"file": ("bench.csv", content, "text/csv")})


def test_reconcile_benchmarks(client: TestClient) -> None:
    lines = BENCHMARKS_CSV.read_text().splitlines()
    header, rows = lines[0], lines[1:]
    sample = [header, *rows[::25]]  # every 25th row: all sources, models and parts
    bad = dict(zip(header.split(","), rows[0].split(","), strict=True))
    bad["model"] = "nobody/unknown-model"
    sample.append(",".join(bad.values()))
    response = _csv(client, "\n".join(sample).encode())
    assert response.status_code == 200, response.text
    body = response.json()
    summary = body["summary"]
    assert summary["rows"] == len(sample) - 1
    assert summary["predicted"] == len(sample) - 2 and summary["failed"] == 1
    assert [r["line"] for r in body["rows"]] == list(range(2, len(sample) + 1))
    last = body["rows"][-1]
    assert "unknown model" in last["error"] and set(last["predicted"].values()) == {None}
    for row in body["rows"][:-1]:
        assert row["error"] == ""
        for metric, measured in row["measured"].items():
            if measured and row["predicted"][metric] is not None:
                expected = 100 * abs(row["predicted"][metric] - measured) / measured
                assert row["ape_pct"][metric] == pytest.approx(expected)
    ttft = summary["overall"]["ttft_ms"]
    assert ttft["n"] == len(sample) - 2 and ttft["median_ape_pct"] >= 0
    assert "h100" in summary["by"]["hardware"]


def test_reconcile_matches_the_cli_logic(client: TestClient) -> None:
    from infercast.estimation.reconcile import predict_rows, read_benchmark_csv, summarize

    content = "\n".join(BENCHMARKS_CSV.read_text().splitlines()[:40]).encode()
    expected = summarize(predict_rows(read_benchmark_csv(content)))
    assert _csv(client, content).json()["summary"] == json.loads(json.dumps(expected))


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"model,hardware\nx,y\n", "csv"),
        (b"model,hardware,isl,osl,concurrency,attention_tp\n", "non_empty"),
        (b"\xff\xfe\x00\x01", "utf8"),
        # item 5: a bare CR in the header row and a header field over csv's 131,072-character
        # field limit were 500s
        (b"model,hardware\risl,osl,concurrency,attention_tp\n", "csv"),
        (b"model,hardware,isl,osl,concurrency,attention_tp," + b"x" * (128 * 1024 + 1), "csv"),
        (
            b"model,hardware,isl,osl,concurrency,attention_tp\n" + b"a,b,1,1,1,1\n" * 5001,
            "max_rows",
        ),
    ],
)
def test_reconcile_rejects(client: TestClient, content: bytes, rule: str) -> None:
    body = _error(_csv(client, content), 422, "invalid_input")
    assert _fields(body) == {"file": rule}


def test_reconcile_bad_rows_are_reported(client: TestClient) -> None:
    header = b"model,hardware,isl,osl,concurrency,attention_tp,ttft_ms\n"
    rows = [
        b"TinyLlama/TinyLlama-1.1B-Chat-v1.0,h100,1024,128,8,1,10\n",
        b"TinyLlama/TinyLlama-1.1B-Chat-v1.0,h100,abc,128,8,1,10\n",
        b"TinyLlama/TinyLlama-1.1B-Chat-v1.0,h100,1024,128,8,3,10\n",
        b"../../etc/passwd,h100,1024,128,8,1,10\n",
        b"TinyLlama/TinyLlama-1.1B-Chat-v1.0,nope,1024,128,8,1,\n",
    ]
    body = _csv(client, header + b"".join(rows)).json()
    assert [bool(r["error"]) for r in body["rows"]] == [False, True, True, True, True]
    assert body["rows"][0]["measured"]["tpot_ms"] is None
    assert body["summary"]["overall"]["tpot_ms"]["n"] == 0
    assert body["summary"]["overall"]["ttft_ms"]["n"] == 1
    reasons = " ".join(r["error"] for r in body["rows"][1:]).encode()
    assert not [leak for leak in _leaks(reasons) if leak != "/etc/passwd"]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_reconcile_non_finite_shape_is_a_row_error(client: TestClient, value: str) -> None:
    # audit: int(float("nan")) raised a ValueError, which was a 500 for the whole upload
    header = b"model,hardware,isl,osl,concurrency,attention_tp,ttft_ms\n"
    good = b"TinyLlama/TinyLlama-1.1B-Chat-v1.0,h100,1024,128,8,1,10\n"
    bad = f"TinyLlama/TinyLlama-1.1B-Chat-v1.0,h100,{value},128,8,1,10\n".encode()
    response = _csv(client, header + good + bad)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rows"][0]["error"] == ""
    assert "column 'isl'" in body["rows"][1]["error"]
    assert "finite" in body["rows"][1]["error"]
    assert body["rows"][1]["isl"] is None
    assert (body["summary"]["predicted"], body["summary"]["failed"]) == (1, 1)


@pytest.mark.parametrize("value", ["-3", "0", "nan", "inf"])
def test_reconcile_unusable_measurement_is_not_scored(client: TestClient, value: str) -> None:
    # a measured ttft_ms of 0, -3, nan or inf cannot be scored; before, the row was silently
    # left out of the ttft figures (and inf was scored as an APE of 100 %)
    header = b"model,hardware,isl,osl,concurrency,attention_tp,ttft_ms,tpot_ms\n"
    good = b"TinyLlama/TinyLlama-1.1B-Chat-v1.0,h100,1024,128,8,1,10,5\n"
    bad = f"TinyLlama/TinyLlama-1.1B-Chat-v1.0,h100,1024,128,8,1,{value},5\n".encode()
    body = _csv(client, header + good + bad).json()
    row = body["rows"][1]
    assert row["error"] == (
        f"column 'ttft_ms': {value!r} is not a positive finite number (the row is not scored)"
    )
    assert row["predicted"]["ttft_ms"] is not None  # the prediction is still shown
    assert row["ape_pct"] == {metric: None for metric in row["ape_pct"]}
    assert (body["summary"]["predicted"], body["summary"]["failed"]) == (1, 1)
    assert body["summary"]["overall"]["ttft_ms"]["n"] == 1
    assert body["summary"]["overall"]["tpot_ms"]["n"] == 1


def test_reconcile_size_limit(client: TestClient) -> None:
    big = b"model,hardware,isl,osl,concurrency,attention_tp\n" + b"x" * (5 * 2**20)
    _error(_csv(client, big), 413, "too_large")


# ---- size limits, CORS, headers --------------------------------------------------------------


def test_body_over_limit_is_413(client: TestClient) -> None:
    padded = json.dumps({**BASE, "framework": "x" * (DEFAULT_BODY_LIMIT + 10)})
    response = client.post(
        "/estimate", content=padded, headers={"content-type": "application/json"}
    )
    _error(response, 413, "too_large")


def test_streamed_body_over_limit_is_413(app: FastAPI) -> None:
    chunk = b" " * (256 * 1024)
    status, _, content = asgi_request(
        app,
        "POST",
        "/estimate",
        headers=[(b"content-type", b"application/json")],
        chunks=[chunk] * 8,  # 2 MiB, no content-length
    )
    assert status == 413 and json.loads(content)["error"] == "too_large"


def test_declared_length_over_limit_is_413_before_reading(app: FastAPI) -> None:
    status, _, content = asgi_request(
        app,
        "POST",
        "/import",
        headers=[(b"content-length", str(2**30).encode()), (b"content-type", b"text/plain")],
        chunks=[],
    )
    assert status == 413 and json.loads(content)["error"] == "too_large"
    status, _, _ = asgi_request(app, "POST", "/estimate", headers=[(b"content-length", b"-1")])
    assert status == 413


def test_cors_off_by_default(client: TestClient) -> None:
    response = client.get("/models", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/estimate",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code in (404, 405)


def test_cors_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(
        create_app(cors_origins=["http://localhost:3000"]), base_url="http://localhost"
    )
    ok = client.get("/models", headers={"Origin": "http://localhost:3000"})
    assert ok.headers["access-control-allow-origin"] == "http://localhost:3000"
    other = client.get("/models", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/estimate",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    monkeypatch.setenv("INFERCAST_CORS_ORIGINS", "http://a.example, http://b.example")
    env_client = TestClient(create_app(), base_url="http://localhost")
    response = env_client.get("/health", headers={"Origin": "http://b.example"})
    assert response.headers["access-control-allow-origin"] == "http://b.example"


def test_unknown_route_and_method(client: TestClient) -> None:
    _error(client.get("/nope"), 404, "not_found")
    _error(client.delete("/models"), 405, "method_not_allowed")
    _error(client.get("/estimate"), 405)


def test_web_app_is_self_contained(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    static = Path(infercast.__file__).parent / "interfaces" / "web" / "static"
    for path in static.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
            assert "https://" not in text, path
            assert "innerHTML" not in text, path
    script = client.get("/static/js/main.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get("/openapi.json").json()["info"]["title"] == "infercast"
    assert client.get("/docs").status_code == 404  # the Swagger page would load a CDN


def test_no_5xx_on_junk(client: TestClient) -> None:
    junk: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/api/layers?model_id=", {}),
        ("GET", "/api/layers?model_id=%00", {}),
        ("POST", "/estimate", {"json": {**BASE, "framework": "x" * 10_000}}),
        ("POST", "/estimate", {"json": {**BASE, "isl": 10_000_000, "concurrency": 1_000_000}}),
        ("POST", "/estimate", {"json": {**BASE, "tp": 1024, "gpus": 1024}}),
        ("POST", "/layers/metrics", {"content": b"\x00\x01", "headers": {"content-type": "x"}}),
        ("POST", "/import", {"content": b"--x--", "headers": {"content-type": "multipart/x"}}),
    ]
    for method, url, kwargs in junk:
        response = client.request(method, url, **kwargs)
        assert response.status_code < 500, (url, response.text)


# ---- the serve command -----------------------------------------------------------------------


def test_serve_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    from infercast.interfaces.cli.app import app as cli

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--port",
            "8123",
            "--models-dir",
            str(tmp_path),
            "--cors-origin",
            "http://localhost:5173",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    (call,) = calls
    assert call["host"] == "127.0.0.1" and call["port"] == 8123
    served = TestClient(call["app"], base_url="http://localhost")
    assert served.get("/health").json()["status"] == "ok"
    origin = {"Origin": "http://localhost:5173"}
    assert served.get("/health", headers=origin).headers["access-control-allow-origin"]


def test_serve_help() -> None:
    from infercast.interfaces.cli.app import app as cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--models-dir", "--cors-origin"):
        assert option in result.output


def test_a_malformed_row_names_its_own_line(client: TestClient) -> None:
    """A field over csv's limit in the third line was reported "near line 1": DictReader's
    ``line_num`` counts the rows it returned, not the lines its reader consumed."""
    header = b"model,hardware,isl,osl,concurrency,attention_tp\n"
    content = header + b"a,b,1,1,1,1\n" + b"x" * (128 * 1024 + 1) + b"\n"
    body = _error(_csv(client, content), 422, "invalid_input")
    assert "malformed CSV near line 3: field larger than field limit" in body["detail"]

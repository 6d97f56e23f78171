"""The service under attack: hosts and origins, uploads off the event loop, bounded memory.

A real uvicorn server (in a thread) is used where concurrency matters: an upload whose parse
is held open must not stop ``/health`` from answering, and parses beyond the limit get 429.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from held_parse import held_parse
from infercast.interfaces.api import create_app
from infercast.interfaces.api.cache import CachedEstimate, EstimateCache
from infercast.interfaces.api.routes import importing
from infercast.interfaces.api.server import GuardedH11Protocol
from infercast.interfaces.api.state import MAX_CONCURRENT_PARSES
from infercast.interfaces.api.warmup import warm_up
from infercast.specs import SpecError, parse_spec
from infercast.specs.registry import MODELS_PATH_ENV, builtin_catalog_dir
from infercast.specs.schema import MAX_LAYER_TYPES
from live_server import serve_in_thread

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
TINYLLAMA_CONFIG = SHARED / "hf-configs" / "TinyLlama_TinyLlama-1.1B-Chat-v1.0.json"
DENSE_ID = "TinyLlama_TinyLlama-1.1B-Chat-v1.0"
BASE = {
    "model": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    "hardware": "h100",
    "isl": 1024,
    "osl": 128,
    "concurrency": 8,
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(MODELS_PATH_ENV, raising=False)
        app = create_app(cors_origins=["http://localhost:3000"])
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def _upload(client: Any, content: bytes, headers: dict[str, str] | None = None, **form: str) -> Any:
    files = {"file": ("config.json", content, "application/json")}
    return client.post("/import", files=files, data=form, headers=headers or {})


# ---- item 2: hosts and origins -------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "rebind.attacker.test:8000", "10.0.0.1"])
def test_unknown_host_is_refused(client: TestClient, host: str) -> None:
    response = client.get("/health", headers={"host": host})
    assert response.status_code == 400 and response.json()["error"] == "invalid_host"


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000"])
def test_local_hosts_are_accepted(client: TestClient, host: str) -> None:
    assert client.get("/health", headers={"host": host}).status_code == 200


def test_allowed_and_bound_hosts() -> None:
    app = create_app(allowed_hosts=["infercast.example.org"], bind_host="10.1.2.3")
    c = TestClient(app, base_url="http://localhost")
    assert c.get("/health", headers={"host": "infercast.example.org:80"}).status_code == 200
    assert c.get("/health", headers={"host": "10.1.2.3:8000"}).status_code == 200
    assert c.get("/health", headers={"host": "10.1.2.4:8000"}).status_code == 400
    anywhere = TestClient(create_app(bind_host="0.0.0.0"), base_url="http://localhost")
    assert anywhere.get("/health", headers={"host": "10.9.9.9:8000"}).status_code == 200
    assert anywhere.get("/health", headers={"host": "evil.example"}).status_code == 400


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "http://localhost:9999"},  # another port is another origin
        {"sec-fetch-site": "cross-site"},
    ],
)
def test_cross_site_import_is_refused(client: TestClient, headers: dict[str, str]) -> None:
    response = _upload(client, TINYLLAMA_CONFIG.read_bytes(), headers, hf_model_id="x/csrf")
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert client.get("/models/x/csrf").status_code == 404
    # cross-site estimates are refused too (POST), reads are not
    assert client.post("/estimate", json=BASE, headers=headers).status_code == 403
    assert client.get("/models", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"origin": "http://localhost"}, {"origin": "http://localhost:3000"}],
)
def test_same_origin_and_configured_origin_may_import(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = _upload(client, TINYLLAMA_CONFIG.read_bytes(), headers, hf_model_id="x/same")
    assert response.status_code == 200, response.text


def _error(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail", "problems", "suggestions"}, body
    assert body["error"] == error, body
    return body


LOOPBACK_HOSTS = [
    "localhost",
    "LocalHost",
    "localhost:8311",
    "127.0.0.1:8311",
    "[::1]:8311",
    "[::1]",
]


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_well_formed_loopback_hosts_are_accepted(client: TestClient, host: str) -> None:
    assert client.get("/health", headers={"host": host}).status_code == 200
    assert client.post("/estimate", json=BASE, headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "[::1]evil.com",  # an IPv6 literal followed by a name: it read as ::1
        "localhost:8311@evil.com",  # user info: it read as localhost
        "[::1]:8311@evil.com",
        "[::1",
        "[::1]:",
        "localhost:",
        "localhost:99999",
        "localhost:80:80",
        "localhost.",
        "local host",
        "[fe80::1%25eth0]",
        "",
    ],
)
def test_malformed_hosts_are_refused_naming_the_header(client: TestClient, host: str) -> None:
    for response in (
        client.get("/health", headers={"host": host}),
        client.post("/estimate", json=BASE, headers={"host": host}),
    ):
        body = _error(response, 400, "invalid_host")
        assert body["detail"].startswith(f"Host header {host!r} is not a host: give a DNS name")


@pytest.mark.parametrize("host", ["localhost.evil.com", "127.0.0.1.nip.io", "localhost-evil.com"])
def test_names_that_merely_start_like_loopback_are_unknown(client: TestClient, host: str) -> None:
    body = _error(client.post("/estimate", json=BASE, headers={"host": host}), 400, "invalid_host")
    assert body["detail"].startswith(f"Host header {host!r} names a host this server does not")


def test_malformed_hosts_are_refused_whatever_the_configuration() -> None:
    # "*" lifts the list of names, a wildcard bind admits IP literals: neither admits junk.
    for app in (create_app(allowed_hosts=["*"]), create_app(bind_host="0.0.0.0")):
        c = TestClient(app, base_url="http://localhost")
        for host in ("[::1]evil.com", "localhost:8311@evil.com", ""):
            _error(c.get("/health", headers={"host": host}), 400, "invalid_host")
        assert c.get("/health", headers={"host": "[::1]:8311"}).status_code == 200


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("localhost", "http://localhost"),
        ("localhost:8311", "http://localhost:8311"),
        ("localhost:8311", "HTTP://LOCALHOST:8311"),
        ("127.0.0.1:8311", "http://127.0.0.1:8311"),
        ("[::1]:8311", "http://[::1]:8311"),
        ("[::1]:8311", "https://[0:0::1]:8311"),
        ("localhost:8311", "http://localhost:3000"),  # the configured CORS origin
    ],
)
def test_own_and_configured_origins_may_write(client: TestClient, host: str, origin: str) -> None:
    response = client.post("/estimate", json=BASE, headers={"host": host, "origin": origin})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:8311@evil.com",
        "http://[::1]evil.com",
        "http://[::1]:8311@evil.com",
        "http://localhost:8311/",
        "http://localhost:8311/path",
        "localhost:8311",
        "ftp://localhost:8311",
        "http://",
        "",
    ],
)
def test_malformed_origins_are_refused_naming_the_header(client: TestClient, origin: str) -> None:
    headers = {"host": "localhost:8311", "origin": origin}
    body = _error(client.post("/estimate", json=BASE, headers=headers), 400, "invalid_origin")
    assert body["detail"].startswith(f"Origin header {origin!r} is not an origin")
    # reads carry no state change: an Origin is not checked on them
    assert client.get("/health", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "origin",
    ["http://localhost.evil.com:8311", "http://127.0.0.1.nip.io:8311", "http://localhost", "null"],
)
def test_other_origins_are_cross_origin(client: TestClient, origin: str) -> None:
    headers = {"host": "localhost:8311", "origin": origin}
    body = _error(client.post("/estimate", json=BASE, headers=headers), 403, "forbidden")
    assert body["detail"].startswith(f"cross-origin request refused (Origin {origin!r})")


def test_host_and_origin_with_user_info_are_not_the_same_origin(client: TestClient) -> None:
    # Host and Origin were compared as strings after a lenient parse: both naming
    # "localhost:8311@evil.com" passed as a same-origin write to a loopback host.
    headers = {"host": "localhost:8311@evil.com", "origin": "http://localhost:8311@evil.com"}
    _error(client.post("/estimate", json=BASE, headers=headers), 400, "invalid_host")


@pytest.mark.parametrize("site", ["cross-site", "Cross-Site", "CROSS-SITE", " cross-site "])
def test_sec_fetch_site_is_a_case_insensitive_token(client: TestClient, site: str) -> None:
    response = client.post("/estimate", json=BASE, headers={"sec-fetch-site": site})
    body = _error(response, 403, "forbidden")
    assert "Sec-Fetch-Site: cross-site" in body["detail"]


@pytest.mark.parametrize("site", ["same-origin", "Same-Origin", "none"])
def test_same_origin_fetches_may_write(client: TestClient, site: str) -> None:
    response = client.post("/estimate", json=BASE, headers={"sec-fetch-site": site})
    assert response.status_code == 200, response.text


# ---- item 3: uploads are parsed off the event loop, a few at a time ------------------------------


@pytest.fixture()
def live_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[str, Path, Path]]:
    """A uvicorn server whose upload parses (in its worker processes) block until the returned
    gate file exists; each parse that has started writes one file into the returned folder."""
    gate, started = tmp_path / "gate", tmp_path / "started"
    started.mkdir()
    monkeypatch.setattr(
        importing, "parse_saved_upload", functools.partial(held_parse, str(gate), str(started))
    )
    monkeypatch.delenv(MODELS_PATH_ENV, raising=False)
    with serve_in_thread(create_app()) as url:
        yield url, gate, started
    gate.touch()


def _wait_for_files(folder: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(list(folder.iterdir())) < count:
        assert time.monotonic() < deadline, f"{count} parses did not start"
        time.sleep(0.02)


def test_health_answers_while_uploads_parse_and_extra_parses_get_429(
    live_server: tuple[str, Path, Path],
) -> None:
    url, gate, started = live_server
    config = TINYLLAMA_CONFIG.read_bytes()

    def post(i: int) -> int:
        with httpx.Client(base_url=url, timeout=60) as c:
            return _upload(c, config, hf_model_id=f"acme/held-{i}").status_code

    with ThreadPoolExecutor(MAX_CONCURRENT_PARSES) as pool, httpx.Client(base_url=url) as c:
        held = [pool.submit(post, i) for i in range(MAX_CONCURRENT_PARSES)]
        _wait_for_files(started, MAX_CONCURRENT_PARSES)  # every slot holds a blocked parse
        busy = _upload(c, config, hf_model_id="acme/extra")
        assert busy.status_code == 429 and busy.json()["error"] == "busy", busy.text
        # the event loop is free: health and estimates answer while both parses are held
        assert c.get("/health").status_code == 200
        assert c.post("/estimate", json=BASE).status_code == 200
        assert not any(f.done() for f in held)
        gate.touch()
        assert [f.result() for f in held] == [200] * MAX_CONCURRENT_PARSES
    with httpx.Client(base_url=url) as c:
        assert _upload(c, config, hf_model_id="acme/after").status_code == 200


def test_health_answers_when_no_worker_thread_is_free() -> None:
    """/health runs on the event loop, not in the thread pool that sync endpoints, upload
    spooling and file writes share (there it waited for a free thread and for that thread to
    be scheduled)."""
    with TestClient(create_app(), base_url="http://localhost") as c:
        holder = object()

        async def take_every_thread() -> None:
            limiter = anyio.to_thread.current_default_thread_limiter()
            limiter.total_tokens = 1
            await limiter.acquire_on_behalf_of(holder)

        async def give_back() -> None:
            anyio.to_thread.current_default_thread_limiter().release_on_behalf_of(holder)

        c.portal.call(take_every_thread)
        pool = ThreadPoolExecutor(1)
        try:
            status = pool.submit(c.get, "/health").result(timeout=20).status_code
        finally:
            c.portal.call(give_back)
            pool.shutdown()
    assert status == 200


def test_the_warm_up_requests_are_answered_and_store_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MODELS_PATH_ENV, raising=False)
    app = create_app()
    before = [spec.model_id for spec, _ in app.state.infercast.models()]
    # /health answers; the empty upload is refused at its size checks (422: empty file)
    assert anyio.run(warm_up, app) == [200, 422]
    assert [spec.model_id for spec, _ in app.state.infercast.models()] == before


_FIRST_UPLOAD = """
import json, sys
from fastapi.testclient import TestClient
from infercast.interfaces.api import create_app
app = create_app()
with TestClient(app, base_url="http://localhost") as client:
    document_built = app.openapi_schema is not None
    before = set(sys.modules)
    files = {"file": ("config.json", open(sys.argv[1], "rb").read())}
    response = client.post("/import", files=files, data={"hf_model_id": "acme/first"})
    new = sorted(set(sys.modules) - before)
print(json.dumps({"status": response.status_code, "document": document_built, "new": new}))
"""


def test_the_first_upload_finds_its_work_done_at_start_up(tmp_path: Path) -> None:
    """In a fresh server process, the lifespan builds the OpenAPI document (and with it every
    route's models) and the first upload imports nothing: both once stalled the event loop
    on the first upload while /health waited."""
    env = {k: v for k, v in os.environ.items() if k != MODELS_PATH_ENV}
    run = subprocess.run(
        [sys.executable, "-c", _FIRST_UPLOAD, str(TINYLLAMA_CONFIG)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {"status": 200, "document": True, "new": []}


# ---- fuzz: hostile configs and GGUF headers never break the service ------------------------------

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["(.*.*)*y", "re:(a+)+$", "re:(?<=x)", "*", "lm_head"]),
)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_config_keys = st.sampled_from(
    [
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "num_key_value_heads",
        "intermediate_size",
        "vocab_size",
        "rope_theta",
        "torch_dtype",
        "quantization_config",
        "num_experts",
        "layer_types",
        "head_dim",
    ]
)
_configs = st.builds(
    lambda base, extra: json.dumps({**base, **extra}).encode(),
    st.fixed_dictionaries({"model_type": st.sampled_from(["llama", "qwen3_moe", "gpt_oss", "x"])}),
    st.dictionaries(_config_keys, _json, max_size=6),
)
_quant = st.fixed_dictionaries(
    {
        "quant_method": st.sampled_from(["fp8", "gptq", "awq", "modelopt", "compressed-tensors"]),
        "bits": _json,
        "quant_algo": _json,
        "modules_to_not_convert": st.lists(_json_leaf, max_size=3),
        "ignore": st.lists(_json_leaf, max_size=3),
        "config_groups": _json,
    }
)
_quant_configs = _quant.map(
    lambda q: json.dumps(
        {**json.loads(TINYLLAMA_CONFIG.read_text()), "quantization_config": q}, default=str
    ).encode()
)


def _gguf(version: int, n_tensors: int, n_kv: int, body: bytes) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv) + body


_nested_array = st.integers(min_value=0, max_value=5000).map(
    lambda n: (
        struct.pack("<Q", 4) + b"evil" + struct.pack("<IIQ", 9, 9, n) + struct.pack("<IQ", 0, 0) * n
    )
)
_ggufs = st.builds(
    _gguf,
    st.sampled_from([2, 3, 1, 2**31]),
    st.integers(min_value=0, max_value=2**40),
    st.integers(min_value=0, max_value=2**40),
    st.one_of(st.binary(max_size=256), _nested_array),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=st.one_of(_configs, _quant_configs, _ggufs))
def test_fuzzed_imports_are_4xx_and_health_keeps_answering(
    client: TestClient, content: bytes
) -> None:
    response = _upload(client, content)
    assert response.status_code in (200, 409, 413, 422), response.text
    assert set(response.json()) >= {"error", "detail"} or response.status_code == 200
    assert client.get("/health").status_code == 200


# ---- item 4: bounded memory ----------------------------------------------------------------------


def test_estimate_cache_is_bounded_by_bytes(client: TestClient) -> None:
    body = client.post("/estimate", json=BASE).content
    from infercast.estimation.result import EstimateResult

    entry = CachedEstimate.of(EstimateResult.model_validate_json(body))
    cache = EstimateCache(size=1000, max_bytes=10 * entry.cost_bytes)
    for i in range(50):
        cache.put((0, str(i)), entry)
    assert len(cache) == 10 and cache.bytes == 10 * entry.cost_bytes
    assert cache.get((0, "49")) is entry and cache.get((0, "0")) is None
    tiny = EstimateCache(max_bytes=entry.cost_bytes)  # an entry over a quarter is not kept
    tiny.put((0, "a"), entry)
    assert len(tiny) == 0


def test_a_spec_has_a_bounded_number_of_layer_types() -> None:
    data = json.loads((builtin_catalog_dir() / f"{DENSE_ID}.json").read_text())
    norm = next(lt for lt in data["layer_types"] if lt["class"] == "NormLayer")
    extra = [{**norm, "name": f"norm_{i}"} for i in range(MAX_LAYER_TYPES)]
    data["layer_types"] = data["layer_types"] + extra
    with pytest.raises(SpecError, match=f"at most {MAX_LAYER_TYPES}"):
        parse_spec(data, source="big.json")


# ---- item 6: HTTP details ------------------------------------------------------------------------


class _QuickHeaders(GuardedH11Protocol):
    header_timeout_s = 0.3


def _raw(url: str, data: bytes, wait_s: float = 2.0) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait_s) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            chunks.append(b"<still open>")
        return b"".join(chunks)


def test_half_sent_headers_are_dropped_and_malformed_http_gets_json() -> None:
    with serve_in_thread(create_app(), http=_QuickHeaders) as url:
        start = time.monotonic()
        # a request whose headers never end: closed by the server after its deadline
        assert _raw(url, b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-a: b\r\n") == b""
        assert time.monotonic() - start < 1.5
        reply = _raw(url, b"\x16\x03\x01 not http at all\r\n\r\n")
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head
        assert json.loads(body)["error"] == "invalid_input"
        # a complete request is served normally, keep-alive and all
        ok = _raw(url, b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert ok.startswith(b"HTTP/1.1 200")


def test_head_is_get_without_a_body(client: TestClient) -> None:
    for path in ("/", "/health", "/models", "/static/app.css"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(got.content))


@pytest.mark.parametrize("path", ["/health/", "/static"])
def test_redirects_never_reflect_the_host(path: str) -> None:
    c = TestClient(create_app(allowed_hosts=["*"]), base_url="http://evil.example")
    response = c.get(path, follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"].startswith("/")
    assert "evil" not in response.headers["location"]


def test_openapi_states_id_patterns_and_plan_rules(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    (param,) = document["paths"]["/models/{model_id}"]["get"]["parameters"]
    assert param["schema"]["pattern"].startswith("^[A-Za-z0-9]")
    request = document["components"]["schemas"]["EstimateRequest"]
    assert request["properties"]["hardware"]["pattern"].startswith("^[A-Za-z0-9]")
    assert "moe_tp × ep = tp × dp" in request["description"]
    assert "cp divides dp" in request["description"]


def test_every_request_body_states_the_id_patterns_it_is_checked_by(client: TestClient) -> None:
    """Only EstimateRequest carried the patterns and plan rules: /estimate/sweep, /search and
    /launch answer 422 for ``"model": "../etc"`` and ``"hardware": "../x"`` too, but their
    schemas allowed any string (issue 8, item 6)."""
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    model = schemas["EstimateRequest"]["properties"]["model"]["pattern"]
    hardware = schemas["EstimateRequest"]["properties"]["hardware"]["pattern"]
    sweep, search, launch = (schemas[n] for n in ("SweepRequest", "SearchRequest", "LaunchRequest"))
    assert sweep["properties"]["model"]["pattern"] == model
    assert sweep["properties"]["hardware"]["pattern"] == hardware
    assert search["properties"]["model"]["pattern"] == model
    assert search["properties"]["hardware"]["items"]["pattern"] == hardware  # a list of ids
    assert launch["properties"]["model"]["pattern"] == model
    branches = launch["properties"]["hardware"]["anyOf"]  # optional: a string or null
    assert [b.get("pattern") for b in branches] == [hardware, None]
    for name in ("EstimateRequest", "SweepRequest", "LaunchRequest"):
        text = schemas[name]["description"]
        assert "cp divides dp" in text and "within the model's context" in text, name
    for body, path in (
        ({"model": "../etc", "hardware": "h100", "isl": 1, "osl": 1, "concurrencies": [1]},
         "/estimate/sweep"),
        ({"model": "Qwen/Qwen3-8B", "hardware": ["../x"], "isl": 1, "osl": 1}, "/search"),
        ({"engine": "vllm", "model": "Qwen/Qwen3-8B", "hardware": "../x", "isl": 1, "osl": 1},
         "/launch"),
    ):  # fmt: skip
        response = client.post(path, json=body)
        assert response.status_code == 422 and response.json()["problems"][0]["rule"] == "pattern"
    framework = schemas["EstimateRequest"]["properties"]["framework"]["description"]
    assert "unknown or absent" not in framework  # an unknown engine is a 404, not generic
    unknown = client.post(
        "/estimate",
        json={"model": "Qwen/Qwen3-8B", "hardware": "h100", "isl": 8, "osl": 8, "concurrency": 1,
              "framework": "vllmm"},
    )  # fmt: skip
    assert unknown.status_code == 404 and "vllm" in unknown.json()["suggestions"]

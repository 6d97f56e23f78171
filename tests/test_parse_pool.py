"""Upload parsers run in worker processes that never outlive the server, and a parse over its
time limit loses its worker (the pool carries on with a new one)."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from held_parse import held_parse
from infercast.interfaces.api import create_app
from infercast.interfaces.api.routes import importing
from infercast.interfaces.api.state import MAX_CONCURRENT_PARSES, PARSE_POOL
from infercast.interfaces.parse_pool import ParsePool, ParseTimeoutError
from infercast.specs.registry import MODELS_PATH_ENV
from worker_probe import module_loaded

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
TINYLLAMA_CONFIG = SHARED / "hf-configs" / "TinyLlama_TinyLlama-1.1B-Chat-v1.0.json"

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # [state, ppid, ...]


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _wait_until_gone(pids: set[int], wait_s: float = 20.0) -> set[int]:
    deadline = time.monotonic() + wait_s
    while (left := {p for p in pids if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _serve(port: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn; from infercast.interfaces.api import create_app; "
        f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning')"
    )
    env = {k: v for k, v in os.environ.items() if k != MODELS_PATH_ENV}
    return subprocess.Popen([sys.executable, "-c", code], env=env)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_no_parser_process_outlives_a_stopped_server(stop: signal.Signals) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = _serve(port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    assert server.poll() is None and time.monotonic() < deadline
                    time.sleep(0.1)
            for i in range(3):  # concurrent enough to start both workers now and then
                files = {"file": ("config.json", TINYLLAMA_CONFIG.read_bytes())}
                response = client.post("/import", files=files, data={"hf_model_id": f"a/b{i}"})
                assert response.status_code == 200, response.text
        workers = _children(server.pid)
        assert workers, "the upload was parsed in no child process"
        server.send_signal(stop)
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert _wait_until_gone(workers) == set(), "parser processes outlived the server"


def test_a_parse_over_its_time_limit_loses_its_worker_and_the_pool_recovers() -> None:
    pool = ParsePool(1)
    try:
        first = asyncio.run(pool.run(os.getpid))  # the time limit covers the worker's start
        assert first != os.getpid() and _alive(first)
        pool.timeout_s = 0.5
        with pytest.raises(ParseTimeoutError):
            asyncio.run(pool.run(time.sleep, 60))
        assert _wait_until_gone({first}) == set()
        pool.timeout_s = 60.0
        second = asyncio.run(pool.run(os.getpid))
        assert second not in (first, os.getpid())
    finally:
        pool.shutdown()
    assert not _alive(second)


def test_a_stuck_upload_gets_a_422_naming_the_file_and_the_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    never = str(tmp_path / "never")
    monkeypatch.setattr(
        importing, "parse_saved_upload", functools.partial(held_parse, never, str(tmp_path))
    )
    monkeypatch.setattr(PARSE_POOL, "timeout_s", 0.5)
    monkeypatch.delenv(MODELS_PATH_ENV, raising=False)
    client = TestClient(create_app(), base_url="http://localhost")
    files = {"file": ("slow.json", TINYLLAMA_CONFIG.read_bytes())}
    response = client.post("/import", files=files, data={"hf_model_id": "acme/slow"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"] == "file: slow.json: parsing took over 0.5 s and was stopped"
    assert body["problems"][0]["rule"] == "parse_time"
    # the pool carries on: the next upload is parsed by a fresh worker
    monkeypatch.undo()
    ok = client.post("/import", files=files, data={"hf_model_id": "acme/ok"})
    assert ok.status_code == 200, ok.text


def test_start_up_starts_every_parser_at_a_lower_priority_with_the_parser_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Workers started on the first upload stalled the event loop (spawning, importing
    multiprocessing) while /health waited: the lifespan starts them before any request."""
    PARSE_POOL.shutdown()  # whatever an earlier test left running
    monkeypatch.delenv(MODELS_PATH_ENV, raising=False)
    with TestClient(create_app(), base_url="http://localhost"):
        workers = set(PARSE_POOL.worker_pids())
        assert len(workers) == MAX_CONCURRENT_PARSES, "the lifespan started no parser"
        assert workers <= _children(os.getpid())
        # the first task a worker runs, before any upload: the parser is already imported
        assert asyncio.run(PARSE_POOL.run(module_loaded, "infercast.interfaces.api.importer"))
        lower = min(os.getpriority(os.PRIO_PROCESS, 0) + 10, 19)  # nice 10 below the server
        deadline = time.monotonic() + 30  # each worker lowers its priority as it starts
        while {os.getpriority(os.PRIO_PROCESS, p) for p in workers} != {lower}:
            assert time.monotonic() < deadline, "a parser runs at the server's priority"
            time.sleep(0.05)
    assert _wait_until_gone(workers) == set()

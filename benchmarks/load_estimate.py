"""Load benchmark for ``POST /estimate`` (not a test): requests/s and latency percentiles.

Starts ``infercast serve``'s app (uvicorn, one worker) in a child process on a free localhost
port, then drives it with N concurrent keep-alive connections (a minimal asyncio HTTP/1.1
client) for a bounded time and request count.
Two request mixes:

* ``repeat``  — the web app's pattern: a handful of distinct bodies, answered from the server's
  result cache after the first time;
* ``distinct`` — every request a new (isl, osl, concurrency) combination, so every one runs the
  performance model.

Usage: python benchmarks/load_estimate.py [--clients 16] [--seconds 10] [--mix both]
Targets on a 2-core machine: >= 200 req/s with p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

from infercast.specs.registry import default_registry

HOST = "127.0.0.1"  # localhost only, by design
MAX_CLIENTS = 64
MAX_SECONDS = 60.0
MAX_REQUESTS = 200_000

BODIES = [
    {"model": "meta-llama/Llama-3.3-70B-Instruct", "hardware": "h100", "tp": 4, "gpus": 4},
    {"model": "Qwen/Qwen3-30B-A3B", "hardware": "h200", "tp": 2, "ep": 2},
    {"model": "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "hardware": "l40s"},
    {"model": "openai/gpt-oss-120b", "hardware": "b200", "tp": 2},
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _start_server(port: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn; from infercast.interfaces.api import create_app; "
        "from infercast.interfaces.api.server import GuardedH11Protocol; "
        f"uvicorn.run(create_app(), host={HOST!r}, port={port}, log_level='warning', "
        "access_log=False, http=GuardedH11Protocol)"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def _stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not become ready")


def _bodies(mix: str) -> itertools.cycle[dict[str, Any]] | Any:
    if mix == "repeat":
        load = [{"isl": 1024, "osl": 1024, "concurrency": c} for c in (1, 16, 64)]
        return itertools.cycle([{**b, **w} for b in BODIES for w in load])

    # Distinct workloads stay inside each model's declared context (a longer one is a 422 by
    # design, which would count as an error here): prompts take up to 4/5 of it, outputs 1/5.
    registry = default_registry()
    contexts = [registry.get(b["model"]).max_context_tokens or 20_000 for b in BODIES]

    def distinct() -> Any:
        for i in itertools.count():
            context = min(contexts[i % len(BODIES)], 20_000)
            yield {
                **BODIES[i % len(BODIES)],
                "isl": 128 + (i * 37) % (context * 4 // 5 - 128),
                "osl": 16 + (i * 11) % (context // 5 - 16),
                "concurrency": 1 + (i * 7) % 512,
            }

    return distinct()


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> int:
    """One keep-alive HTTP/1.1 POST; returns the status. A minimal client keeps the client's
    own CPU cost (which shares this machine's cores with the server) out of the figures."""
    writer.write(
        b"POST /estimate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (HOST.encode(), len(body), body)
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)
    return status


async def _run(port: int, mix: str, clients: int, seconds: float) -> dict[str, float]:
    source = _bodies(mix)
    latencies: list[float] = []
    errors = 0

    async def worker(stop_at: float) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < stop_at and len(latencies) + errors < MAX_REQUESTS:
                body = json.dumps(next(source)).encode()
                start = time.perf_counter()
                status = await _post(reader, writer, body)
                elapsed = time.perf_counter() - start
                if status == 200:
                    latencies.append(elapsed)
                else:
                    errors += 1
        finally:
            writer.close()

    # warm-up: the first requests import and build everything once
    await asyncio.gather(*(worker(time.perf_counter() + 1.0) for _ in range(2)))
    latencies.clear()
    errors = 0
    started = time.perf_counter()
    await asyncio.gather(*(worker(started + seconds) for _ in range(clients)))
    wall = time.perf_counter() - started
    if not latencies:
        raise SystemExit(f"no successful requests ({errors} errors)")
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help=f"≤ {MAX_CLIENTS}")
    parser.add_argument("--seconds", type=float, default=10.0, help=f"≤ {MAX_SECONDS:.0f}")
    parser.add_argument("--mix", choices=["repeat", "distinct", "both"], default="both")
    args = parser.parse_args()
    clients = max(1, min(args.clients, MAX_CLIENTS))
    seconds = max(1.0, min(args.seconds, MAX_SECONDS))

    port = _free_port()
    base = f"http://{HOST}:{port}"
    proc = _start_server(port)
    try:
        _wait_ready(base, proc)
        mixes = ["repeat", "distinct"] if args.mix == "both" else [args.mix]
        print(
            f"POST /estimate on {base}: {clients} clients, {seconds:.0f} s per mix, "
            f"{os.cpu_count()} CPUs"
        )
        for mix in mixes:
            r = asyncio.run(_run(port, mix, clients, seconds))
            verdict = "PASS" if r["rps"] >= 200 and r["p99_ms"] <= 50 else "MISS"
            print(
                f"  {mix:<8} {r['requests']:>7.0f} ok, {r['errors']:.0f} errors | "
                f"{r['rps']:7.1f} req/s | p50 {r['p50_ms']:6.2f} ms | p99 {r['p99_ms']:6.2f} ms"
                f" | mean {r['mean_ms']:6.2f} ms | target ≥200 req/s, p99 ≤50 ms: {verdict}"
            )
    finally:
        _stop_server(proc)


if __name__ == "__main__":
    main()

"""``/health`` latency while hostile GGUF uploads are parsed (not a test).

Starts ``infercast serve``'s app (uvicorn, one worker, the guarded h11 protocol) in a child
process, then sends ``--uploads`` concurrent uploads of the slowest well-formed GGUF header the
limits allow (one array of :data:`~infercast.importers.gguf_metadata.MAX_ARRAY_ITEMS` empty
strings, 32 MB) while asking ``/health`` every 20 ms. Prints the upload statuses (200/422 parsed,
429 refused while busy) and the ``/health`` latency percentiles, measured from a separate
process (so the uploading threads' GIL does not delay the probe). The server's lifespan has
started its parser processes and done its first-use work before it accepts a request.

It also prints the load average and how long the server's event-loop thread waited for a CPU
while runnable during the uploads (Linux ``schedstat``): on a shared machine that time, not the
server's work, is what a late ``/health`` waited for.

``--kind config`` sends config.json uploads instead: a valid Llama config padded with
199,000 pattern strings to just under the 4 MiB limit and the JSON item bound.

Usage: python benchmarks/health_under_uploads.py [--uploads 16] [--kind gguf|config]
Target: every /health answered within 100 ms.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import struct
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_estimate import HOST, _free_port, _start_server, _stop_server, _wait_ready

from infercast.importers.gguf_format import MAX_ARRAY_ITEMS
from infercast.interfaces.api.limits import JSON_UPLOAD_LIMIT
from infercast.safe_json import MAX_JSON_ITEMS

MAX_UPLOADS = 64


def hostile_gguf() -> bytes:
    def s(text: str) -> bytes:
        return struct.pack("<Q", len(text)) + text.encode()

    kv = s("general.architecture") + struct.pack("<I", 8) + s("llama")
    arr = s("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, MAX_ARRAY_ITEMS)
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kv + arr + bytes(8 * MAX_ARRAY_ITEMS)


def hostile_config() -> bytes:
    config: dict[str, object] = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 2048,
        "intermediate_size": 5632,
        "num_hidden_layers": 22,
        "num_attention_heads": 32,
        "num_key_value_heads": 4,
        "vocab_size": 32000,
        "max_position_embeddings": 2048,
        "torch_dtype": "bfloat16",
        "padding": ["(.*.*)*y(.*.*)*y"] * (MAX_JSON_ITEMS - 1000),
    }
    body = json.dumps(config).encode()
    assert len(body) <= JSON_UPLOAD_LIMIT
    return body


PAYLOADS = {
    "gguf": ("GGUF", "evil.gguf", hostile_gguf),
    "config": ("config.json", "config.json", hostile_config),
}


def probe(base: str, done: Any, results: Any) -> None:
    """Ask /health every 20 ms until ``done``; put the latencies (ms) on ``results``."""
    latencies: list[float] = []
    with httpx.Client(base_url=base, timeout=10) as client:
        client.get("/health").raise_for_status()
        results.put([])
        while not done.is_set():
            start = time.perf_counter()
            client.get("/health").raise_for_status()
            latencies.append((time.perf_counter() - start) * 1e3)
            time.sleep(0.02)
    results.put(latencies)


def cpu_wait_ms(pid: int) -> float | None:
    """Milliseconds the main thread of process ``pid`` has spent runnable but not running."""
    try:
        fields = Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()
    except OSError:
        return None
    return int(fields[1]) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=16, help=f"≤ {MAX_UPLOADS}")
    parser.add_argument("--kind", choices=sorted(PAYLOADS), default="gguf")
    args = parser.parse_args()
    kind, filename, make_payload = PAYLOADS[args.kind]
    uploads = max(1, min(args.uploads, MAX_UPLOADS))
    port = _free_port()
    base = f"http://{HOST}:{port}"
    proc = _start_server(port)
    payload = make_payload()
    try:
        _wait_ready(base, proc)
        # The prober is its own process: the uploading threads here hold this process's GIL
        # while they build and send 32 MB bodies, which would delay the probe, not the server.
        ctx = multiprocessing.get_context("spawn")
        done, results = ctx.Event(), ctx.Queue()
        prober = ctx.Process(target=probe, args=(base, done, results))
        prober.start()
        results.get(timeout=60)  # the prober has answered once: start uploading

        def upload(_: int) -> int:
            files = {"file": (filename, payload, "application/octet-stream")}
            return httpx.post(f"{base}/import", files=files, timeout=120).status_code

        started, waited = time.perf_counter(), cpu_wait_ms(proc.pid)
        with ThreadPoolExecutor(uploads) as pool:
            statuses = Counter(pool.map(upload, range(uploads)))
        wall = time.perf_counter() - started
        after = cpu_wait_ms(proc.pid)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        done.set()
        latencies: list[float] = results.get(timeout=60)
        prober.join()
        latencies.sort()

        def pct(p: float) -> float:
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

        verdict = "PASS" if latencies[-1] <= 100 else "MISS"
        print(
            f"{uploads} concurrent {len(payload) / 1e6:.0f} MB hostile {kind} uploads in "
            f"{wall:.1f} s:"
            f" statuses {dict(sorted(statuses.items()))}; /health x{len(latencies)}: "
            f"p50 {pct(0.5):.1f} ms, p90 {pct(0.9):.1f} ms, p99 {pct(0.99):.1f} ms, "
            f"max {latencies[-1]:.1f} ms | target max ≤ 100 ms: {verdict}"
        )
        waited_note = "n/a" if waited is None or after is None else f"{after - waited:.0f} ms"
        print(
            f"load average {load}; server event loop runnable but waiting for a CPU: {waited_note}"
        )
    finally:
        _stop_server(proc)


if __name__ == "__main__":
    main()

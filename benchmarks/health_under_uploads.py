"""``/health`` latency while hostile GGUF uploads are parsed (not a test).

Starts ``infercast serve``'s app (uvicorn, one worker, the guarded h11 protocol) in a child
process, then sends ``--uploads`` concurrent uploads of the slowest well-formed GGUF header the
limits allow (one array of :data:`~infercast.importers.gguf_metadata.MAX_ARRAY_ITEMS` empty
strings, 32 MB) while asking ``/health`` every 20 ms. Prints the upload statuses (200/422 parsed,
429 refused while busy) and the ``/health`` latency percentiles, measured from a separate
process (so the uploading threads' GIL does not delay the probe). The first uploads include
starting the server's parser processes.

Usage: python benchmarks/health_under_uploads.py [--uploads 16]
Target: every /health answered within 100 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing
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

MAX_UPLOADS = 64


def hostile_gguf() -> bytes:
    def s(text: str) -> bytes:
        return struct.pack("<Q", len(text)) + text.encode()

    kv = s("general.architecture") + struct.pack("<I", 8) + s("llama")
    arr = s("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, MAX_ARRAY_ITEMS)
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kv + arr + bytes(8 * MAX_ARRAY_ITEMS)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=16, help=f"≤ {MAX_UPLOADS}")
    args = parser.parse_args()
    uploads = max(1, min(args.uploads, MAX_UPLOADS))
    port = _free_port()
    base = f"http://{HOST}:{port}"
    proc = _start_server(port)
    payload = hostile_gguf()
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
            files = {"file": ("evil.gguf", payload, "application/octet-stream")}
            return httpx.post(f"{base}/import", files=files, timeout=120).status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(uploads) as pool:
            statuses = Counter(pool.map(upload, range(uploads)))
        wall = time.perf_counter() - started
        done.set()
        latencies: list[float] = results.get(timeout=60)
        prober.join()
        latencies.sort()

        def pct(p: float) -> float:
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

        verdict = "PASS" if latencies[-1] <= 100 else "MISS"
        print(
            f"{uploads} concurrent {len(payload) / 1e6:.0f} MB hostile GGUF uploads in "
            f"{wall:.1f} s:"
            f" statuses {dict(sorted(statuses.items()))}; /health x{len(latencies)}: "
            f"p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {latencies[-1]:.1f} ms | "
            f"target max ≤ 100 ms: {verdict}"
        )
    finally:
        _stop_server(proc)


if __name__ == "__main__":
    main()

"""Worked request examples, shown in the OpenAPI schema and replayed by the schema tests."""

from __future__ import annotations

from typing import Any

__all__ = ["ESTIMATE_EXAMPLES", "MODEL_ID_EXAMPLES"]

ESTIMATE_EXAMPLES: dict[str, dict[str, Any]] = {
    "dense": {
        "summary": "Llama 3.3 70B on 4 × H100, TP 4",
        "value": {
            "model": "meta-llama/Llama-3.3-70B-Instruct",
            "hardware": "h100",
            "gpus": 4,
            "tp": 4,
            "isl": 1024,
            "osl": 1024,
            "concurrency": 32,
        },
    },
    "moe": {
        "summary": "Qwen3 30B-A3B on 2 × H200 with expert parallelism, fp8 weights",
        "value": {
            "model": "Qwen/Qwen3-30B-A3B",
            "hardware": "h200",
            "tp": 2,
            "ep": 2,
            "weight_dtype": "fp8",
            "isl": 8192,
            "osl": 1024,
            "concurrency": 64,
        },
    },
    "long_prefill": {
        "summary": "Llama 3.1 8B on 8 × H100, DP 8 with context parallelism 8, a 32k prompt",
        "value": {
            "model": "meta-llama/Llama-3.1-8B-Instruct",
            "hardware": "h100",
            "dp": 8,
            "cp": 8,
            "isl": 32768,
            "osl": 256,
            "concurrency": 1,
        },
    },
    "small": {
        "summary": "TinyLlama on one L40S",
        "value": {
            "model": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
            "hardware": "l40s",
            "isl": 512,
            "osl": 128,
            "concurrency": 1,
        },
    },
}

MODEL_ID_EXAMPLES = ["meta-llama_Llama-3.3-70B-Instruct", "Qwen/Qwen3-30B-A3B"]

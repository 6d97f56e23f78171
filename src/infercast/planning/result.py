"""Typed inputs and outputs of a plan search — shared by ``infercast.search``, the CLI's
``--json`` and ``POST /search``. Every field states its unit.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_GPUS_LIMIT",
    "Constraint",
    "Objective",
    "ParetoPoint",
    "PlanFields",
    "PlanResult",
    "Rejection",
    "SearchRequest",
    "SearchResult",
]

MAX_GPUS_LIMIT = 1024
"""Largest replica a search considers: beyond it the plan space is not a serving question."""

Objective = Literal["throughput_per_gpu", "cost", "gpus"]
Constraint = Literal["memory", "ttft_max_ms", "tpot_max_ms", "min_tokens_per_s_per_user"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchRequest(_Model):
    """Arguments of ``infercast.search`` (and the JSON body of ``POST /search``)."""

    model: str = Field(description="Model id (model_id or Hugging Face id) in the registry.")
    hardware: list[str] = Field(
        min_length=1,
        max_length=16,
        description="Hardware ids or aliases to consider, e.g. ['h100'] (each part once: "
        "'h100' and 'H100-SXM' are one part).",
    )
    gpus: int | None = Field(
        default=None, ge=1, le=MAX_GPUS_LIMIT, description="Exact GPUs of one replica."
    )
    max_gpus: int | None = Field(
        default=None,
        ge=1,
        le=MAX_GPUS_LIMIT,
        description="Largest replica to consider (every GPU count 1..max_gpus); default 8 when "
        "neither gpus nor max_gpus is given.",
    )
    isl: int = Field(ge=1, le=1_000_000, description="Input (prompt) tokens per request.")
    osl: int = Field(ge=1, le=1_000_000, description="Output tokens per request.")
    ttft_max_ms: float | None = Field(
        default=None, gt=0, description="SLA: largest time to first token, ms."
    )
    tpot_max_ms: float | None = Field(
        default=None, gt=0, description="SLA: largest time per output token, ms."
    )
    min_tokens_per_s_per_user: float | None = Field(
        default=None, gt=0, description="SLA: smallest decode speed each user sees, tokens/s."
    )
    users: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        description="Concurrent users to serve: fills in replicas (each replica holds at most "
        "the concurrency that meets the SLA).",
    )
    frameworks: list[str] = Field(
        default_factory=list,
        max_length=4,
        description="Serving engines to consider (vllm, sglang, trtllm); empty: the generic "
        "engine, as `estimate` without a framework.",
    )
    weight_dtypes: list[str] = Field(
        default_factory=list, max_length=6, description="Dense weight formats; empty: checkpoint."
    )
    moe_dtypes: list[str] = Field(
        default_factory=list, max_length=6, description="Expert weight formats; empty: checkpoint."
    )
    kv_dtypes: list[str] = Field(
        default_factory=list, max_length=4, description="KV-cache formats; empty: bf16."
    )
    price_per_gpu_hour: dict[str, float] = Field(
        default_factory=dict,
        description="USD per GPU-hour by hardware id (prices the plans: $/hour, $/M tokens).",
    )
    example_prices: bool = Field(
        default=False,
        description="Price hardware without a given price at the shipped EXAMPLE prices "
        "(illustrative, not quotes; `infercast.planning.prices`).",
    )
    objective: Objective = Field(
        default="throughput_per_gpu",
        description="Order of the plans: output tokens/s per GPU (highest first), cost "
        "($ per million output tokens, lowest first) or gpus (fewest in all, then throughput).",
    )
    top: int = Field(default=10, ge=1, le=200, description="Plans returned.")
    max_plans: int = Field(
        default=100_000, ge=1, le=1_000_000, description="Stop after evaluating this many plans."
    )
    time_limit_s: float = Field(
        default=60.0, gt=0, le=3600, description="Stop after this many seconds of evaluation."
    )


class PlanFields(_Model):
    """A plan and its figures at one concurrency (the same names as `estimate`)."""

    hardware: str = Field(description="Hardware id.")
    gpus: int = Field(description="GPUs of one replica (tp × dp × pp).")
    tp: int = Field(description="Attention tensor-parallel degree.")
    dp: int = Field(description="Attention data-parallel degree.")
    pp: int = Field(description="Pipeline-parallel stages.")
    ep: int = Field(description="MoE expert-parallel degree.")
    moe_tp: int = Field(description="MoE tensor-parallel degree (moe_tp × ep = tp × dp).")
    cp: int = Field(description="Context-parallel degree (divides dp).")
    sp: bool = Field(description="Sequence parallelism in the TP group.")
    weight_dtype: str = Field(description="Dense weight format used.")
    moe_dtype: str | None = Field(description="Expert weight format used (None: dense model).")
    kv_dtype: str = Field(description="KV-cache format used.")
    framework: str = Field(description="Serving engine whose parameters were used.")
    concurrency: int = Field(description="Requests in flight per replica.")
    ttft_ms: float = Field(description="Mean time to first token, ms (as `estimate`).")
    tpot_ms: float = Field(description="Mean time per output token, ms (as `estimate`).")
    output_tokens_per_s_per_gpu: float = Field(
        description="Output tokens/s per GPU (as `estimate`)."
    )
    tokens_per_s_per_user: float = Field(
        description="Decode tokens/s one user sees, 1000 / tpot_ms."
    )
    label: str = Field(description="Short human description, e.g. 'h100 TP4 bf16 kv fp8 vllm'.")
    estimate_args: dict[str, Any] = Field(
        description="Keyword arguments of `infercast.estimate` (and the body of "
        "`POST /estimate`) that reproduce these figures."
    )


class PlanResult(PlanFields):
    """A returned plan: `estimate` figures at its concurrency, replicas and prices."""

    max_concurrency: int = Field(description="Largest concurrency per replica meeting the SLA.")
    limited_by: str = Field(
        description="What stops the concurrency growing: an SLA field, or 'engine capacity' "
        "(KV cache / batch cap)."
    )
    replicas: int = Field(description="Replicas serving `users` (1 without users).")
    total_gpus: int = Field(description="replicas × gpus.")
    e2e_latency_ms: float = Field(description="Mean request latency, ms (as `estimate`).")
    memory_per_gpu_bytes: float = Field(description="Memory of the busiest GPU, bytes.")
    usd_per_hour: float | None = Field(default=None, description="All replicas, USD per hour.")
    usd_per_million_output_tokens: float | None = Field(
        default=None, description="USD per million output tokens: price / tokens per GPU-hour."
    )
    price_source: str | None = Field(default=None, description="'given' or 'EXAMPLE price'.")


class ParetoPoint(PlanFields):
    """A non-dominated (output tokens/s/GPU, tokens/s/user) point meeting the SLA."""


class Rejection(_Model):
    """Why plans were rejected: one SLA limit (or memory), how many, and the nearest miss."""

    constraint: Constraint = Field(description="The SLA field (or 'memory').")
    plans: int = Field(description="Plans this constraint eliminated (at their best case).")
    nearest_miss: str = Field(description="The plan that came closest, and how close.")


class SearchResult(_Model):
    """The result of a plan search (the CLI's `--json`, `POST /search`)."""

    plans: list[PlanResult] = Field(description="Top plans by the objective.")
    best_per_hardware: list[PlanResult] = Field(
        description="The best plan of each hardware id that has one (sizing across parts: "
        "with users and prices, the fewest GPUs or lowest cost per part)."
    )
    pareto: list[ParetoPoint] = Field(description="Ordered by tokens/s per user.")
    evaluated: int = Field(
        description="Valid plans evaluated (those whose weights alone cannot fit their GPUs are "
        "skipped unevaluated, not counted by max_plans, and counted in `rejected` memory)."
    )
    skipped: int = Field(
        default=0,
        description="Plans skipped unevaluated: a floor on their weights per GPU exceeds what "
        "the part's memory leaves them (counted in `rejected` memory, not by max_plans).",
    )
    feasible: int = Field(description="Plans meeting every SLA limit at some concurrency.")
    probes: int = Field(description="Closed-loop steady states solved.")
    rejected: list[Rejection] = Field(description="Per constraint: plans eliminated.")
    truncated: bool = Field(description="Stopped early at max_plans or time_limit_s.")
    notes: list[str] = Field(description="What the search assumed or where it stopped.")

"""``POST /search`` (the best plans under an SLA) and ``POST /launch`` (an engine's command).

A search here is bounded: at most :data:`API_MAX_PLANS` plans and :data:`API_TIME_LIMIT_S`
seconds (lower values in the body are kept), so one request cannot hold the server; the result
says ``truncated`` when a bound stopped it. Routes are plain ``def``: FastAPI runs them in its
thread pool, so a search does not block other requests.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field

from infercast.deployment import Deployment
from infercast.estimation.resolve import resolve
from infercast.parallel.plan import ParallelPlan
from infercast.planning.launch import LaunchPlan, launch_command
from infercast.planning.result import SearchRequest, SearchResult
from infercast.planning.search import run_search

from ..errors import ERROR_RESPONSES
from ..state import ApiState, get_state, validate_hardware_id, validate_model_id

router = APIRouter(tags=["search"], responses=ERROR_RESPONSES)

API_MAX_PLANS = 3000
API_TIME_LIMIT_S = 5.0

_EXAMPLE = {
    "model": "meta-llama/Llama-3.3-70B-Instruct",
    "hardware": ["h100"],
    "max_gpus": 8,
    "isl": 1024,
    "osl": 512,
    "ttft_max_ms": 1000,
    "tpot_max_ms": 30,
    "users": 1000,
}


@router.post("/search", response_model=SearchResult, summary="Find the best plans under an SLA")
def search(
    body: SearchRequest = Body(
        openapi_examples={"llama-70b": {"summary": "70B on H100", "value": _EXAMPLE}}
    ),
    state: ApiState = Depends(get_state),
) -> SearchResult:
    """Every valid plan (TP × DP × PP, MoE TP × EP, formats, frameworks) with its largest
    SLA-meeting concurrency; the top plans by the objective (figures equal `POST /estimate`
    of `estimate_args`), the Pareto front and the why-not summary. Bounded to
    3000 plans and 5 s of work (`truncated` says when a bound stopped it)."""
    validate_model_id(body.model, field_name="model", location="body")
    for hw in body.hardware:
        validate_hardware_id(hw, field_name="hardware", location="body")
    spec = state.get_model(body.model)
    bounded = body.model_copy(
        update={
            "max_plans": min(body.max_plans, API_MAX_PLANS),
            "time_limit_s": min(body.time_limit_s, API_TIME_LIMIT_S),
        }
    )
    return run_search(bounded, spec=spec)


class LaunchRequest(BaseModel):
    """An engine and the plan options of `POST /estimate`: a search plan's `estimate_args`
    plus `engine` is a valid body. With `hardware`, the plan is checked as `POST /estimate`
    checks it (`gpus`, `moe_dtype`, `framework` too); the command does not depend on them.
    They were refused as unknown fields, so `infercast launch`'s flags and this body
    differed."""

    model_config = ConfigDict(extra="forbid")

    engine: Literal["vllm", "sglang", "trtllm"] = Field(description="Serving engine.")
    model: str = Field(description="Model id (model_id or Hugging Face id).")
    hardware: str | None = Field(
        default=None, description="Hardware id (checked when given; the command omits it)."
    )
    gpus: int | None = Field(
        default=None, ge=1, le=1_000_000, description="GPUs of one replica: tp × dp × pp."
    )
    moe_dtype: str | None = Field(default=None, description="Expert weight format (checked).")
    framework: str | None = Field(
        default=None, description="The estimate's engine (checked; `engine` picks the command)."
    )
    tp: int = Field(default=1, ge=1, le=1024, description="Attention tensor-parallel degree.")
    dp: int = Field(default=1, ge=1, le=1024, description="Attention data-parallel degree.")
    pp: int = Field(default=1, ge=1, le=256, description="Pipeline-parallel stages.")
    ep: int = Field(default=1, ge=1, le=1024, description="MoE expert-parallel degree.")
    moe_tp: int | None = Field(default=None, ge=1, le=1024, description="MoE TP degree.")
    cp: int = Field(default=1, ge=1, le=1024, description="Context-parallel degree.")
    sp: bool = Field(default=False, description="Sequence parallelism.")
    weight_dtype: str | None = Field(default=None, description="Dense weight format.")
    kv_dtype: str | None = Field(default=None, description="KV-cache format.")
    concurrency: int = Field(default=64, ge=1, le=1_000_000, description="Requests in flight.")
    isl: int = Field(default=1024, ge=1, le=10_000_000, description="Prompt tokens.")
    osl: int = Field(default=1024, ge=0, le=10_000_000, description="Output tokens.")


class LaunchResponse(BaseModel):
    """The engine's command for the plan."""

    engine: str = Field(description="Serving engine.")
    version: str = Field(description="Engine version whose documented flags are used.")
    argv: list[str] = Field(description="The command, one argument per item.")
    command: str = Field(description="The command as one shell line.")
    extra_options_yaml: str | None = Field(
        description="TensorRT-LLM's --extra_llm_api_options file, when needed."
    )
    notes: list[str] = Field(description="What the command needs besides itself.")


@router.post("/launch", response_model=LaunchResponse, summary="Launch command for a plan")
def launch(body: LaunchRequest, state: ApiState = Depends(get_state)) -> LaunchResponse:
    """The vLLM / SGLang / TensorRT-LLM command serving this plan; 422 naming the reason when
    the engine cannot express it (e.g. context parallelism in vLLM)."""
    validate_model_id(body.model, field_name="model", location="body")
    spec = state.get_model(body.model)
    estimate_only = {"hardware", "gpus", "moe_dtype", "framework"}
    memory: float | None = None  # the part's, where given: SGLang's and vLLM's budgets follow it
    device_name = ""
    if body.hardware is not None:  # the checks of POST /estimate: ids, gpus = tp·dp·pp, formats
        validate_hardware_id(body.hardware, field_name="hardware", location="body")
        fields = body.model_dump(exclude={"engine", "model"}, exclude_none=True)
        resolved = resolve(Deployment.of(model=spec, **fields), registry=state.registry)
        memory, device_name = resolved.hardware.memory_bytes, resolved.hardware.name
    elif body.gpus is not None:  # the plan's arithmetic alone
        ParallelPlan.build(
            **body.model_dump(include={"tp", "dp", "pp", "ep", "moe_tp", "gpus", "cp"}),
            sequence_parallel=body.sp,
        )
    plan = LaunchPlan(
        **body.model_dump(exclude={"engine", "model", *estimate_only}),
        memory_bytes=memory,
        device_name=device_name,
    )
    cmd = launch_command(body.engine, spec, plan)
    return LaunchResponse(
        engine=cmd.engine,
        version=cmd.version,
        argv=cmd.argv,
        command=cmd.command,
        extra_options_yaml=cmd.extra_options_yaml,
        notes=cmd.notes,
    )

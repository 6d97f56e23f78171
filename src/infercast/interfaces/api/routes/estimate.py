"""``POST /estimate``: one serving estimate, exactly ``infercast estimate --json``."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Response

from infercast.estimation.result import EstimateRequest, EstimateResult

from ..engine import run_estimate
from ..errors import ERROR_RESPONSES
from ..examples import ESTIMATE_EXAMPLES
from ..state import ApiState, get_state

router = APIRouter(tags=["estimate"], responses=ERROR_RESPONSES)


@router.post("/estimate", response_model=EstimateResult, summary="Estimate one deployment")
async def estimate(
    body: EstimateRequest = Body(openapi_examples=ESTIMATE_EXAMPLES),  # type: ignore[arg-type]
    state: ApiState = Depends(get_state),
) -> Response:
    """TTFT, TPOT, throughput, memory per GPU and fit for one model, part, plan and load.

    The body takes the Python API's argument names (``infercast.estimate``); units are stated
    on every field of the result.
    """
    # Computed inline: an estimate is a few ms of CPU, cheaper than a thread hop; the JSON is
    # serialised once per distinct request and reused from the cache.
    return Response(content=run_estimate(state, body).json, media_type="application/json")

"""``POST /estimate``: one serving estimate, exactly ``infercast estimate --json``;
``POST /estimate/sweep``: one deployment at several concurrencies in one reply."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Response

from infercast.estimation.result import EstimateRequest, EstimateResult

from ..engine import run_estimate
from ..errors import ERROR_RESPONSES
from ..examples import ESTIMATE_EXAMPLES
from ..schemas import SweepRequest, SweepResponse
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


@router.post(
    "/estimate/sweep", response_model=SweepResponse, summary="One deployment, many concurrencies"
)
async def estimate_sweep(body: SweepRequest, state: ApiState = Depends(get_state)) -> SweepResponse:
    """The estimate at each of ``concurrencies`` (for a throughput curve), in their order.

    Every point shares the deployment, so an invalid one is one 4xx for the whole sweep."""
    fields = body.model_dump(exclude={"concurrencies"})
    results = [
        run_estimate(state, EstimateRequest.model_validate({**fields, "concurrency": c})).result
        for c in body.concurrencies
    ]
    return SweepResponse(results=results)

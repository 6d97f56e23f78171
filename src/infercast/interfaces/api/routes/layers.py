"""``GET /api/layers`` (layer types and their parallelism) and ``POST /layers/metrics``
(per-layer cost of both phases)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query

from infercast.estimation.result import EstimateRequest
from infercast.specs import LAYER_CLASSES, PARALLELISM_KINDS
from infercast.specs.layer_classes import LayerSpecs

from ..engine import run_estimate
from ..errors import ERROR_RESPONSES
from ..examples import ESTIMATE_EXAMPLES
from ..plans import plan_constraints
from ..schemas import LayerClassInfo, LayerMetricsResponse, LayersResponse, LayerTypeInfo
from ..state import ApiState, get_state, validate_model_id

router = APIRouter(tags=["layers"], responses=ERROR_RESPONSES)


def _class_info(cls: type[LayerSpecs]) -> LayerClassInfo:
    return LayerClassInfo(
        layer_class=cls.class_name,
        description=cls.description,
        required_specs=cls.required_specs(),
        optional_specs=cls.optional_specs(),
        supported_parallelism=list(cls.supported_parallelism),
    )


@router.get("/api/layers", response_model=LayersResponse, summary="Layer types and parallelism")
def layers(
    model_id: str | None = Query(
        default=None,
        description="model_id or Hugging Face id; omit for the whole layer-class library.",
    ),
    state: ApiState = Depends(get_state),
) -> LayersResponse:
    """A model's layer types with the parallelism each may use, plus the figures (heads,
    experts, layers) that decide which TP/EP/PP degrees are valid."""
    if model_id is None:
        return LayersResponse(
            model_id=None,
            is_moe=None,
            layer_types=[],
            layer_classes=[_class_info(cls) for cls in LAYER_CLASSES.values()],
            parallelism_kinds=dict(PARALLELISM_KINDS),
            constraints=None,
        )
    validate_model_id(model_id, location="query")
    spec = state.get_model(model_id)
    entries = []
    used: dict[str, type[LayerSpecs]] = {}
    for lt in spec.layer_types:
        cls = type(lt.layer_specs)
        used.setdefault(cls.class_name, cls)
        supported = list(cls.supported_parallelism)
        entries.append(
            LayerTypeInfo(
                name=lt.name,
                layer_class=lt.layer_class,
                count=lt.count,
                parameters=lt.parameter_count,
                supported_parallelism=supported,
                available_parallelism=list(lt.parallelism) if lt.parallelism else supported,
                description=cls.description,
            )
        )
    return LayersResponse(
        model_id=spec.model_id,
        is_moe=spec.is_moe,
        layer_types=entries,
        layer_classes=[_class_info(cls) for cls in used.values()],
        parallelism_kinds=dict(PARALLELISM_KINDS),
        constraints=plan_constraints(spec),
    )


@router.post(
    "/layers/metrics",
    response_model=LayerMetricsResponse,
    summary="Per-layer cost for prefill and decode",
)
async def layer_metrics(
    body: EstimateRequest = Body(openapi_examples=ESTIMATE_EXAMPLES),  # type: ignore[arg-type]
    state: ApiState = Depends(get_state),
) -> LayerMetricsResponse:
    """FLOPs, bytes, communication and time of every layer type for one prefill step (of
    ``isl`` tokens) and one decode step (of the whole batch), on one GPU."""
    result = run_estimate(state, body).result
    return LayerMetricsResponse(
        model_id=result.model_id,
        hardware_id=result.hardware_id,
        plan=result.plan,
        isl=result.isl,
        osl=result.osl,
        concurrency=result.concurrency,
        prefill=result.prefill,
        decode=result.decode,
        bottleneck=result.bottleneck,
        layers=result.layers,
    )

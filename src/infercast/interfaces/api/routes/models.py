"""``GET /models`` and ``GET /models/{model_id}``: the registry, as infercast model specs (v1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path

from ..errors import ERROR_RESPONSES
from ..examples import MODEL_ID_EXAMPLES
from ..schemas import ModelSummary
from ..state import ApiState, get_state, validate_model_id

router = APIRouter(tags=["models"], responses=ERROR_RESPONSES)


@router.get("/models", response_model=list[ModelSummary], summary="List every model")
def list_models(state: ApiState = Depends(get_state)) -> list[ModelSummary]:
    """Every model of the built-in catalog, the user directories and this session's imports."""
    return [
        ModelSummary(
            model_id=spec.model_id,
            hf_model_id=spec.hf_model_id,
            name=spec.name,
            total_params=spec.total_params,
            total_params_formatted=spec.total_params_formatted,
            active_params=spec.active_params,
            is_moe=spec.is_moe,
            num_layers=spec.num_layers,
            source=source,
        )
        for spec, source in state.models()
    ]


@router.get(
    "/models/{model_id:path}",
    response_model=dict[str, Any],
    summary="One model, as an infercast model spec (v1)",
)
def get_model(
    model_id: str = Path(
        description="model_id (e.g. 'meta-llama_Llama-3.3-70B-Instruct') or Hugging Face id "
        "('meta-llama/Llama-3.3-70B-Instruct'); case-insensitive. Only looked up in the "
        "registry, never used as a file path.",
        examples=MODEL_ID_EXAMPLES,
    ),
    state: ApiState = Depends(get_state),
) -> dict[str, Any]:
    """The spec exactly as stored: an infercast model spec (v1)."""
    validate_model_id(model_id)
    return state.get_model(model_id).to_json_dict()

"""``GET /api/options``: the formats (per role), frameworks and deployment fields the estimator
accepts (for pickers and forms)."""

from __future__ import annotations

from fastapi import APIRouter

from infercast.deployment import FIELDS, DeploymentField
from infercast.dtypes import dtype_names
from infercast.estimation.params import FRAMEWORKS
from infercast.estimation.resolve import valid_formats

from ..schemas import DeploymentFieldInfo, OptionsResponse

router = APIRouter(tags=["options"])

CONCURRENCY_SWEEP = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


def _frameworks() -> list[str]:
    """Engines with their own settings; 'generic' is what an absent framework means."""
    return [name for name in FRAMEWORKS if name != "generic"]


@router.get("/api/options", response_model=OptionsResponse, summary="Choices for pickers")
def options() -> OptionsResponse:
    """Formats for weights / experts / KV cache, serving engines, and the concurrency sweep."""
    return OptionsResponse(
        dtypes=dtype_names(),
        formats=valid_formats(),
        deployment_fields=[_field_info(f) for f in FIELDS],
        frameworks=_frameworks(),
        concurrency_sweep=list(CONCURRENCY_SWEEP),
    )


_TYPES = {int: "integer", str: "string", bool: "boolean"}


def _field_info(f: DeploymentField) -> DeploymentFieldInfo:
    base = next((t for t in _TYPES if f.annotation in (t, t | None)), str)
    return DeploymentFieldInfo(
        name=f.name,
        part=f.part,
        type=_TYPES[base],
        required=f.required,
        default=None if f.required else f.default,
        minimum=f.ge,
        maximum=f.le,
        description=f.description,
    )

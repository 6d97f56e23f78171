"""``GET /health``: liveness plus what the process has loaded."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import APIRouter, Depends

from infercast.hardware import list_hardware

from ..schemas import HealthResponse
from ..state import ApiState, get_state

router = APIRouter(tags=["health"])


def package_version() -> str:
    try:
        return version("infercast")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


@router.get("/health", response_model=HealthResponse, summary="Liveness and loaded catalogs")
def health(state: ApiState = Depends(get_state)) -> HealthResponse:
    """Counts of models and parts; skipped user files are named by file name only."""
    return HealthResponse(
        status="ok",
        version=package_version(),
        models=len(state.models()),
        hardware=len(list_hardware()),
        problems=[f"{Path(p.source).name}: {p.message}" for p in state.registry.problems][:50],
    )

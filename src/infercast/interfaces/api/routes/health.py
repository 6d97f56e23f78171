"""``GET /health``: liveness plus what the process has loaded.

It is answered on the event loop itself (``async def``, nothing in it blocks: the version is
read once), not in the worker-thread pool that sync endpoints, upload spooling and file writes
share: a liveness probe must not wait for a free thread, nor for a second thread to be
scheduled on a busy machine.
"""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import APIRouter, Depends

from infercast.hardware import list_hardware

from ..schemas import HealthResponse
from ..state import ApiState, get_state

router = APIRouter(tags=["health"])


@functools.cache
def package_version() -> str:
    """The installed package's version (read from its metadata once: it does file I/O)."""
    try:
        return version("infercast")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


@router.get("/health", response_model=HealthResponse, summary="Liveness and loaded catalogs")
async def health(state: ApiState = Depends(get_state)) -> HealthResponse:
    """Counts of models and parts; skipped user files are named by file name only."""
    return HealthResponse(
        status="ok",
        version=package_version(),
        models=len(state.models()),
        hardware=len(list_hardware()),
        problems=[f"{Path(p.source).name}: {p.message}" for p in state.registry.problems][:50],
    )

"""``GET /api/options``: the dtypes and frameworks the estimator accepts (for pickers)."""

from __future__ import annotations

from fastapi import APIRouter

from infercast.dtypes import dtype_names
from infercast.estimation.params import FRAMEWORKS

from ..schemas import OptionsResponse

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
        frameworks=_frameworks(),
        concurrency_sweep=list(CONCURRENCY_SWEEP),
    )

"""``POST /reconcile``: upload benchmark measurements (CSV), get predictions and their error.

The CSV has the columns of ``../shared/benchmarks/serving-calibration.csv``. Uploads are bounded
(4 MiB, 5,000 rows); a row the model cannot run is reported with its reason, never as a server
error.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile
from starlette.concurrency import run_in_threadpool

from ..errors import ERROR_RESPONSES, ApiError, ErrorProblem
from ..limits import RECONCILE_UPLOAD_LIMIT
from ..reconciling import reconcile_upload
from ..schemas import ReconcileResponse
from ..state import ApiState, get_state

router = APIRouter(tags=["reconcile"], responses=ERROR_RESPONSES)


@router.post(
    "/reconcile",
    response_model=ReconcileResponse,
    summary="Predict benchmark rows and report the error",
)
async def reconcile(
    file: Annotated[
        UploadFile,
        File(
            description="Benchmark CSV (≤ 4 MiB, ≤ 5,000 rows) with the columns of "
            "serving-calibration.csv (model, hardware, isl, osl, concurrency, attention_tp "
            "required); measured columns may be blank."
        ),
    ],
    state: ApiState = Depends(get_state),
) -> ReconcileResponse:
    """Every row predicted with the plan, formats and engine it was measured with; absolute
    percentage error per metric, and median / mean APE overall and by model, hardware,
    framework and (model, hardware) — the same figures as ``infercast reconcile``."""
    data = await file.read(RECONCILE_UPLOAD_LIMIT + 1)
    if len(data) > RECONCILE_UPLOAD_LIMIT:
        message = f"a benchmark CSV is limited to {RECONCILE_UPLOAD_LIMIT:,} bytes"
        raise ApiError(
            413,
            "too_large",
            f"file: {message}",
            [ErrorProblem(field="file", location="body", rule="max_size", message=message)],
        )
    name = re.sub(r"[^A-Za-z0-9._ -]+", "_", (file.filename or "").split("/")[-1])[:80]
    # Seconds of CPU for thousands of rows: off the event loop so other requests still flow.
    return await run_in_threadpool(reconcile_upload, state, data, name or "upload.csv")

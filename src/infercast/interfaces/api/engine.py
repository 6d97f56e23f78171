"""The bridge from requests to the performance model: id checks, look-ups, caching."""

from __future__ import annotations

from typing import Any

from infercast.estimation.result import EstimateRequest
from infercast.parallel.plan import PlanError

from .cache import CachedEstimate
from .plans import plan_constraints
from .state import ApiState, validate_hardware_id, validate_model_id

__all__ = ["run_estimate"]


def run_estimate(state: ApiState, request: EstimateRequest) -> CachedEstimate:
    """Resolve ids (404 with suggestions), call the estimator, cache result and JSON.

    The spec object itself is passed on, so models imported this session (in memory only)
    are estimated exactly like catalog ones.
    """
    fields: dict[str, Any] = request.model_dump()
    validate_model_id(fields["model"], field_name="model", location="body")
    validate_hardware_id(fields["hardware"], field_name="hardware", location="body")
    spec = state.get_model(fields["model"])
    key = (state.generation, request.model_dump_json())
    cached = state.cache.get(key)
    if cached is not None:
        return cached
    kwargs: dict[str, Any] = request.model_dump(exclude={"model"})
    try:
        entry = CachedEstimate.of(state.estimator(spec, **kwargs))
    except PlanError as exc:
        if exc.field == "tp":  # what to give instead, as `infercast estimate` says it
            exc.valid_values = plan_constraints(spec).valid_tp  # type: ignore[attr-defined]
        raise
    state.cache.put(key, entry)
    return entry

"""Serving estimates: step timing, memory, the closed-loop steady state, calibration."""

from infercast.estimation.estimate import estimate, estimate_request, prepare
from infercast.estimation.result import EstimateRequest, EstimateResult

__all__ = ["EstimateRequest", "EstimateResult", "estimate", "estimate_request", "prepare"]

"""infercast: analytical LLM inference performance model.

``infercast.estimate(model=..., hardware=..., tp=..., isl=..., osl=..., concurrency=...)``
returns an :class:`~infercast.estimation.result.EstimateResult`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["estimate", "search"]


def estimate(*args: Any, **kwargs: Any) -> Any:
    """See :func:`infercast.estimation.estimate.estimate` (imported lazily: the CLI starts fast)."""
    from infercast.estimation.estimate import estimate as _estimate

    return _estimate(*args, **kwargs)


def search(*args: Any, **kwargs: Any) -> Any:
    """See :func:`infercast.planning.search.search`: the best plans under an SLA."""
    from infercast.planning.search import search as _search

    return _search(*args, **kwargs)

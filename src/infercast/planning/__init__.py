"""Plan search, sizing, launch commands and sweeps (between interfaces and estimation).

``infercast.planning.search(model, hardware, isl=…, osl=…, …)`` → :class:`SearchResult`.
Everything here reaches the cost model through :mod:`infercast.planning.adapter` only.
"""

from __future__ import annotations

from infercast.planning.result import SearchRequest, SearchResult
from infercast.planning.search import run_search, search

__all__ = ["SearchRequest", "SearchResult", "run_search", "search"]

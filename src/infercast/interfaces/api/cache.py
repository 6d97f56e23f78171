"""A small thread-safe LRU for estimate results.

An estimate is a pure function of the request and the model spec, so identical requests (the
web app re-asks on every input change and sweeps concurrencies) are answered from memory; the
key carries the models generation, so importing a spec invalidates everything before it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from infercast.estimation.result import EstimateResult

__all__ = ["CACHE_SIZE", "CachedEstimate", "EstimateCache"]

CACHE_SIZE = 4096


@dataclass(frozen=True)
class CachedEstimate:
    """A result and its JSON, serialised once so repeated answers cost no re-encoding."""

    result: EstimateResult
    json: bytes

    @classmethod
    def of(cls, result: EstimateResult) -> CachedEstimate:
        return cls(result, result.model_dump_json().encode())


class EstimateCache:
    """Thread-safe LRU of results keyed by (models generation, canonical request)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._data: OrderedDict[tuple[int, str], CachedEstimate] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> CachedEstimate | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple[int, str], value: CachedEstimate) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

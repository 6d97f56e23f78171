"""A small thread-safe LRU for estimate results.

An estimate is a pure function of the request and the model spec, so identical requests (the
web app re-asks on every input change and sweeps concurrencies) are answered from memory; the
key carries the models generation, so importing a spec invalidates everything before it.

The bound is in bytes, not entries: a result's size grows with its spec's layer types (one
entry of a 983-type spec was 4.2 MiB, so 4,096 entries could have been 17 GiB). Each entry is
charged its JSON plus the parsed result kept beside it (measured at about 5× the JSON).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from infercast.estimation.result import EstimateResult

__all__ = ["CACHE_BYTES", "CACHE_SIZE", "CachedEstimate", "EstimateCache"]

CACHE_SIZE = 4096
"""Most entries kept."""
CACHE_BYTES = 64 * 2**20
"""Most bytes kept (charged per entry as :attr:`CachedEstimate.cost_bytes`)."""
_RESULT_OVERHEAD = 6
"""JSON + parsed pydantic result ≈ 6 × the JSON's length (tracemalloc on a MoE result)."""


@dataclass(frozen=True)
class CachedEstimate:
    """A result and its JSON, serialised once so repeated answers cost no re-encoding."""

    result: EstimateResult
    json: bytes

    @classmethod
    def of(cls, result: EstimateResult) -> CachedEstimate:
        return cls(result, result.model_dump_json().encode())

    @property
    def cost_bytes(self) -> int:
        return _RESULT_OVERHEAD * len(self.json)


class EstimateCache:
    """Thread-safe LRU of results keyed by (models generation, canonical request), bounded by
    entries and by bytes; an entry larger than a quarter of the budget is not kept."""

    def __init__(self, size: int = CACHE_SIZE, max_bytes: int = CACHE_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self._data: OrderedDict[tuple[int, str], CachedEstimate] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: tuple[int, str]) -> CachedEstimate | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple[int, str], value: CachedEstimate) -> None:
        if value.cost_bytes > self.max_bytes // 4:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.bytes -= old.cost_bytes
            self._data[key] = value
            self.bytes += value.cost_bytes
            while len(self._data) > self.size or self.bytes > self.max_bytes:
                _, dropped = self._data.popitem(last=False)
                self.bytes -= dropped.cost_bytes

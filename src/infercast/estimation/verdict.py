"""The verdict of an estimate in one word — fits, queues, or does not fit — and why.

``fits`` (the result field) keeps meaning "the deployment fits in memory". But a deployment
that fits only because the engine admits 2 of 64 requests at once is not what its user asked
for: 62 requests wait for a slot, and that wait is in TTFT. So the verdict has three states:

* ``fits`` — memory fits and every request in flight is admitted at once;
* ``queues`` — memory fits but only ``admitted_concurrency`` of ``concurrency`` requests are
  admitted (KV-cache capacity or the engine's batch cap); the rest queue. The mean wait for a
  slot follows from Little's law in the closed loop: ``concurrency`` requests cycle at
  ``requests_per_s``, of which ``admitted`` are in service, so ``(concurrency − admitted) /
  requests_per_s`` seconds are spent waiting;
* ``does_not_fit`` — the memory does not fit (weights, or no room for a single KV cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Verdict", "VerdictState", "serving_verdict"]

VerdictState = Literal["fits", "queues", "does_not_fit"]


@dataclass(frozen=True)
class Verdict:
    state: VerdictState
    admitted_concurrency: int
    queue_wait_ms: float
    reason: str


def serving_verdict(
    *,
    fits: bool,
    fit_reason: str,
    concurrency: int,
    max_concurrency: int,
    engine_cap: int,
    requests_per_s: float,
) -> Verdict:
    """``engine_cap`` is the engine's own limit on sequences in flight (batch cap × DP)."""
    admitted = max(0, min(concurrency, max_concurrency, engine_cap))
    if not fits or max_concurrency == 0:
        return Verdict("does_not_fit", admitted, 0.0, fit_reason)
    if admitted >= concurrency:
        return Verdict("fits", admitted, 0.0, fit_reason)
    waiting = concurrency - admitted
    wait_ms = 1e3 * waiting / requests_per_s if requests_per_s > 0 else 0.0
    if max_concurrency <= engine_cap:
        limit = f"the KV cache holds {max_concurrency:,} sequences"
        change = (
            "add GPUs (higher tp or dp), use an 8-bit KV cache (kv_dtype fp8), use smaller "
            "weight formats, or shorten isl + osl"
        )
    else:
        limit = f"the engine batches at most {engine_cap:,} sequences"
        change = "raise the engine's max_num_seqs or add DP ranks"
    reason = (
        f"queues: only {admitted:,} of {concurrency:,} requests run at once ({limit}); the "
        f"other {waiting:,} wait about {wait_ms:,.0f} ms each for a slot (included in TTFT). "
        f"To serve {concurrency:,} at once: {change}"
    )
    return Verdict("queues", admitted, wait_ms, reason)

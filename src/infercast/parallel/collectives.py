"""Time of the collectives tensor, expert and pipeline parallelism issue.

Model: ``time = latency_terms + bytes_on_the_wire / (link_bandwidth × collective_efficiency)``
with the textbook algorithm factors (``n`` GPUs, ``B`` bytes of the buffer per GPU):

- ring all-reduce: ``2(n−1)/n · B`` bytes, ``2(n−1)`` latency hops;
- tree all-reduce: ``2 · B`` bytes (pipelined halves), ``2·⌈log2 n⌉`` hops;
  the faster of the two is used, as NCCL picks per message size;
- all-gather / reduce-scatter (ring): ``(n−1)/n · B`` bytes, ``n−1`` hops;
- all-to-all: ``(n−1)/n · B`` bytes sent per GPU, ``n−1`` hops;
- point-to-point (pipeline): ``B`` bytes, one hop.

A group that fits in the scale-up domain (NVLink / Infinity Fabric) uses its bandwidth and
latency; a larger group is limited by the scale-out network. A switched domain (NVSwitch) gives
every group the GPU's whole bandwidth; a full mesh (AMD xGMI: 7 links between 8 GPUs) only the
``n − 1`` links to the group's peers. Every call also pays a fixed floor (the efficiency set's
``collective_latency_s``: launch + handshake), so a fitted link efficiency never has to absorb
the latency of the small messages decode sends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from infercast.hardware import Hardware

__all__ = ["Collective", "CollectiveKind", "CollectiveTimer", "collective_time_s"]

CollectiveKind = Literal["all_reduce", "all_gather", "reduce_scatter", "all_to_all", "p2p"]


@dataclass(frozen=True)
class Collective:
    kind: CollectiveKind
    group_size: int
    bytes: float
    """All-reduce and reduce-scatter: the full input tensor on each GPU; all-gather: the full
    gathered output (each GPU contributes ``bytes/n``); all-to-all: what each GPU holds to
    exchange (``(n−1)/n`` of it leaves the GPU); p2p: the bytes sent."""

    def wire_bytes(self) -> float:
        """Bytes each GPU sends (ring algorithms); what the API reports as communication."""
        n = self.group_size
        if n <= 1:
            return 0.0
        if self.kind == "all_reduce":
            return 2 * (n - 1) / n * self.bytes
        if self.kind == "p2p":
            return self.bytes
        return (n - 1) / n * self.bytes


def collective_time_s(
    op: Collective, hardware: Hardware, efficiency: float, floor_s: float = 0.0
) -> float:
    """Seconds of one collective: ``floor_s`` (the fixed cost of a call: launch and the
    GPU-to-GPU handshake) + hops × α + wire bytes / (bandwidth × ``efficiency``).

    Inside the scale-up domain the bandwidth is what the group can drive: all of it through a
    switch, ``(n − 1)`` links of a full mesh (:meth:`ScaleUp.group_bandwidth_bytes_per_s`).
    """
    n = op.group_size
    if n <= 1 or op.bytes <= 0:
        return 0.0
    if n <= hardware.scale_up.domain_size:
        bandwidth = hardware.scale_up.group_bandwidth_bytes_per_s(n)
        latency = hardware.scale_up.latency_s
    else:
        bandwidth = hardware.scale_out.bandwidth_bytes_per_s
        latency = hardware.scale_out.latency_s
    rate = bandwidth * efficiency
    if op.kind == "all_reduce":
        ring = 2 * (n - 1) * latency + 2 * (n - 1) / n * op.bytes / rate
        tree = 2 * math.ceil(math.log2(n)) * latency + 2 * op.bytes / rate
        return floor_s + min(ring, tree)
    if op.kind == "p2p":
        return floor_s + latency + op.bytes / rate
    return floor_s + (n - 1) * latency + (n - 1) / n * op.bytes / rate


class CollectiveTimer:
    """:func:`collective_time_s` for one hardware and efficiency set, with the terms that do
    not depend on the message (bandwidth, latency hops, algorithm factors) computed once per
    (kind, group size): step timing asks for thousands of collectives per plan. The same
    arithmetic in the same order, so the same seconds to the last bit."""

    def __init__(self, hardware: Hardware, efficiency: float, floor_s: float = 0.0):
        self.hardware, self.efficiency, self.floor_s = hardware, efficiency, floor_s
        self._terms: dict[tuple[str, int], tuple[float, ...]] = {}

    def _terms_of(self, kind: str, n: int) -> tuple[float, ...]:
        hw = self.hardware
        if n <= hw.scale_up.domain_size:
            bandwidth = hw.scale_up.group_bandwidth_bytes_per_s(n)
            latency = hw.scale_up.latency_s
        else:
            bandwidth = hw.scale_out.bandwidth_bytes_per_s
            latency = hw.scale_out.latency_s
        rate = bandwidth * self.efficiency
        if kind == "all_reduce":
            ring = (2 * (n - 1) * latency, 2 * (n - 1) / n)
            return (rate, *ring, 2 * math.ceil(math.log2(n)) * latency)
        if kind == "p2p":
            return (rate, self.floor_s + latency)
        return (rate, self.floor_s + (n - 1) * latency, (n - 1) / n)

    def time_s(self, kind: str, n: int, nbytes: float) -> float:
        """Seconds of one ``kind`` collective of ``nbytes`` over ``n`` GPUs."""
        if n <= 1 or nbytes <= 0:
            return 0.0
        terms = self._terms.get((kind, n))
        if terms is None:
            terms = self._terms[(kind, n)] = self._terms_of(kind, n)
        if kind == "all_reduce":
            rate, ring_latency, ring_factor, tree_latency = terms
            ring = ring_latency + ring_factor * nbytes / rate
            tree = tree_latency + 2 * nbytes / rate
            return self.floor_s + (tree if tree < ring else ring)  # min(ring, tree), ties too
        if kind == "p2p":
            return terms[1] + nbytes / terms[0]
        return terms[1] + terms[2] * nbytes / terms[0]

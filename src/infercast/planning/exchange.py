"""What the forked workers of one search tell each other: the plans each has solved.

A worker's pruning (:mod:`.prune`) may rest on any subset of the other plans' outcomes, so
each worker publishes what it records of a plan (its rank when solved, its SLA-meeting
probes) and takes in the others' news before each plan. The result cannot depend on when
news arrives — only the work saved does — so the exchange is best effort: an inbox is read
without waiting, and a worker that has finished may leave news unread.
"""

from __future__ import annotations

import queue
from typing import Any

__all__ = ["Exchange"]


class Exchange:
    """One inbox per share of the plans; a worker binds to its share's inbox."""

    def __init__(self, shares: int, context: Any):
        self.inboxes = [context.Queue() for _ in range(shares)]
        self.me = 0

    def bind(self, me: int) -> None:
        """Serve share ``me`` (in the worker). Its news is sent without being waited for at
        exit (``cancel_join_thread``): the pool is terminated once the results are in."""
        self.me = me
        for inbox in self.inboxes:
            inbox.cancel_join_thread()

    def publish(self, news: tuple[Any, ...]) -> None:
        for i, inbox in enumerate(self.inboxes):
            if i != self.me:
                inbox.put(news)

    def drain(self) -> list[tuple[Any, ...]]:
        """The news that has arrived (none waited for)."""
        out = []
        inbox = self.inboxes[self.me]
        while True:
            try:
                out.append(inbox.get_nowait())
            except queue.Empty:
                return out

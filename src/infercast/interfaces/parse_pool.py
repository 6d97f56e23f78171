"""The API's upload parses in worker processes, so a parse never holds the server's GIL.

A thread was not enough: parsing a hostile GGUF header is pure Python and held the GIL, so
``/health`` waited up to 259 ms behind it. A ``ProcessPoolExecutor`` (``spawn`` context: no
copy of the server's threads or sockets) runs at most ``max_workers`` parses at once. The
app's lifespan starts it (:meth:`ParsePool.start`: every worker, each importing the parser
modules) before the server accepts a request, because starting it on the first upload stalled
the event loop (spawning processes and importing ``multiprocessing`` there: 17–101 ms per stall
on the shared machine); a pool used without ``start`` still starts on first use. The lifespan
shuts it down, or interpreter exit does, killing the workers first so that none outlives the
server. Workers run at a lower CPU priority than the server, set before they import anything
heavy (this module needs only the standard library). A parse over its time limit gets
its worker killed and the pool replaced; a parse that lost its worker to that is retried once
on the new pool. Each worker also exits by itself when the server process is gone.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import multiprocessing
import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

__all__ = ["PARSE_TIMEOUT_S", "ParsePool", "ParseTimeoutError", "ParseWorkerDiedError"]

PARSE_TIMEOUT_S = 30.0
"""Wall time one parse may take; the bounded parsers need a few seconds at their limits."""
_PARENT_POLL_S = 0.5
_WORKER_NICENESS = 10

T = TypeVar("T")


class ParseTimeoutError(Exception):
    """The parse ran over its time limit; its worker was killed."""


class ParseWorkerDiedError(Exception):
    """The worker process exited during the parse."""


def _init_worker(parent_pid: int, preload: tuple[str, ...] = ()) -> None:
    """Worker initializer: yield the CPU to the server's event loop (a lower priority, so
    ``/health`` is not queued behind parses on a busy machine), then import ``preload`` (at that
    priority, before the first parse needs it), and leave when the server process is gone
    (even if it was killed)."""
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(_WORKER_NICENESS)
    for name in preload:
        importlib.import_module(name)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="infercast-parent-watch", daemon=True).start()


def _kill(executor: ProcessPoolExecutor, wait: bool) -> None:
    # ProcessPoolExecutor has no public way to stop a running worker before Python 3.14.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        process.kill()
    executor.shutdown(wait=wait, cancel_futures=True)
    if wait:
        for process in processes:
            process.join()


class ParsePool:
    """A process pool of ``max_workers`` workers with a per-parse time limit; each worker
    imports the modules named in ``preload`` when it starts."""

    def __init__(
        self, max_workers: int, timeout_s: float = PARSE_TIMEOUT_S, preload: tuple[str, ...] = ()
    ) -> None:
        self.max_workers = max_workers
        self.timeout_s = timeout_s
        self.preload = preload
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._generation = 0
        self._discarded: set[int] = set()
        _LIVE.add(self)

    def _current(self) -> tuple[ProcessPoolExecutor, int]:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.max_workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                    initargs=(os.getpid(), self.preload),
                )
                self._generation += 1
            return self._executor, self._generation

    def start(self) -> None:
        """Start every worker now (not on the first parse); returns without waiting for them
        to be ready. A no-op while the pool's workers are running."""
        executor, _ = self._current()
        with self._lock:
            running = len(getattr(executor, "_processes", None) or {})
        # The executor starts a worker for each task submitted while none is idle.
        for _ in range(self.max_workers - running):
            executor.submit(os.getpid)

    def _discard(self, generation: int) -> None:
        """Kill the workers of pool ``generation`` (if still current); the next parse starts a
        new pool."""
        with self._lock:
            if self._executor is None or generation != self._generation:
                return
            executor, self._executor = self._executor, None
            self._discarded.add(generation)
        _kill(executor, wait=False)

    def worker_pids(self) -> list[int]:
        """The live worker processes' ids (for tests and diagnostics)."""
        with self._lock:
            processes = getattr(self._executor, "_processes", None) or {}
            return [p for p in processes if p is not None]

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker; ``ParseTimeoutError`` past the limit,
        ``ParseWorkerDiedError`` if the worker exited."""
        for attempt in range(2):
            executor, generation = self._current()
            try:
                future = executor.submit(fn, *args)
                return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
            except TimeoutError:
                self._discard(generation)
                raise ParseTimeoutError from None
            except BrokenProcessPool:
                with self._lock:
                    replaced = generation in self._discarded  # by another parse's time-out
                if not replaced or attempt:
                    self._discard(generation)
                    raise ParseWorkerDiedError from None
        raise AssertionError("unreachable")

    def shutdown(self) -> None:
        """Kill the workers and wait until they are gone; a later parse starts a new pool."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            _kill(executor, wait=True)


_LIVE: weakref.WeakSet[ParsePool] = weakref.WeakSet()


def _shutdown_all() -> None:
    for pool in list(_LIVE):
        pool.shutdown()


# concurrent.futures joins pool workers (waiting for running parses) in a threading-exit hook,
# which runs before atexit; ours is registered later, so it runs first (they run in reverse).
_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_shutdown_all)
atexit.register(_shutdown_all)

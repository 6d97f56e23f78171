"""What the forked workers of one search tell each other: the plans each has solved.

A worker's pruning (:mod:`.prune`) may rest on any subset of the other plans' outcomes, so
each worker publishes what it records of a plan (its rank when solved, its SLA-meeting
probes) and takes in the others' news before each plan. The result cannot depend on when
news arrives — only the work saved does — so the exchange is best effort: an inbox is read
without waiting, news that finds an inbox full is dropped, and a worker that has finished
may leave news unread.

Each inbox is a pipe written without a helper thread: a message of at most ``PIPE_BUF``
bytes written to a non-blocking pipe goes in whole or not at all (POSIX), so a reader never
sees part of one and a writer never waits. (A ``multiprocessing.Queue`` hands each message
to a feeder thread; on a loaded machine the worker then waited for that thread's turn on the
GIL — up to a third of a worker's time in the R1 benchmark.) Long news is sent in parts:
the probes of one message travel as several, each a complete piece of news.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import select
import struct

from infercast.planning.adapter import Probe

__all__ = ["Exchange"]

_HEADER = struct.Struct("<I")
_ATOMIC = getattr(select, "PIPE_BUF", 512)
"""Bytes a pipe write keeps whole (POSIX guarantees at least 512)."""
_PROBES_PER_MESSAGE = 8
"""Probes per message: a message of plain floats stays well under ``PIPE_BUF``."""

_PIPE_BYTES = 1 << 20
"""Inbox size asked for where the system allows it (Linux's default limit): a worker busy with
its own first pass may receive ~600 messages (~60 KB) before it reads any."""

News = tuple[str, int, Probe | None, tuple[Probe, ...]]
"""(hardware, GPUs, the plan's final probe or None, its SLA-meeting probes)."""


def _flat(p: Probe) -> tuple[int, float, float, float, float]:
    return (
        p.concurrency,
        p.ttft_ms,
        p.tpot_ms,
        p.output_tokens_per_s_per_gpu,
        p.tokens_per_s_per_user,
    )


class Exchange:
    """One inbox (a pipe) per share of the plans; a worker binds to its share's inbox."""

    def __init__(self, shares: int):
        self.pipes = [os.pipe() for _ in range(shares)]
        for read, write in self.pipes:
            os.set_blocking(read, False)
            os.set_blocking(write, False)
            with contextlib.suppress(AttributeError, OSError):  # Linux: room for a search's
                fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)  # news (else 64 KiB)
        self.me = 0
        self._pending = b""

    def bind(self, me: int) -> None:
        """Serve share ``me`` (in the worker)."""
        self.me = me

    def publish(self, news: News) -> None:
        hardware, gpus, final, passing = news
        flat = [_flat(p) for p in passing]
        n = _PROBES_PER_MESSAGE
        parts = [tuple(flat[i : i + n]) for i in range(0, len(flat), n)] or [()]
        messages = [(hardware, gpus, None if final is None else _flat(final), parts[0])]
        messages += [("", 0, None, part) for part in parts[1:]]  # probes only: no rank
        for message in messages:
            payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
            frame = _HEADER.pack(len(payload)) + payload
            if len(frame) > _ATOMIC:
                continue  # cannot be written whole: dropped (best effort)
            for i, (_, write) in enumerate(self.pipes):
                if i != self.me:
                    with contextlib.suppress(BlockingIOError):  # full: dropped (best effort)
                        os.write(write, frame)

    def drain(self) -> list[News]:
        """The news that has arrived (none waited for)."""
        read = self.pipes[self.me][0]
        data = self._pending
        while True:
            try:
                chunk = os.read(read, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        out: list[News] = []
        at = 0
        while len(data) - at >= _HEADER.size:
            (size,) = _HEADER.unpack_from(data, at)
            end = at + _HEADER.size + size
            if end > len(data):
                break
            hardware, gpus, final, passing = pickle.loads(data[at + _HEADER.size : end])
            out.append(
                (
                    hardware,
                    gpus,
                    None if final is None else Probe(*final),
                    tuple(Probe(*p) for p in passing),
                )
            )
            at = end
        self._pending = data[at:]
        return out

    def close(self) -> None:
        """Close the pipes (in the process that made them, once the workers are done)."""
        for read, write in self.pipes:
            os.close(read)
            os.close(write)

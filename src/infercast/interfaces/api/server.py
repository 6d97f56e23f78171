"""The HTTP server's own guards, below the app: a deadline for request headers and JSON for
malformed HTTP.

uvicorn's h11 protocol waits for a request's headers forever (1,000 half-sent requests were
held for 70 s, and would have been held for as long as the clients liked), and answers bytes
that are not HTTP with a plain-text 400. :class:`GuardedH11Protocol` closes a connection whose
request headers are not complete :data:`HEADER_TIMEOUT_S` after it opened (or after its last
response), and answers malformed HTTP with the API's JSON error body. ``infercast serve`` and
the load benchmark run with it (``uvicorn.run(..., http=GuardedH11Protocol)``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_TIMEOUT_S", "GuardedH11Protocol"]

HEADER_TIMEOUT_S = 10.0
"""Seconds a client has to send a request's headers (a real client needs milliseconds)."""

_MALFORMED = json.dumps(
    {
        "error": "invalid_input",
        "detail": "malformed HTTP request",
        "problems": [],
        "suggestions": [],
    }
).encode()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-header deadline and a JSON 400."""

    header_timeout_s: float = HEADER_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_late(self) -> None:
        self._header_deadline = None
        idle = self.cycle is None or self.cycle.response_complete
        if idle and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._cancel_header_deadline()  # headers complete: the request is being served

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_MALFORMED)).encode()),
            (b"connection", b"close"),
        ]
        try:
            for event in (
                h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                h11.Data(data=_MALFORMED),
                h11.EndOfMessage(),
            ):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:
            pass  # a response was already under way: just close
        self.transport.close()

"""First-use work done at start-up, before the server accepts a request.

Much of what a request needs is built the first time a request needs it, on the event loop:
FastAPI builds a router's routes (their pydantic request models) on the first request that
reaches the router, and reads and tokenizes an endpoint's source file on its first call;
anyio imports its thread backend on the first call into a worker thread; the multipart parser
and ``multiprocessing`` are imported on the first upload. On the shared 2-core machine the first
upload stalled the event loop for 120–300 ms this way while ``/health`` waited (measured by
sampling the event loop thread's stack whenever a 2 ms heartbeat ran late). :func:`warm_up`
does it all once, at start-up: it builds the OpenAPI document (which builds every route), and
sends an empty upload and a ``/health`` through the whole app in-process — the upload takes the
route's real path up to its size checks and is refused (422, nothing is stored).
"""

from __future__ import annotations

import logging
from urllib.parse import unquote

from fastapi import FastAPI
from starlette.types import ASGIApp, Message

__all__ = ["WARM_UP_REQUESTS", "asgi_call", "warm_up"]

log = logging.getLogger("infercast.api")

_BOUNDARY = "infercast-warm-up"
_EMPTY_UPLOAD = (
    f"--{_BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="warm-up.json"\r\n'
    "Content-Type: application/json\r\n\r\n"
    f"\r\n--{_BOUNDARY}--\r\n"
).encode()

WARM_UP_REQUESTS: tuple[tuple[str, str, str, bytes], ...] = (
    ("GET", "/health", "", b""),
    ("POST", "/import", f"multipart/form-data; boundary={_BOUNDARY}", _EMPTY_UPLOAD),
)
"""(method, path, content type, body) of each request :func:`warm_up` sends."""


async def asgi_call(
    app: ASGIApp,
    method: str,
    raw_path: str,
    chunks: list[bytes],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> list[Message]:
    """Send one request through ``app`` in-process, as uvicorn would (``Host: localhost``, the
    path percent-decoded once, the body in ``chunks``); return the messages it sent."""
    path, _, query = raw_path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"localhost"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }
    parts = list(chunks)
    messages: list[Message] = []

    async def receive() -> Message:
        if parts:
            chunk = parts.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(parts)}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, send)
    return messages


async def _status(app: FastAPI, method: str, path: str, content_type: str, body: bytes) -> int:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    try:
        messages = await asgi_call(app, method, path, [body], headers)
    except Exception as exc:  # a broken route must not stop the server from starting
        log.warning("warm-up %s %s failed: %s", method, path, exc)
        return 500
    return next((m["status"] for m in messages if m["type"] == "http.response.start"), 0)


async def warm_up(app: FastAPI) -> list[int]:
    """Do the first-use work of every route and of an upload now; returns the statuses of
    :data:`WARM_UP_REQUESTS` (200 and 422 when all is well; a request that fails is logged and
    counted as 500, and the server starts anyway)."""
    app.openapi()
    return [await _status(app, *request) for request in WARM_UP_REQUESTS]

"""Request-body size limits, enforced before any route parses a byte.

A declared ``Content-Length`` over the limit is refused at once; a body without one (chunked)
is counted as it streams and cut off at the limit. Either way the client gets 413 with the
usual error body, and the route never sees a partial body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "GGUF_UPLOAD_LIMIT",
    "JSON_UPLOAD_LIMIT",
    "PATH_BODY_LIMITS",
    "RECONCILE_UPLOAD_LIMIT",
    "BodySizeLimitMiddleware",
    "UploadSlotsMiddleware",
]

MiB = 2**20
DEFAULT_BODY_LIMIT = 1 * MiB
"""JSON request bodies (estimate, layer metrics): a few hundred bytes in practice."""
JSON_UPLOAD_LIMIT = 4 * MiB
"""An uploaded config.json / spec (the registry's file limit too)."""
GGUF_UPLOAD_LIMIT = 64 * MiB
"""An uploaded GGUF header (metadata + tensor infos; real ones are a few MiB to ~20 MiB)."""
RECONCILE_UPLOAD_LIMIT = 4 * MiB
"""A benchmark CSV (5,000 rows of ~250 bytes is ~1.3 MiB)."""
_MULTIPART_SLACK = 64 * 2**10

PATH_BODY_LIMITS: dict[str, int] = {
    "/import": GGUF_UPLOAD_LIMIT + _MULTIPART_SLACK,
    "/reconcile": RECONCILE_UPLOAD_LIMIT + _MULTIPART_SLACK,
}


def _too_large_body(limit: int) -> bytes:
    return json.dumps(
        {
            "error": "too_large",
            "detail": f"request body is over the {limit:,}-byte limit of this endpoint",
            "problems": [],
            "suggestions": [],
        }
    ).encode()


class BodySizeLimitMiddleware:
    """Pure ASGI middleware: 413 for bodies over the limit of their path."""

    def __init__(
        self,
        app: ASGIApp,
        default_limit: int = DEFAULT_BODY_LIMIT,
        path_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.path_limits = dict(PATH_BODY_LIMITS if path_limits is None else path_limits)

    def limit_for(self, path: str) -> int:
        return self.path_limits.get(path.rstrip("/") or "/", self.default_limit)

    async def _reject(self, send: Send, limit: int) -> None:
        body = _too_large_body(limit)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = value.decode("latin-1").strip()
                if not declared.isdigit() or int(declared) > limit:
                    await self._reject(send, limit)
                    return

        received = 0
        over = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if not over:
                await send(message)
            elif not replaced and message["type"] == "http.response.start":
                replaced = True
                await self._reject(send, limit)

        await self.app(scope, limited_receive, guarded_send)
        if over and not replaced:
            await self._reject(send, limit)


_BUSY = json.dumps(
    {
        "error": "busy",
        "detail": "file: the server is handling as many uploads as it allows at once; retry "
        "shortly",
        "problems": [
            {"field": "file", "location": "body", "rule": "busy", "message": "retry shortly"}
        ],
        "suggestions": [],
    }
).encode()


class UploadSlotsMiddleware:
    """Pure ASGI middleware: at most ``slots`` uploads (``POST`` to ``paths``) in the app at
    once — body receipt, multipart parsing and the parse itself — and 429 at once beyond,
    before a byte of the body is read. ``slots`` is a ``threading.Semaphore`` (the app state's
    ``parse_slots``)."""

    def __init__(self, app: ASGIApp, slots: Any, paths: tuple[str, ...] = ("/import",)) -> None:
        self.app = app
        self.slots = slots
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or (scope["path"].rstrip("/") or "/") not in self.paths
        ):
            await self.app(scope, receive, send)
            return
        if not self.slots.acquire(blocking=False):
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_BUSY)).encode()),
                        (b"retry-after", b"1"),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _BUSY})
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()

"""Plain HTTP semantics the routes do not give by themselves: HEAD, and redirects that never
reflect the ``Host`` header.

FastAPI routes answer GET only, so ``HEAD /`` was a 405; here a HEAD is served as the GET it
mirrors with the body dropped (headers, Content-Length included, unchanged). Starlette builds
its slash redirects (``/health/`` → ``/health``, ``/static`` → ``/static/``) from the request's
``Host``; the ``Location`` is cut to path and query, which every client resolves against the
URL it asked, so a forged Host never comes back in a response.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HttpSemanticsMiddleware", "relative_location"]


def relative_location(location: str) -> str:
    """``http://evil/x?y`` → ``/x?y`` (only the path and query are kept)."""
    parts = urlsplit(location)
    path = "/" + parts.path.lstrip("/")  # "//evil" must not become a scheme-relative URL
    return path + (f"?{parts.query}" if parts.query else "")


class HttpSemanticsMiddleware:
    """Pure ASGI middleware: HEAD as GET without a body; relative redirect locations."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        inner = {**scope, "method": "GET"} if head else scope

        async def send_adjusted(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = MutableHeaders(scope=message)
                if "location" in headers:
                    headers["location"] = relative_location(headers["location"])
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(inner, receive, send_adjusted)

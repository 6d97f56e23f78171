"""Which hosts and origins may talk to the service: DNS rebinding and cross-site requests.

The service has no accounts, so a web page in any browser tab could otherwise drive it: a
cross-site ``POST /import`` (a plain multipart form needs no CORS pre-flight) replaced built-in
models for every user, and a page on a rebinding domain could read answers. Two checks stop that:

* the ``Host`` header must name a configured host — the bound host and ``localhost`` /
  ``127.0.0.1`` / ``::1`` by default, plus ``--allowed-host`` (``*`` turns the check off). A
  server bound to every interface (``0.0.0.0``, ``::``) also accepts IP-literal hosts: DNS
  rebinding needs a name, and such a server is meant to be reached by address;
* a state-changing request (any method but GET, HEAD, OPTIONS) carrying an ``Origin`` must come
  from the page's own origin or a configured CORS origin; ``Origin: null`` and
  ``Sec-Fetch-Site: cross-site`` without an allowed origin are refused. Requests without either
  header (curl, scripts, the CLI) are not browsers and pass.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DEFAULT_HOSTS", "HostOriginMiddleware", "host_name"]

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})


def host_name(host: str) -> str:
    """``Host`` header → lower-case name without port or IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _error(status: int, error: str, detail: str) -> bytes:
    body = {"error": error, "detail": detail, "problems": [], "suggestions": []}
    return json.dumps(body).encode()


class HostOriginMiddleware:
    """Pure ASGI middleware: 400 for an unknown ``Host``, 403 for a cross-site write."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Iterable[str] = (),
        bind_host: str | None = None,
        allowed_origins: Iterable[str] = (),
    ) -> None:
        self.app = app
        hosts = {host_name(h) for h in (*DEFAULT_HOSTS, *allowed_hosts) if h.strip()}
        self.any_host = "*" in hosts
        self.any_ip = bind_host is not None and bind_host.strip() in _WILDCARD_BINDS
        if bind_host and not self.any_ip:
            hosts.add(host_name(bind_host))
        self.hosts = frozenset(hosts)
        self.origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)

    def host_allowed(self, host: str) -> bool:
        name = host_name(host)
        return self.any_host or name in self.hosts or (self.any_ip and _is_ip(name))

    def origin_allowed(self, origin: str, host: str) -> bool:
        origin = origin.strip().rstrip("/").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc == host.strip().lower()

    async def _reject(self, send: Send, status: int, error: str, detail: str) -> None:
        body = _error(status, error, detail)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if not self.host_allowed(host):
            await self._reject(
                send,
                400,
                "invalid_host",
                "Host header names a host this server does not answer for (start it with "
                "--allowed-host NAME to add one)",
            )
            return
        if scope["method"] not in _SAFE_METHODS:
            origin = headers.get("origin")
            cross_site = headers.get("sec-fetch-site") == "cross-site"
            allowed = self.origin_allowed(origin, host) if origin is not None else not cross_site
            if not allowed:
                await self._reject(
                    send,
                    403,
                    "forbidden",
                    "cross-origin request refused: this server changes state only for its own "
                    "pages and configured --cors-origin origins",
                )
                return
        await self.app(scope, receive, send)

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

Both headers are parsed strictly, by hand (no regular expression, linear in their length): a
host is a bracketed IPv6 address, an IPv4 address or a DNS name (labels of letters, digits and
``-``), followed by nothing or ``:port``; an origin is ``http`` or ``https``, ``://`` and such a
host, nothing more. Anything else — ``[::1]evil.com``, ``localhost:8311@evil.com``, a path, a
second header of the same name — is refused naming the header (400 ``invalid_host`` /
``invalid_origin``), whatever the name it starts with. ``Sec-Fetch-Site`` is compared as the
lower-case token the Fetch standard defines.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from string import ascii_lowercase, digits

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DEFAULT_HOSTS", "HostOriginMiddleware", "host_name", "parse_host", "parse_origin"]

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})
_LABEL = frozenset(ascii_lowercase + digits + "-")
_DIGITS = frozenset(digits)
_OWS = " \t"
_SHOWN = 100
"""Characters of a refused header value quoted in the error (the rest is cut)."""

Host = tuple[str, int | None]
"""A parsed host: lower-case name (an IPv6 address without brackets, compressed) and port."""


def _port(text: str) -> tuple[bool, int | None]:
    """What follows a host: ``""`` → (True, None); ``":"`` and 1–5 digits up to 65535 →
    (True, port); anything else (``":"`` alone, ``":x"``, ``"@evil.com"``) → (False, None)."""
    if not text:
        return True, None
    digits_ = text[1:]
    if text[0] != ":" or not 0 < len(digits_) <= 5 or not set(digits_) <= _DIGITS:
        return False, None
    port = int(digits_)
    return (True, port) if port <= 65535 else (False, None)


def _dns_name(name: str) -> bool:
    """Labels of letters, digits and inner hyphens, 1–63 characters each, 253 in all (an IPv4
    address is one by these rules; a trailing dot is refused)."""
    if not name or len(name) > 253:
        return False
    for label in name.split("."):
        if not 0 < len(label) <= 63 or not set(label) <= _LABEL:
            return False
        if label[0] == "-" or label[-1] == "-":
            return False
    return True


def parse_host(value: str) -> Host | None:
    """A ``Host`` value (``host[:port]``) → ``(name, port)``; None when it is anything else.

    ``[IPv6]`` followed by nothing or ``:port``; an IPv4 address or a DNS name, with an optional
    numeric port. No user info, path, query, zone id, non-ASCII or other characters."""
    text = value.strip(_OWS)
    if not text.isascii():
        return None
    text = text.lower()
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            return None
        inner, rest = text[1:close], text[close + 1 :]
        ok, port = _port(rest)  # "[::1]evil.com" is refused here
        if not ok or "%" in inner:  # no zone id
            return None
        try:
            return ipaddress.IPv6Address(inner).compressed, port
        except ValueError:
            return None
    colon = text.find(":")
    name, rest = (text, "") if colon < 0 else (text[:colon], text[colon:])
    ok, port = _port(rest)  # "localhost:8311@evil.com" is refused here
    if not ok or not _dns_name(name):
        return None
    return name, port


def parse_origin(value: str) -> tuple[str, Host] | None:
    """An ``Origin`` value → ``(scheme, (name, port))`` for ``http``/``https`` origins; None
    for anything else (``null`` included: an opaque origin is no host)."""
    text = value.strip(_OWS)
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        return None
    host = parse_host(rest) if rest == rest.strip(_OWS) else None
    return (scheme, host) if host is not None else None


def host_name(host: str) -> str:
    """A configured host (``--allowed-host``, the bound host) → the name :func:`parse_host`
    gives a ``Host`` naming it: lower-case, without port or IPv6 brackets (a bare IPv6 address
    is taken as one). A value that names no host is kept lower-cased (no ``Host`` matches it)."""
    text = host.strip().lower()
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError:
        pass
    parsed = parse_host(text)
    return parsed[0] if parsed is not None else text


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _shown(value: str) -> str:
    """A refused header value as the error quotes it: escaped, at most :data:`_SHOWN` chars."""
    cut = value[:_SHOWN]
    return ascii(cut) + (" (cut)" if len(value) > _SHOWN else "")


def _error(status: int, error: str, detail: str) -> bytes:
    body = {"error": error, "detail": detail, "problems": [], "suggestions": []}
    return json.dumps(body).encode()


class HostOriginMiddleware:
    """Pure ASGI middleware: 400 for a malformed or unknown ``Host`` and for a malformed
    ``Origin`` of a state-changing request, 403 for a cross-site write."""

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
        self.origins = frozenset(o.strip().rstrip("/").lower() for o in allowed_origins)

    def host_allowed(self, host: str) -> bool:
        """Whether a ``Host`` value is well formed and names a host this server answers for."""
        parsed = parse_host(host)
        if parsed is None:
            return False
        name = parsed[0]
        return self.any_host or name in self.hosts or (self.any_ip and _is_ip(name))

    def origin_allowed(self, origin: str, host: str) -> bool:
        """Whether a well-formed ``Origin`` is a configured one or the page's own (the host and
        port of ``Host``)."""
        parsed = parse_origin(origin)
        if parsed is None:
            return False
        if origin.strip(_OWS).lower() in self.origins:
            return True
        return parsed[1] == parse_host(host)

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

    def _refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        """Why the request is refused (status, error, detail), or None."""
        seen: dict[str, list[str]] = {}
        for key, value in scope["headers"]:
            name = key.decode("latin-1").lower()
            if name in ("host", "origin", "sec-fetch-site"):
                seen.setdefault(name, []).append(value.decode("latin-1"))
        hosts = seen.get("host", [])
        if len(hosts) != 1:
            what = "no Host header" if not hosts else f"{len(hosts)} Host headers"
            return 400, "invalid_host", f"{what}: a request names exactly one host"
        host = hosts[0]
        if parse_host(host) is None:
            return (
                400,
                "invalid_host",
                f"Host header {_shown(host)} is not a host: give a DNS name, an IPv4 address "
                "or a bracketed IPv6 address, optionally followed by :port (nothing else)",
            )
        if not self.host_allowed(host):
            return (
                400,
                "invalid_host",
                f"Host header {_shown(host)} names a host this server does not answer for "
                "(start it with --allowed-host NAME to add one)",
            )
        if scope["method"] in _SAFE_METHODS:
            return None
        origins = seen.get("origin", [])
        if len(origins) > 1:
            return 400, "invalid_origin", f"{len(origins)} Origin headers: a request has one"
        fetch_sites = seen.get("sec-fetch-site", [])
        cross_site = any(v.strip(_OWS).lower() == "cross-site" for v in fetch_sites)
        if not origins:
            if cross_site:
                return (
                    403,
                    "forbidden",
                    "cross-origin request refused (Sec-Fetch-Site: cross-site, no Origin): this "
                    "server changes state only for its own pages and configured --cors-origin "
                    "origins",
                )
            return None
        origin = origins[0]
        if origin.strip(_OWS).lower() != "null" and parse_origin(origin) is None:
            return (
                400,
                "invalid_origin",
                f"Origin header {_shown(origin)} is not an origin: give http:// or https:// and "
                "a host, optionally followed by :port (nothing else), or null",
            )
        if not self.origin_allowed(origin, host):
            return (
                403,
                "forbidden",
                f"cross-origin request refused (Origin {_shown(origin)}): this server changes "
                "state only for its own pages and configured --cors-origin origins",
            )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await self._reject(send, *refusal)
            return
        await self.app(scope, receive, send)

"""The FastAPI application: routers, error handlers, limits, CORS and the web app.

``create_app`` is the only constructor (the CLI's ``serve``, tests and benchmarks use it), so
every process gets the same middleware stack: security headers → HEAD and relative redirects →
allowed hosts and origins → CORS (only if configured) → body-size limit → upload slots →
routes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from infercast.hardware import list_hardware
from infercast.hardware.registry import set_hardware_dirs
from infercast.interfaces.web import mount_web

from .errors import install_error_handlers
from .headers import SecurityHeadersMiddleware
from .hosts import HostOriginMiddleware
from .http_semantics import HttpSemanticsMiddleware
from .limits import BodySizeLimitMiddleware, UploadSlotsMiddleware
from .openapi import install_openapi
from .routes import ROUTERS
from .routes.health import package_version
from .state import ApiState
from .warmup import warm_up

__all__ = ["ALLOWED_HOSTS_ENV", "CORS_ENV", "cors_origins_from_env", "create_app"]

CORS_ENV = "INFERCAST_CORS_ORIGINS"
"""Comma-separated origins allowed cross-origin access when none are passed explicitly."""
ALLOWED_HOSTS_ENV = "INFERCAST_ALLOWED_HOSTS"
"""Comma-separated extra ``Host`` names the server answers for (beside the bound host and
localhost)."""

_DESCRIPTION = (
    "How will this LLM perform if we serve it on these accelerators with this parallelism "
    "plan — and which plan is best? Units: bytes are decimal (1 GB = 1e9 B), times in ms, "
    "throughputs in tokens/s. Errors share one body: `error`, `detail`, `problems` (field + "
    "rule), `suggestions`."
)


def _env_list(name: str) -> list[str]:
    return [o.strip() for o in os.environ.get(name, "").split(",") if o.strip()]


def cors_origins_from_env() -> list[str]:
    return _env_list(CORS_ENV)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Work that would otherwise stall the event loop the first time a request needs it is done
    before the server accepts one (see :mod:`.warmup`), and the upload parsers' worker
    processes are started. No upload parser outlives the server: its worker processes stop
    with it."""
    app.state.infercast.parse_pool.start()
    await warm_up(app)
    yield
    app.state.infercast.parse_pool.shutdown()


def create_app(
    models_dirs: Iterable[str | Path] | None = None,
    cors_origins: Iterable[str] | None = None,
    allowed_hosts: Iterable[str] | None = None,
    bind_host: str | None = None,
    hardware_dirs: Iterable[str | Path] | None = None,
) -> FastAPI:
    """Build the API (and web app) over the built-in catalog plus ``models_dirs``.

    CORS is off unless ``cors_origins`` (or ``INFERCAST_CORS_ORIGINS``) names origins. Requests
    must name ``bind_host``, localhost or one of ``allowed_hosts`` (or
    ``INFERCAST_ALLOWED_HOSTS``) in ``Host`` (see :mod:`.hosts`). ``hardware_dirs`` adds
    user-defined accelerators (process-wide, see :mod:`infercast.hardware.registry`).
    """
    if hardware_dirs is not None:
        set_hardware_dirs(hardware_dirs)
    list_hardware()  # a broken user hardware file fails here, at start-up, naming the file
    app = FastAPI(
        title="infercast",
        version=package_version(),
        description=_DESCRIPTION,
        docs_url=None,  # Swagger/ReDoc pages load assets from a CDN; the schema stays at
        redoc_url=None,  # /openapi.json.
        lifespan=_lifespan,
    )
    app.state.infercast = ApiState.load(models_dirs)
    install_error_handlers(app)
    install_openapi(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_web(app)

    app.add_middleware(UploadSlotsMiddleware, slots=app.state.infercast.parse_slots)
    app.add_middleware(BodySizeLimitMiddleware)
    origins = list(cors_origins) if cors_origins is not None else cors_origins_from_env()
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            max_age=600,
        )
    hosts = list(allowed_hosts) if allowed_hosts is not None else _env_list(ALLOWED_HOSTS_ENV)
    app.add_middleware(
        HostOriginMiddleware, allowed_hosts=hosts, bind_host=bind_host, allowed_origins=origins
    )
    app.add_middleware(HttpSemanticsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app

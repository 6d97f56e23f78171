"""One module per endpoint group; ``ROUTERS`` lists them in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from . import estimate, hardware, health, importing, layers, models, options, reconcile, search

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    models.router,
    hardware.router,
    layers.router,
    options.router,
    estimate.router,
    importing.router,
    reconcile.router,
    search.router,
)

__all__ = ["ROUTERS"]

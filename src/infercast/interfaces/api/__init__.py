"""The infercast HTTP API (FastAPI): ``create_app`` builds it, ``infercast serve`` runs it."""

from infercast.interfaces.api.app import create_app

__all__ = ["create_app"]

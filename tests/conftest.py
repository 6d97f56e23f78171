"""Shared paths and fixtures of the test suite.

``SHARED`` is the read-only shared data next to the repository (``../shared``: hf-configs,
benchmarks); tests import the constants from here (``from conftest import SHARED``) so the path
is computed once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
HF_CONFIGS = SHARED / "hf-configs"
BENCHMARKS_CSV = SHARED / "benchmarks" / "serving-calibration.csv"


@pytest.fixture(scope="module")
def api_client() -> Iterator[TestClient]:
    """A client of the app over the built-in catalog only (user model dirs ignored)."""
    from infercast.interfaces.api import create_app

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("INFERCAST_MODELS_PATH", raising=False)
        app = create_app()
    with TestClient(app, base_url="http://localhost") as client:  # an allowed Host
        yield client

"""Shared paths and fixtures of the test suite.

``SHARED`` is the read-only shared data next to the repository (``../shared``: hf-configs,
benchmarks); tests import the constants from here (``from conftest import SHARED``) so the path
is computed once.

Hypothesis runs derandomized by default (the ``repeatable`` profile): the suite draws the same
examples on every run, so a run of ``make test`` (and of CI) is reproducible.
``HYPOTHESIS_PROFILE=explore`` draws fresh examples (and more of them) to look for new
counter-examples; one it finds belongs in the test as an ``@example`` with its fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings

settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

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

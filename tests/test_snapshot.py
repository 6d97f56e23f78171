"""Every figure of ~30 representative estimates is unchanged (a refactor must not move them).

The deployments and the comparison live in ``scripts/snapshot_estimates.py``; the stored
figures in ``tests/data/estimate_snapshot.json``. A change that deliberately alters the physics
regenerates the file with ``.venv/bin/python scripts/snapshot_estimates.py`` and says so.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "snapshot_estimates", ROOT / "scripts" / "snapshot_estimates.py"
)
assert _spec and _spec.loader
snapshot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(snapshot)

STORED = json.loads(snapshot.SNAPSHOT.read_text(encoding="utf-8"))


def test_snapshot_covers_every_deployment() -> None:
    assert sorted(STORED) == sorted(snapshot.DEPLOYMENTS)
    assert len(STORED) >= 30


@pytest.mark.parametrize("name", sorted(snapshot.DEPLOYMENTS))
def test_estimate_matches_snapshot(name: str) -> None:
    fresh = snapshot.run(snapshot.DEPLOYMENTS[name])
    assert snapshot.differences(STORED[name], fresh) == []


def test_comparison_catches_a_change() -> None:
    stored = {"a": 1.0, "b": [1, "x"], "c": {"d": 2.0}}
    assert snapshot.differences(stored, {"a": 1.0 + 1e-12, "b": [1, "x"], "c": {"d": 2.0}}) == []
    assert snapshot.differences(stored, {**stored, "new": 3}) == []
    assert snapshot.differences(stored, {**stored, "a": 1.0001}) == [".a: 1.0 became 1.0001"]
    assert snapshot.differences(stored, {**stored, "b": [1, "y"]}) == [".b[1]: 'x' became 'y'"]
    assert snapshot.differences(stored, {"a": 1.0, "b": [1, "x"]}) == [".c: missing"]

"""Property-based API tests: schemathesis generates requests from the app's own OpenAPI schema.

Whatever it sends, the app must never answer 5xx and every answer must match the documented
response schema (status, content type, body). Every operation is covered, the uploads
(/import, /reconcile) included; examples are bounded so the run stays well under a minute.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from infercast.interfaces.api import create_app
from infercast.interfaces.api.openapi import undocumented_fields
from infercast.specs.registry import MODELS_PATH_ENV


def _catalog_only_app() -> FastAPI:
    """The app over the built-in catalog only, whatever INFERCAST_MODELS_PATH says."""
    saved = os.environ.pop(MODELS_PATH_ENV, None)
    try:
        # schemathesis's ASGI transport sends "Host: testserver".
        return create_app(allowed_hosts=["testserver"])
    finally:
        if saved is not None:
            os.environ[MODELS_PATH_ENV] = saved


app = _catalog_only_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# Valid and invalid data both (the default), NUL bytes allowed: ids must be rejected cleanly.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=True
)

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def test_schema_documents_every_route() -> None:
    paths = set(app.openapi()["paths"])
    assert {
        "/health",
        "/models",
        "/models/{model_id}",
        "/hardware",
        "/hardware/{hardware_id}",
        "/api/layers",
        "/api/options",
        "/estimate",
        "/layers/metrics",
        "/import",
        "/reconcile",
        "/search",
        "/launch",
    } <= paths


def test_every_field_and_parameter_is_described() -> None:
    document = app.openapi()
    assert undocumented_fields(document) == []
    params = [
        f"{method.upper()} {path} {param['name']}"
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        for param in op.get("parameters", [])
        if not param.get("description")
    ]
    assert params == []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert op.get("summary") and op.get("description"), f"{method.upper()} {path}"


def test_every_quantity_states_its_unit() -> None:
    """Field names carry their unit (``_ms``, ``_bytes``, ``_per_s``); so must the text."""
    missing = []
    for name, component in app.openapi()["components"]["schemas"].items():
        for field, prop in (component.get("properties") or {}).items():
            text = prop.get("description", "").lower()
            rules = [
                (field.endswith("_ms"), "ms" in text),
                ("bytes" in field, "byte" in text),
                (field.endswith("_per_s"), "/s" in text or "per second" in text),
            ]
            if any(applies and not ok for applies, ok in rules):
                missing.append(f"{name}.{field}: {text!r}")
    assert missing == []


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
@pytest.mark.filterwarnings("ignore")
def test_api_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)

"""One error body for every failure, and the handlers that produce it.

Bad input must never surface as a 5xx: every ``InfercastError`` (and the dtype module's
``UnknownDTypeError``) is mapped here — unknown ids to 404 with suggestions, anything else to
422 naming the field and the rule. Messages never carry tracebacks or server paths.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from infercast.dtypes import UnknownDTypeError
from infercast.errors import InfercastError, UnknownIdError
from infercast.specs import SpecError

__all__ = [
    "ERROR_RESPONSES",
    "ApiError",
    "ErrorBody",
    "ErrorProblem",
    "error_response",
    "install_error_handlers",
]

log = logging.getLogger("infercast.api")

_MAX_MESSAGE = 500


class ErrorProblem(BaseModel):
    """One thing wrong with a request: where, which rule, and in words."""

    field: str = Field(
        description="Dotted name of the offending field ('tp', 'file', 'layer_types[0].specs')."
    )
    location: str = Field(
        description="Where the field was: 'body', 'query', 'path', 'file' or 'spec'."
    )
    rule: str = Field(description="Machine-readable rule that failed, e.g. 'greater_than_equal'.")
    message: str = Field(description="The rule in words, with the bound or expected value.")

    @field_validator("message")
    @classmethod
    def _short(cls, value: str) -> str:
        return _clip(value)


class ErrorBody(BaseModel):
    """The JSON body of every 4xx/5xx response."""

    error: str = Field(
        description="Error kind: unknown_id, invalid_input, invalid_spec, too_large, "
        "not_found, method_not_allowed, conflict, busy (429), invalid_host (400), forbidden "
        "(403) or internal_error."
    )
    detail: str = Field(description="One-line, human-readable summary of what was wrong.")
    problems: list[ErrorProblem] = Field(
        default_factory=list, description="Every problem found (422); empty otherwise."
    )
    suggestions: list[str] = Field(
        default_factory=list,
        description="Close matches for an unknown id (404); the valid values of a plan degree "
        "the model cannot take (422, e.g. the valid tp).",
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Host header not one this server answers for."},
    403: {"model": ErrorBody, "description": "Cross-origin state-changing request refused."},
    404: {"model": ErrorBody, "description": "Unknown id (with suggestions) or route."},
    413: {"model": ErrorBody, "description": "Request body or upload over its size limit."},
    422: {"model": ErrorBody, "description": "Invalid input: each problem names field and rule."},
}


class ApiError(Exception):
    """Raised by routes for a failure with a chosen status (413, 409, ...)."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        problems: list[ErrorProblem] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.problems = problems or []

    def __reduce__(self) -> tuple[type[ApiError], tuple[Any, ...]]:
        # Rebuilt from its fields when it crosses a process (the upload parsers).
        return (type(self), (self.status, self.error, self.detail, self.problems))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def error_response(
    status: int,
    error: str,
    detail: str,
    problems: list[ErrorProblem] | None = None,
    suggestions: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        error=error,
        detail=_clip(detail),
        problems=problems or [],
        suggestions=suggestions or [],
    )
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _validation_problems(exc: RequestValidationError) -> list[ErrorProblem]:
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        location = loc[0] if loc and loc[0] in {"body", "query", "path", "header"} else "body"
        field = ".".join(loc[1:] if loc and loc[0] == location else loc) or location
        message = str(err.get("msg", "invalid value"))
        ctx = err.get("ctx") or {}
        if err.get("type") == "extra_forbidden":
            message = "unknown field (not part of this request)"
        elif err.get("type") == "json_invalid":
            message = f"malformed JSON: {ctx.get('error', 'cannot decode')}"
            field = "body"
        problems.append(
            ErrorProblem(
                field=field, location=location, rule=str(err.get("type")), message=_clip(message)
            )
        )
    return problems


def _summary(problems: list[ErrorProblem]) -> str:
    return "; ".join(f"{p.field}: {p.message}" for p in problems[:5]) + (
        f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    )


_FIELD_PREFIX = re.compile(r"([a-z][a-z0-9_]*)(?:\[[^\]]*\])?(?::| must )")
"""A message that starts with the field it is about, as the planning and launch checks word
theirs; the problem then names that field instead of the whole request."""


def _infercast_response(exc: Exception) -> JSONResponse:
    if isinstance(exc, UnknownIdError):
        return error_response(404, "unknown_id", str(exc), suggestions=exc.suggestions)
    if isinstance(exc, SpecError):
        problems = [
            ErrorProblem(
                field=p.location or "spec", location="spec", rule="spec", message=_clip(p.message)
            )
            for p in exc.problems
        ]
        return error_response(422, "invalid_spec", _summary(problems), problems)
    field = str(getattr(exc, "field", "") or "")
    if not field:  # "price_per_gpu_hour[h100] must be > 0", "frameworks: unknown ..."
        named = _FIELD_PREFIX.match(str(exc))
        field = named.group(1) if named else ""
    problem = ErrorProblem(
        field=field or "request",
        location="body",
        rule=str(getattr(exc, "rule", "") or type(exc).__name__),
        message=_clip(str(exc)),
    )
    suggestions = [str(v) for v in getattr(exc, "valid_values", None) or []]
    return error_response(422, "invalid_input", str(exc), [problem], suggestions=suggestions)


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to an ``ErrorBody`` with the right status."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _validation_problems(exc)
        return error_response(422, "invalid_input", _summary(problems), problems)

    @app.exception_handler(InfercastError)
    async def _infercast(_: Request, exc: InfercastError) -> JSONResponse:
        return _infercast_response(exc)

    @app.exception_handler(UnknownDTypeError)
    async def _dtype(_: Request, exc: UnknownDTypeError) -> JSONResponse:
        return _infercast_response(exc)

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.error, exc.detail, exc.problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's "error parsing the body" (e.g. JSON nested too deeply): bad input, 422.
            problem = ErrorProblem(
                field="body", location="body", rule="json_invalid", message=str(exc.detail)
            )
            return error_response(422, "invalid_input", f"body: {exc.detail}", [problem])
        kinds = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        return error_response(
            exc.status_code,
            kinds.get(exc.status_code, "invalid_input"),
            detail,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            500, "internal_error", "internal error while handling the request (logged)"
        )

"""Error types shared by every package.

Interfaces catch ``InfercastError`` and show its message (CLI: one line, exit 2; API: 404/422),
so every message must name what was wrong and where.
"""

from __future__ import annotations


class InfercastError(Exception):
    """Base of every user-facing error."""


class InvalidInputError(InfercastError, ValueError):
    """A request, file or argument that cannot be used as given."""


class UnknownIdError(InfercastError, LookupError):
    """An id (model, hardware, framework) that is not in its registry."""

    def __init__(self, kind: str, requested: str, suggestions: list[str] | None = None):
        self.kind = kind
        self.requested = requested
        self.suggestions = list(suggestions or [])
        hint = f"; did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown {kind} {requested!r}{hint}")

"""Decoding JSON from anywhere (uploads, user files) with bounded work and one kind of error.

The standard library's decoder is linear in the text, but what it builds is not bounded by the
text alone in any useful way: a 4 MiB ``[[],[],...]`` is a million lists, an integer literal of
5,000 digits raises ``ValueError`` (CPython's int-to-str limit), and deep nesting raises
``RecursionError``. Configs and specs are small documents (hundreds of values), so the limits
here are far above any real file and far below what hurts a server; the containers are counted
with ``str.count`` before decoding, so a hostile file costs one linear scan.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from infercast.errors import InvalidInputError

__all__ = ["MAX_JSON_CONTAINERS", "MAX_JSON_DEPTH", "MAX_JSON_ITEMS", "loads_bounded"]

MAX_JSON_CONTAINERS = 20_000
"""Objects + arrays in one document (a real config.json or spec has tens to hundreds)."""
MAX_JSON_ITEMS = 200_000
"""Values separated by commas in one document."""
MAX_JSON_DEPTH = 32
"""Nesting of objects and arrays (real files nest 3–5 deep)."""


def _depth(value: Any) -> int:
    """Deepest nesting of ``value``, iteratively (the container count bounds the walk)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def loads_bounded(text: str, where: str) -> Any:
    """``json.loads`` that raises only ``InvalidInputError`` naming ``where`` and the problem."""
    containers = text.count("{") + text.count("[")
    if containers > MAX_JSON_CONTAINERS:
        raise InvalidInputError(
            f"{where}: JSON with {containers:,} objects/arrays; "
            f"the limit is {MAX_JSON_CONTAINERS:,}"
        )
    if text.count(",") > MAX_JSON_ITEMS:
        raise InvalidInputError(f"{where}: JSON with more than {MAX_JSON_ITEMS:,} values")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{where}: line {exc.lineno} column {exc.colno}: malformed JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise InvalidInputError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer literal over the interpreter's digit limit
        limit = sys.get_int_max_str_digits()
        if "integer string conversion" in str(exc):  # Python's message names its own API
            raise InvalidInputError(
                f"{where}: a JSON integer longer than {limit:,} digits is not a number "
                "infercast reads"
            ) from None
        raise InvalidInputError(f"{where}: unreadable JSON value ({str(exc)[:120]})") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise InvalidInputError(f"{where}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return data

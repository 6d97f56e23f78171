"""Run in a parser worker process to see what it has loaded (imports nothing itself, so it
does not change the answer)."""

from __future__ import annotations

import sys

__all__ = ["module_loaded"]


def module_loaded(name: str) -> bool:
    return name in sys.modules

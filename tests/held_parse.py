"""An upload parse that waits for a gate file, for tests that hold the API's parser processes
busy (it runs in a worker process, so it signals through files, not thread events)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from infercast.interfaces.api.importer import parse_saved_upload

__all__ = ["held_parse"]


def held_parse(gate: str, started_dir: str, *args: Any) -> Any:
    """Write a file into ``started_dir``, wait (≤ 20 s) until ``gate`` exists, then parse."""
    (Path(started_dir) / f"{os.getpid()}-{time.monotonic_ns()}").touch()
    deadline = time.monotonic() + 20
    while not Path(gate).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return parse_saved_upload(*args)

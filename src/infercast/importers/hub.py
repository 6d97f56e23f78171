"""Fetch a model's config.json from the Hugging Face Hub — the config only, never weights.

``huggingface_hub`` caches the file, honours ``HF_TOKEN`` for gated repos and ``HF_HUB_OFFLINE``;
every failure (offline, unknown repo, gated, no config.json) becomes one InvalidInputError that
says what to do next. Offline, the client would retry for about 25 s, so the Hub is probed first
with one TCP connection bounded by :data:`PROBE_TIMEOUT_S`; when it is unreachable only the
local cache is consulted.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

from infercast.errors import InvalidInputError

__all__ = ["HF_ID_PATTERN", "PROBE_TIMEOUT_S", "fetch_config", "hub_reachable", "looks_like_hf_id"]

PROBE_TIMEOUT_S = 2.0
"""Seconds to wait for a TCP connection to the Hub before treating it as unreachable."""

HF_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def looks_like_hf_id(value: str) -> bool:
    return bool(HF_ID_PATTERN.match(value)) and ".." not in value


def hub_reachable(timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """One bounded TCP connection to the Hub's endpoint (``HF_ENDPOINT`` or the default)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname or "", port), timeout=timeout_s):
            return True
    except OSError:
        return False


def fetch_config(hf_id: str, *, revision: str | None = None) -> Path:
    """Download (or reuse the cached) ``config.json`` of ``hf_id``; returns its local path."""
    if not looks_like_hf_id(hf_id):
        raise InvalidInputError(f"{hf_id!r} is not a Hugging Face model id (expected org/name)")
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import (
            EntryNotFoundError,
            GatedRepoError,
            LocalEntryNotFoundError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
    except ImportError:  # pragma: no cover - a declared dependency
        raise InvalidInputError("huggingface_hub is not installed; pass a config.json") from None

    where = f"Hugging Face model {hf_id!r}"
    try:
        return Path(
            hf_hub_download(
                repo_id=hf_id,
                filename="config.json",
                revision=revision,
                local_files_only=not hub_reachable(),
            )
        )
    except GatedRepoError:
        raise InvalidInputError(
            f"{where} is gated: accept its licence on huggingface.co and set HF_TOKEN, or pass "
            "a downloaded config.json"
        ) from None
    except RepositoryNotFoundError:
        raise InvalidInputError(
            f"{where} was not found (or is private: set HF_TOKEN); check the id"
        ) from None
    except RevisionNotFoundError:
        raise InvalidInputError(f"{where} has no revision {revision!r}") from None
    except LocalEntryNotFoundError:
        # Offline, or the Hub unreachable, and no cached copy.
        raise InvalidInputError(
            f"cannot fetch config.json of {where}: the Hub is unreachable (offline?) and no "
            "cached copy exists; pass a local config.json instead"
        ) from None
    except EntryNotFoundError:
        raise InvalidInputError(f"{where} has no config.json (a GGUF-only repo?)") from None
    except Exception as exc:  # network stacks raise many types; all mean "could not fetch"
        raise InvalidInputError(
            f"cannot fetch config.json of {where}: {type(exc).__name__}: {exc}"
        ) from None

"""Fetch a model's config.json from the Hugging Face Hub — the config only, never weights.

``huggingface_hub`` caches the file, honours ``HF_TOKEN`` for gated repos and ``HF_HUB_OFFLINE``;
every failure (offline, unknown repo, gated, no config.json) becomes one InvalidInputError that
says what to do next.
"""

from __future__ import annotations

import re
from pathlib import Path

from infercast.errors import InvalidInputError

__all__ = ["HF_ID_PATTERN", "fetch_config", "looks_like_hf_id"]

HF_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def looks_like_hf_id(value: str) -> bool:
    return bool(HF_ID_PATTERN.match(value)) and ".." not in value


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
        return Path(hf_hub_download(repo_id=hf_id, filename="config.json", revision=revision))
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

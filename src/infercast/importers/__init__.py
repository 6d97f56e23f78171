"""Importers: config.json, GGUF and Hugging Face ids → model specs.

``import_model(source, hf_id=...)`` is the entry point; ``configs/`` holds one documented
config class per model family, ``spec_builder`` turns a family config into a ``ModelSpec``.
"""

from infercast.importers.hf_config import FAMILIES, family_config, spec_from_hf_config
from infercast.importers.source import ImportResult, import_model, import_source

__all__ = [
    "FAMILIES",
    "ImportResult",
    "family_config",
    "import_model",
    "import_source",
    "spec_from_hf_config",
]

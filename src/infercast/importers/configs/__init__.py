"""One documented config class per model family, read from config.json (or GGUF) fields.

Every module of this package is imported here, so a family registers itself (``@family``,
see :mod:`.registry`) just by living in the package.
"""

import importlib
import pkgutil

from infercast.importers.configs.base import ConfigReader, FamilyConfig, LayerPart
from infercast.importers.configs.registry import (
    FAMILIES,
    GGUF_ARCHITECTURES,
    GGUFArchitecture,
    GGUFKey,
    family,
)

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

from infercast.importers.configs.bert import BertConfig  # noqa: E402
from infercast.importers.configs.deepseek import DeepseekV3Config  # noqa: E402
from infercast.importers.configs.gemma import GemmaConfig  # noqa: E402
from infercast.importers.configs.gpt_oss import GptOssConfig  # noqa: E402
from infercast.importers.configs.llama import LlamaFamilyConfig  # noqa: E402
from infercast.importers.configs.moe import (  # noqa: E402
    MixtralConfig,
    Qwen2MoeConfig,
    Qwen3MoeConfig,
)
from infercast.importers.configs.phi3 import Phi3Config  # noqa: E402

__all__ = [
    "FAMILIES",
    "GGUF_ARCHITECTURES",
    "BertConfig",
    "ConfigReader",
    "DeepseekV3Config",
    "FamilyConfig",
    "GGUFArchitecture",
    "GGUFKey",
    "GemmaConfig",
    "GptOssConfig",
    "LayerPart",
    "LlamaFamilyConfig",
    "MixtralConfig",
    "Phi3Config",
    "Qwen2MoeConfig",
    "Qwen3MoeConfig",
    "family",
]

"""One documented config class per model family, read from config.json (or GGUF) fields."""

from infercast.importers.configs.base import ConfigReader, FamilyConfig, LayerPart
from infercast.importers.configs.bert import BertConfig
from infercast.importers.configs.deepseek import DeepseekV3Config
from infercast.importers.configs.gemma import GemmaConfig
from infercast.importers.configs.gpt_oss import GptOssConfig
from infercast.importers.configs.llama import LlamaFamilyConfig
from infercast.importers.configs.moe import MixtralConfig, Qwen2MoeConfig, Qwen3MoeConfig
from infercast.importers.configs.phi3 import Phi3Config

__all__ = [
    "BertConfig",
    "ConfigReader",
    "DeepseekV3Config",
    "FamilyConfig",
    "GemmaConfig",
    "GptOssConfig",
    "LayerPart",
    "LlamaFamilyConfig",
    "MixtralConfig",
    "Phi3Config",
    "Qwen2MoeConfig",
    "Qwen3MoeConfig",
]

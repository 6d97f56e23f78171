"""The headline figures of a spec, in the convention of ``shared/hf-configs-next/EXPECTED.json``.

``import --figures`` prints them, ``models show`` shows them and the catalog builder checks them
against EXPECTED.json: every parameter counted once (tied embeddings once), active parameters
(routed experts at top-k / experts), KV-cache bytes per token in bf16 over every softmax
attention layer at full context (windowed and chunked layers as if uncapped; MLA's latent + rope
key; DeepSeek Sparse Attention's indexer key), the fixed per-sequence state of linear-attention
and SSM layers in bf16 (not part of the KV figure), and the census of layer kinds.
"""

from __future__ import annotations

from typing import Any

from infercast.specs.schema import ModelSpec

__all__ = ["spec_figures"]


def spec_figures(spec: ModelSpec) -> dict[str, Any]:
    census = spec.layer_census()
    return {
        "hf_model_id": spec.hf_model_id,
        "total_params": spec.total_params,
        "active_params": spec.active_params,
        "kv_bytes_per_token_bf16": int(spec.kv_cache_bytes_per_token("bf16")),
        "state_bytes_per_sequence_bf16": int(spec.state_bytes_per_sequence("bf16")),
        "layers": census.as_dict(),
    }

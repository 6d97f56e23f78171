"""How many GPU kernels one instance of a layer class launches per forward step.

The fixed cost of a step is not per layer but per kernel: in a CUDA/HIP graph (decode) every
kernel boundary leaves the GPU idle for a gap (``kernel_gap_s``); without graphs (eager
prefill) every kernel is launched from the host, and a layer cannot run faster than its launches
(``eager_launch_s`` each). An MLA + shared-expert MoE block launches about twice the kernels of a
GQA + plain MoE block, which per-layer constants cannot express.

Counts follow the engines' model code (vLLM ``vllm/model_executor/models/``; SGLang's
``python/sglang/srt/models/`` has the same structure), collectives excluded (they are costed
as collectives, each with its own latency floor):

- GQA / MHA / sliding-window attention (``llama.py`` ``LlamaAttention.forward``): qkv_proj,
  rotary_emb, the cache write (``reshape_and_cache_flash``), the attention kernel, o_proj: 5;
  Qwen3's per-head ``q_norm`` and ``k_norm`` (``qwen3.py``): +2. Sinks (gpt-oss) live in the
  attention kernel.
- MLA (``deepseek_v2.py`` ``DeepseekV2MLAAttention`` with the MLA backend): fused_qkv_a_proj,
  q_a_layernorm, kv_a_layernorm, q_b_proj, rotary, the W_UK absorption bmm, the latent cache
  write (``concat_and_cache_mla``), FlashMLA's metadata and decode kernels, the W_UV bmm,
  o_proj: 11; without a q LoRA (``q_lora_rank = 0``) q_proj replaces q_a_proj, its norm and
  q_b_proj: −2.
- Gated MLP (``LlamaMLP``): gate_up_proj, ``SiluAndMul``, down_proj: 3; plain MLP: up, act,
  down: 3.
- MoE (``fused_moe/layer.py`` ``FusedMoE.forward``): the router GEMM, ``topk_softmax``,
  ``moe_align_block_size``, the w13 grouped GEMM, ``silu_and_mul``, the w2 grouped GEMM,
  ``moe_sum``: 7; grouped top-k with a score-correction bias (DeepSeek-V3 ``grouped_topk``):
  +2; shared experts (``DeepseekV2MoE.shared_experts``): gate_up, act, down and the add: +4;
  a sigmoid shared-expert gate (Qwen2-MoE): +2.
- Norm: one (``fused_add_rms_norm``). Embedding: one gather. LM head: one GEMM (sampling is
  part of the per-step overhead).
"""

from __future__ import annotations

from infercast.specs.layer_classes import LayerSpecs

__all__ = ["kernels_per_instance"]

_BASE: dict[str, int] = {
    "AttentionLayer": 5,
    "GroupedQueryAttentionLayer": 5,
    "SlidingWindowAttentionLayer": 5,
    "MultiHeadLatentAttentionLayer": 11,
    "GatedMLPLayer": 3,
    "MLPLayer": 3,
    "MoELayer": 7,
    "NormLayer": 1,
    "EmbeddingLayer": 1,
    "OutputLayer": 1,
    "PoolerLayer": 2,
}
_DEFAULT = 4
"""A layer class this table does not know (a user-defined one): a few kernels, like an MLP."""


def kernels_per_instance(layer_class: str, specs: LayerSpecs) -> int:
    """Kernels one instance of ``layer_class`` launches per step (collectives excluded)."""
    count = _BASE.get(layer_class, _DEFAULT)
    if getattr(specs, "qk_norm", False):
        count += 2
    if layer_class == "MultiHeadLatentAttentionLayer" and not getattr(specs, "q_lora_rank", 0):
        count -= 2
    if layer_class == "MoELayer":
        if getattr(specs, "router_score_correction_bias", False):
            count += 2
        if getattr(specs, "num_shared_experts", 0):
            count += 4
        if getattr(specs, "shared_expert_gate", False):
            count += 2
    return count

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
  part of the per-step overhead). Recurrent mixers (Gated DeltaNet, Mamba-2): in_proj, the
  short conv, the scan, the gated norm, out_proj and the state write: 6 (infercast's reading
  of vLLM's ``mamba_mixer2.py`` / ``qwen3_next.py``).

The base counts are each class's ``kernels`` (declared in ``specs/classes``); the variants
below read the spec's own fields, never its class name.
"""

from __future__ import annotations

from infercast.layers.engine import spec_field
from infercast.specs.classes.base import LayerSpecs

__all__ = ["kernels_per_instance"]


def kernels_per_instance(specs: LayerSpecs) -> int:
    """Kernels one instance of this layer launches per step (collectives excluded)."""
    count = type(specs).kernels
    if spec_field(specs, "qk_norm", False):
        count += 2  # per-head q_norm and k_norm
    if not spec_field(specs, "q_lora_rank", True):
        count -= 2  # q_proj instead of q_a_proj + q_a_layernorm + q_b_proj
    if spec_field(specs, "router_score_correction_bias", False):
        count += 2  # grouped top-k with the correction bias
    if spec_field(specs, "num_shared_experts", 0):
        count += 4  # shared experts: gate_up, act, down, add
    if spec_field(specs, "shared_expert_gate", False):
        count += 2  # the sigmoid gate and its multiply
    return count

"""Plans the serving engines would not run as given, each with its reason.

Such a plan is still costed (a user may want the number), but the result lists the reasons in
``unsupported`` instead of pricing it silently as if an engine would serve it.
"""

from __future__ import annotations

from infercast.hardware import Hardware
from infercast.parallel import ParallelPlan
from infercast.specs.schema import ModelSpec

__all__ = ["MLA_MAX_TP", "unsupported_reasons"]

MLA_MAX_TP = 16
"""Largest attention TP the engines shard MLA over (DeepSeek's 128 heads: 8 per rank at TP16);
SGLang and vLLM serve wider DeepSeek deployments with DP attention instead."""


def unsupported_reasons(spec: ModelSpec, plan: ParallelPlan, hardware: Hardware) -> list[str]:
    """Plans vLLM, SGLang and TensorRT-LLM would not run as given, each with its reason."""
    reasons = []
    cores = [lt.layer_specs.attention_core() for lt in spec.layer_types]
    if any(c is not None and c.kind == "mla" for c in cores) and plan.tp > MLA_MAX_TP:
        reasons.append(
            f"MLA attention at tp={plan.tp} > {MLA_MAX_TP}: the engines do not shard latent "
            "attention that wide (they use DP attention for larger groups)"
        )
    if plan.tp > hardware.scale_up.domain_size:
        reasons.append(
            f"tp={plan.tp} spans more than one {hardware.scale_up.name} domain of "
            f"{hardware.scale_up.domain_size} GPUs: every layer's all-reduce would cross the "
            "scale-out network, which the engines do not do (TP inside a node, PP or DP across "
            "nodes) and infercast does not model beyond a bandwidth bound"
        )
    return reasons

"""A parallelism plan and the rules that make it valid for a model.

Shape of a replica (as serving engines lay it out): ``tp × dp`` GPUs run attention (heads split
``tp`` ways, requests split ``dp`` ways — DP attention), the same ``tp × dp`` GPUs run the MoE
experts split ``moe_tp × ep``, and ``pp`` pipeline stages stack such groups:
``gpus = tp × dp × pp`` and ``moe_tp × ep = tp × dp``. Context parallelism (``cp``) splits a long
prompt's prefill along the sequence over the ``dp`` ranks of a group (so ``cp`` divides ``dp``)
and does not change how many GPUs a replica has.
"""

from __future__ import annotations

from dataclasses import dataclass

from infercast.errors import InvalidInputError
from infercast.specs.schema import ModelSpec

__all__ = ["ParallelPlan", "PlanError"]


class PlanError(InvalidInputError):
    """A plan that cannot run this model (the message says which rule and why)."""


@dataclass(frozen=True)
class ParallelPlan:
    tp: int = 1
    dp: int = 1
    pp: int = 1
    moe_tp: int = 1
    ep: int = 1
    cp: int = 1
    sequence_parallel: bool = False

    @classmethod
    def build(
        cls,
        *,
        tp: int = 1,
        dp: int = 1,
        pp: int = 1,
        ep: int = 1,
        moe_tp: int | None = None,
        gpus: int | None = None,
        cp: int = 1,
        sequence_parallel: bool = False,
    ) -> ParallelPlan:
        """Fill defaults (``moe_tp = tp·dp/ep``) and check the arithmetic of the plan itself."""
        for name, value in (("tp", tp), ("dp", dp), ("pp", pp), ("ep", ep), ("cp", cp)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise PlanError(f"{name} must be a positive integer, got {value!r}")
        group = tp * dp
        if moe_tp is None:
            if group % ep:
                raise PlanError(
                    f"ep={ep} must divide tp×dp={group} (MoE experts are spread over the "
                    "attention GPUs: moe_tp × ep = tp × dp)"
                )
            moe_tp = group // ep
        if moe_tp < 1 or moe_tp * ep != group:
            raise PlanError(
                f"moe_tp × ep = {moe_tp}×{ep} = {moe_tp * ep} must equal tp × dp = {group}"
            )
        if gpus is not None and gpus != group * pp:
            raise PlanError(f"gpus={gpus} but tp × dp × pp = {tp}×{dp}×{pp} = {group * pp}")
        if dp % cp:
            raise PlanError(f"cp={cp} must divide dp={dp} (context parallelism uses the DP ranks)")
        return cls(tp, dp, pp, moe_tp, ep, cp, sequence_parallel)

    @property
    def gpus(self) -> int:
        return self.tp * self.dp * self.pp

    @property
    def group(self) -> int:
        """GPUs of one pipeline stage (attention tp × dp = MoE moe_tp × ep)."""
        return self.tp * self.dp

    def kv_heads_per_gpu(self, kv_heads: int) -> int:
        """KV heads held per GPU; replicated (1 each) when tp exceeds them, as engines do."""
        return max(1, kv_heads // self.tp)

    def kv_replicated(self, kv_heads: int) -> bool:
        return self.tp > kv_heads

    def validate_for(self, spec: ModelSpec) -> None:
        """Raise :class:`PlanError` naming every rule this model breaks under the plan."""
        problems: list[str] = []
        for lt in spec.layer_types:
            s = lt.layer_specs
            where = f"{lt.name} ({lt.layer_class})"
            heads = getattr(s, "num_heads", None)
            if heads is not None and heads % self.tp:
                problems.append(
                    f"{where}: {heads} attention heads are not divisible by tp={self.tp}"
                )
            kv = getattr(s, "num_kv_heads", None)
            if kv is not None and heads is not None and not heads % self.tp:
                if self.tp <= kv and kv % self.tp:
                    problems.append(f"{where}: {kv} KV heads are not divisible by tp={self.tp}")
                if self.tp > kv and self.tp % kv:
                    problems.append(
                        f"{where}: tp={self.tp} is not a multiple of the {kv} KV heads, so they "
                        "cannot be replicated evenly"
                    )
            inter = getattr(s, "intermediate_size", None)
            if inter is not None and inter % self.tp:
                problems.append(
                    f"{where}: intermediate size {inter} is not divisible by tp={self.tp}"
                )
            if lt.layer_class == "MoELayer":
                if s.num_experts % self.ep:
                    problems.append(
                        f"{where}: {s.num_experts} experts are not divisible by ep={self.ep}"
                    )
                if s.expert_intermediate_size % self.moe_tp:
                    problems.append(
                        f"{where}: expert size {s.expert_intermediate_size} is not divisible by "
                        f"moe_tp={self.moe_tp}"
                    )
        if not spec.is_moe and self.ep > 1:
            problems.append(f"ep={self.ep} needs a Mixture-of-Experts model; this one is dense")
        if self.pp > spec.num_layers:
            problems.append(f"pp={self.pp} exceeds the model's {spec.num_layers} layers")
        if problems:
            raise PlanError(
                f"plan {self.describe()} is invalid for {spec.hf_model_id}: " + "; ".join(problems)
            )

    def describe(self) -> str:
        text = f"TP{self.tp}"
        if self.dp > 1:
            text += f"×DP{self.dp}"
        if self.pp > 1:
            text += f"×PP{self.pp}"
        if self.ep > 1 or self.moe_tp != self.tp:
            text += f" (MoE TP{self.moe_tp}×EP{self.ep})"
        if self.cp > 1:
            text += f" CP{self.cp}"
        return text

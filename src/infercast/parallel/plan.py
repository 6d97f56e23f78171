"""A parallelism plan and the rules that make it valid for a model.

Shape of a replica (as serving engines lay it out): ``tp × dp`` GPUs run attention (heads split
``tp`` ways, requests split ``dp`` ways — DP attention), the same ``tp × dp`` GPUs run the MoE
experts split ``moe_tp × ep``, and ``pp`` pipeline stages stack such groups:
``gpus = tp × dp × pp`` and ``moe_tp × ep = tp × dp``.

Two further degrees change how work is laid out on those GPUs, never how many there are:

- **Sequence parallelism** (``sequence_parallel``, Megatron-style, within the TP group): the
  activations between the tensor-parallel regions (norms, residual adds) are split along the
  tokens ``tp`` ways, so every TP all-reduce of activations becomes a reduce-scatter (into the
  split region) plus an all-gather (out of it) — the same bytes on a ring,
  ``(n−1)/n·B + (n−1)/n·B = 2(n−1)/n·B`` — and the norms' activation bytes and peak live
  activations divide by ``tp``. With ``tp = 1`` it changes nothing. Serving engines rarely enable
  it (decode batches are small); its effect is activation memory and the norm work.
- **Context parallelism** (``cp``, ring attention for long prefills): a sequence is spread over
  ``cp`` of the ``dp`` attention-DP ranks (so ``cp`` divides ``dp``; a replica has ``dp / cp``
  CP groups). Each of them computes the projections and MLP of ``1/cp`` of the prompt's tokens,
  attends its query block to the whole (causal) context while the K/V blocks circulate around
  the ring, and keeps ``1/cp`` of the sequence's KV cache; a decode step attends on every rank's
  KV shard and combines the partial softmax results (log-sum-exp) across the ``cp`` ranks.
  The arithmetic is in :mod:`infercast.layers.attention`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infercast.errors import InvalidInputError
from infercast.parallel.shards import shard_problems
from infercast.specs.schema import ModelSpec

__all__ = ["ParallelPlan", "PlanError"]


class PlanError(InvalidInputError):
    """A plan that cannot run this model (the message says which rule and why).

    ``field`` names the request field at fault when one does (the API reports it)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _gpus_hint(gpus: int, tp: int, dp: int, pp: int, ep: int) -> str:
    """What to change when the degrees do not multiply to ``gpus``: a user who writes
    ``--tp 4 --ep 2`` for 8 GPUs expects EP to add GPUs, and it does not."""
    hints = []
    if ep > 1:
        hints.append("ep adds no GPUs: the experts are spread over the tp × dp GPUs of a stage")
    if gpus % (tp * pp) == 0 and gpus // (tp * pp) != dp:
        hints.append(f"for {gpus} GPUs at tp={tp}, pp={pp} use dp={gpus // (tp * pp)}")
    return f" ({'; '.join(hints)})" if hints else ""


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
                raise PlanError(f"{name} must be a positive integer, got {value!r}", name)
        if not isinstance(sequence_parallel, bool):
            raise PlanError(f"sp must be true or false, got {sequence_parallel!r}", "sp")
        group = tp * dp
        if moe_tp is None:
            if group % ep:
                raise PlanError(
                    f"ep={ep} must divide tp×dp={group} (MoE experts are spread over the "
                    "attention GPUs: moe_tp × ep = tp × dp)",
                    "ep",
                )
            moe_tp = group // ep
        if moe_tp < 1 or moe_tp * ep != group:
            raise PlanError(
                f"moe_tp × ep = {moe_tp}×{ep} = {moe_tp * ep} must equal tp × dp = {group}",
                "moe_tp",
            )
        if gpus is not None and gpus != group * pp:
            raise PlanError(
                f"gpus={gpus} but tp × dp × pp = {tp}×{dp}×{pp} = {group * pp}"
                + _gpus_hint(gpus, tp, dp, pp, ep),
                "gpus",
            )
        if dp % cp:
            raise PlanError(
                f"cp={cp} must divide dp={dp} (context parallelism spreads a sequence over cp of "
                "the attention-DP ranks; use dp = a multiple of cp)",
                "cp",
            )
        return cls(tp, dp, pp, moe_tp, ep, cp, sequence_parallel)

    @property
    def gpus(self) -> int:
        return self.tp * self.dp * self.pp

    @property
    def group(self) -> int:
        """GPUs of one pipeline stage (attention tp × dp = MoE moe_tp × ep)."""
        return self.tp * self.dp

    @property
    def sp(self) -> bool:
        """Sequence parallelism in effect (asked for and ``tp > 1``; a no-op at ``tp = 1``)."""
        return self.sequence_parallel and self.tp > 1

    def token_ranks(self, sequences: float | None) -> int:
        """DP ranks a step's prefill tokens and its sequences' KV spread over.

        A sequence lives on one DP rank, or on ``cp`` of them with context parallelism, so
        ``sequences`` requests in flight occupy ``min(dp, cp·sequences)`` ranks; ``None``
        (load unknown) means enough requests to keep every DP rank busy: ``dp``.
        """
        if sequences is None:
            return self.dp
        return max(1, min(self.dp, math.ceil(self.cp * sequences)))

    def sequence_ranks(self, sequences: float | None) -> int:
        """DP ranks holding a request's home (its decode-token projections and logits):
        ``min(dp, sequences)``; ``dp`` when the load is unknown."""
        if sequences is None:
            return self.dp
        return max(1, min(self.dp, math.ceil(sequences)))

    def kv_heads_per_gpu(self, kv_heads: int) -> int:
        """KV heads held per GPU; replicated (1 each) when tp exceeds them, as engines do."""
        return max(1, kv_heads // self.tp)

    def kv_replicated(self, kv_heads: int) -> bool:
        return self.tp > kv_heads

    def validate_for(self, spec: ModelSpec) -> None:
        """Raise :class:`PlanError` naming every rule this model breaks under the plan."""
        fields, problems = self.problems(spec)
        if problems:
            raise PlanError(
                f"plan {self.describe(spec.is_moe)} is invalid for {spec.hf_model_id}: "
                + "; ".join(problems),
                fields[0],
            )

    def problems(self, spec: ModelSpec) -> tuple[list[str], list[str]]:
        """(plan field, message) of every rule this model breaks under the plan, as two
        lists; both empty for a valid plan (what a plan search asks of thousands of layouts,
        without raising)."""
        problems: list[str] = []
        fields: list[str] = []

        def _add(field: str, message: str) -> None:
            fields.append(field)
            problems.append(message)

        for lt in spec.layer_types:
            for field, message in shard_problems(lt.layer_specs.ops(), self):
                _add(field, f"{lt.name} ({lt.layer_class}): {message}")
        if self.ep > 1 and not spec.is_moe:
            problems.append(f"ep={self.ep} needs a Mixture-of-Experts model; this one is dense")
            fields.append("ep")
        if self.pp > spec.num_layers:
            problems.append(f"pp={self.pp} exceeds the model's {spec.num_layers} layers")
            fields.append("pp")
        if self.cp > 1 and not spec.layers_with("attention"):
            problems.append(
                f"cp={self.cp} needs attention layers to split the context over; this model has "
                "none (use cp=1)"
            )
            fields.append("cp")
        return fields, problems

    def describe(self, moe: bool = True) -> str:
        """'TP4×DP2 (MoE TP1×EP8) CP2 SP'; the MoE split only for an MoE model (``moe``) or
        a plan that asks for EP, so a dense model's label names no experts."""
        text = f"TP{self.tp}"
        if self.dp > 1:
            text += f"×DP{self.dp}"
        if self.pp > 1:
            text += f"×PP{self.pp}"
        if self.ep > 1 or (moe and self.moe_tp != self.tp):
            text += f" (MoE TP{self.moe_tp}×EP{self.ep})"
        if self.cp > 1:
            text += f" CP{self.cp}"
        if self.sp:
            text += " SP"
        return text

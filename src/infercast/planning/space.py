"""The plan space of a search: every valid way to lay one replica out on ``g`` GPUs.

For each GPU count: TP × attention-DP × PP = g, then every MoE split ``moe_tp × ep = tp × dp``
of a stage (MoE models only), then — for long prompts only, where they help — context
parallelism over divisors of ``dp`` and sequence parallelism in the TP group, then every
allowed format and framework. Plans the model cannot run (heads, experts or layers not
divisible, …) are dropped by the same validation ``estimate`` applies; they are not counted
as evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from infercast.parallel import ParallelPlan
from infercast.specs.layer_classes import ATTENTION_CLASSES
from infercast.specs.schema import ModelSpec

__all__ = ["LONG_PROMPT_TOKENS", "Candidate", "candidates", "divisors"]

LONG_PROMPT_TOKENS = 16_384
"""Prompts at least this long also try CP and SP: below it a prompt's prefill fits in a couple
of engine steps and splitting its sequence only adds communication."""


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@dataclass(frozen=True)
class Candidate:
    """One plan to evaluate: parallel layout, formats (None: checkpoint) and framework."""

    hardware: str
    tp: int
    dp: int
    pp: int
    ep: int
    moe_tp: int
    cp: int
    sp: bool
    weight_dtype: str | None
    moe_dtype: str | None
    kv_dtype: str | None
    framework: str | None

    @property
    def gpus(self) -> int:
        return self.tp * self.dp * self.pp

    def estimate_args(self) -> dict[str, Any]:
        """``infercast.estimate`` keywords for this plan (without model and workload)."""
        # The fields by name (what asdict gives, without its deep copy of each scalar: a
        # search asks this of every plan).
        args = {name: getattr(self, name) for name in _FIELDS}
        args["gpus"] = self.gpus
        return args

    def plan_args(self) -> dict[str, Any]:
        """The keywords of ``estimation.estimate.prepare`` (everything but the hardware)."""
        args = self.estimate_args()
        del args["hardware"]
        return args


_FIELDS = tuple(f.name for f in fields(Candidate))


def _layouts(spec: ModelSpec, gpus: int, long_prompt: bool) -> Iterator[ParallelPlan]:
    has_attention = bool(spec.layers_of(*ATTENTION_CLASSES))
    for tp in divisors(gpus):
        for pp in divisors(gpus // tp):
            dp = gpus // tp // pp
            group = tp * dp
            for ep in divisors(group) if spec.is_moe else [1]:
                for cp in divisors(dp) if long_prompt and has_attention else [1]:
                    for sp in (False, True) if long_prompt and tp > 1 else (False,):
                        plan = ParallelPlan(tp, dp, pp, group // ep, ep, cp, sp)
                        if not plan.problems(spec)[0]:  # what validate_for raises on
                            yield plan


def candidates(
    spec: ModelSpec,
    hardware: list[str],
    gpu_counts: list[int],
    isl: int,
    formats: list[tuple[str | None, str | None, str | None]],
    frameworks: list[str | None],
) -> Iterator[Candidate]:
    """Every valid plan, smallest replicas first (deterministic order)."""
    long_prompt = isl >= LONG_PROMPT_TOKENS
    for gpus in gpu_counts:
        layouts = list(_layouts(spec, gpus, long_prompt))
        for hw in hardware:
            for plan in layouts:
                for weight, moe, kv in formats:
                    for framework in frameworks:
                        yield Candidate(
                            hw,
                            plan.tp,
                            plan.dp,
                            plan.pp,
                            plan.ep,
                            plan.moe_tp,
                            plan.cp,
                            plan.sequence_parallel,
                            weight,
                            moe,
                            kv,
                            framework,
                        )

"""The Mixture-of-Experts feed-forward layer class."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from infercast.specs.classes.base import (
    ExpertCount,
    LayerSpecs,
    NonNegativeWidth,
    Role,
    Size,
    Width,
    canonical_dtype,
    layer_class,
)
from infercast.specs.ops import Linear, Op, Router

__all__ = ["MoELayerSpecs"]


@layer_class
class MoELayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "MoELayer"
    description: ClassVar[str] = (
        "Mixture-of-Experts FFN: a router picks num_experts_per_tok of num_experts gated "
        "experts per token; optional always-on shared experts (DeepSeek, Qwen2-MoE)."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel", "expert_parallel")
    role: ClassVar[Role] = "ffn"
    efficiency_class: ClassVar[Literal["dense", "moe"]] = "moe"
    short_name: ClassVar[str] = "MoE"

    hidden_size: Size
    num_experts: ExpertCount
    num_experts_per_tok: ExpertCount = Field(description="Top-k experts each token uses.")
    expert_intermediate_size: Width = Field(description="Inner width of one routed expert.")
    num_shared_experts: Annotated[int, Field(ge=0, le=1 << 10)] = 0
    shared_expert_intermediate_size: NonNegativeWidth = Field(
        default=0, description="Inner width of ONE shared expert; 0 = expert_intermediate_size."
    )
    shared_expert_gate: bool = Field(
        default=False, description="A sigmoid gate Linear(hidden, 1) on the shared expert."
    )
    norm_topk_prob: bool = Field(
        default=True, description="Router weights renormalised over the chosen top-k."
    )
    router_bias: bool = Field(default=False, description="The router Linear has a bias.")
    router_score_correction_bias: bool = Field(
        default=False,
        description="Per-expert selection bias (DeepSeek-V3 noaux_tc). transformers registers "
        "it as a buffer, not a parameter, so it is not counted (E values per layer).",
    )
    expert_bias: bool = Field(default=False, description="Expert projections carry biases.")
    expert_gated: bool = Field(
        default=True,
        description="Experts (and shared experts) are gated 3-projection MLPs; false for "
        "2-projection up/down experts (Nemotron-H's squared-ReLU experts).",
    )
    router_scoring: Literal["softmax", "sigmoid"] = Field(
        default="softmax",
        description="Router score function (sigmoid: DeepSeek-V3, GLM-4.5, MiniMax-M2, "
        "Llama 4); changes no count or cost.",
    )
    shared_expert_weight_dtype: str | None = Field(
        default=None,
        description="Stored format of the shared experts when it differs from weight_dtype "
        "(Kimi-K2.5: routed experts int4, shared experts bf16); absent = weight_dtype.",
    )

    @field_validator("shared_expert_weight_dtype")
    @classmethod
    def _known_shared_dtype(cls, value: str | None) -> str | None:
        return canonical_dtype(value)

    @property
    def projections(self) -> int:
        return 3 if self.expert_gated else 2

    @property
    def is_truly_sparse(self) -> bool:
        """Top-k strictly between 0 and num_experts: otherwise a dense FFN plus dispatch."""
        return 0 < self.num_experts_per_tok < self.num_experts

    @property
    def shared_width(self) -> int:
        return self.shared_expert_intermediate_size or self.expert_intermediate_size

    def ops(self) -> tuple[Op, ...]:
        """Router gate (replicated, 16-bit), routed experts (``ep`` × ``moe_tp``), shared
        experts (dense, split ``tp`` ways; no divisibility rule: engines pad them)."""
        h, e, k, i = (
            self.hidden_size,
            self.num_experts,
            self.num_experts_per_tok,
            self.expert_intermediate_size,
        )
        ops: list[Op] = [
            Linear("gate", h, e, bias=self.router_bias, fmt="router"),
            Router(e, k),
        ]
        if self.shared_expert_gate and self.num_shared_experts:
            ops.append(Linear("shared_expert_gate", h, 1, fmt="router"))
        expert = dict(
            shard="expert", bias=self.expert_bias, fmt="expert", experts=e, top_k=k,
            split_label="expert size {n} is",
        )  # fmt: skip
        if self.expert_gated:
            ops.append(Linear("experts.gate_proj", h, i, **expert))  # type: ignore[arg-type]
        ops += [
            Linear("experts.up_proj", h, i, **expert),  # type: ignore[arg-type]
            Linear("experts.down_proj", i, h, expert_split="in", **expert),  # type: ignore[arg-type]
        ]
        if self.num_shared_experts:
            w = self.num_shared_experts * self.shared_width
            if self.expert_gated:
                ops.append(Linear("shared_experts.gate_proj", h, w, "col", fmt="shared"))
            ops += [
                Linear("shared_experts.up_proj", h, w, "col", fmt="shared"),
                Linear("shared_experts.down_proj", w, h, "row", fmt="shared"),
            ]
        return tuple(ops)

    def params_per_expert(self) -> int:
        return self.routed_expert_parameters() // self.num_experts

    def shared_expert_parameters(self) -> int:
        return self.num_shared_experts * self.projections * self.hidden_size * self.shared_width

    def router_parameters(self) -> int:
        return sum(op.params for op in self.ops() if getattr(op, "fmt", None) == "router")

    def problems(self) -> list[tuple[str, str]]:
        if self.num_experts_per_tok > self.num_experts:
            return [
                (
                    "num_experts_per_tok",
                    f"top-k {self.num_experts_per_tok} exceeds num_experts {self.num_experts}",
                )
            ]
        return []

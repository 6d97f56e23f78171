"""Dense feed-forward layer classes: the 2-projection MLP and the gated (3-projection) MLP."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from infercast.specs.classes.base import LayerSpecs, Role, Size, Width, layer_class
from infercast.specs.ops import Linear, Op

__all__ = ["GatedMLPLayerSpecs", "LinearLayerSpecs", "MLPLayerSpecs"]

INTERMEDIATE = "intermediate size {n} is"


@layer_class
class MLPLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "MLPLayer"
    description: ClassVar[str] = "Standard 2-projection MLP (up, activation, down): GPT-2, BERT."
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel", "sequence_parallel")
    role: ClassVar[Role] = "ffn"
    short_name: ClassVar[str] = "MLP"

    hidden_size: Size
    intermediate_size: Width
    has_bias: bool = Field(default=False, description="Both projections carry biases.")

    gated: ClassVar[bool] = False

    def ops(self) -> tuple[Op, ...]:
        h, i, bias = self.hidden_size, self.intermediate_size, self.has_bias
        up = ("gate_proj", "up_proj") if self.gated else ("up_proj",)
        return (
            *(Linear(name, h, i, "col", bias, split_label=INTERMEDIATE) for name in up),
            Linear("down_proj", i, h, "row", bias, split_label=INTERMEDIATE),
        )


@layer_class
class GatedMLPLayerSpecs(MLPLayerSpecs):
    class_name: ClassVar[str] = "GatedMLPLayer"
    description: ClassVar[str] = "3-projection gated MLP (gate, up, down; SwiGLU/GeGLU): Llama."
    short_name: ClassVar[str] = "GatedMLP"

    gated: ClassVar[bool] = True


@layer_class
class LinearLayerSpecs(LayerSpecs):
    class_name: ClassVar[str] = "LinearLayer"
    description: ClassVar[str] = (
        "A single hidden → hidden Linear standing in for a block's attention or FFN "
        "(DeciLM / Nemotron-NAS 'replace_with_linear'); row-parallel over TP."
    )
    supported_parallelism: ClassVar[tuple[str, ...]] = ("tensor_parallel",)
    role: ClassVar[Role] = "linear"
    short_name: ClassVar[str] = "Linear"

    hidden_size: Size
    replaces: Literal["attention", "ffn"] = Field(
        description="The block slot it fills: its attention (mixer) or its FFN."
    )
    has_bias: bool = Field(default=False, description="The Linear carries a bias.")

    def block_slot(self) -> str | None:
        return "mixer" if self.replaces == "attention" else "ffn"

    def ops(self) -> tuple[Op, ...]:
        h = self.hidden_size
        return (Linear("linear", h, h, "row", self.has_bias, split_label="hidden size {n} is"),)

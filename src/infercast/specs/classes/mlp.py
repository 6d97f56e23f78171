"""Dense feed-forward layer classes: the 2-projection MLP and the gated (3-projection) MLP."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from infercast.specs.classes.base import LayerSpecs, Role, Size, Width, layer_class
from infercast.specs.ops import Linear, Op

__all__ = ["GatedMLPLayerSpecs", "MLPLayerSpecs"]

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

"""The accelerator catalog format: one ``Hardware`` per part, every figure sourced.

Units are SI and decimal throughout (1 GB = 1e9 bytes, 1 TB/s = 1e12 bytes/s, 1 TFLOPS =
1e12 FLOP/s), as vendors' datasheets use them. FLOP/s peaks are *dense* (no 2:4 sparsity)
tensor-core peaks at the boost clock; link bandwidths are per GPU and per direction.

``Efficiency`` holds what calibration fits: fractions of those peaks that real kernels reach
and fixed per-step/per-layer overheads. Its defaults are physically reasonable starting points
so an uncalibrated estimate is already in the right range.
"""

from __future__ import annotations

from typing import Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from infercast.dtypes import DType, dtype, run_compute_class

__all__ = [
    "COMPUTE_CLASSES",
    "EFFICIENCY_BOUNDS",
    "ComputeClass",
    "Efficiency",
    "Hardware",
    "ScaleOut",
    "ScaleUp",
    "Source",
]

ComputeClass = Literal["tf32", "bf16", "fp16", "fp8", "int8", "fp4"]
Generation = Literal["ampere", "ada", "hopper", "blackwell", "cdna3", "cdna4"]
COMPUTE_CLASSES: tuple[str, ...] = get_args(ComputeClass)

_BASE_CLASS = "bf16"
"""Every part has a bf16 peak: it is the last resort of ``peak_flops_for``."""

EFFICIENCY_BOUNDS: dict[str, tuple[float, float]] = {
    "compute": (0.0, 1.0),
    "memory_bandwidth": (0.0, 1.0),
    "collective": (0.0, 1.0),
    "step_overhead_s": (0.0, 1.0),
    "kernel_gap_s": (0.0, 1e-3),
    "eager_launch_s": (0.0, 1e-3),
    "moe_compute": (0.0, 1.0),
    "request_overhead_s": (0.0, 1.0),
    "collective_latency_s": (0.0, 1e-3),
}
"""(lower, upper) bounds of each efficiency parameter, for validation and for calibration.

Fractions are in (0, 1]; overheads in [0, upper]. The upper bounds on overheads (1 s per step,
100 ms per layer) are far above anything real and exist to catch unit mistakes (ms for s).
"""

_DEFAULT_EFFICIENCY_NOTES = (
    "Uncalibrated defaults. compute 0.70: the large-K efficiency of dense GEMMs (a GEMM of "
    "depth K runs at K/(K + K0) of it, K0 = 800 fp8 or 400 bf16 elements, "
    "layers/k_loop.py); large bf16/fp8 GEMMs in "
    "cuBLAS/hipBLASLt typically reach 65-80 % of the dense datasheet peak (power/clock "
    "limits, tile quantisation), DeepGEMM's published dense fp8 table 0.72 at large K. "
    "memory_bandwidth 0.80: streaming reads (STREAM-like, decode weight reads) reach 80-90 % "
    "of HBM peak. collective 0.70: NCCL all-reduce bus bandwidth on NVLink reaches ~80 % of "
    "the link peak for large messages and less for the mid-sized messages of inference. "
    "step_overhead_s 2 ms: per forward step, scheduler + input preparation + sampling + "
    "Python/launch work not overlapped with the GPU in vLLM/SGLang-class servers (1-5 ms "
    "measured). kernel_gap_s 1.5 us: the idle gap between dependent kernels replayed from a "
    "CUDA graph (~1-2 us on H100-class parts; NVIDIA CUDA C++ Best Practices Guide, 'CUDA "
    "Graphs'); a layer pays it per kernel it launches (estimation/kernels.py counts them from "
    "the engines' model code). eager_launch_s 6 us: host cost of one eager kernel launch "
    "through PyTorch (dispatcher + cudaLaunchKernel, ~5-10 us per op; PyTorch performance "
    "tuning guide, 'CUDA graphs'), the floor of a layer's time in eager prefill. moe_compute 0.45: "
    "the large-M, large-K efficiency of grouped expert GEMMs (each expert's rows padded to the "
    "kernel's M tile and shallow expert slices are priced by layers/grouped_gemm.py, not by "
    "this number); DeepGEMM's published grouped fp8 GEMMs reach ~0.70 of the dense fp8 peak, "
    "weight-only formats (mxfp4 on parts without fp4 tensor cores) dequantise in the kernel "
    "and reach less. request_overhead_s 10 ms: per request, "
    "what the server adds to TTFT outside the engine's forward steps (HTTP, tokenisation, "
    "scheduling into the batch, detokenising and streaming the first token). "
    "collective_latency_s 10 us: the small-message floor of one all-reduce inside an 8-GPU "
    "node (NCCL's nccl-tests all_reduce_perf reports ~10-20 us at 8 B-64 KB on DGX H100; "
    "vLLM's one-shot custom all-reduce for decode-sized messages ~5-10 us)."
)


class _Strict(BaseModel):
    """Unknown keys are errors (pydantic names them); parts are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Efficiency(_Strict):
    """Achievable fractions of peak and fixed overheads: the parameters calibration fits."""

    compute: float = Field(
        0.70,
        gt=0.0,
        le=1.0,
        description="Achievable fraction of the dense peak FLOP/s on large GEMMs.",
    )
    memory_bandwidth: float = Field(
        0.80,
        gt=0.0,
        le=1.0,
        description="Achievable fraction of peak memory (HBM) bandwidth on streaming reads.",
    )
    collective: float = Field(
        0.70,
        gt=0.0,
        le=1.0,
        description="Achievable fraction of link bandwidth for NCCL/RCCL-style collectives.",
    )
    step_overhead_s: float = Field(
        2.0e-3,
        ge=0.0,
        le=EFFICIENCY_BOUNDS["step_overhead_s"][1],
        description="Fixed overhead per forward step (CPU, scheduler, launches, sampling), s.",
    )
    kernel_gap_s: float = Field(
        1.5e-6,
        ge=0.0,
        le=EFFICIENCY_BOUNDS["kernel_gap_s"][1],
        description="Idle time per kernel boundary inside a captured CUDA/HIP graph (decode "
        "steps), s; a layer pays it once per kernel it launches (counted per layer class).",
    )
    eager_launch_s: float = Field(
        6.0e-6,
        ge=0.0,
        le=EFFICIENCY_BOUNDS["eager_launch_s"][1],
        description="Host time to launch one kernel without graphs (eager prefill), s: a layer "
        "of k kernels never runs faster than k launches.",
    )
    moe_compute: float = Field(
        0.45,
        gt=0.0,
        le=1.0,
        description="Achievable fraction of the dense peak FLOP/s of the format used, on the "
        "grouped per-expert GEMMs of MoE layers at large M and K (padding to the M tile and "
        "the K-loop law are priced separately); in-kernel dequant of weight-only formats.",
    )
    request_overhead_s: float = Field(
        1.0e-2,
        ge=0.0,
        le=EFFICIENCY_BOUNDS["request_overhead_s"][1],
        description="Fixed time per request added to TTFT outside the forward steps (HTTP, "
        "tokenisation, admission, detokenising and streaming the first token), s.",
    )
    collective_latency_s: float = Field(
        1.0e-5,
        ge=0.0,
        le=EFFICIENCY_BOUNDS["collective_latency_s"][1],
        description="Fixed cost of one collective call beyond its per-hop latencies "
        "(kernel launch, the barrier/flag handshake between GPUs), s: the floor a small "
        "all-reduce never goes below, so link efficiency does not absorb latency.",
    )
    notes: str = Field(
        _DEFAULT_EFFICIENCY_NOTES,
        description="Why these values: defaults' justification or the calibration they came from.",
    )


class ScaleUp(_Strict):
    """The GPU-to-GPU fabric inside one scale-up domain (NVLink, Infinity Fabric, PCIe)."""

    name: str = Field(min_length=1, description='Fabric name, e.g. "NVLink 4".')
    bandwidth_bytes_per_s: float = Field(
        gt=0.0, description="Per GPU, per direction (unidirectional), bytes/s."
    )
    domain_size: int = Field(
        ge=1, description="GPUs reachable over this fabric (8 for HGX, 72 for NVL72)."
    )
    latency_s: float = Field(
        ge=0.0, description="Per-hop start-up latency of one collective step (alpha), s."
    )
    mesh_links: int | None = Field(
        None,
        ge=1,
        description="Set for a full mesh of point-to-point links (AMD Infinity Fabric: 7 links "
        "between 8 GPUs) instead of a switch: `bandwidth_bytes_per_s` is the sum of these links, "
        "and a collective over n GPUs drives only the n − 1 links to its peers, (n − 1) × link. "
        "Unset: a switch (NVSwitch), every GPU reaches the whole bandwidth.",
    )

    def group_bandwidth_bytes_per_s(self, group_size: int) -> float:
        """Per-GPU bandwidth a collective over ``group_size`` GPUs of this domain can drive:
        the whole injection bandwidth through a switch; ``(n − 1)`` of ``mesh_links`` links in
        a full mesh (a TP4 group on MI300X uses 3 of its 7 xGMI links: 3 × 64 = 192 GB/s)."""
        if self.mesh_links is None:
            return self.bandwidth_bytes_per_s
        links = min(max(group_size - 1, 1), self.mesh_links)
        return self.bandwidth_bytes_per_s * links / self.mesh_links


class ScaleOut(_Strict):
    """The network between scale-up domains (InfiniBand, RoCE Ethernet)."""

    name: str = Field(min_length=1, description='Network name, e.g. "InfiniBand NDR 400G".')
    bandwidth_bytes_per_s: float = Field(
        gt=0.0, description="Per GPU (one NIC per GPU), per direction, bytes/s."
    )
    latency_s: float = Field(
        ge=0.0, description="Per-hop start-up latency of one collective step (alpha), s."
    )


class Source(_Strict):
    """Where one figure comes from. ``figure`` is a dotted path such as ``peak_flops.bf16``;
    a parent path (``peak_flops``, ``scale_up``) covers every figure under it."""

    figure: str = Field(min_length=1)
    source: str = Field(min_length=1, description="Citation: datasheet/whitepaper name or URL.")


class Hardware(_Strict):
    """One accelerator part, as deployed in its usual server (HGX board, NVL72 rack, ...)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description='Catalog id, e.g. "h100".')
    name: str = Field(min_length=1)
    vendor: str = Field(min_length=1)
    aliases: list[str] = Field(
        default_factory=list, description="Other names accepted by get_hardware."
    )
    generation: Generation | None = Field(
        None,
        description="Architecture generation (hopper, blackwell, cdna3, cdna4, ...): the prior "
        "calibration pools toward when a part has too little data of its own.",
    )
    memory_type: str | None = Field(None, description='e.g. "HBM3e", "GDDR6".')
    memory_bytes: int = Field(gt=0, description="Device memory capacity, bytes (decimal).")
    memory_bandwidth_bytes_per_s: float = Field(gt=0.0, description="Peak memory bandwidth.")
    peak_flops: dict[ComputeClass, float] = Field(
        description="Dense (not sparse) tensor-core peak FLOP/s by compute class; a format "
        "the part lacks has no key."
    )
    scale_up: ScaleUp
    scale_out: ScaleOut
    tdp_w: float | None = Field(None, gt=0.0, description="Board power, W.")
    efficiency: Efficiency = Field(default_factory=Efficiency)
    sources: list[Source] = Field(min_length=1)
    notes: str = ""

    @field_validator("peak_flops")
    @classmethod
    def _positive_peaks(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if not v > 0]
        if bad:
            raise ValueError(f"peak FLOP/s must be > 0 (bad: {', '.join(bad)})")
        if _BASE_CLASS not in value:
            raise ValueError(f"a {_BASE_CLASS!r} peak is required (the fallback of every format)")
        return value

    @model_validator(mode="after")
    def _every_figure_sourced(self) -> Hardware:
        figures = self.figures()
        known = set(figures) | {"efficiency", *(f"efficiency.{p}" for p in EFFICIENCY_BOUNDS)}
        unknown = [
            s.figure
            for s in self.sources
            if s.figure not in known and not any(f.startswith(s.figure + ".") for f in known)
        ]
        if unknown:
            raise ValueError(f"sources name unknown figures: {', '.join(unknown)}")
        missing = [f for f in figures if self.source_for(f) is None]
        if missing:
            raise ValueError(f"figures without a source: {', '.join(missing)}")
        return self

    def figures(self) -> dict[str, float]:
        """Every sourced numeric figure by dotted path (efficiency parameters excluded)."""
        out: dict[str, float] = {
            "memory_bytes": float(self.memory_bytes),
            "memory_bandwidth_bytes_per_s": self.memory_bandwidth_bytes_per_s,
        }
        out.update({f"peak_flops.{k}": v for k, v in self.peak_flops.items()})
        out["scale_up.bandwidth_bytes_per_s"] = self.scale_up.bandwidth_bytes_per_s
        out["scale_up.domain_size"] = float(self.scale_up.domain_size)
        out["scale_up.latency_s"] = self.scale_up.latency_s
        if self.scale_up.mesh_links is not None:
            out["scale_up.mesh_links"] = float(self.scale_up.mesh_links)
        out["scale_out.bandwidth_bytes_per_s"] = self.scale_out.bandwidth_bytes_per_s
        out["scale_out.latency_s"] = self.scale_out.latency_s
        if self.tdp_w is not None:
            out["tdp_w"] = self.tdp_w
        return out

    def source_for(self, figure: str) -> str | None:
        """The citation of ``figure`` (most specific entry wins); None if unsourced."""
        best: Source | None = None
        for s in self.sources:
            if (s.figure == figure or figure.startswith(s.figure + ".")) and (
                best is None or len(s.figure) > len(best.figure)
            ):
                best = s
        return best.source if best else None

    def supports(self, compute_class: str) -> bool:
        """Whether the part has a tensor-core peak for ``compute_class``."""
        return compute_class in self.peak_flops

    def peak_flops_for(self, compute_class: str, fallback: str = _BASE_CLASS) -> tuple[float, str]:
        """Dense peak FLOP/s for a matmul of ``compute_class`` and the class actually used.

        Falls back to ``fallback`` (the dtype's ``fallback_compute_class``, e.g. fp4 weights on
        Hopper run as bf16) and finally to bf16, which every part has.
        """
        cls_ = cast(ComputeClass, run_compute_class(compute_class, fallback, self.peak_flops))
        return self.peak_flops[cls_], cls_  # bf16, the last resort, is validated present

    def peak_flops_for_dtype(self, fmt: DType | str) -> tuple[float, str]:
        """``peak_flops_for`` with the classes of an ``infercast.dtypes`` format."""
        d = dtype(fmt) if isinstance(fmt, str) else fmt
        return self.peak_flops_for(d.compute_class, d.fallback_compute_class)

    def with_efficiency(self, **changes: Any) -> Hardware:
        """A copy with some efficiency parameters replaced (validated, e.g. after calibration)."""
        eff = Efficiency.model_validate({**self.efficiency.model_dump(), **changes})
        return self.model_copy(update={"efficiency": eff})

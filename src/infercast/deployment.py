"""One deployment: which model, on which hardware, under which plan, formats, engine and load.

:data:`FIELDS` is the only declaration of a deployment's fields (name, type, bounds, meaning,
CLI flag and help, benchmark-CSV column). Everything that spells them out is generated from it:
the API body ``EstimateRequest`` (:mod:`infercast.estimation.result`), the options of
``infercast estimate`` / ``infercast layers``, the column mapping of ``infercast reconcile``
and the ``deployment_fields`` that ``GET /api/options`` hands the web page. A
:class:`Deployment` groups them the way the model uses them — like torchtitan's
``ParallelDims`` — ``Deployment(model, hardware, plan, formats, framework, workload)``, and
:meth:`Deployment.of` builds one from the flat names ``infercast.estimate`` takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from infercast.errors import InvalidInputError
from infercast.parallel import ParallelPlan

if TYPE_CHECKING:
    from infercast.hardware import Hardware
    from infercast.specs.schema import ModelSpec

__all__ = ["FIELDS", "REQUIRED", "Deployment", "DeploymentField", "Formats", "Workload"]

Part = Literal["model", "hardware", "plan", "formats", "framework", "workload"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of a field that has none (the caller must give it)."""


@dataclass(frozen=True)
class DeploymentField:
    """One field of a deployment, declared once."""

    name: str
    part: Part
    annotation: Any
    description: str
    default: Any = REQUIRED
    ge: int | None = None
    le: int | None = None
    flags: tuple[str, ...] = ()
    """CLI flags (the first is the long one)."""
    help: str = ""
    """CLI help text (shorter than ``description``)."""
    csv: str = ""
    """Column of the serving-benchmark CSV (``../shared/benchmarks``) holding it."""
    show_default: bool = True

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


_DEGREE = dict(ge=1, le=1024)
FIELDS: tuple[DeploymentField, ...] = (
    DeploymentField(
        "model",
        "model",
        str,
        "Model id (model_id or Hugging Face id) in the registry.",
        flags=("--model", "-m"),
        help="Model id (model_id or Hugging Face id).",
        csv="model",
        show_default=False,
    ),
    DeploymentField(
        "hardware",
        "hardware",
        str,
        "Hardware id from the catalog, e.g. 'h100', 'b200'.",
        flags=("--hardware",),
        help="Hardware id, e.g. h100, b200 (`infercast hardware list`).",
        csv="hardware",
        show_default=False,
    ),
    DeploymentField(
        "gpus",
        "plan",
        int | None,
        "GPUs serving one replica; defaults to tp × dp × pp. Must equal it if given.",
        None,
        1,
        4096,
        ("--gpus",),
        "GPUs of one replica; must equal tp × dp × pp when given.",
        "gpus",
    ),
    DeploymentField(
        "tp",
        "plan",
        int,
        "Attention tensor-parallel degree.",
        1,
        **_DEGREE,  # type: ignore[arg-type]
        flags=("--tp",),
        help="Attention tensor-parallel degree.",
        csv="attention_tp",
    ),
    DeploymentField(
        "dp",
        "plan",
        int,
        "Attention data-parallel degree.",
        1,
        **_DEGREE,  # type: ignore[arg-type]
        flags=("--dp",),
        help="Attention data-parallel degree.",
        csv="attention_dp",
    ),
    DeploymentField(
        "pp",
        "plan",
        int,
        "Pipeline-parallel stages.",
        1,
        1,
        256,
        ("--pp",),
        "Pipeline-parallel stages.",
        "pp",
    ),
    DeploymentField(
        "ep",
        "plan",
        int,
        "MoE expert-parallel degree (moe_tp × ep = tp × dp).",
        1,
        **_DEGREE,  # type: ignore[arg-type]
        flags=("--ep",),
        help="MoE expert-parallel degree (moe_tp × ep = tp × dp).",
        csv="moe_ep",
    ),
    DeploymentField(
        "moe_tp",
        "plan",
        int | None,
        "MoE tensor-parallel degree; defaults to tp × dp / ep.",
        None,
        **_DEGREE,  # type: ignore[arg-type]
        flags=("--moe-tp",),
        help="MoE tensor-parallel degree; default tp × dp / ep.",
        csv="moe_tp",
    ),
    DeploymentField(
        "weight_dtype",
        "formats",
        str | None,
        "Format of dense (non-expert) weights; defaults to the checkpoint's.",
        None,
        flags=("--weight-dtype",),
        help="Dense weight format (default: the checkpoint's).",
        csv="gemm_dtype",
    ),
    DeploymentField(
        "moe_dtype",
        "formats",
        str | None,
        "Format of MoE expert weights; defaults to the checkpoint's.",
        None,
        flags=("--moe-dtype",),
        help="MoE expert weight format (default: the checkpoint's).",
        csv="moe_dtype",
    ),
    DeploymentField(
        "attention_dtype",
        "formats",
        str | None,
        "Format of the attention projections; defaults to the checkpoint's, or to weight_dtype "
        "when that is an 8- or 16-bit format (a 4-bit weight_dtype never reaches attention: "
        "ModelOpt's NVFP4 recipe and gpt-oss's MXFP4 keep attention unquantized).",
        None,
        flags=("--attention-dtype",),
        help="Attention projection format (default: the checkpoint's; an 8/16-bit "
        "--weight-dtype applies, a 4-bit one does not).",
    ),
    DeploymentField(
        "kv_dtype",
        "formats",
        str | None,
        "KV-cache format; absent: the checkpoint's (a ModelOpt checkpoint's fp8), else for "
        "dense weights quantized to a format the checkpoint does not carry the engine's "
        "toolkit's (TensorRT-LLM: fp8), else bf16; said in `notes`.",
        None,
        flags=("--kv-dtype",),
        help="KV-cache format (default: the checkpoint's; TensorRT-LLM with quantized "
        "weights: fp8; else bf16).",
        csv="kv_dtype",
    ),
    DeploymentField(
        "framework",
        "framework",
        str | None,
        "Serving engine (vllm, sglang, trtllm, atom, or generic); absent → the generic engine's "
        "settings and efficiency parameters (said in `notes`); an unknown name is an error "
        "suggesting the known ones.",
        None,
        flags=("--framework",),
        help="Serving engine: vllm, sglang, trtllm, atom (default: generic parameters).",
        csv="framework",
    ),
    DeploymentField(
        "isl",
        "workload",
        int,
        "Input (prompt) tokens per request.",
        ge=1,
        le=10_000_000,
        flags=("--isl",),
        help="Input (prompt) tokens per request.",
        csv="isl",
        show_default=False,
    ),
    DeploymentField(
        "osl",
        "workload",
        int,
        "Output tokens per request.",
        ge=0,
        le=10_000_000,
        flags=("--osl",),
        help="Output tokens per request.",
        csv="osl",
        show_default=False,
    ),
    DeploymentField(
        "concurrency",
        "workload",
        int,
        "Requests in flight (closed-loop benchmark).",
        ge=1,
        le=1_000_000,
        flags=("--concurrency", "-c"),
        help="Requests in flight (closed-loop benchmark).",
        csv="concurrency",
        show_default=False,
    ),
    DeploymentField(
        "sp",
        "plan",
        bool,
        "Sequence parallelism (Megatron-style, within the TP group): each TP all-reduce becomes "
        "a reduce-scatter + all-gather and norms work on 1/tp of the tokens. A no-op at tp = 1 "
        "(said in `notes`).",
        False,
        flags=("--sp/--no-sp",),
        help="Sequence parallelism in the TP group (reduce-scatter + all-gather instead of "
        "all-reduce; norms on 1/tp of the tokens). No effect at tp 1.",
    ),
    DeploymentField(
        "cp",
        "plan",
        int,
        "Context-parallel degree for long prefills (ring attention): a sequence is spread over "
        "cp of the dp attention-DP ranks, each holding 1/cp of its KV cache. Must divide dp; "
        "adds no GPUs (gpus = tp × dp × pp).",
        1,
        **_DEGREE,  # type: ignore[arg-type]
        flags=("--cp",),
        help="Context-parallel degree for long prefills: a sequence spread over cp of the dp "
        "ranks (ring attention). Must divide dp.",
    ),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
_BY_NAME = {f.name: f for f in FIELDS}


@dataclass(frozen=True)
class Formats:
    """Formats asked for (``None``: the checkpoint's / bf16); resolved when estimating."""

    weight_dtype: str | None = None
    moe_dtype: str | None = None
    kv_dtype: str | None = None
    attention_dtype: str | None = None


@dataclass(frozen=True)
class Workload:
    """A closed-loop benchmark: ``concurrency`` requests of ``isl`` prompt and ``osl`` output
    tokens in flight."""

    isl: int
    osl: int
    concurrency: int

    def __post_init__(self) -> None:
        for name, low in (("isl", 1), ("osl", 0), ("concurrency", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InvalidInputError(f"{name} must be an integer ≥ {low}, got {value!r}")


@dataclass(frozen=True)
class Deployment:
    """What to estimate. ``model``/``hardware`` are ids (or resolved objects)."""

    model: str | ModelSpec
    hardware: str | Hardware
    plan: ParallelPlan = field(default_factory=ParallelPlan)
    formats: Formats = field(default_factory=Formats)
    framework: str | None = None
    workload: Workload | None = None

    @classmethod
    def of(cls, **values: Any) -> Deployment:
        """From the flat field names of :data:`FIELDS` (``infercast.estimate``'s arguments).

        Unknown names are an error naming them; the plan's arithmetic is checked here
        (``ParallelPlan.build``), its fit to the model when the model is resolved."""
        unknown = sorted(set(values) - set(FIELD_NAMES))
        if unknown:
            raise InvalidInputError(
                f"unknown deployment field(s) {', '.join(unknown)}; known: {', '.join(FIELD_NAMES)}"
            )
        missing = [n for n in ("model", "hardware") if n not in values]
        if missing:
            raise InvalidInputError(f"deployment: {', '.join(missing)} required")
        get = {n: values.get(n, _BY_NAME[n].default) for n in FIELD_NAMES}
        workload = None
        if any(n in values for n in ("isl", "osl", "concurrency")):
            workload = Workload(get["isl"], get["osl"], get["concurrency"])  # names the field
        plan = ParallelPlan.build(
            tp=get["tp"],
            dp=get["dp"],
            pp=get["pp"],
            ep=get["ep"],
            moe_tp=get["moe_tp"],
            gpus=get["gpus"],
            cp=get["cp"],
            sequence_parallel=get["sp"],
        )
        formats = Formats(
            get["weight_dtype"], get["moe_dtype"], get["kv_dtype"], get["attention_dtype"]
        )
        return cls(get["model"], get["hardware"], plan, formats, get["framework"], workload)

    def fields(self) -> dict[str, Any]:
        """The flat field names and values (``moe_tp`` and ``gpus`` as the plan resolved them)."""
        out: dict[str, Any] = {
            "model": self.model,
            "hardware": self.hardware,
            "gpus": self.plan.gpus,
            "tp": self.plan.tp,
            "dp": self.plan.dp,
            "pp": self.plan.pp,
            "ep": self.plan.ep,
            "moe_tp": self.plan.moe_tp,
            "weight_dtype": self.formats.weight_dtype,
            "moe_dtype": self.formats.moe_dtype,
            "kv_dtype": self.formats.kv_dtype,
            "attention_dtype": self.formats.attention_dtype,
            "framework": self.framework,
            "sp": self.plan.sequence_parallel,
            "cp": self.plan.cp,
        }
        if self.workload is not None:
            out.update(
                isl=self.workload.isl,
                osl=self.workload.osl,
                concurrency=self.workload.concurrency,
            )
        return {name: out[name] for name in FIELD_NAMES if name in out}

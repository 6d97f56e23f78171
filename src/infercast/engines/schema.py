"""What infercast knows about a serving engine: its scheduler, memory and launch settings.

An engine owns the figures that shape a serving estimate besides the hardware:

- ``max_num_batched_tokens``: the token budget of one step (prompt chunks + decode tokens);
  ``budget_by_memory``: the budget (and batch cap) an engine picks itself from the GPU it runs
  on (SGLang's ``--chunked-prefill-size`` by memory; vLLM's defaults by memory and device
  name), resolved per part by :meth:`Engine.for_part`;
- ``max_num_seqs``: the most sequences one engine instance (one DP rank) runs at once;
  ``running_requests_from_pool``: the cap an engine derives from its KV pool instead (SGLang),
  resolved per deployment by :meth:`Engine.seqs_cap`;
- ``chunked_prefill``: whether long prompts are split into budget-sized chunks that share
  steps with decodes (every engine here does; the step model assumes it);
- the memory-reserve rule: ``(1 − memory_utilization)`` of the GPU's capacity is left outside
  the engine's pool (CUDA context, CUDA graphs, communication buffers, allocator slack), at
  least ``reserve_min_bytes``;
- ``cuda_graphs``: whether decode steps replay captured CUDA graphs (the per-kernel launch gap
  the calibration fits assumes they do);
- ``kv_on_demand``: KV paged on demand (vLLM, SGLang) or reserved for ``isl + osl`` at
  admission (TensorRT-LLM's capacity scheduler): the admission rule of
  :mod:`infercast.estimation.estimate`;
- ``prefill_graphs``: whether prefill-carrying steps replay graphs (vLLM's piecewise CUDA
  graphs) or run eagerly and pay the launch floor of :mod:`infercast.estimation.timing`;
- ``quantized_kv_dtype``: the KV format the engine runs when it serves weights quantized to a
  format the checkpoint does not carry (a quantized checkpoint made by the engine's own
  toolkit) and no KV format is given: TensorRT-LLM's come from NVIDIA ModelOpt, whose PTQ
  quantizes the KV cache to fp8 by default; ``None``: the checkpoint's KV format;
- ``launch_flags``: the command-line flag of each setting (``tp``, ``dp``, ``pp``, ``ep``,
  ``max_num_batched_tokens``, ``max_num_seqs``, ``memory_utilization``, ``kv_dtype``), for
  tools that print launch commands.

Every figure names its source (``sources``), as the hardware catalog does.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from infercast.dtypes import UnknownDTypeError, dtype

__all__ = ["GIB", "LAUNCH_SETTINGS", "Engine", "EngineSource", "MemoryTier", "PoolRequestCap"]

GIB = float(1 << 30)
"""Bytes in a GiB: engines read the GPU's memory in binary units (SGLang's tiers are MiB)."""

LAUNCH_SETTINGS = (
    "tp",
    "dp",
    "pp",
    "ep",
    "max_num_batched_tokens",
    "max_num_seqs",
    "memory_utilization",
    "kv_dtype",
)
_FIGURES = (
    "max_num_batched_tokens",
    "max_num_seqs",
    "chunked_prefill",
    "memory_utilization",
    "reserve_min_bytes",
    "cuda_graphs",
    "kv_on_demand",
    "prefill_graphs",
    "quantized_kv_dtype",
    "launch_flags",
)


class EngineSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    figure: str = Field(min_length=1)
    source: str = Field(min_length=1, description="Citation: engine docs, source file, or why.")


class MemoryTier(BaseModel):
    """The step budget (and batch cap) an engine picks on GPUs of less than ``below_gib`` of
    memory, or on the parts it names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    below_gib: float = Field(gt=0.0, description="Upper bound (exclusive) of the GPU memory, GiB.")
    max_num_batched_tokens: int = Field(gt=0, description="Token budget of one step there.")
    max_num_seqs: int | None = Field(
        default=None, gt=0, description="Most sequences per instance there (None: the engine's)."
    )
    device_names: list[str] = Field(
        default_factory=list,
        description="Parts whose name contains one of these (any case) take this tier whatever "
        "their memory, as the engine checks the device name it runs on (vLLM keeps A100s on "
        "its small-GPU defaults).",
    )

    def applies(self, memory_bytes: float, device_name: str) -> bool:
        """Whether an engine on a GPU of ``memory_bytes`` named ``device_name`` takes this tier."""
        name = device_name.lower()
        return memory_bytes < self.below_gib * GIB or any(
            d.lower() in name for d in self.device_names
        )


class PoolRequestCap(BaseModel):
    """A running-request cap an engine derives from its KV pool (SGLang): at most one request
    per ``pool_tokens_per_request`` pool tokens, and at most the request slots it allocates,
    ``pool_tokens / context_tokens · slots_per_context`` clamped to ``[min_slots, max_slots]``
    (``context_tokens``: the model's context, which the engine serves by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pool_tokens_per_request: int = Field(gt=0)
    slots_per_context: float = Field(gt=0.0)
    min_slots: int = Field(gt=0)
    max_slots: int = Field(gt=0)

    def cap(self, pool_tokens: float, context_tokens: int | None) -> int:
        """Requests the engine runs at once on a pool of ``pool_tokens`` KV tokens."""
        slots = self.max_slots
        if context_tokens:
            scaled = int(pool_tokens / context_tokens * self.slots_per_context)
            slots = min(self.max_slots, max(self.min_slots, scaled))
        return max(1, min(int(pool_tokens // self.pool_tokens_per_request), slots))


class Engine(BaseModel):
    """One serving engine (framework) and its default settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description='Catalog id, e.g. "vllm".')
    display_name: str = Field(min_length=1, description='e.g. "TensorRT-LLM".')
    aliases: list[str] = Field(default_factory=list, description="Other names accepted.")
    description: str = Field(min_length=1)
    max_num_batched_tokens: int = Field(gt=0, description="Token budget of one step.")
    budget_by_memory: list[MemoryTier] = Field(
        default_factory=list,
        description="Budgets the engine picks from the GPU it runs on, ascending: the first tier "
        "whose below_gib exceeds the part's memory or that names the part; above every tier, "
        "max_num_batched_tokens and max_num_seqs.",
    )
    max_num_seqs: int = Field(
        gt=0,
        description="Most sequences per engine instance (with running_requests_from_pool: the "
        "largest cap that rule gives).",
    )
    running_requests_from_pool: PoolRequestCap | None = Field(
        default=None,
        description="The engine sizes its running-request cap from its KV pool (SGLang's "
        "max_running_requests); None: max_num_seqs.",
    )
    chunked_prefill: bool = True
    memory_utilization: float = Field(
        gt=0.0,
        lt=1.0,
        description="Fraction of HBM the engine pool (weights, activations, KV cache) may use.",
    )
    reserve_min_bytes: float = Field(
        default=1.5e9, ge=0.0, description="Floor of the runtime reserve, bytes."
    )
    cuda_graphs: bool = True
    kv_on_demand: bool = Field(
        default=True,
        description="KV admission rule. True: KV pages are allocated as tokens are produced "
        "(vLLM's PagedAttention block manager, SGLang's token pool), so a sequence holds its "
        "life-time mean isl + osl/2 and the engine admits what fits at that occupancy. False: "
        "the request's whole isl + osl is reserved at admission (TensorRT-LLM's capacity "
        "scheduler, GUARANTEED_NO_EVICT).",
    )
    prefill_graphs: bool = Field(
        default=False,
        description="Whether steps carrying prompt chunks replay captured graphs (vLLM V1's "
        "piecewise CUDA graphs) or run eagerly (SGLang's extend mode): eager steps pay the "
        "per-kernel launch floor. Decode-only steps are graph-captured when cuda_graphs is set.",
    )
    quantized_kv_dtype: str | None = Field(
        default=None,
        description="KV-cache format the engine runs when its weights are quantized to an 8- "
        "or 4-bit format the checkpoint does not carry and no kv_dtype is given (the quantized "
        "checkpoint its own toolkit makes; TensorRT-LLM's ModelOpt checkpoints ship fp8 KV). "
        "None: the checkpoint's KV format.",
    )
    launch_flags: dict[str, str] = Field(
        default_factory=dict, description="Command-line flag of each launch setting."
    )
    sources: list[EngineSource] = Field(min_length=1)

    @model_validator(mode="after")
    def _sourced_and_known(self) -> Engine:
        unknown = sorted(set(self.launch_flags) - set(LAUNCH_SETTINGS))
        if unknown:
            raise ValueError(f"launch_flags: unknown settings {', '.join(unknown)}")
        if self.quantized_kv_dtype is not None:
            try:
                kv = dtype(self.quantized_kv_dtype)
            except UnknownDTypeError as exc:
                raise ValueError(f"quantized_kv_dtype: {exc}") from None
            if kv.bits < 8:
                raise ValueError(f"quantized_kv_dtype: {kv.name} is no KV-cache format")
        bounds = [t.below_gib for t in self.budget_by_memory]
        if bounds != sorted(set(bounds)):
            raise ValueError(f"budget_by_memory: below_gib must ascend, got {bounds}")
        rule = self.running_requests_from_pool
        if rule is not None and rule.max_slots != self.max_num_seqs:
            raise ValueError(
                "max_num_seqs must be running_requests_from_pool.max_slots (the largest cap)"
            )
        named = {s.figure for s in self.sources}
        figures = (*_FIGURES, "budget_by_memory") if self.budget_by_memory else _FIGURES
        if rule is not None:
            figures = (*figures, "running_requests_from_pool")
        missing = [f for f in figures if f not in named]
        if missing:
            raise ValueError(f"figures without a source: {', '.join(missing)}")
        return self

    @property
    def name(self) -> str:
        """The id (what results report as ``framework``)."""
        return self.id

    def tier_for(self, memory_bytes: float, device_name: str = "") -> MemoryTier | None:
        """The tier this engine picks on a GPU of ``memory_bytes`` named ``device_name``
        (``None``: above every tier, the engine's own figures)."""
        return next(
            (t for t in self.budget_by_memory if t.applies(memory_bytes, device_name)), None
        )

    def for_part(self, memory_bytes: float, device_name: str = "") -> Engine:
        """This engine's settings on a GPU of ``memory_bytes`` named ``device_name``: the step
        budget and batch cap of its tier (itself when it has no tiers, or the part is above
        them)."""
        tier = self.tier_for(memory_bytes, device_name)
        if tier is None:
            return self
        update = {"max_num_batched_tokens": tier.max_num_batched_tokens}
        if tier.max_num_seqs is not None:
            update["max_num_seqs"] = tier.max_num_seqs
        return self.model_copy(update=update)

    def kv_for_weights(self, weight_dtype: str | None, checkpoint_dtype: str) -> str | None:
        """The KV format of the quantized checkpoint this engine serves ``weight_dtype`` dense
        weights from, when they are an 8- or 4-bit format the checkpoint (``checkpoint_dtype``)
        does not carry; ``None`` when the engine's toolkit names none or nothing is quantized."""
        if self.quantized_kv_dtype is None or weight_dtype in (None, checkpoint_dtype):
            return None
        return self.quantized_kv_dtype if dtype(weight_dtype).bits <= 8 else None

    def reserve_bytes(self, capacity_bytes: float) -> float:
        """Memory the engine leaves outside its pool on a GPU of ``capacity_bytes``."""
        return max(self.reserve_min_bytes, (1.0 - self.memory_utilization) * capacity_bytes)

    def step_tokens(self, isl: int, concurrency: int) -> float:
        """Tokens of the largest step: a full budget once prompts queue (``concurrency > 1``),
        a lone request one chunk of its prompt (chunked prefill: at most the budget, however
        long the prompt)."""
        budget = self.max_num_batched_tokens
        return float(budget if concurrency > 1 else min(isl, budget))

    def pipeline_budget(self, pp: int) -> int:
        """Tokens one step of a ``pp``-stage pipeline carries over all its micro-batches:
        each of the ``pp`` batches in flight is scheduled with its own
        ``max_num_batched_tokens`` (vLLM's batch queue and SGLang's micro-batches alike), so
        a pipeline admits ``pp`` prompt chunks per step where one instance admits one."""
        return self.max_num_batched_tokens * pp

    def seqs_cap(self, pool_tokens: float, context_tokens: int | None) -> int:
        """Most sequences one instance runs at once on a KV pool of ``pool_tokens`` tokens per
        GPU for a model of ``context_tokens`` context: its pool rule, else ``max_num_seqs``."""
        rule = self.running_requests_from_pool
        return self.max_num_seqs if rule is None else rule.cap(pool_tokens, context_tokens)

    def batch_cap(self, dp: int, per_instance: int | None = None) -> int:
        """Most sequences a replica of ``dp`` engine instances runs at once (``per_instance``:
        :meth:`seqs_cap` where the pool is known, else ``max_num_seqs``)."""
        return (self.max_num_seqs if per_instance is None else per_instance) * dp

    def source_for(self, figure: str) -> str | None:
        return next((s.source for s in self.sources if s.figure == figure), None)

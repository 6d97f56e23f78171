"""The serving engine's own launch command for a plan (vLLM, SGLang, TensorRT-LLM).

Flags are those of each engine's documented CLI at a stated version:

- vLLM 0.10.1, ``vllm serve`` engine arguments
  (https://docs.vllm.ai/en/v0.10.1/configuration/engine_args.html). With data parallelism the
  MoE layers form one group over all ``tp × dp`` GPUs — tensor-parallel by default, expert-
  parallel with ``--enable-expert-parallel`` (docs "Data Parallel Deployment" / "Expert
  Parallel Deployment") — so only ``ep = 1`` or ``ep = tp × dp`` can be expressed; there is no
  context or sequence parallelism. ``--max-num-seqs`` is per DP rank.
- SGLang 0.5.1, ``python -m sglang.launch_server`` server arguments
  (https://docs.sglang.ai/advanced_features/server_arguments.html; checked against
  ``sglang/srt/server_args.py`` of the 0.5.1 wheel — PyPI has no 0.5.0, only
  0.5.0rc0–rc2). With
  ``--enable-dp-attention`` ``--tp`` is the whole stage (attention TP is ``tp / dp``); the MoE
  layers run ``--ep-size`` expert-parallel and ``tp / ep`` tensor-parallel; no context or
  sequence parallelism. ``--max-running-requests`` is for the whole server with DP attention
  and per replica without it.
- TensorRT-LLM 1.0.0, ``trtllm-serve`` with the PyTorch backend
  (https://nvidia.github.io/TensorRT-LLM/commands/trtllm-serve/trtllm-serve.html and the LLM
  API options of ``--extra_llm_api_options``). Attention data parallelism
  (``enable_attention_dp: true``) makes every rank its own DP rank, so attention runs either
  ``tp = tp_size`` (no DP) or ``dp = tp_size`` (``tp = 1``); the MoE is ``--ep_size`` ×
  ``tp_size / ep_size``; the KV format is ``kv_cache_config.dtype``. ``--max_batch_size`` is
  per rank.

The flag names of the settings the engine catalog knows (``launch_flags`` in
``infercast/engines/catalog.json``: tp, dp, pp, ep, step budget, batch cap, memory fraction, KV
format) come from there, so the catalog and the commands cannot disagree; the rest (DP
attention, context length, quantisation, TensorRT-LLM's YAML) are written here.

A plan an engine cannot express raises :class:`CannotExpress` naming the reason, instead of
printing a command that would run something else.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field
from typing import Literal

from infercast.engines import ENGINES as CATALOG
from infercast.engines import Engine as EngineSettings
from infercast.errors import InvalidInputError
from infercast.estimation.resolve import dense_checkpoint_dtype
from infercast.parallel import ParallelPlan
from infercast.specs.schema import ModelSpec

__all__ = ["ENGINES", "CannotExpress", "LaunchCommand", "LaunchPlan", "launch_command"]

Engine = Literal["vllm", "sglang", "trtllm"]
ENGINES: dict[str, str] = {
    "vllm": "vLLM 0.10.1",
    "sglang": "SGLang 0.5.1",
    "trtllm": "TensorRT-LLM 1.0.0",
}


class CannotExpress(InvalidInputError):
    """The engine has no flags for this plan."""


@dataclass(frozen=True)
class LaunchPlan:
    """The plan fields a launch command needs (names as in ``estimate``)."""

    tp: int = 1
    dp: int = 1
    pp: int = 1
    ep: int = 1
    moe_tp: int | None = None
    cp: int = 1
    sp: bool = False
    weight_dtype: str | None = None
    kv_dtype: str | None = None
    concurrency: int = 1
    isl: int = 1024
    osl: int = 1024
    memory_bytes: float | None = None
    """The GPU's memory, where the part is known: an engine that picks its step budget from
    the GPU (SGLang, vLLM) gets the budget infercast's estimate used; unknown, the flag is
    left to it."""
    device_name: str = ""
    """The part's name, where known (vLLM keeps A100s on its small-GPU defaults by name)."""


@dataclass
class LaunchCommand:
    engine: str
    version: str
    argv: list[str]
    extra_options_yaml: str | None = None
    """TensorRT-LLM's ``--extra_llm_api_options`` file, when the plan needs one."""
    notes: list[str] = field(default_factory=list)

    @property
    def command(self) -> str:
        return shlex.join(self.argv)


def _fp8_kv(kv: str | None) -> bool:
    if kv in (None, "bf16", "fp16"):
        return False
    if kv.startswith("fp8"):
        return True
    raise InvalidInputError(f"kv_dtype: {kv!r} KV caches cannot be launched (use bf16 or fp8)")


def _quantization(spec: ModelSpec, weight: str | None, flag: str) -> tuple[list[str], list[str]]:
    """Online fp8 quantisation of a 16-bit checkpoint is a flag; other formats need a
    pre-quantised checkpoint (said in the notes)."""
    if weight is None or weight in ("bf16", "fp16"):
        return [], []
    if weight == "fp8":
        return [flag, "fp8"], []
    return [], [f"weights in {weight}: point MODEL at a checkpoint quantised to {weight}"]


def _engine(name: str, plan: LaunchPlan) -> EngineSettings:
    """The engine's settings on the plan's part (its tier), or its catalog entry."""
    engine = CATALOG[name]
    if plan.memory_bytes is None:
        return engine
    return engine.for_part(plan.memory_bytes, plan.device_name)


def _budget_flag(fw: EngineSettings, plan: LaunchPlan, notes: list[str]) -> list[str]:
    """The step-budget flag, unless the engine picks it from a memory the plan does not know."""
    if fw.budget_by_memory and plan.memory_bytes is None:
        notes.append(
            f"{fw.launch_flags['max_num_batched_tokens']} left to {fw.display_name}, which "
            "picks it from the GPU (give the hardware to pin infercast's value)"
        )
        return []
    return [fw.launch_flags["max_num_batched_tokens"], str(fw.max_num_batched_tokens)]


def _common_checks(engine: str, spec: ModelSpec, plan: LaunchPlan) -> int:
    name = ENGINES[engine]
    ParallelPlan.build(
        tp=plan.tp, dp=plan.dp, pp=plan.pp, ep=plan.ep, moe_tp=plan.moe_tp, cp=plan.cp
    ).validate_for(spec)
    if plan.concurrency < 1 or plan.isl < 1 or plan.osl < 0:
        raise InvalidInputError("concurrency and isl must be ≥ 1, osl ≥ 0")
    if plan.cp > 1:
        raise CannotExpress(f"{name} has no context parallelism: cp={plan.cp} cannot be launched")
    if plan.sp and plan.tp > 1:
        raise CannotExpress(f"{name} has no sequence-parallel option: sp cannot be launched")
    group = plan.tp * plan.dp
    moe_tp = plan.moe_tp if plan.moe_tp is not None else group // plan.ep
    if moe_tp * plan.ep != group:
        raise InvalidInputError(f"moe_tp × ep = {moe_tp}×{plan.ep} must equal tp × dp = {group}")
    if not spec.is_moe and plan.ep > 1:
        raise InvalidInputError(f"ep={plan.ep} needs a MoE model; {spec.hf_model_id} is dense")
    return moe_tp


def _vllm(spec: ModelSpec, plan: LaunchPlan, moe_tp: int) -> LaunchCommand:
    group = plan.tp * plan.dp
    if spec.is_moe and plan.ep not in (1, group):
        raise CannotExpress(
            f"vLLM runs the MoE either tensor-parallel over all tp×dp={group} GPUs (ep=1) or "
            f"expert-parallel over them (ep={group}); ep={plan.ep} × moe_tp={moe_tp} cannot be "
            "launched"
        )
    fw = _engine("vllm", plan)
    f = fw.launch_flags
    argv = ["vllm", "serve", spec.hf_model_id]
    argv += [f["tp"], str(plan.tp)]
    if plan.pp > 1:
        argv += [f["pp"], str(plan.pp)]
    if plan.dp > 1:
        argv += [f["dp"], str(plan.dp)]
    if spec.is_moe and plan.ep > 1:
        argv.append(f["ep"])  # a switch: EP over all tp × dp GPUs
    quant, notes = _quantization(spec, plan.weight_dtype, "--quantization")
    argv += quant
    argv += [f["max_num_seqs"], str(math.ceil(plan.concurrency / plan.dp))]
    argv += _budget_flag(fw, plan, notes)
    argv += ["--max-model-len", str(plan.isl + plan.osl)]
    argv += [f["kv_dtype"], "fp8" if _fp8_kv(plan.kv_dtype) else "auto"]
    argv += [f["memory_utilization"], f"{fw.memory_utilization:g}"]
    return LaunchCommand("vllm", ENGINES["vllm"], argv, notes=notes)


def _sglang(spec: ModelSpec, plan: LaunchPlan, moe_tp: int) -> LaunchCommand:
    fw = _engine("sglang", plan)
    f = fw.launch_flags
    dp_attention = spec.is_moe and plan.dp > 1
    tp_flag = plan.tp * plan.dp if dp_attention else plan.tp
    if spec.is_moe and moe_tp * plan.ep != tp_flag:
        raise CannotExpress(
            f"SGLang without DP attention runs the MoE over the tp={tp_flag} GPUs of one "
            f"replica; moe_tp×ep={moe_tp}×{plan.ep} cannot be launched"
        )
    argv = ["python", "-m", "sglang.launch_server", "--model-path", spec.hf_model_id]
    argv += [f["tp"], str(tp_flag)]
    if plan.dp > 1:
        argv += [f["dp"], str(plan.dp)]
    if dp_attention:
        argv.append("--enable-dp-attention")
    if plan.pp > 1:
        argv += [f["pp"], str(plan.pp)]
    if spec.is_moe and plan.ep > 1:
        argv += [f["ep"], str(plan.ep)]
    quant, notes = _quantization(spec, plan.weight_dtype, "--quantization")
    argv += quant
    argv += _budget_flag(fw, plan, notes)
    # SGLang 0.5.1 divides --max-running-requests among the DP ranks only with DP attention
    # (sglang/srt/managers/tp_worker.py: ``max_running_requests // dp_size`` if
    # enable_dp_attention); plain DP replicas each take the whole value.
    per_server = plan.concurrency if dp_attention else math.ceil(plan.concurrency / plan.dp)
    argv += [f["max_num_seqs"], str(per_server)]
    argv += ["--context-length", str(plan.isl + plan.osl)]
    argv += [f["kv_dtype"], "fp8_e4m3" if _fp8_kv(plan.kv_dtype) else "auto"]
    argv += [f["memory_utilization"], f"{fw.memory_utilization:g}"]
    return LaunchCommand("sglang", ENGINES["sglang"], argv, notes=notes)


def _trtllm(spec: ModelSpec, plan: LaunchPlan, moe_tp: int) -> LaunchCommand:
    fw = _engine("trtllm", plan)
    f = fw.launch_flags
    if plan.dp > 1 and (plan.tp > 1 or not spec.is_moe):
        raise CannotExpress(
            "TensorRT-LLM's attention data parallelism makes every rank its own DP rank "
            f"(tp=1) and is for MoE models; tp={plan.tp} × dp={plan.dp}"
            + ("" if spec.is_moe else " of a dense model")
            + " cannot be launched as one server"
        )
    tp_size = plan.tp * plan.dp
    _, notes = _quantization(spec, plan.weight_dtype, "")
    if plan.weight_dtype == "fp8":
        notes = ["weights in fp8: point MODEL at an fp8 (ModelOpt) checkpoint"]
    argv = ["trtllm-serve", spec.hf_model_id, "--backend", "pytorch"]
    argv += [f["tp"], str(tp_size), f["pp"], str(plan.pp)]
    if spec.is_moe:
        argv += [f["ep"], str(plan.ep)]
    argv += [f["max_num_seqs"], str(math.ceil(plan.concurrency / plan.dp))]
    argv += _budget_flag(fw, plan, notes)
    argv += ["--max_seq_len", str(plan.isl + plan.osl)]
    # The KV pool's share of the memory left after weights: TensorRT-LLM's default 0.9 (what
    # the engine's modelled memory_utilization stands for).
    argv += [f["memory_utilization"], "0.9"]
    toolkit_kv = fw.kv_for_weights(plan.weight_dtype, dense_checkpoint_dtype(spec))
    if toolkit_kv == "fp8" and not _fp8_kv(plan.kv_dtype):
        # The estimate's KV rule (engines catalog, quantized_kv_dtype): ModelOpt's PTQ stores
        # the KV cache in fp8 unless told otherwise, and `auto` runs the checkpoint's format.
        notes.append(
            "ModelOpt's PTQ stores the KV cache in fp8 by default (kv_cache_quant_algo FP8)"
            + (
                ", which infercast's estimate assumes"
                if plan.kv_dtype is None
                else f": for a {plan.kv_dtype} KV cache quantize with --kv_cache_qformat none"
            )
        )
    yaml_lines = []
    if plan.dp > 1:
        yaml_lines.append("enable_attention_dp: true")
    if _fp8_kv(plan.kv_dtype):
        yaml_lines += ["kv_cache_config:", "  dtype: fp8"]
    yaml = None
    if yaml_lines:
        yaml = "\n".join(yaml_lines) + "\n"
        argv += ["--extra_llm_api_options", "extra-llm-api-options.yaml"]
    return LaunchCommand("trtllm", ENGINES["trtllm"], argv, yaml, notes)


_BUILDERS = {"vllm": _vllm, "sglang": _sglang, "trtllm": _trtllm}


def launch_command(engine: str, spec: ModelSpec, plan: LaunchPlan) -> LaunchCommand:
    """The command that serves ``spec`` under ``plan`` with ``engine``."""
    key = engine.strip().lower()
    if key not in _BUILDERS:
        raise InvalidInputError(f"engine: {engine!r} is not one of {', '.join(_BUILDERS)}")
    moe_tp = _common_checks(key, spec, plan)
    return _BUILDERS[key](spec, plan, moe_tp)

"""Launch commands: each engine's flags for representative plans, and the plans it cannot
express (flags as documented for the versions cited in ``infercast.planning.launch``)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infercast.errors import InvalidInputError
from infercast.interfaces.cli.app import app
from infercast.planning.launch import ENGINES, CannotExpress, LaunchPlan, launch_command
from infercast.specs.registry import default_registry

runner = CliRunner()
R1 = default_registry().get("deepseek-ai/DeepSeek-R1")
LLAMA = default_registry().get("meta-llama/Llama-3.3-70B-Instruct")


def flags(argv: list[str]) -> dict[str, str | None]:
    """``--name value`` pairs (``None`` for a bare switch)."""
    out: dict[str, str | None] = {}
    for i, token in enumerate(argv):
        if token.startswith("--"):
            nxt = argv[i + 1] if i + 1 < len(argv) else None
            out[token] = None if nxt is None or nxt.startswith("--") else nxt
    return out


def test_vllm_dense_tp_pp() -> None:
    cmd = launch_command("vllm", LLAMA, LaunchPlan(tp=4, pp=2, concurrency=96, isl=2048, osl=512))
    assert cmd.argv[:3] == ["vllm", "serve", "meta-llama/Llama-3.3-70B-Instruct"]
    f = flags(cmd.argv)
    assert f["--tensor-parallel-size"] == "4" and f["--pipeline-parallel-size"] == "2"
    assert "--data-parallel-size" not in f and "--enable-expert-parallel" not in f
    assert f["--max-num-seqs"] == "96" and f["--max-model-len"] == "2560"
    assert f["--kv-cache-dtype"] == "auto" and f["--gpu-memory-utilization"] == "0.9"
    # No part given: vLLM picks its budget from the GPU (8192 from 70 GiB up, 2048 below and
    # on A100s), so the flag is left to it and the notes say so.
    assert "--max-num-batched-tokens" not in f
    assert cmd.notes == [
        "--max-num-batched-tokens left to vLLM, which picks it from the GPU (give the hardware "
        "to pin infercast's value)"
    ]
    assert shlex.split(cmd.command) == cmd.argv


def test_vllm_moe_dp_attention_with_expert_parallel() -> None:
    cmd = launch_command("vllm", R1, LaunchPlan(tp=1, dp=8, ep=8, kv_dtype="fp8", concurrency=512))
    f = flags(cmd.argv)
    assert f["--data-parallel-size"] == "8" and f["--tensor-parallel-size"] == "1"
    assert "--enable-expert-parallel" in f and f["--enable-expert-parallel"] is None
    assert f["--max-num-seqs"] == "64"  # per DP rank: 512 / 8
    assert f["--kv-cache-dtype"] == "fp8"


def test_vllm_cannot_express_partial_ep_or_cp() -> None:
    with pytest.raises(CannotExpress, match="ep=4"):
        launch_command("vllm", R1, LaunchPlan(tp=2, dp=4, ep=4))
    with pytest.raises(CannotExpress, match="context parallelism"):
        launch_command("vllm", LLAMA, LaunchPlan(dp=2, cp=2))
    with pytest.raises(CannotExpress, match="sequence-parallel"):
        launch_command("vllm", LLAMA, LaunchPlan(tp=2, sp=True))


def test_sglang_dp_attention_counts_the_whole_stage_in_tp() -> None:
    plan = LaunchPlan(tp=2, dp=4, ep=8, concurrency=300, memory_bytes=141e9)  # H200
    cmd = launch_command("sglang", R1, plan)
    assert cmd.argv[:5] == [
        "python",
        "-m",
        "sglang.launch_server",
        "--model-path",
        "deepseek-ai/DeepSeek-R1",
    ]
    f = flags(cmd.argv)
    assert f["--tp-size"] == "8" and f["--dp-size"] == "4" and "--enable-dp-attention" in f
    assert f["--ep-size"] == "8" and f["--max-running-requests"] == "300"
    assert f["--chunked-prefill-size"] == "8192" and f["--kv-cache-dtype"] == "auto"


def test_sglang_dense_and_fp8() -> None:
    cmd = launch_command(
        "sglang", LLAMA, LaunchPlan(tp=8, weight_dtype="fp8", kv_dtype="fp8", concurrency=32)
    )
    f = flags(cmd.argv)
    assert f["--tp-size"] == "8" and "--dp-size" not in f and "--enable-dp-attention" not in f
    assert f["--quantization"] == "fp8" and f["--kv-cache-dtype"] == "fp8_e4m3"


def test_trtllm_attention_dp_goes_in_the_extra_options() -> None:
    cmd = launch_command(
        "trtllm", R1, LaunchPlan(tp=1, dp=8, ep=8, kv_dtype="fp8", concurrency=256)
    )
    f = flags(cmd.argv)
    assert cmd.argv[:2] == ["trtllm-serve", "deepseek-ai/DeepSeek-R1"]
    assert f["--tp_size"] == "8" and f["--pp_size"] == "1" and f["--ep_size"] == "8"
    assert f["--max_batch_size"] == "32" and f["--max_num_tokens"] == "8192"
    assert f["--extra_llm_api_options"] == "extra-llm-api-options.yaml"
    assert cmd.extra_options_yaml == "enable_attention_dp: true\nkv_cache_config:\n  dtype: fp8\n"


def test_trtllm_plain_tp_has_no_yaml() -> None:
    cmd = launch_command("trtllm", LLAMA, LaunchPlan(tp=4, concurrency=16))
    assert cmd.extra_options_yaml is None and "--extra_llm_api_options" not in cmd.argv
    assert "--ep_size" not in cmd.argv


def test_trtllm_cannot_mix_attention_tp_and_dp() -> None:
    with pytest.raises(CannotExpress, match="tp=2 × dp=4"):
        launch_command("trtllm", R1, LaunchPlan(tp=2, dp=4, ep=8))
    with pytest.raises(CannotExpress, match="dense"):
        launch_command("trtllm", LLAMA, LaunchPlan(tp=1, dp=2))


def test_bad_plans_and_engines() -> None:
    with pytest.raises(InvalidInputError, match="engine"):
        launch_command("tgi", LLAMA, LaunchPlan())
    with pytest.raises(InvalidInputError, match="heads"):
        launch_command("vllm", LLAMA, LaunchPlan(tp=3))
    with pytest.raises(InvalidInputError, match="kv_dtype"):
        launch_command("vllm", LLAMA, LaunchPlan(kv_dtype="int4"))


def test_cli_launch_prints_the_command_and_json() -> None:
    args = ["launch", "--engine", "trtllm", "-m", "deepseek-ai/DeepSeek-R1", "--hardware", "h200"]
    args += ["--dp", "8", "--ep", "8", "--isl", "1024", "--osl", "1024", "--concurrency", "64"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("trtllm-serve deepseek-ai/DeepSeek-R1 --backend pytorch")
    assert "enable_attention_dp: true" in result.output
    data = json.loads(runner.invoke(app, [*args, "--json"]).output)
    assert data["engine"] == "trtllm" and data["version"] == "TensorRT-LLM 1.0.0"
    assert data["argv"][0] == "trtllm-serve"


def test_cli_launch_unexpressible_is_one_line_exit_2() -> None:
    args = ["launch", "--engine", "vllm", "-m", "meta-llama/Llama-3.1-8B-Instruct"]
    args += ["--hardware", "h100", "--dp", "2", "--cp", "2"]
    result = runner.invoke(app, [*args, "--isl", "32768", "--osl", "64", "--concurrency", "1"])
    assert result.exit_code == 2
    assert "no context parallelism" in result.output and "Traceback" not in result.output


def test_flags_agree_with_the_engine_catalog() -> None:
    # The settings the catalog names a flag for appear under exactly that flag.
    from infercast.engines import ENGINES

    plan = LaunchPlan(tp=2, dp=4, ep=8, concurrency=64, memory_bytes=80e9)
    for engine in ("vllm", "sglang"):
        argv = launch_command(engine, R1, plan).argv
        for setting in ("tp", "dp", "ep", "max_num_seqs", "max_num_batched_tokens"):
            assert ENGINES[engine].launch_flags[setting] in argv, (engine, setting)


FLAGS = json.loads((Path(__file__).parent / "data" / "engine_cli_flags.json").read_text())
"""Each engine's option names at the stated version (see the file's ``about``)."""


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm"])
@pytest.mark.parametrize(
    ("spec", "plan"),
    [
        (LLAMA, LaunchPlan(tp=4, pp=2, concurrency=64)),
        (LLAMA, LaunchPlan(tp=2, weight_dtype="fp8", kv_dtype="fp8", concurrency=32)),
        (R1, LaunchPlan(tp=8, ep=8, kv_dtype="fp8", concurrency=256)),
        (R1, LaunchPlan(dp=8, ep=8, kv_dtype="fp8", concurrency=512)),
        (R1, LaunchPlan(tp=8, concurrency=16, weight_dtype="fp8")),
    ],
)
def test_every_flag_is_one_the_stated_engine_version_has(
    engine: str, spec: object, plan: LaunchPlan
) -> None:
    """The commands named "SGLang 0.5.0", a version PyPI does not have (it has
    0.5.0rc0–rc2, then 0.5.1): its flags could not be checked against it. Every option the
    commands print is one the stated version's parser defines, with a value it accepts."""
    known = FLAGS[engine]
    assert ENGINES[engine] == known["version"]
    try:
        command = launch_command(engine, spec, plan)  # type: ignore[arg-type]
    except CannotExpress:
        return  # said instead of printed (tested above)
    argv = command.argv
    options = [a for a in argv if a.startswith("--")]
    assert options and set(options) <= set(known["flags"]), set(options) - set(known["flags"])
    for flag, allowed in known["choices"].items():
        if flag in argv:
            assert argv[argv.index(flag) + 1] in allowed, (flag, argv)


def test_sglang_plain_dp_replicas_each_get_their_share_of_the_batch_cap() -> None:
    """A dense TP2 × DP4 plan at C = 64 printed ``--max-running-requests 64``: without DP
    attention SGLang 0.5.1 gives every replica the whole value (it divides by dp_size only
    with --enable-dp-attention), so the four replicas would admit 256. Each gets ⌈64 / 4⌉."""
    f = flags(launch_command("sglang", LLAMA, LaunchPlan(tp=2, dp=4, concurrency=64)).argv)
    assert f["--tp-size"] == "2" and f["--dp-size"] == "4" and "--enable-dp-attention" not in f
    assert f["--max-running-requests"] == "16"
    odd = flags(launch_command("sglang", LLAMA, LaunchPlan(tp=2, dp=4, concurrency=65)).argv)
    assert odd["--max-running-requests"] == "17"  # ⌈65 / 4⌉


def test_trtllm_quantized_weights_say_their_checkpoints_kv_format() -> None:
    # The estimate prices fp8 weights under TensorRT-LLM with an fp8 KV cache (ModelOpt's
    # default); the command's notes say so, and how to keep a 16-bit cache when asked for one.
    default = launch_command("trtllm", LLAMA, LaunchPlan(tp=2, weight_dtype="fp8"))
    assert default.notes == [
        "weights in fp8: point MODEL at an fp8 (ModelOpt) checkpoint",
        "ModelOpt's PTQ stores the KV cache in fp8 by default (kv_cache_quant_algo FP8), "
        "which infercast's estimate assumes",
    ]
    bf16 = launch_command("trtllm", LLAMA, LaunchPlan(tp=2, weight_dtype="fp8", kv_dtype="bf16"))
    assert bf16.notes[1].endswith("for a bf16 KV cache quantize with --kv_cache_qformat none")
    fp8 = launch_command("trtllm", LLAMA, LaunchPlan(tp=2, weight_dtype="fp8", kv_dtype="fp8"))
    assert fp8.notes == ["weights in fp8: point MODEL at an fp8 (ModelOpt) checkpoint"]
    assert fp8.extra_options_yaml == "kv_cache_config:\n  dtype: fp8\n"
    assert launch_command("trtllm", LLAMA, LaunchPlan(tp=2)).notes == []


def test_sglang_step_budget_follows_the_gpus_memory() -> None:
    # SGLang 0.5.6 picks --chunked-prefill-size from the GPU's memory: 8192 below 160 GiB
    # (H200: 141 GB = 131 GiB), 16384 above (B200: 180 GB = 168 GiB), 4096 below 60 GiB.
    def budget(memory_bytes: float | None) -> str | None:
        cmd = launch_command("sglang", LLAMA, LaunchPlan(tp=1, memory_bytes=memory_bytes))
        return flags(cmd.argv).get("--chunked-prefill-size")

    assert (budget(141e9), budget(180e9), budget(48e9), budget(24e9)) == (
        "8192",
        "16384",
        "4096",
        "2048",
    )
    unknown = launch_command("sglang", LLAMA, LaunchPlan(tp=1))
    assert "--chunked-prefill-size" not in unknown.argv
    assert unknown.notes == [
        "--chunked-prefill-size left to SGLang, which picks it from the GPU (give the "
        "hardware to pin infercast's value)"
    ]
    # vLLM's budget follows the part too: 8192 on B200, 2048 on an A100 (by its name).
    vllm = launch_command("vllm", LLAMA, LaunchPlan(tp=1, memory_bytes=180e9))
    assert flags(vllm.argv)["--max-num-batched-tokens"] == "8192"
    a100 = LaunchPlan(tp=1, memory_bytes=80e9, device_name="NVIDIA A100 SXM4 80GB")
    assert flags(launch_command("vllm", LLAMA, a100).argv)["--max-num-batched-tokens"] == "2048"
    # Engines without a rule print their one budget whatever the part.
    trt = launch_command("trtllm", LLAMA, LaunchPlan(tp=1))
    assert flags(trt.argv)["--max_num_tokens"] == "8192"

"""CLI: ``estimate``, ``layers``, ``reconcile`` and ``calibrate`` through the real typer app."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import infercast
from conftest import BENCHMARKS_CSV as BENCHMARKS
from conftest import SHARED
from infercast.estimation.params import _builtin_calibration_path
from infercast.interfaces.cli.app import app

runner = CliRunner()

GPT_OSS = ("--model", "openai/gpt-oss-120b", "--hardware", "h100", "--tp", "1")
WORKLOAD = ("--isl", "1024", "--osl", "1024", "--concurrency", "64")


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(
        app, list(args), env={"INFERCAST_MODELS_PATH": "", "COLUMNS": "200", **(env or {})}
    )
    assert "Traceback" not in result.output
    return result


def benchmark_rows(predicate: Any) -> tuple[list[str], list[dict[str, str]]]:
    with BENCHMARKS.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), [r for r in reader if predicate(r)]


def write_rows(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


# ---- estimate -----------------------------------------------------------------------------------


def test_estimate_json_is_the_python_api_result() -> None:
    result = run("estimate", *GPT_OSS, *WORKLOAD, "--framework", "vllm", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    expected = infercast.estimate(
        model="openai/gpt-oss-120b",
        hardware="h100",
        tp=1,
        isl=1024,
        osl=1024,
        concurrency=64,
        framework="vllm",
    )
    assert data == json.loads(expected.model_dump_json())
    assert data["fits"] is True and data["fit_reason"].startswith("fits:")
    assert data["dtypes"]["moe_dtype"] == "mxfp4"
    assert data["memory"]["capacity_bytes"] == 80e9
    assert data["memory"]["total_bytes"] <= data["memory"]["capacity_bytes"]
    assert data["max_concurrency"] >= 64
    assert set(data["bottleneck"]) == {"prefill", "decode"}


def test_estimate_table_shows_the_figures() -> None:
    expected = infercast.estimate(
        model="openai/gpt-oss-120b", hardware="h100", tp=1, isl=1024, osl=1024, concurrency=64
    )
    result = run("estimate", *GPT_OSS, *WORKLOAD)
    assert result.exit_code == 0
    out = result.stdout
    for label in ("TTFT", "TPOT", "end-to-end latency", "tokens/s/GPU", "tokens/s/user"):
        assert label in out
    assert f"{expected.ttft_ms:,.4g}" in out and f"{expected.tpot_ms:,.4g}" in out
    assert f"{expected.memory.weights_bytes / 1e9:,.2f}" in out
    assert "capacity" in out and "80.00" in out
    assert expected.fit_reason in out
    assert f"max concurrency whose KV cache fits: {expected.max_concurrency:,}" in out
    assert "1 × h100: TP1 DP1 PP1, experts TP1 EP1" in out
    assert "experts mxfp4" in out
    assert "no framework given" in out  # the notes


def test_estimate_llama_70b_bf16_on_one_h100_does_not_fit() -> None:
    args = ("--model", "meta-llama/Llama-3.3-70B-Instruct", "--hardware", "h100", "--tp", "1")
    result = run("estimate", *args, *WORKLOAD, "--weight-dtype", "bf16", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["fits"] is False
    assert data["fit_reason"] == ("does not fit: the weights alone (141.1 GB) exceed 80 GB per GPU")
    assert data["max_concurrency"] == 0
    table = run("estimate", *args, *WORKLOAD)
    assert table.exit_code == 0
    assert "does not fit: the weights alone" in table.stdout


def test_estimate_with_a_user_models_dir(tmp_path: Path) -> None:
    source = str(SHARED / "hf-configs" / "Qwen_Qwen3-8B.json")
    spec = json.loads(run("import", source, "--hf-id", "me/Q8").stdout)
    (tmp_path / "me_Q8.json").write_text(json.dumps(spec), encoding="utf-8")
    args = ("--model", "me/Q8", "--hardware", "h200", "--isl", "512", "--osl", "128")
    result = run("estimate", *args, "-c", "4", "--json", "--models-dir", str(tmp_path))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["model_id"] == "me_Q8"
    assert run("estimate", *args, "-c", "4").exit_code == 2  # not in the built-in catalog


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"--model": "openai/gpt-oss-12b"}, "unknown model 'openai/gpt-oss-12b'; did you mean"),
        ({"--hardware": "h1000"}, "unknown hardware 'h1000'"),
        ({"--tp": "3"}, "attention heads are not divisible by tp=3"),
        ({"--isl": "0"}, "isl must be an integer ≥ 1, got 0"),
        ({"--kv-dtype": "fp7"}, "kv_dtype: unknown dtype 'fp7'"),
        ({"--moe-dtype": "fp8"}, "moe_dtype: meta-llama/Llama-3.3-70B-Instruct has no MoE"),
    ],
)
@pytest.mark.parametrize("command", ["estimate", "layers"])
def test_bad_inputs_exit_2_with_one_line(
    command: str, changes: dict[str, str], message: str
) -> None:
    options = {
        "--model": "meta-llama/Llama-3.3-70B-Instruct",
        "--hardware": "h100",
        "--tp": "8",
        "--isl": "1024",
        "--osl": "128",
        "--concurrency": "8",
        **changes,
    }
    args = [part for item in options.items() for part in item]
    result = run(command, *args, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error:") and message in lines[0]


def test_unknown_model_suggests_close_ids() -> None:
    result = run("estimate", "--model", "openai/gpt-oss-12b", "--hardware", "h100", *WORKLOAD)
    assert result.exit_code == 2
    assert "openai/gpt-oss-120b" in result.output and "openai/gpt-oss-20b" in result.output


# ---- layers -------------------------------------------------------------------------------------


def test_layers_json_matches_the_estimate() -> None:
    args = ("--model", "meta-llama/Llama-3.3-70B-Instruct", "--hardware", "h200", "--tp", "8")
    work = ("--isl", "4096", "--osl", "512", "--concurrency", "32")
    result = run("layers", *args, *work, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    expected = json.loads(
        infercast.estimate(
            model="meta-llama/Llama-3.3-70B-Instruct",
            hardware="h200",
            tp=8,
            isl=4096,
            osl=512,
            concurrency=32,
        ).model_dump_json()
    )
    assert data["layers"] == expected["layers"]
    assert data["prefill"] == expected["prefill"] and data["decode"] == expected["decode"]
    assert data["plan"]["tp"] == 8 and data["isl"] == 4096
    assert "ttft_ms" not in data  # the per-layer view only
    names = [layer["name"] for layer in data["layers"]]
    assert names == ["attention", "feedforward", "norm", "embedding", "lm_head"]
    attention = data["layers"][0]
    assert attention["layer_class"] == "GroupedQueryAttentionLayer" and attention["count"] == 80
    for phase in ("prefill", "decode"):
        cost = attention[phase]
        assert cost["flops_per_gpu"] > 0 and cost["communication_bytes_per_gpu"] > 0
        assert cost["bound"] in ("compute", "memory", "communication", "overhead")


@pytest.mark.parametrize("columns", ["200", "80"])
def test_layers_table_both_phases(columns: str) -> None:
    args = ("--model", "Qwen/Qwen3-30B-A3B", "--hardware", "h100", "--tp", "2", "--ep", "2")
    result = run("layers", *args, *WORKLOAD, "--framework", "vllm", env={"COLUMNS": columns})
    assert result.exit_code == 0
    out = result.stdout
    assert "Prefill step (1,024 prompt tokens), per GPU" in out
    assert "Decode step (" in out
    assert "GQA attention" in out and "MoE" in out and "GatedMLP" not in out
    assert "experts TP1 EP2" in out
    for line in out.splitlines():
        assert "…" not in line  # nothing truncated, at any width
        assert len(line) <= int(columns)


def test_layers_encoder_has_no_decode() -> None:
    args = ("--model", "google-bert/bert-base-uncased", "--hardware", "h100")
    result = run("layers", *args, "--isl", "512", "--osl", "0", "--concurrency", "8")
    assert result.exit_code == 0
    assert "PoolerLayer" not in result.stdout and "Pooler" in result.stdout
    assert "decode: none" in result.stdout
    data = json.loads(
        run("layers", *args, "--isl", "512", "--osl", "0", "-c", "8", "--json").stdout
    )
    assert data["decode"] is None and all(layer["decode"] is None for layer in data["layers"])


# ---- reconcile ----------------------------------------------------------------------------------


def test_reconcile_good_and_bad_rows(tmp_path: Path) -> None:
    columns, rows = benchmark_rows(
        lambda r: r["model"] == "openai/gpt-oss-120b" and r["hardware"] == "h100"
    )
    good = rows[0]
    bad = {**good, "model": "acme/no-such-model"}
    source = write_rows(tmp_path / "bench.csv", columns, [good, bad])
    out_csv = tmp_path / "out.csv"
    result = run("reconcile", str(source), "--output", str(out_csv))
    assert result.exit_code == 0
    assert "2 rows: 1 predicted, 1 could not be predicted" in result.stdout
    assert "1 row(s) could not be predicted" in result.stderr
    assert "unknown model 'acme/no-such-model'" in result.stderr
    assert "openai/gpt-oss-120b @ h100" in result.stdout

    with out_csv.open(encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert len(written) == 2
    first, second = written
    assert first["model"] == "openai/gpt-oss-120b" and first["error"] == ""
    for metric in ("ttft_ms", "tpot_ms", "output_tokens_per_s_per_gpu"):
        assert float(first[f"predicted_{metric}"]) > 0
    assert first["ttft_ms"] == good["ttft_ms"]  # input columns kept as they were
    assert second["predicted_ttft_ms"] == ""
    assert "unknown model 'acme/no-such-model'" in second["error"]

    expected = infercast.estimate(
        model=good["model"],
        hardware="h100",
        tp=int(good["attention_tp"]),
        ep=int(good["moe_ep"]),
        moe_tp=int(good["moe_tp"]),
        gpus=int(good["gpus"]),
        weight_dtype=good["gemm_dtype"],
        moe_dtype=good["moe_dtype"],
        framework=good["framework"],
        isl=int(good["isl"]),
        osl=int(good["osl"]),
        concurrency=int(good["concurrency"]),
    )
    assert float(first["predicted_tpot_ms"]) == pytest.approx(expected.tpot_ms, rel=1e-3)

    summary = json.loads(run("reconcile", str(source), "--json").stdout)
    assert (summary["rows"], summary["predicted"], summary["failed"]) == (2, 1, 1)
    tpot = summary["overall"]["tpot_ms"]
    measured = float(good["tpot_ms"])
    assert tpot["n"] == 1
    assert tpot["median_ape_pct"] == pytest.approx(
        100 * abs(float(first["predicted_tpot_ms"]) - measured) / measured, rel=1e-4
    )
    assert set(summary["by"]) == {"model", "hardware", "framework", "model_hardware"}


def test_reconcile_unreadable_inputs(tmp_path: Path) -> None:
    result = run("reconcile", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2 and "cannot read" in result.output
    assert len(result.output.strip().splitlines()) == 1
    no_columns = tmp_path / "x.csv"
    no_columns.write_text("a,b\n1,2\n", encoding="utf-8")
    result = run("reconcile", str(no_columns))
    assert result.exit_code == 2 and "missing column(s) model" in result.output


# ---- calibrate ----------------------------------------------------------------------------------


def test_calibrate_small_csv_writes_sets(tmp_path: Path) -> None:
    shipped = _builtin_calibration_path()
    before = shipped.read_bytes() if shipped.exists() else None
    # Blackwell rows of two architectures: Qwen3-32B on GB200 (TRT-LLM) and 20 gpt-oss-120b
    # runs on B200 (vLLM). Only the generation set has two architectures; each part has one,
    # so b200 and gb200 stay on the generation's fit (and the output says why). The pool over
    # every row is written too, a copy of the generation's (the same rows).
    columns, qwen = benchmark_rows(lambda r: r["hardware"] == "gb200")
    _, gpt_oss = benchmark_rows(lambda r: r["hardware"] == "b200" and "gpt-oss" in r["model"])
    source = write_rows(tmp_path / "blackwell.csv", columns, qwen + gpt_oss[:20])
    target = tmp_path / "calibration.json"
    result = run("calibrate", str(source), "--max-evaluations", "2", "--output", str(target))
    assert result.exit_code == 0, result.output
    data = json.loads(target.read_text(encoding="utf-8"))
    assert list(data["sets"]) == ["generation:blackwell", "pool"]
    assert data["sets"]["pool"]["same_rows_as"] == "generation:blackwell"
    fitted = data["sets"]["generation:blackwell"]
    assert data["sets"]["pool"]["compute"] == fitted["compute"]
    assert 0.3 <= fitted["compute"] <= 0.9 and 0.75 <= fitted["memory_bandwidth"] <= 0.92
    assert 0.0 <= fitted["burstiness"] <= 0.5
    assert fitted["rows"] >= 30 and fitted["frameworks"] == ["trtllm", "vllm"]
    assert "1 model architecture" in data["unfitted"]["gb200/*"]
    assert "generation:blackwell" in result.stdout and "median" in result.stdout
    assert f"wrote 2 set(s) to {target}" in result.stderr
    after = shipped.read_bytes() if shipped.exists() else None
    assert after == before  # never the shipped file from a test


def test_calibrate_without_usable_rows(tmp_path: Path) -> None:
    columns, rows = benchmark_rows(lambda r: r["hardware"] == "gb200")
    source = write_rows(
        tmp_path / "bad.csv", columns, [{**r, "model": "acme/none"} for r in rows[:3]]
    )
    target = tmp_path / "calibration.json"
    result = run("calibrate", str(source), "--output", str(target))
    assert result.exit_code == 2
    assert "no row of the CSV can be used for calibration" in result.output
    assert not target.exists()

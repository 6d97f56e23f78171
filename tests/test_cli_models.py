"""CLI: ``models list|show``, ``validate`` and ``import`` through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import HF_CONFIGS as SHARED
from infercast.interfaces.cli.app import app
from infercast.specs import parse_spec

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(
        app, list(args), env={"INFERCAST_MODELS_PATH": "", "COLUMNS": "200", **(env or {})}
    )
    assert "Traceback" not in result.output
    return result


def llama_config(**extra: Any) -> dict[str, Any]:
    return {
        "model_type": "llama",
        "hidden_size": 64,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "vocab_size": 100,
        **extra,
    }


# ---- models -------------------------------------------------------------------------------------


def test_models_list_table_and_json() -> None:
    result = run("models", "list")
    assert result.exit_code == 0
    assert "gpt-oss-120b" in result.output and "116.8B" in result.output
    rows = json.loads(run("models", "list", "--json").output)
    by_id = {row["hf_model_id"]: row for row in rows}
    qwen = by_id["Qwen/Qwen3-30B-A3B"]
    assert qwen["total_params"] == 30532122624 and qwen["active_params"] == 3353032704
    assert qwen["is_moe"] and qwen["is_truly_sparse"]
    assert by_id["meta-llama/Llama-3.1-8B-Instruct"]["is_truly_sparse"] is None


def test_models_show_table() -> None:
    result = run("models", "show", "openai/gpt-oss-120b")
    assert result.exit_code == 0
    out = result.output
    assert "SlidingWindowAttentionLayer" in out and "MoELayer" in out
    assert "116,829,156,672" in out and "5,711,982,912" in out
    assert "is_truly_sparse=True" in out
    assert "73,728 bytes" in out
    assert "sliding-window GQA (window 128) ×18" in out
    bert = run("models", "show", "google-bert/bert-base-uncased").output
    assert "KV cache: none" in bert


def test_models_show_json_is_the_spec_only() -> None:
    result = run("models", "show", "qwen/qwen3-32b", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    spec = parse_spec(data)
    assert spec.total_params == 32762123264 and spec.model_id == "Qwen_Qwen3-32B"


def test_models_show_unknown_id() -> None:
    result = run("models", "show", "openai/gpt-oss-12b")
    assert result.exit_code == 2
    assert "unknown model 'openai/gpt-oss-12b'" in result.output
    assert "openai/gpt-oss-120b" in result.output


def test_models_list_user_dir_and_broken_file_warning(tmp_path: Path) -> None:
    spec = json.loads(run("import", str(SHARED / "Qwen_Qwen3-8B.json"), "--hf-id", "me/Q8").stdout)
    (tmp_path / "me_Q8.json").write_text(json.dumps(spec), encoding="utf-8")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    result = run("models", "list", "--models-dir", str(tmp_path))
    assert result.exit_code == 0
    assert "me/Q8 *" in result.output
    assert "warning:" in result.output and "broken.json" in result.output


# ---- validate -----------------------------------------------------------------------------------


def test_validate_valid_files_exit_0() -> None:
    catalog = Path(__file__).resolve().parent.parent / "src" / "infercast" / "specs" / "catalog"
    result = run("validate", str(catalog))
    assert result.exit_code == 0
    assert "25 file(s) checked: 25 valid" in result.output  # 19 + 6 from hf-configs-next


def test_validate_reports_every_problem_of_every_file(tmp_path: Path) -> None:
    good = json.loads(run("import", str(SHARED / "Qwen_Qwen3-8B.json")).stdout)
    (tmp_path / "Qwen_Qwen3-8B.json").write_text(json.dumps(good), encoding="utf-8")
    wrong_total = {**good, "total_params": 5}
    (tmp_path / "Qwen_Qwen3-8B-bad.json").write_text(json.dumps(wrong_total), encoding="utf-8")
    two = json.loads(json.dumps(good))
    two["layer_types"][0]["specs"]["num_kv_heads"] = "8"
    two["surprise"] = True
    (tmp_path / "two.json").write_text(json.dumps(two), encoding="utf-8")
    (tmp_path / "malformed.json").write_text('{"a": ', encoding="utf-8")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 2
    out = result.output
    assert "ok" in out and "Qwen_Qwen3-8B.json" in out
    assert "Qwen_Qwen3-8B-bad.json: model_id" in out  # stem differs from model_id
    assert "Qwen_Qwen3-8B-bad.json: total_params: 5 but the layer types sum to" in out
    assert "two.json: surprise: unknown key" in out
    assert "two.json: layer_types[0] (attention).specs.num_kv_heads" in out
    assert "malformed.json: line 1 column 7: malformed JSON" in out
    assert "4 file(s) checked: 1 valid" in out


def test_validate_missing_path() -> None:
    result = run("validate", "/no/such/spec.json")
    assert result.exit_code == 2
    assert "no such file or directory" in result.output


# ---- import -------------------------------------------------------------------------------------


def test_import_to_stdout_output_and_save(tmp_path: Path) -> None:
    source = str(SHARED / "Qwen_Qwen3-30B-A3B.json")
    result = run("import", source)
    assert result.exit_code == 0
    spec = parse_spec(json.loads(result.stdout))
    assert spec.total_params == 30532122624 and not spec.validated
    assert "is_truly_sparse=True" in result.stderr

    out = tmp_path / "out.json"
    result = run("import", source, "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert parse_spec(json.loads(out.read_text())).model_id == "Qwen_Qwen3-30B-A3B"

    models = tmp_path / "models"
    result = run("import", source, "--save", "--models-dir", str(models))
    assert result.exit_code == 0
    assert (models / "Qwen_Qwen3-30B-A3B.json").is_file()
    assert "acme_Mine" not in run("models", "list", "--models-dir", str(models)).output
    env_dir = tmp_path / "env"
    result = run(
        "import",
        source,
        "--save",
        "--hf-id",
        "acme/Mine",
        env={"INFERCAST_MODELS_PATH": str(env_dir)},
    )
    assert result.exit_code == 0 and (env_dir / "acme_Mine.json").is_file()


def test_import_save_needs_a_directory() -> None:
    result = run("import", str(SHARED / "Qwen_Qwen3-8B.json"), "--save")
    assert result.exit_code == 2
    assert "--models-dir" in result.output


def test_import_shows_quantization(tmp_path: Path) -> None:
    result = run("import", str(SHARED / "openai_gpt-oss-20b.json"))
    assert result.exit_code == 0 and "mxfp4" in result.stderr
    path = tmp_path / "tiny.gguf"
    writer = gguf.GGUFWriter(path, "llama")
    for key, value in (
        ("block_count", 2),
        ("embedding_length", 64),
        ("feed_forward_length", 128),
        ("attention.head_count", 4),
    ):
        writer.add_uint32(f"llama.{key}", value)
    writer.add_tensor("token_embd.weight", np.zeros((100, 64), np.float16))
    writer.add_tensor(
        "blk.0.ffn_up.weight",
        np.zeros((1, 144), np.uint8),
        raw_dtype=gguf.GGMLQuantizationType.Q4_K,
    )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    result = run("import", str(path), "--hf-id", "acme/Tiny")
    assert result.exit_code == 0
    assert "GGUF weight types: F16 1 tensors" in result.stderr and "Q4_K" in result.stderr
    assert parse_spec(json.loads(result.stdout)).model_id == "acme_Tiny"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("{broken", (), "malformed JSON"),
        ('{"model_type": "mamba"}', (), "unknown model_type 'mamba'"),
        (json.dumps(llama_config(hidden_size=64.0)), (), "'hidden_size'"),
        (json.dumps(llama_config(num_hidden_layers=-2)), (), "'num_hidden_layers'"),
        (json.dumps(llama_config(vocab_size=10**15)), (), "'vocab_size'"),
        (json.dumps(llama_config(num_attention_heads=None)), (), "'num_attention_heads'"),
        (json.dumps(llama_config()), ("--hf-id", "not an id"), "--hf-id"),
        ("GGUF" + "\0" * 20, (), "GGUF"),
    ],
)
def test_import_bad_inputs_exit_2(
    tmp_path: Path, content: str, args: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "acme_Bad.json"
    path.write_text(content, encoding="utf-8")
    result = run("import", str(path), *args)
    assert result.exit_code == 2
    assert message in result.output
    assert result.stdout == ""


def test_import_missing_source() -> None:
    result = run("import", "./definitely/not/here.json")
    assert result.exit_code == 2
    assert "no such file or folder" in result.output

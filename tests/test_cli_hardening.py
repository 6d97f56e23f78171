"""CLI defects found by attack and by new users (issue 8 items 6 and 11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infercast.errors import InvalidInputError
from infercast.importers import hub
from infercast.interfaces.cli.app import app
from infercast.specs.registry import Registry

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CONFIG = SHARED / "hf-configs" / "Qwen_Qwen3-8B.json"
runner = CliRunner()


def run(*args: str, columns: int = 200) -> Any:
    result = runner.invoke(
        app, list(args), env={"INFERCAST_MODELS_PATH": "", "COLUMNS": str(columns)}
    )
    assert "Traceback" not in result.output
    return result


def test_save_refuses_a_symlink_and_an_existing_file(tmp_path: Path) -> None:
    models, victim = tmp_path / "models", tmp_path / "victim.txt"
    models.mkdir()
    victim.write_text("precious", encoding="utf-8")
    (models / "me_Q8.json").symlink_to(victim)
    args = ("import", str(CONFIG), "--hf-id", "me/Q8", "--save", "--models-dir", str(models))
    result = run(*args)
    assert result.exit_code == 2 and "symbolic link" in result.output
    assert victim.read_text(encoding="utf-8") == "precious"
    (models / "me_Q8.json").unlink()
    assert run(*args).exit_code == 0
    again = run(*args)
    assert (
        again.exit_code == 2 and "already exists" in again.output and "--overwrite" in again.output
    )
    assert run(*args, "--overwrite").exit_code == 0
    assert Registry.load([models]).get("me/Q8").model_id == "me_Q8"
    assert sorted(p.name for p in models.iterdir()) == ["me_Q8.json"]  # no temp file left


def test_error_lines_are_clipped(tmp_path: Path) -> None:
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    config["model_type"] = "x" * 3_000_000
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    result = run("import", str(path), "--hf-id", "me/Big")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 510 and lines[0].endswith("…")


def test_output_name_other_than_model_id_warns(tmp_path: Path) -> None:
    result = run("import", str(CONFIG), "--hf-id", "me/Q8", "--output", str(tmp_path / "q.json"))
    assert result.exit_code == 0
    assert "q.json is not me_Q8.json" in result.output and "skip" in result.output
    quiet = run("import", str(CONFIG), "--hf-id", "me/Q8", "-o", str(tmp_path / "me_Q8.json"))
    assert "warning" not in quiet.output
    listed = run("models", "list", "--models-dir", str(tmp_path))
    assert "q.json" in listed.output and "(skipped)" in listed.output


@pytest.mark.parametrize("columns", [80, 120])
def test_model_ids_never_wrap(columns: int) -> None:
    out = run("models", "list", columns=columns).stdout
    for spec in Registry.load([]):
        assert any(spec.hf_model_id in line for line in out.splitlines()), spec.hf_model_id


def test_offline_hub_import_uses_only_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub.errors import LocalEntryNotFoundError

    calls: list[dict[str, Any]] = []

    def download(**kwargs: Any) -> str:
        calls.append(kwargs)
        raise LocalEntryNotFoundError("not cached")

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout_s=hub.PROBE_TIMEOUT_S: False)
    with pytest.raises(InvalidInputError, match="unreachable"):
        hub.fetch_config("acme/not-here")
    assert calls[0]["local_files_only"] is True


def test_hub_probe_is_bounded_and_honours_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.hub_reachable() is False
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused at once
    assert hub.hub_reachable(timeout_s=0.5) is False


def test_an_unknown_model_names_the_skipped_files(tmp_path: Path) -> None:
    """``import --output q.json`` warns, but a later ``estimate --models-dir`` said only
    "unknown model 'me/Q8'": the file that holds it, skipped at load, was not named."""
    assert (
        run("import", str(CONFIG), "--hf-id", "me/Q8", "-o", str(tmp_path / "q.json")).exit_code
        == 0
    )
    result = run(
        "estimate", "--models-dir", str(tmp_path), "--model", "me/Q8", "--hardware", "h100",
        "--isl", "8", "--osl", "8", "--concurrency", "1",
    )  # fmt: skip
    assert result.exit_code == 2
    line = " ".join(result.output.split())
    assert line.startswith("error: unknown model 'me/Q8' (1 file(s) of the models directories")
    assert "were skipped: q.json: model_id: 'me_Q8' must equal the file name stem 'q')" in line
    assert str(tmp_path) not in line  # the file by name only (the API says the same)


def test_save_refuses_a_built_in_id_in_another_case(tmp_path: Path) -> None:
    """``import --save --hf-id META-LLAMA/llama-3.1-8b-instruct`` wrote a file that then
    replaced the built-in meta-llama/Llama-3.1-8B-Instruct for every user of that directory,
    the server's included (ids are looked up case-insensitively), while both were listed;
    POST /import says 409."""
    models = tmp_path / "models"
    models.mkdir()
    args = ("import", str(CONFIG), "--save", "--models-dir", str(models), "--hf-id")
    result = run(*args, "META-LLAMA/llama-3.1-8b-instruct")
    assert result.exit_code == 2 and list(models.iterdir()) == []
    assert result.output.strip() == (
        "error: --save: 'META-LLAMA/llama-3.1-8b-instruct' would shadow the built-in model "
        "'meta-llama/Llama-3.1-8B-Instruct' (ids match case-insensitively); pass another --hf-id, "
        "or its exact id to override it"
    )
    assert run(*args, "me/Q8").exit_code == 0 and (models / "me_Q8.json").is_file()
    # the exact id is an override, as documented (the registry lists one model, the user's)
    assert run(*args, "meta-llama/Llama-3.1-8B-Instruct").exit_code == 0
    assert (models / "meta-llama_Llama-3.1-8B-Instruct.json").is_file()

"""User-defined accelerators (issue 8 item 12): --hardware-dir, INFERCAST_HARDWARE_PATH and
create_app(hardware_dirs=...) add parts in the catalog's schema; bad files name file and field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import infercast
from infercast.errors import InvalidInputError
from infercast.hardware import get_hardware, list_hardware
from infercast.hardware.registry import HARDWARE_PATH_ENV, hardware_origin, set_hardware_dirs
from infercast.interfaces.api import create_app
from infercast.interfaces.cli.app import app

H100 = Path(infercast.__file__).parent / "hardware" / "catalog" / "h100.json"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _reset(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(HARDWARE_PATH_ENV, raising=False)
    set_hardware_dirs(None)
    yield
    set_hardware_dirs(None)


def _part(directory: Path, part_id: str = "lab-gpu", **change: Any) -> Path:
    data = json.loads(H100.read_text(encoding="utf-8"))
    data.update(id=part_id, name="Lab GPU", aliases=[f"{part_id}-x"])
    data.update(change)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{part_id}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(*args: str) -> Any:
    result = runner.invoke(app, list(args), env={"INFERCAST_MODELS_PATH": "", "COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


def test_cli_lists_and_estimates_on_a_user_part(tmp_path: Path) -> None:
    _part(tmp_path, memory_bytes=160_000_000_000)
    listed = run("--hardware-dir", str(tmp_path), "hardware", "list")
    assert (
        listed.exit_code == 0 and "lab-gpu *" in listed.output and "user-defined" in listed.output
    )
    result = run(
        "--hardware-dir", str(tmp_path), "estimate", "--model", "Qwen/Qwen3-8B",
        "--hardware", "LAB-GPU-X", "--isl", "128", "--osl", "16", "--concurrency", "1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["hardware_id"] == "lab-gpu" and body["memory"]["capacity_bytes"] == 160e9


def test_environment_path_and_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _part(tmp_path / "a")
    monkeypatch.setenv(HARDWARE_PATH_ENV, str(tmp_path / "a"))
    assert get_hardware("lab-gpu").name == "Lab GPU"
    assert hardware_origin("lab-gpu") == str(path) and hardware_origin("h100") == "built-in"
    monkeypatch.delenv(HARDWARE_PATH_ENV)
    assert "lab-gpu" not in {hw.id for hw in list_hardware()}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"memory_bytes": -1}, "memory_bytes"),
        ({"bogus_key": 1}, "unknown key 'bogus_key'"),
        ({"id": "other"}, "does not match the file name"),
    ],
)
def test_bad_user_file_names_file_and_field(tmp_path: Path, change: dict, fragment: str) -> None:
    path = _part(tmp_path, **change)
    set_hardware_dirs([tmp_path])
    with pytest.raises(InvalidInputError) as info:
        list_hardware()
    assert str(path) in str(info.value) and fragment in str(info.value)
    result = run("--hardware-dir", str(tmp_path), "hardware", "list")
    assert result.exit_code == 2 and str(path.name) in result.output and fragment in result.output


def test_a_user_part_may_not_reuse_a_builtin_name(tmp_path: Path) -> None:
    _part(tmp_path, part_id="h100")
    set_hardware_dirs([tmp_path])
    with pytest.raises(InvalidInputError, match="already a built-in part"):
        get_hardware("h100")
    (tmp_path / "h100.json").unlink()
    _part(tmp_path, aliases=["H100 SXM"])
    with pytest.raises(InvalidInputError, match=r"aliases: name 'H100 SXM' is already used"):
        get_hardware("lab-gpu")


def test_api_lists_and_estimates_user_parts(tmp_path: Path) -> None:
    _part(tmp_path)
    client = TestClient(create_app(hardware_dirs=[tmp_path]), base_url="http://localhost")
    assert "lab-gpu" in {hw["id"] for hw in client.get("/hardware").json()}
    assert client.get("/hardware/lab-gpu-x").json()["name"] == "Lab GPU"
    body = {"model": "Qwen/Qwen3-8B", "hardware": "lab-gpu", "isl": 64, "osl": 8, "concurrency": 1}
    assert client.post("/estimate", json=body).json()["hardware_id"] == "lab-gpu"


def test_api_refuses_to_start_on_a_bad_user_file(tmp_path: Path) -> None:
    _part(tmp_path, memory_bytes="lots")
    with pytest.raises(InvalidInputError, match=r"lab-gpu\.json.*memory_bytes"):
        create_app(hardware_dirs=[tmp_path])

"""Defects a new ML-platform user met on an 80-column terminal: cut option names, unreadable
tables, ragged captions, an output file format silently ignored."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from infercast.interfaces.cli.app import app
from test_cli_hardening import SHARED
from test_cli_hardening import run as run_at


def run(*args: str, columns: int = 80) -> Any:
    """The CLI on an 80-column terminal unless told otherwise."""
    return run_at(*args, columns=columns)


def _commands() -> list[tuple[list[str], Any]]:
    """Every leaf command with its argv prefix (``models list`` included)."""
    root: Any = typer.main.get_command(app)
    out: list[tuple[list[str], Any]] = []
    for name, command in root.commands.items():
        subs = getattr(command, "commands", None)
        if subs:
            out += [([name, sub], c) for sub, c in subs.items()]
        else:
            out.append(([name], command))
    assert len(out) >= 14
    return out


@pytest.mark.parametrize(
    ("argv", "command"), _commands(), ids=[" ".join(a) for a, _ in _commands()]
)
def test_help_shows_every_option_name_whole_at_80_columns(argv: list[str], command: Any) -> None:
    """Rich cut `--min-tokens-per-s-per-user` to `--min-tokens-per-s-per-…` in `search --help`:
    the one option a user could not copy from the help."""
    result = run(*argv, "--help")
    assert result.exit_code == 0, result.output
    for param in command.params:
        for name in param.opts + param.secondary_opts:
            if name.startswith("--"):
                assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", result.output), (
                    f"{' '.join(argv)} --help: {name} not shown whole"
                )
    assert "…" not in result.output


def test_pareto_axis_maximum_sits_under_the_fastest_point() -> None:
    """The x maximum's label ended 6 columns left of the last column, where the fastest point
    is drawn ("b" at column 60, "89" under column 53). Width 30: the point with the largest
    tokens/s per user is drawn in column 29, and "250" must end in column 29."""
    from types import SimpleNamespace

    from infercast.planning.tables import pareto_chart

    pts = [
        SimpleNamespace(tokens_per_s_per_user=250.0, output_tokens_per_s_per_gpu=10.0),
        SimpleNamespace(tokens_per_s_per_user=25.0, output_tokens_per_s_per_gpu=400.0),
    ]
    lines = pareto_chart(pts, width=30, height=4).splitlines()  # type: ignore[arg-type]
    offset = len("400 |")  # the grid starts after the y label and the axis
    bottom = lines[4]
    assert bottom[offset + 29] == "1"  # the fastest point: the last column
    axis = lines[6]
    assert axis.endswith("250") and len(axis) == offset + 30  # "250" ends in column 29
    assert axis[offset] == "0"  # and 0 sits in column 0


def test_layers_caption_and_title_are_left_aligned_and_whole() -> None:
    """At 80 columns the time table's caption was centred (a ragged column of text) and its
    title wrapped one word ("time") onto a line of its own."""
    result = run(
        "layers", "--model", "meta-llama/Llama-3.3-70B-Instruct", "--hardware", "h200",
        "--tp", "8", "--isl", "4096", "--osl", "512", "--concurrency", "32",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.output.splitlines()]
    assert "Prefill step (4,096 prompt tokens), per GPU: time" in lines
    # The decode batch follows from the cost model (sequences decoding at C = 32); the
    # title's layout is what is tested here.
    assert any(
        re.fullmatch(r"Decode step \(\d+ sequences, one token each\), per GPU: time", line)
        for line in lines
    ), result.output
    assert not [line for line in lines if line.strip() in ("time", "per GPU: time")]
    caption = [line for line in lines if line.startswith(("prefill step:", "decode step:"))]
    assert len(caption) == 2, result.output  # both captions start at column 0
    assert all(len(line) <= 80 for line in lines)


def test_reconcile_group_names_are_not_cut_into_pieces(tmp_path: Path) -> None:
    """The group column got 4 characters at 80 columns ("open"/"ai/g"/"pt-o"...), then broke
    each id after its "org/" ("meta-llama/" over "Llama-3.1-8B-Instruct"): neither could be
    copied (issue 8, item 11). At 80 and 120 columns every group name is on one line."""
    source = SHARED / "benchmarks" / "serving-calibration.csv"
    head = source.read_text().splitlines()
    rows = [head[0], *[r for r in head[1:] if "Llama-3.1-8B-Instruct" in r][:3]]
    rows += [r for r in head[1:] if "gpt-oss-120b" in r][:3]
    csv_file = tmp_path / "few.csv"
    csv_file.write_text("\n".join(rows) + "\n")
    hardware = {line.split(",")[head[0].split(",").index("hardware")] for line in rows[1:]}
    for columns in (80, 120):
        result = run("reconcile", str(csv_file), columns=columns)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        for model in ("meta-llama/Llama-3.1-8B-Instruct", "openai/gpt-oss-120b"):
            assert any(line.startswith(f" {model} ") for line in lines), result.output
            for hw in hardware:
                if any(f"{model}," in r and f",{hw}," in r for r in rows[1:]):
                    assert any(f" {model} @ {hw} " in line for line in lines), (model, hw)
        assert "meta-llama/\n" not in result.output


@pytest.mark.parametrize(("name", "needle"), [("plans.xlsx", "must end in .csv or .parquet")])
def test_sweep_refuses_an_output_name_it_cannot_honour(
    tmp_path: Path, name: str, needle: str
) -> None:
    """`--out plans.xlsx` wrote CSV under that name, after solving the whole grid."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        "models: [Qwen/Qwen3-8B]\nhardware: [h100]\nworkloads: [{isl: 512, osl: 128}]\n"
        "search: {max_gpus: 1}\n"
    )
    target = tmp_path / name
    result = run("sweep", str(grid), "--out", str(target), "--workers", "1")
    assert result.exit_code == 2 and needle in result.output, result.output
    assert not target.exists()


README = Path(__file__).resolve().parents[1] / "README.md"


ROOT = README.parent
SLOW_OR_SERVING = ("serve", "calibrate", "reconcile")
"""Run elsewhere: ``serve`` blocks, ``calibrate``/``reconcile`` read 1,083 rows
(``test_accuracy.py`` runs them)."""


def _readme_commands() -> list[list[str]]:
    """The README's "Command line" examples (continued lines joined), as copied by a user."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Command line", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    joined = re.sub(r"\\\n\s*", "", block)
    out = []
    for line in joined.splitlines():
        argv = line.split("#", 1)[0].split()
        if argv[:1] == [".venv/bin/infercast"] and argv[1] not in SLOW_OR_SERVING:
            out.append(argv[1:])
    return out


def test_every_readme_example_is_run() -> None:
    """``import path/to/config.json``, ``validate my-models/`` and ``sweep grid.yaml`` named
    files no checkout has: copied, they failed (the last with "grid.yaml: cannot read")."""
    assert [a[0] for a in _readme_commands()] == [
        "models", "models", "hardware", "estimate", "estimate", "layers", "import", "validate",
        "search", "launch", "sweep",
    ]  # fmt: skip


@pytest.mark.parametrize("argv", _readme_commands(), ids=lambda a: a[0])
def test_readme_examples_run(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's launch example lacked --hardware, --isl and --osl: copied, it failed with
    "Missing option '--hardware'". Paths in the examples are from the repository root."""
    monkeypatch.chdir(ROOT)
    if argv[0] == "sweep":  # write where the test may, on one core (the pool: test_sweep.py)
        out = str(tmp_path / "plans.csv")
        argv = [*argv[: argv.index("--out")], "--out", out, "--workers", "1"]
    result = run(*argv, columns=200)
    assert result.exit_code == 0, (argv, result.output)
    if argv[0] == "sweep":
        rows = (tmp_path / "plans.csv").read_text().splitlines()
        # examples/grid.yaml: 1 model × 2 hardware × 1 workload × 2 SLAs, top 3 each
        assert len(rows) == 1 + 2 * 2 * 3, rows
    if argv[0] == "import":
        assert '"hf_model_id": "Qwen/Qwen3-8B"' in result.stdout


def test_a_tp_the_model_cannot_split_by_names_the_valid_ones() -> None:
    """ "64 attention heads are not divisible by tp=3" said what was wrong, not what to give.
    gpt-oss-120b: 64 query heads, 8 KV heads, MLP widths divisible by 64 → 1, 2, 4, ..., 64."""
    result = run(
        "estimate", "--model", "openai/gpt-oss-120b", "--hardware", "b200", "--tp", "3",
        "--isl", "1024", "--osl", "1024", "--concurrency", "64",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "not divisible by tp=3" in result.output
    assert "(valid --tp for this model: 1, 2, 4, 8, 16, 32, 64)" in " ".join(result.output.split())


def test_cost_objective_without_prices_names_the_cli_flags() -> None:
    """The search's message said "give price_per_gpu_hour or use the example prices": the
    Python argument, not the flag a CLI user types."""
    result = run(
        "search", "--model", "Qwen/Qwen3-8B", "--hardware", "h100", "--isl", "512",
        "--osl", "128", "--objective", "cost", "--max-gpus", "1",
    )  # fmt: skip
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "--price-per-gpu-hour HW=USD" in text and "--example-prices" in text


def test_text_in_square_brackets_is_printed_not_read_as_markup(tmp_path: Path) -> None:
    """Rich markup dropped `[x]` from user text: a models dir `specs[v2]` printed as `specs`,
    a model named "Qwen3 8B [beta]" as "Qwen3 8B "."""
    import json

    folder = tmp_path / "specs[v2]"
    folder.mkdir()
    spec_file = folder / "Qwen_Qwen3-8B-beta.json"
    config = SHARED / "hf-configs" / "Qwen_Qwen3-8B.json"
    imported = run("import", str(config), "--hf-id", "Qwen/Qwen3-8B-beta", "-o", str(spec_file))
    assert imported.exit_code == 0, imported.output
    spec = json.loads(spec_file.read_text())
    spec["name"] = "Qwen3 8B [beta]"
    spec_file.write_text(json.dumps(spec))
    shown = run("models", "show", "Qwen/Qwen3-8B-beta", "--models-dir", str(folder))
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("Qwen3 8B [beta] (Qwen/Qwen3-8B-beta)")
    checked = run("validate", str(folder), columns=300)
    assert f"ok  {spec_file} (Qwen/Qwen3-8B-beta" in checked.output, checked.output
    (folder / "broken.json").write_text("{}")
    listed = run("models", "list", "--models-dir", str(folder), columns=300)
    assert f"warning: {folder / 'broken.json'}" in listed.output, listed.output

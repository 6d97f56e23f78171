"""A layer class's name lives in its own module only (issue 7: "no class-name strings outside it").

Code outside ``specs/classes/`` refers to a class through the class itself (``MoELayerSpecs``,
``LayerPart(..., MoELayerSpecs, ...)``, ``cls.class_name``), so renaming a class touches its
module and nothing else. The names checked are the registry's, not a hand-kept list; a class added
later is covered without editing this test.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from conftest import REPO
from infercast.specs import LAYER_CLASSES

SRC = REPO / "src" / "infercast"
CLASSES_DIR = SRC / "specs" / "classes"
_STRING_TOKENS = {tokenize.STRING} | {
    getattr(tokenize, name) for name in ("FSTRING_MIDDLE",) if hasattr(tokenize, name)
}


def _name_pattern() -> re.Pattern[str]:
    names = sorted(LAYER_CLASSES, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")


def python_string_literals(text: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal (docstrings and f-string parts included)."""
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [(t.start[0], t.string) for t in tokens if t.type in _STRING_TOKENS]


def class_name_literals(path: Path, pattern: re.Pattern[str]) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        pieces = python_string_literals(text)
    else:  # the web page's scripts and templates: any mention
        pieces = list(enumerate(text.splitlines(), start=1))
    return [
        f"{path.relative_to(REPO)}:{line}: {match.group(1)}"
        for line, piece in pieces
        for match in pattern.finditer(piece)
    ]


def test_the_registry_names_are_what_is_searched() -> None:
    pattern = _name_pattern()
    assert len(LAYER_CLASSES) >= 16
    for name in LAYER_CLASSES:
        assert pattern.fullmatch(name)
    assert not pattern.search("MoELayerSpecs")  # the Python class is a reference, not a name
    literals = python_string_literals('x = "MoELayer"\ny = f"a {z} GatedMLPLayer"\n# MLPLayer\n')
    found = [m.group(1) for _, s in literals for m in pattern.finditer(s)]
    assert found == ["MoELayer", "GatedMLPLayer"]  # comments are not literals


def test_no_layer_class_name_strings_outside_the_class_modules() -> None:
    pattern = _name_pattern()
    files = [
        p
        for p in sorted(SRC.rglob("*"))
        if p.suffix in {".py", ".js", ".html"} and CLASSES_DIR not in p.parents
    ]
    assert len(files) > 50
    found = [hit for path in files for hit in class_name_literals(path, pattern)]
    assert found == [], (
        "refer to the class (its module's XLayerSpecs), not its name:\n" + "\n".join(found)
    )

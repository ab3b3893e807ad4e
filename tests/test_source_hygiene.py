"""The package's source has no raw control characters (a LaTeX ``\\tfrac`` written in a plain
string becomes TAB + "frac", ``\\varphi`` VT + "arphi", ``\\binom`` BS + "inom")."""
from __future__ import annotations

import pathlib
import re

import pytest

import nnsym

SOURCES = sorted(pathlib.Path(nnsym.__file__).parent.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_control_characters(path):
    text = path.read_text(encoding="utf-8")
    bad = [(n + 1, line) for n, line in enumerate(text.splitlines()) if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", line)]
    assert not bad, f"{path.name}: control characters on lines {[n for n, _ in bad]}"

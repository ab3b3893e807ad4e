r"""The repository's Python sources carry their LaTeX intact.

A LaTeX command in a plain (non-raw) string is read as an escape sequence: ``\tfrac`` becomes
TAB + "frac", ``\varphi`` VT + "arphi", ``\binom`` BS + "inom", ``\frac`` FF + "rac", ``\theta``
TAB + "heta". Ruff's W605 catches only the *invalid* escapes (``\s``, ``\p``, ...), not these
valid ones, so three rules are checked here, on every ``.py`` file of nnsym/, tests/,
benchmarks/ and worked_examples/:

* no raw control characters in the source text;
* no string literal whose *value* contains a control character other than a newline (this is
  what a swallowed ``\t``, ``\v``, ``\b``, ``\f``, ``\r``, ``\a`` leaves behind);
* a docstring that contains a backslash in the source is a raw string (prefix ``r``), so that
  LaTeX is written once, as in the paper, and ``\nu`` or ``\nabla`` cannot turn into a
  newline either.
"""
from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted(p for d in ("nnsym", "tests", "benchmarks", "worked_examples") for p in (ROOT / d).rglob("*.py"))
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # TAB and LF allowed in the source text
CONTROL_IN_VALUE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # only LF allowed in a string's value


def _rel(path: pathlib.Path) -> str:
    return str(path.relative_to(ROOT))


def _docstrings(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                yield first.value


def _is_raw(literal_source: str) -> bool:
    prefix = re.match(r"[A-Za-z]*", literal_source).group(0)
    return "r" in prefix.lower()


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_no_control_characters(path):
    text = path.read_text(encoding="utf-8")
    bad = [n + 1 for n, line in enumerate(text.splitlines()) if CONTROL.search(line)]
    assert not bad, f"{_rel(path)}: control characters on lines {bad}"


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_no_string_swallowed_a_latex_command(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    bad = [(node.lineno, CONTROL_IN_VALUE.search(node.value).group(0)) for node in ast.walk(tree)
           if isinstance(node, ast.Constant) and isinstance(node.value, str) and CONTROL_IN_VALUE.search(node.value)]
    assert not bad, f"{_rel(path)}: strings with control characters (a LaTeX \\command read as an escape?) at {bad}"


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_docstrings_with_backslashes_are_raw(path):
    source = path.read_text(encoding="utf-8")
    bad = []
    for node in _docstrings(ast.parse(source, str(path))):
        literal = ast.get_source_segment(source, node) or ""
        if "\\" in literal and not _is_raw(literal):
            bad.append(node.lineno)
    assert not bad, f"{_rel(path)}: docstrings with backslashes that are not raw strings (prefix r), lines {bad}"


def test_the_checks_catch_the_defects():
    swallowed = ast.parse('"""E[\\theta] and \\tfrac12"""')
    assert CONTROL_IN_VALUE.search(swallowed.body[0].value.value)
    not_raw = '"""a :math:`\\\\varphi`"""'
    assert "\\" in not_raw and not _is_raw(not_raw)
    assert _is_raw('r"""a :math:`\\varphi`"""') and _is_raw('Rb"x"')

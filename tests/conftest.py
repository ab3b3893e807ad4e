"""Shared set-up of the test suite.

* ``tests/`` is on ``sys.path`` (``pythonpath = ["tests"]`` in ``pyproject.toml``), so a test
  module imports the hand-written references as ``import independent as ind``: numpy Monte
  Carlo with jackknife errors and scipy quadrature, written without nnsym's engine.
* nnsym itself is imported as the installed package (``pip install -e ".[test]"``); the report
  header names the copy that was imported, so a stale installation is seen at once.
* Tests marked ``slow`` are excluded by default (``-m "not slow"`` in ``pyproject.toml``); run
  them with ``python -m pytest -m slow``.
* Formulas typed by hand in the tests are those of ``docs/conventions.md`` (the section is named
  where a formula is used).
"""
from __future__ import annotations

import importlib.util
import pathlib


def pytest_report_header(config) -> str:
    """One header line: the directory nnsym is imported from (found without importing it, so that
    an import error is reported by the tests that need nnsym, not by the set-up)."""
    spec = importlib.util.find_spec("nnsym")
    if spec is None or spec.origin is None:
        return "nnsym: not importable (pip install -e '.[test]')"
    return f"nnsym from {pathlib.Path(spec.origin).resolve().parent}"

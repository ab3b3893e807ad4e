"""The repository passes ``ruff check`` with the configuration in ``pyproject.toml``
(pycodestyle, pyflakes, bugbear, builtins and import order; each ignored rule is explained there).

ruff is part of the test extra (``pip install -e ".[test]"``): a missing ruff is a failure,
not a skip.
"""
from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECKED = ["nnsym", "tests", "benchmarks", "worked_examples"]


def _ruff() -> list[str]:
    exe = shutil.which("ruff") or str(pathlib.Path(sys.executable).with_name("ruff"))
    if pathlib.Path(exe).exists():
        return [exe]
    return [sys.executable, "-m", "ruff"]


def test_ruff_check_passes():
    res = subprocess.run(_ruff() + ["check", *CHECKED], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert "No module named ruff" not in res.stderr, "ruff is missing: pip install -e '.[test]'"
    assert res.returncode == 0, res.stdout + res.stderr

"""The layers of nnsym, checked: errors < core < engine < numeric < model < sampling < analysis < testing < cli.

* ``lint-imports`` (import-linter, contracts in ``setup.cfg``) passes on the package: no module
  imports from a layer above its own (imports inside functions count), and no two modules of one
  package import each other, directly or through others (no cycles).
* The check can fail: a copy of the package with one deliberate upward import breaks it.
* No module imports a private name (``_x``) of another nnsym module, and none reads a private
  attribute of another nnsym module (``mod._x``).
"""
from __future__ import annotations

import ast
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nnsym"
LINT_IMPORTS = shutil.which("lint-imports") or str(pathlib.Path(sys.executable).with_name("lint-imports"))


def _lint(cwd: pathlib.Path, config: pathlib.Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(cwd))
    return subprocess.run([LINT_IMPORTS, "--config", str(config), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_import_contracts_hold():
    res = _lint(ROOT, ROOT / "setup.cfg")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "nnsym", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    vectors = tmp_path / "nnsym" / "core" / "vectors.py"
    vectors.write_text(vectors.read_text() + "\n\ndef _upward():\n    from ..analysis import spectra\n"
                       "    return spectra\n")
    res = _lint(tmp_path, tmp_path / "setup.cfg")
    assert res.returncode != 0
    assert "nnsym.core is not allowed to import nnsym.analysis" in res.stdout, res.stdout
    assert "nnsym.core.vectors -> nnsym.analysis.spectra" in res.stdout, res.stdout


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        yield path, ".".join(parts), is_pkg


def _absolute(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _private_uses():
    found = []
    for path, module, is_pkg in _modules():
        tree = ast.parse(path.read_text(), str(path))
        module_names = set()  # local names bound to other nnsym modules
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _absolute(module, is_pkg, node)
                if not source.startswith("nnsym"):
                    continue
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {source} import {alias.name}")
                    if (PACKAGE.parent / (source.replace(".", "/") + "/" + alias.name + ".py")).exists() or (
                            PACKAGE.parent / (source.replace(".", "/") + "/" + alias.name)).is_dir():
                        module_names.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("nnsym"):
                        module_names.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in module_names and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_private_name_crosses_a_module_boundary():
    assert _private_uses() == []


@pytest.mark.parametrize("layer", ["core", "engine", "numeric", "model", "sampling", "analysis"])
def test_each_layer_is_a_documented_package(layer):
    init = PACKAGE / layer / "__init__.py"
    assert init.exists()
    doc = ast.get_docstring(ast.parse(init.read_text()))
    assert doc and len(doc) > 80, f"nnsym/{layer}/__init__.py needs a docstring saying what the layer holds"

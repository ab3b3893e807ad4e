"""pytest configuration for the whole repository (the doctests of nnsym/ as well as tests/).

An optional array-backend module imports its package at the top (``nnsym/sampling/jax_backend.py``
needs JAX, the extra ``nnsym[jax]``): where that package is not installed, the module's doctests
are not collected (``tests/test_backend_jax.py`` skips its JAX tests on its own).
"""
from __future__ import annotations

import importlib.util

OPTIONAL_MODULES = {"jax": "nnsym/sampling/jax_backend.py"}


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # e.g. sys.modules[package] is None
        return False


collect_ignore = [path for package, path in OPTIONAL_MODULES.items() if not _installed(package)]

"""Sphinx configuration of the nnsym documentation.

Build (from the repository root; warnings are errors)::

    python -m sphinx -W --keep-going -b html docs build/docs/html
    python -m sphinx -W --keep-going -b doctest docs build/docs/doctest   # the outputs on the pages are real

Everything is offline: math is rendered to PNG by ``sphinx.ext.imgmath`` (latex + dvipng), the
theme (alabaster) ships its own assets, and nothing is loaded from the internet. The worked
examples (``../worked_examples``) are executed by sphinx-gallery into ``auto_examples/``
(build output, not in git); ``-D plot_gallery=0`` skips their execution.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

import nnsym  # noqa: E402

# -- project ----------------------------------------------------------------------------------
project = "nnsym"
author = "the nnsym authors"
copyright = "the nnsym authors"  # noqa: A001 (Sphinx's name)
release = nnsym.__version__
version = ".".join(release.split(".")[:2])

# -- extensions -------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.imgmath",
    "imgmath_batch",  # docs/_ext: all formulas in one latex + dvipng run
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_ext", "_latex"]

# -- math: offline PNG ------------------------------------------------------------------------
# latex + dvipng from Debian's texlive-latex-base/-recommended. Sphinx's imgmath templates load
# anyfontsize (texlive-latex-extra): _latex/anyfontsize.sty stands in for it, found through
# TEXINPUTS. With preview.sty (Debian: preview-latex-style) inline math sits on the text's
# baseline; without it the build works the same, the images are only less well aligned.
os.environ["TEXINPUTS"] = f"{DOCS / '_latex'}{os.pathsep}{os.environ.get('TEXINPUTS', '')}"
imgmath_image_format = "png"
imgmath_font_size = 12
imgmath_use_preview = shutil.which("kpsewhich") is not None and subprocess.run(
    ["kpsewhich", "preview.sty"], capture_output=True, text=True).stdout.strip() != ""
imgmath_latex_preamble = ""

# -- Markdown (docs/conventions.md, README sections) ------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
myst_dmath_double_inline = True
myst_update_mathjax = False

# -- API reference ----------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
# a member is listed when it has a docstring of its own: sympy's hooks (eval, doit, ...) that only
# inherit sympy's docstrings stay out of nnsym's pages
autodoc_inherit_docstrings = False
autodoc_typehints = "none"  # the signatures carry the hints; numpydoc sections carry the prose
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_validation_checks: set[str] = set()

# -- doctest builder --------------------------------------------------------------------------
doctest_global_setup = """
import numpy as np
import sympy as sp
import nnsym as ns
"""
# Only the ``.. doctest::`` blocks of the pages: the docstrings' examples are run by pytest
# (--doctest-modules), in their modules' namespaces.
doctest_test_doctest_blocks = ""

# -- gallery: the worked examples, executed ---------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../worked_examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",  # execute every script
    "ignore_pattern": r"__init__\.py|/_",
    "plot_gallery": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "write_computation_times": False,  # its page loads DataTables from a CDN
    "show_signature": False,
    "min_reported_time": 1,
}

# -- HTML: alabaster, all assets local ---------------------------------------------------------
html_theme = "alabaster"
html_static_path: list[str] = []
html_title = f"nnsym {release}"
html_theme_options = {
    "description": "Exact correlators of neural-network field theories",
    "fixed_sidebar": False,
    "page_width": "1100px",
    "sidebar_width": "230px",
    "font_family": "Georgia, serif",
    "head_font_family": "Georgia, serif",
    "code_font_family": "'DejaVu Sans Mono', Consolas, Menlo, monospace",
}
html_show_sourcelink = False


# -- the API page must list every public name ------------------------------------------------
def _check_api_page(app, env, docnames) -> None:
    """Warn (an error under ``-W``) for a name of ``nnsym.__all__`` that docs/api.rst does not list.

    A module is listed under its real name, relative to ``nnsym`` (``ns.zoo`` is ``model.zoo``).
    """
    import types

    from sphinx.util import logging

    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^ {3}([A-Za-z_][\w.]*)\s*$", text, flags=re.M))
    missing = []
    for name in nnsym.__all__:
        obj = getattr(nnsym, name)
        if name not in listed and not (isinstance(obj, types.ModuleType) and obj.__name__ in
                                       {f"nnsym.{entry}" for entry in listed}):
            missing.append(name)
    if missing:
        logging.getLogger("nnsym.docs").warning(
            "docs/api.rst does not list these names of nnsym.__all__: %s", ", ".join(missing))


def _plot_gallery_flag(app, config) -> None:
    """``-D plot_gallery=0`` arrives as the string "0": make it the bool sphinx-gallery declares."""
    if isinstance(config.plot_gallery, str):
        config.plot_gallery = config.plot_gallery.strip().lower() not in {"0", "false", "no", ""}


def _examples_output(app, config) -> None:
    """The worked examples write their plot files to the build directory, not next to their sources
    (sphinx-gallery runs them in ``worked_examples/``); ``NNSYM_EXAMPLES_OUT`` set by the caller wins."""
    os.environ.setdefault("NNSYM_EXAMPLES_OUT", str(Path(app.outdir) / "worked_examples_plots"))


def _no_gallery_for_doctest(app) -> None:
    """The doctest builder checks the pages' outputs: it need not execute the worked examples again."""
    if app.builder.name == "doctest":
        app.config.plot_gallery = False


def setup(app) -> None:
    app.connect("builder-inited", _no_gallery_for_doctest, priority=5)  # before sphinx-gallery (10)
    app.connect("config-inited", _plot_gallery_flag, priority=100)
    app.connect("config-inited", _examples_output)
    app.connect("env-before-read-docs", _check_api_page)



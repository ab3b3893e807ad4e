"""Render all the math of the site in one LaTeX run, for ``sphinx.ext.imgmath``.

imgmath runs ``latex`` and ``dvipng`` once per formula (about 0.14 s each; this site has some 700
formulas). After the sources are read, this extension collects every formula of every page,
writes them into one document (one ``preview`` page each, the equation counter reset per page),
runs ``latex`` and ``dvipng`` once, and stores each page under the file name imgmath gives that
formula (the SHA-1 of its own LaTeX document) with its baseline depth. imgmath then finds the
images already made and only writes the ``<img>`` tags.

Anything unusual (no ``preview.sty``, a formula that does not compile, a page count that does
not match) leaves the formulas to imgmath itself, which renders them one by one and reports the
error of the bad one as usual: the result is the same, only slower.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from hashlib import sha1
from pathlib import Path

from docutils import nodes
from sphinx.ext.imgmath import generate_latex_macro
from sphinx.util import logging
from sphinx.util.math import wrap_displaymath
from sphinx.util.png import write_png_depth

logger = logging.getLogger(__name__)

PAGE_DEPTH = re.compile(r"\[(\d+) depth=(-?\d+)\]")
BEGIN, END = r"\begin{document}", r"\end{document}"


def formulas(env) -> set[str]:
    """Every formula of the site, as imgmath hands it to its template (inline ``$...$``, display wrapped)."""
    found = set()
    for docname in env.found_docs:
        doctree = env.get_doctree(docname)
        found.update("$" + node.astext() + "$" for node in doctree.findall(nodes.math))
        for node in doctree.findall(nodes.math_block):
            nowrap = node.get("no-wrap", node.get("nowrap", False))
            found.add(node.astext() if nowrap else wrap_displaymath(node.astext(), None, False))
    return found


def render_all(app, env) -> None:
    builder, config = app.builder, app.config
    if builder.format != "html" or getattr(builder, "math_renderer_name", None) != "imgmath":
        return None
    if not config.imgmath_use_preview or config.imgmath_image_format.lower() != "png" or config.imgmath_embed:
        return None
    outdir = Path(builder.outdir, builder.imagedir, "math")
    todo: dict[Path, str] = {}
    preambles = set()
    for math in sorted(formulas(env)):
        document = generate_latex_macro("png", math, config, builder.confdir)
        target = outdir / f"{sha1(document.encode(), usedforsecurity=False).hexdigest()}.png"
        if target.is_file() or BEGIN not in document or END not in document:
            continue
        head, body = document.split(BEGIN, 1)
        preambles.add(head)
        todo[target] = body.rsplit(END, 1)[0]
    if not todo or len(preambles) != 1:
        return None
    source = preambles.pop() + BEGIN + "".join(
        "\n\\setcounter{equation}{0}" + body for body in todo.values()) + "\n" + END + "\n"
    tempdir = Path(tempfile.mkdtemp(suffix="-nnsym-imgmath"))
    try:
        (tempdir / "math.tex").write_text(source, encoding="utf-8")
        latex = subprocess.run([config.imgmath_latex, *config.imgmath_latex_args, "--interaction=nonstopmode",
                                "math.tex"], cwd=tempdir, capture_output=True)
        if latex.returncode != 0 or not (tempdir / "math.dvi").is_file():
            logger.info("imgmath_batch: one LaTeX run failed; imgmath renders the formulas one by one")
            return None
        dvipng = subprocess.run([config.imgmath_dvipng, "-o", "page%d.png", "-T", "tight", "-z9",
                                 *config.imgmath_dvipng_args, "--depth", "math.dvi"],
                                cwd=tempdir, capture_output=True, text=True)
        depths = {int(page): int(depth) for page, depth in PAGE_DEPTH.findall(dvipng.stdout)}
        if dvipng.returncode != 0 or sorted(depths) != list(range(1, len(todo) + 1)):
            logger.info("imgmath_batch: dvipng did not give one page per formula; imgmath renders them one by one")
            return None
        outdir.mkdir(parents=True, exist_ok=True)
        for page, target in enumerate(todo, start=1):
            image = tempdir / f"page{page}.png"
            write_png_depth(image, depths[page])
            shutil.move(image, target)
        logger.info("imgmath_batch: %d formulas rendered in one LaTeX run", len(todo))
    finally:
        shutil.rmtree(tempdir, ignore_errors=True)
    return None


def setup(app):
    app.setup_extension("sphinx.ext.imgmath")
    app.connect("env-updated", render_all)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

r"""LaTeX for papers (issue 11 item 2): :mod:`nnsym.model.latex`, ``Correlator.latex(style=...)``,
``PowerSpectrum.latex``, ``DeepKernel.latex``, ``write_tex`` and ``compile_tex``.

The document test writes every zoo network's :math:`G^{(2)}` and :math:`G_c^{(4)}`, the power spectra
of the translation-invariant ones and the deep ReLU/erf NNGP/NTK to ``build/latex/zoo.tex``, compiles it
with pdflatex and renders page 1 to ``build/latex/zoo-1.png`` (kept there for a person to look at).
Without pdflatex/pdftoppm it is skipped, unless the environment variable ``CI`` is set (CI installs TeX
Live): then it fails.
"""
import inspect
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import nnsym as ns
from nnsym.core.vectors import Dot, VectorSymbol
from nnsym.model.latex import (
    FieldTheoryLatexPrinter,
    Row,
    compile_tex,
    equations,
    latex_width,
    split_prefactor,
    write_tex,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "latex"
N = sp.Symbol("N", positive=True, integer=True)
sa, sb = sp.symbols("sigma_a sigma_b", positive=True)


@pytest.fixture(scope="module")
def g4c():
    return ns.zoo.cos_net(2).correlator(4, connected=True)


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing on CI (install texlive-latex-base, poppler-utils)")
        pytest.skip(f"{tool} not installed")
    return path


# ----------------------------------------------------------------------------- the prefactor
def test_prefactor_is_pulled_out_and_exact(g4c):
    pref, terms = split_prefactor(g4c.expr, g4c.points)
    assert pref == sa**4 / (8 * N)
    assert sp.expand(pref * sp.Add(*terms) - g4c.expr) == 0
    assert sorted(t.as_coeff_Mul()[0] for t in terms) == [-2, -2, -2, 3, 3, 3]
    assert all(not (t.free_symbols & {sa, N}) for t in terms)
    tex = g4c.latex()
    assert tex.startswith(r"G^{(4)}_c(x_{1}, \ldots, x_{4}) = \frac{\sigma_{a}^{4}}{8 N} \left[3 e^{")
    assert tex.endswith(r"\right]") and tex.count(r"\frac{\sigma_{a}^{4}}{8 N}") == 1
    assert r"\frac{\sigma_{a}^{4}}{8 N}" not in g4c.latex(prefactor=False)


def test_prefactor_of_sums_and_single_terms():
    x, y = sp.symbols("x y", real=True)
    c = sp.Symbol("c", positive=True)
    # constant parts 6c^2 and -4c^2 x-free: common 2c^2
    pref, terms = split_prefactor(6 * c**2 * sp.exp(-x) - 4 * c**2 * sp.exp(-y), [x, y])
    assert pref == 2 * c**2 and set(terms) == {3 * sp.exp(-x), -2 * sp.exp(-y)}
    # nothing in common
    assert split_prefactor(c * sp.exp(-x) + 1, [x]) == (1, [1, c * sp.exp(-x)])
    # all negative: the sign goes into the prefactor
    pref, terms = split_prefactor(-c * sp.exp(-x) - c * sp.exp(-y), [x, y])
    assert pref == -c and set(terms) == {sp.exp(-x), sp.exp(-y)}
    # a quotient stays one fraction; a point-free expression has no prefactor
    assert split_prefactor(c / (x**2 + 1), [x]) == (1, [c / (x**2 + 1)])
    assert split_prefactor(c**2, [x]) == (1, [c**2])


# ----------------------------------------------------------------------------- notation
def test_distance_styles(g4c):
    default = g4c.latex()
    assert r"\left|x_{1} - x_{2}\right|^{2}" in default and "x_{12}" not in default
    xij = g4c.latex(distances="x_ij")
    for pair in ("12", "13", "14", "23", "24", "34"):
        assert "x_{%s}^{2}" % pair in xij
    assert r"\left|x_{1} - x_{2}\right|" not in xij
    assert r"\left|x_{1} + x_{2} - x_{3} - x_{4}\right|^{2}" in xij  # not a pair: bars stay
    # d = 1: |x_1 - x_2| -> x_{12}
    G2 = ns.zoo.cauchy_net().correlator(2)
    assert G2.latex(distances="x_ij") == r"G^{(2)}(x_{1}, x_{2}) = \frac{\sigma_{a}^{2}}{2} e^{- m x_{12}}"
    assert r"\left|{x_{1} - x_{2}}\right|" in G2.latex()


def test_dot_products_and_powers_of_them():
    G2 = ns.zoo.erf_net(2).correlator(2)
    assert r"x_{1} \cdot x_{2}" in G2.latex() and r"\left|x_{1}\right|^{2}" in G2.latex()
    assert r"x_{1}^{2}" in G2.latex(distances="x_ij")
    x1, x2, b = (VectorSymbol(n, 3) for n in ("x_1", "x_2", "b"))
    p = FieldTheoryLatexPrinter()
    assert p.doprint(Dot(b, b) ** 2) == r"\left|b\right|^{4}"
    assert p.doprint(Dot(x1, x2) ** 2) == r"\left(x_{1} \cdot x_{2}\right)^{2}"
    assert FieldTheoryLatexPrinter({"distances": "x_ij"}).doprint(Dot(x1 - x2, x1 - x2) ** 3) == "x_{12}^{6}"
    # a power of a scalar product used to raise TypeError in sympy's printer (free scalar, G_c^(4))
    assert r"\left|b\right|^{4}" in ns.zoo.free_scalar(2).correlator(4, connected=True).latex()


def test_symbol_lists_points_up_to_three(g4c):
    net = ns.zoo.cos_net(1)
    assert net.correlator(2).symbol_latex() == "G^{(2)}(x_{1}, x_{2})"
    assert net.correlator(3).symbol_latex() == "G^{(3)}(x_{1}, x_{2}, x_{3})"
    assert g4c.symbol_latex() == r"G^{(4)}_c(x_{1}, \ldots, x_{4})"
    assert net.correlator(6).latex().startswith(r"G^{(6)}(x_{1}, \ldots, x_{6}) = ")


# ----------------------------------------------------------------------------- align
def test_align_environment(g4c):
    tex = g4c.latex(style="align", label="eq:G4c")
    lines = tex.splitlines()
    assert lines[0] == r"\begin{align}" and lines[-1] == r"\end{align}"
    body = lines[1:-1]
    assert len(body) >= 2, "the cos-net G_c^(4) is split over lines"
    assert tex.count(r"\label{eq:G4c}") == 1 and r"\label{eq:G4c}" in body[-1]
    assert all(line.endswith(r"\nonumber \\") for line in body[:-1])
    assert r"\nonumber" not in body[-1] and not body[-1].endswith("\\\\")
    assert body[0].startswith(r"G^{(4)}_c(x_{1}, \ldots, x_{4}) &= \frac{\sigma_{a}^{4}}{8 N} \Big[")
    assert body[-1].count(r"\Big]") == 1 and all(line.startswith(r"&\quad") for line in body[1:])
    assert all(latex_width(line) <= 75 for line in body)
    # the same terms as the inline equation
    flat = re.sub(r"\s+", " ", " ".join(re.sub(r"\\nonumber \\\\|&\\quad|\{\}|&=|\\label\{eq:G4c\}", " ", line)
                                        for line in body))
    inline = g4c.latex().replace(r"\left[", r"\Big[").replace(r"\right]", r"\Big]").replace(" = ", " ")
    assert flat.split() == inline.split()


def test_long_terms_split_inside_and_no_line_too_wide():
    relu = ns.zoo.relu_net(2).correlator(4, connected=True).latex("align", label="eq:x").splitlines()[1:-1]
    free = ns.zoo.free_scalar(2).correlator(4, connected=True).latex("align", label="eq:x").splitlines()[1:-1]
    for body in (relu, free):
        assert len(body) > 5
        assert max(latex_width(line) for line in body) <= 75
    assert any(line.startswith(r"&\quad \times") for line in relu)  # a product broken between its factors
    assert any(r"\times \Bigg(\sqrt{1 - " in line for line in relu)  # brackets sized to what they hold
    assert sum(line.count(r"\Bigg)") for line in relu) >= 4
    # the expectation's integrand split over lines, inside brackets that span them
    assert any(r"\operatorname{re}\bigg(\mathbb{E}_{c,b}\bigg[" in line for line in free)


def test_bad_options_are_refused(g4c):
    with pytest.raises(ValueError, match="style"):
        g4c.latex(style="display")
    with pytest.raises(ValueError, match="distances"):
        g4c.latex(distances="euclid")
    with pytest.raises(ValueError, match="needs style='align'"):
        g4c.latex(label="eq:a")
    with pytest.raises(ValueError, match="label"):
        g4c.latex("align", label="eq a}")


def test_equations_label_goes_to_last_numbered_row():
    a, b = sp.symbols("a b")
    tex = equations([Row("u", a + b), Row("v", a * b), Row("w", a - b, numbered=False)], label="eq:v")
    assert r"v &= a b \label{eq:v} \\" in tex and tex.count(r"\label") == 1
    assert r"w &= a - b \nonumber" in tex
    inline = equations([Row("u", a + b), Row("v", a * b)], style="inline")
    assert inline == r"u = a + b,\qquad v = a b"


# ----------------------------------------------------------------------------- spectra and deep kernels
def test_power_spectrum_latex_styles():
    S = ns.zoo.free_scalar(2).power_spectrum()
    tex = S.latex()
    assert tex.startswith("G(p) = ") and r"\begin{cases}" in tex and r"\left|p\right|^{2}" in tex
    assert "p^{2}" in S.latex(distances="x_ij")
    env = S.latex(style="align", label="eq:Gp")
    assert env.startswith(r"\begin{align}") and r"\label{eq:Gp}" in env
    Sc = ns.zoo.cos_net(2).power_spectrum()
    assert Sc.latex() == (r"G(p) = \frac{2 \pi \sigma_{a}^{2}}{\sigma_{b}^{2}} "
                          r"e^{- \frac{\left|p\right|^{2}}{\sigma_{b}^{2}}}")


@pytest.mark.parametrize("act", [lambda z: sp.Max(0, z), sp.erf], ids=["relu", "erf"])
def test_deep_kernel_latex_recursion(act):
    K = ns.deep_kernels(act, 2, 2)
    tex = K.latex("align", label="eq:deep")
    lhs = [line.split("&=")[0].strip() for line in tex.splitlines() if "&=" in line]
    assert lhs == ["K^{(1)}_{ij}", "K^{(2)}_{ij}", "K^{(3)}_{ij}",
                   r"\Theta^{(1)}_{ij}", r"\Theta^{(2)}_{ij}", r"\Theta^{(3)}_{ij}"]
    assert r"K^{(3)}_{ij} &=" in tex and r"\label{eq:deep-nngp}" in tex and r"\label{eq:deep-ntk}" in tex
    assert tex.count(r"\label") == 2 and r"x_{i} \cdot x_{j}" in tex
    assert r"\Theta^{(1)}_{ij}" in tex and "K^{(2)}_{ii}" in tex
    closed = K.latex("align", form="closed")
    assert r"K^{(3)}(x_{1}, x_{2}) &=" in closed and r"\Theta^{(3)}(x_{1}, x_{2}) &=" in closed
    assert K.latex().count(r",\qquad") == 5
    with pytest.raises(ValueError, match="form"):
        K.latex(form="nested")


def test_deep_kernel_recursion_composes_to_the_closed_form():
    """The printed recursion, read back by substituting layer after layer, is ``K.nngp`` / ``K.ntk``."""
    K = ns.deep_kernels(sp.erf, 2, 1)
    X = (0.7, -0.3)
    pair = np.array([[[X[0]], [X[1]]]])
    exact_nngp = K.nngp.evaluate(pair, sigma_W=1.3, sigma_b=0.4)[0]
    exact_ntk = K.ntk.evaluate(pair, sigma_W=1.3, sigma_b=0.4)[0]
    f = lambda k11, k12, k22: 2 / sp.pi * sp.asin(2 * k12 / sp.sqrt((1 + 2 * k11) * (1 + 2 * k22)))
    fd = lambda k11, k12, k22: 4 / (sp.pi * sp.sqrt((1 + 2 * k11) * (1 + 2 * k22) - 4 * k12**2))
    sW2, sb2 = 1.3**2, 0.4**2
    k = {(a, b): sb2 + sW2 * X[a] * X[b] for a in (0, 1) for b in (0, 1)}
    theta = k[0, 1]
    for _ in range(2):
        nxt = {ab: sb2 + sW2 * f(k[ab[0], ab[0]], k[ab], k[ab[1], ab[1]]) for ab in k}
        theta = nxt[0, 1] + sW2 * theta * fd(k[0, 0], k[0, 1], k[1, 1])
        k = nxt
    assert float(k[0, 1]) == pytest.approx(exact_nngp, rel=1e-12)
    assert float(theta) == pytest.approx(exact_ntk, rel=1e-12)
    tex = K.latex()  # the printed rows are these formulas
    assert r"\operatorname{asin}{\left(\frac{2 K^{(1)}_{ij}}{\sqrt{\left(2 K^{(1)}_{ii} + 1\right)" in tex


# ----------------------------------------------------------------------------- documents
def test_write_tex_refuses_what_it_cannot_print(tmp_path):
    with pytest.raises(TypeError, match="latex"):
        write_tex(tmp_path / "a.tex", [object()])
    with pytest.raises(ValueError, match=".tex"):
        write_tex(tmp_path / "a.pdf", [])


def test_compile_tex_reports_the_first_error(tmp_path):
    _need("pdflatex")
    bad = tmp_path / "bad.tex"
    bad.write_text("\\documentclass{article}\n\\begin{document}\nfine\n\\undefinedcommand\n\\end{document}\n")
    with pytest.raises(ns.LatexError, match=r"pdflatex failed on bad.tex .*! Undefined control sequence.* l\.4"):
        compile_tex(bad)
    with pytest.raises(FileNotFoundError):
        compile_tex(tmp_path / "missing.tex")


def _zoo_items():
    """Every zoo network (as ``nnsym list`` names them) at d = 2 (or its fixed d): G^(2), G_c^(4), and G(p)
    when the 2-point function is translation invariant."""
    from nnsym.cli import available_networks

    items, spectra = [], []
    for name in available_networks():
        builder = getattr(ns.zoo, name.replace("-", "_"))
        net = builder(2) if inspect.signature(builder).parameters else builder()
        G2 = net.correlator(2)
        items.append((f"{name}: two-point function", G2))
        items.append((f"{name}: connected four-point function", net.correlator(4, connected=True)))
        if G2.is_translation_invariant().holds:
            spectra.append((f"{name}: power spectrum", net.power_spectrum()))
    for act, label in ((lambda z: sp.Max(0, z), "ReLU"), (sp.erf, "erf")):
        spectra.append((f"deep {label} network, depth 2: NNGP and NTK", ns.deep_kernels(act, 2, 2)))
    return items + spectra


def test_zoo_document_compiles_and_renders():
    _need("pdflatex")
    pdftoppm = _need("pdftoppm")
    items = _zoo_items()
    names = {caption.split(":")[0] for caption, _ in items}
    assert {"cos-net", "gauss-net", "erf-net", "relu-net", "free-scalar", "cauchy-net"} <= names
    assert sum("power spectrum" in c for c, _ in items) == 4  # cos, gauss, free scalar, cauchy
    for stale in OUT.glob("zoo*"):
        stale.unlink()
    tex = write_tex(OUT / "zoo.tex", items, title="nnsym zoo: correlators, spectra and deep kernels")
    text = tex.read_text(encoding="utf-8")
    assert text.count(r"\begin{align}") == len(items)
    assert r"\label{eq:cos-net-connected-four-point-function}" in text
    pdf = compile_tex(tex)
    assert pdf == OUT / "zoo.pdf" and pdf.stat().st_size > 10_000
    log = (OUT / "zoo.log").read_text(encoding="utf-8", errors="replace")
    overfull = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert max(overfull, default=0.0) < 20.0, f"lines overflow the text width by {max(overfull)}pt"
    subprocess.run([pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(OUT / "zoo")],
                   check=True, stdin=subprocess.DEVNULL, capture_output=True)
    png = next(OUT.glob("zoo-*1.png"))
    import matplotlib.image

    img = matplotlib.image.imread(png)
    ink = np.mean(img[..., :3].min(axis=-1) < 0.9)
    assert img.shape[0] > 500 and ink > 0.005, f"page 1 looks blank ({ink:.2%} non-white pixels)"

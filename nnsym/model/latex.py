r"""LaTeX for papers: correlators in physics notation, split over ``align`` lines.

One printer for every object nnsym writes as an equation (a :class:`~nnsym.Correlator`,
a power spectrum, the NNGP/NTK of a deep network):

* :class:`FieldTheoryLatexPrinter`, a sympy ``LatexPrinter`` that writes scalar products
  as :math:`x_1\cdot x_2` and squared distances either as :math:`|x_1 - x_2|^2`
  (``distances="abs"``, the default) or as :math:`x_{12}^2` (``distances="x_ij"``);
* :func:`split_prefactor`, the point-independent common factor of the terms, pulled out
  in front, :math:`\frac{\sigma_a^4}{8N}\Big[\dots\Big]`;
* :func:`equation` / :func:`equations`, a single equation string (``style="inline"``) or an
  ``align`` environment whose long right-hand sides are split a few terms per line
  (``\nonumber`` on the continuation lines, ``\label`` on the last);
* :func:`write_tex` / :func:`compile_tex`, a standalone document (article, amsmath,
  amssymb, geometry: all in Debian's ``texlive-latex-base``) with one ``align`` per item,
  and its PDF from ``pdflatex``.

>>> import nnsym as ns
>>> G4 = ns.zoo.cos_net(2).correlator(4, connected=True)
>>> print(G4.latex(distances="x_ij")[:94])
G^{(4)}_c(x_{1}, \ldots, x_{4}) = \frac{\sigma_{a}^{4}}{8 N} \left[3 e^{- \frac{\sigma_{b}^{2}
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from ..core.vectors import ScalarPoint, ScalarProduct, VectorSymbol
from ..engine.unevaluated import Expectation
from ..errors import LatexError

__all__ = [
    "STYLES",
    "DISTANCES",
    "LINE_WIDTH",
    "FieldTheoryLatexPrinter",
    "Row",
    "latex_width",
    "latex_height",
    "split_prefactor",
    "points_latex",
    "make_printer",
    "equation",
    "equations",
    "write_tex",
    "compile_tex",
]

STYLES = ("inline", "align")  #: one equation string, or an ``align`` environment split over lines
DISTANCES = ("abs", "x_ij")  #: :math:`|x_1 - x_2|^2` or :math:`x_{12}^2`
LINE_WIDTH = 74.0  #: width of an ``align`` line in :func:`latex_width` units (500 pt text width, 10 pt)
_INDENT = 3.0  # width of the "&\quad" that starts a continuation line
_OPEN, _CLOSE = "@[@", "@]@"  # the prefactor bracket, \left[ or \Big[ once the lines are known
_POINT_NAME = re.compile(r"^(?P<base>[A-Za-z]+)_(?P<index>\d+)$")


# ----------------------------------------------------------------------------- the printer
class FieldTheoryLatexPrinter(LatexPrinter):
    r"""sympy's LaTeX printer with nnsym's notation for points.

    Extra settings (besides sympy's, e.g. ``symbol_names``):

    ``distances``
        ``"abs"``: :math:`\left|x_1 - x_2\right|^{2}` and :math:`\left|x_1\right|^{2}`;
        ``"x_ij"``: :math:`x_{12}^{2}` and :math:`x_1^{2}` (also :math:`|x_1 - x_2| \to x_{12}`
        in d = 1). Other vectors keep the bars, :math:`\left|x_1 + x_2 - x_3 - x_4\right|^{2}`.
    ``points``
        the points whose differences get the :math:`x_{ij}` names (default: any ``x_1, x_2, ...``
        point symbol, i.e. a :class:`~nnsym.core.vectors.VectorSymbol` or
        :class:`~nnsym.core.vectors.ScalarPoint` named ``<letters>_<digits>``).

    Scalar products :math:`u\cdot v` of different vectors print as such in both styles.

    Examples
    --------
    >>> from nnsym.core.vectors import Dot, VectorSymbol
    >>> x1, x2 = VectorSymbol("x_1", 2), VectorSymbol("x_2", 2)
    >>> FieldTheoryLatexPrinter({"distances": "x_ij"}).doprint(Dot(x1 - x2, x1 - x2) + Dot(x1, x2))
    'x_{1} \\cdot x_{2} + x_{12}^{2}'
    """

    _default_settings: dict[str, Any] = {**LatexPrinter._default_settings, "distances": "abs", "points": ()}

    def __init__(self, settings: Mapping | None = None):
        settings = dict(settings or {})
        if settings.get("distances", "abs") not in DISTANCES:
            raise ValueError(f"distances must be one of {DISTANCES}, got {settings['distances']!r}")
        super().__init__(settings)

    def _print(self, expr, **kwargs) -> str:
        # ScalarProduct prints itself (its _latex) and would take precedence over a _print_ method
        if isinstance(expr, ScalarProduct):
            return self._print_ScalarProduct(expr, **kwargs)
        return super()._print(expr, **kwargs)

    # -- point names
    def _is_point(self, s) -> bool:
        points = self._settings["points"]
        if points:
            return s in points
        return isinstance(s, (VectorSymbol, ScalarPoint)) and bool(_POINT_NAME.match(s.name))

    def _point_pair(self, v) -> str | None:
        r"""``x_{12}`` when ``v`` is :math:`\pm(x_i - x_j)` of two points named ``x_i``, ``x_j``."""
        if not v.is_Add or len(v.args) != 2:
            return None
        coeffs = {}
        for term in v.args:
            c, s = term.as_coeff_Mul()
            if c not in (1, -1) or not s.is_Symbol or not self._is_point(s):
                return None
            coeffs[s] = c
        if sorted(coeffs.values()) != [-1, 1]:
            return None
        names = [_POINT_NAME.match(s.name) for s in coeffs]
        if None in names or names[0]["base"] != names[1]["base"]:
            return None
        idx = sorted((m["index"] for m in names), key=int)
        sep = "" if all(len(i) == 1 for i in idx) else ","
        return "%s_{%s}" % (self._print(sp.Symbol(names[0]["base"])), sep.join(idx))

    # -- scalar products and distances
    def _print_ScalarProduct(self, expr, exp=None) -> str:
        u, v = expr.args
        if u == v:
            pair = self._point_pair(u) if self._settings["distances"] == "x_ij" else None
            if pair is not None:
                tex = r"%s^{2}" % pair
            elif self._settings["distances"] == "x_ij" and u.is_Symbol:
                tex = r"%s^{2}" % self._print(u)
            else:
                tex = r"\left|%s\right|^{2}" % self._print(u)
        else:
            pu = self.parenthesize(u, PRECEDENCE["Mul"])
            pv = self.parenthesize(v, PRECEDENCE["Mul"])
            tex = r"%s \cdot %s" % (pu, pv)
        if exp is None:
            return tex
        # a power of a scalar product (sympy passes exp= for a power of a function): |u|^4, x_{12}^4
        if u == v and tex.endswith("^{2}") and str(exp).isdigit():
            return tex[:-4] + "^{%d}" % (2 * int(exp))
        return r"\left(%s\right)^{%s}" % (tex, exp)

    def _print_Abs(self, expr, exp=None) -> str:
        pair = self._point_pair(expr.args[0]) if self._settings["distances"] == "x_ij" else None
        if pair is None:
            return super()._print_Abs(expr, exp)
        return pair if exp is None else r"%s^{%s}" % (pair, exp)

    def _print_Pow(self, expr) -> str:
        base, e = expr.as_base_exp()
        if self._settings["distances"] == "x_ij" and e.is_Integer and e.is_even and e > 0:
            pair = self._point_pair(base)
            if pair is not None:  # (x_1 - x_2)^2 of scalar points
                return r"%s^{%s}" % (pair, self._print(e))
        return super()._print_Pow(expr)


# ----------------------------------------------------------------------------- widths
_SPACES = {r"\quad": 2.0, r"\qquad": 4.0, r"\,": 0.3, r"\:": 0.4, r"\;": 0.5, r"\ ": 0.5, r"\!": 0.0}
_RELATIONS = {r"\cdot", r"\times", r"\equiv", r"\geq", r"\leq", r"\neq", r"\sim", r"\approx", r"\to", r"\pm"}
_OPERATORS = {r"\max", r"\min", r"\sin", r"\cos", r"\tan", r"\exp", r"\log", r"\ln", r"\sinh", r"\cosh",
              r"\tanh", r"\arcsin", r"\arccos", r"\arctan", r"\det", r"\sup", r"\inf", r"\lim"}
_DELIMITERS = {r"\left": 1.0, r"\right": 1.0, r"\big": 0.6, r"\Big": 0.8, r"\bigg": 1.0, r"\Bigg": 1.2}
_IGNORED = {r"\displaystyle", r"\limits", r"\nonumber", r"\\", r"\mathbb", r"\mathbf", r"\mathcal",
            r"\boldsymbol", r"\mathit"}
_SCALE = (1.0, 0.75, 0.65)  # display/text, script, scriptscript


def latex_width(tex: str) -> float:
    r"""A rough width of typeset display math, in units of one letter (about 6 pt at 10 pt).

    Letters and digits count 1, binary operators and relations 2 (with their spacing; 1 in a
    script), sub- and superscripts 0.7 (scripts of scripts 0.5), :math:`\frac{a}{b}` the wider of
    :math:`a, b`, a ``cases`` environment its widest row, ``\left(`` and ``\right)`` 1. Used to
    split long equations over lines (:data:`LINE_WIDTH`).

    Parameters
    ----------
    tex : LaTeX of a formula (math mode).

    Returns
    -------
    float

    Examples
    --------
    >>> latex_width(r"\frac{a}{b c d}") < latex_width("a b c d")
    True
    >>> latex_width("x_{12}^{2}")
    3.25
    """
    width, _ = _width(tex, 0, 0)
    return round(width, 6)


def _command(tex: str, i: int) -> tuple[str, int]:
    m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
    return m.group(0), i + m.end()


def _group(tex: str, i: int, level: int) -> tuple[float, int]:
    """The width of one argument at ``tex[i:]``: a {group} or a single token."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return 0.0, i
    if tex[i] == "{":
        return _width(tex, i + 1, level, closing=True)
    if tex[i] == "\\":
        _, i = _command(tex, i)
    else:
        i += 1
    return _SCALE[level], i


def _environment(tex: str, i: int, level: int) -> tuple[float, int]:
    r"""``\begin{name}...\end{name}`` from just after ``\begin``: its widest row."""
    m = re.match(r"\s*\{(\w+\*?)\}", tex[i:])
    if m is None:
        return 0.0, i
    name, i = m.group(1), i + m.end()
    end = tex.find(r"\end{%s}" % name, i)
    end = len(tex) if end < 0 else end
    rows = re.split(r"\\\\", tex[i:end])
    width = max(_width(row.replace("&", r"\quad"), 0, level)[0] for row in rows)
    return width + 1.0, end + len(r"\end{%s}" % name)


def _width(tex: str, i: int, level: int, closing: bool = False) -> tuple[float, int]:
    """Width of ``tex[i:]`` at script ``level`` up to the end (or the closing brace: then the
    index after it)."""
    scale = _SCALE[level]
    width = 0.0
    while i < len(tex):
        ch = tex[i]
        if ch == "}" and closing:
            return width, i + 1
        if ch == "{":
            w, i = _width(tex, i + 1, level, closing=True)
            width += w
            continue
        if ch in "^_":
            w, i = _group(tex, i + 1, min(level + 1, 2))
            width += w
            continue
        if ch == "\\":
            cmd, i = _command(tex, i)
            if cmd == r"\frac":
                inner = level if level == 0 else min(level + 1, 2)  # display fractions keep their size
                a, i = _group(tex, i, inner)
                b, i = _group(tex, i, inner)
                width += max(a, b) + 0.5 * scale
            elif cmd == r"\sqrt":
                if i < len(tex) and tex[i] == "[":
                    i = tex.index("]", i) + 1
                w, i = _group(tex, i, level)
                width += w + 1.5 * scale
            elif cmd in (r"\operatorname", r"\text", r"\mathrm"):
                w, i = _group(tex, i, level)
                width += 0.9 * w
            elif cmd == r"\begin":
                w, i = _environment(tex, i, level)
                width += w
            elif cmd in (r"\end", r"\label"):
                _, i = _group(tex, i, level)
            elif cmd in _DELIMITERS:
                width += _DELIMITERS[cmd] * scale
                if i < len(tex):  # the delimiter itself
                    i = _command(tex, i)[1] if tex[i] == "\\" else i + 1
            elif cmd in _SPACES:
                width += _SPACES[cmd] * scale
            elif cmd in _RELATIONS:
                width += (2.0 if level == 0 else 1.0) * scale
            elif cmd in _OPERATORS:
                width += 0.9 * (len(cmd) - 1) * scale
            elif cmd in (r"\ldots", r"\cdots"):
                width += 2.0 * scale
            elif cmd not in _IGNORED:
                width += scale
            continue
        if ch in "+-=<>":
            width += (2.0 if level == 0 else 1.0) * scale
        elif ch in "()[]|,;.!":
            width += 0.5 * scale
        elif ch not in " &":
            width += scale
        i += 1
    return width, i


def latex_height(tex: str) -> float:
    r"""A rough height of typeset display math, in lines: 1 for a row of symbols, the sum of
    numerator and denominator for a display fraction, a little more for a superscript.
    Chooses the size of brackets that span several lines (``\Big``, ``\bigg``, ``\Bigg``).

    >>> latex_height("a + b"), latex_height(r"\frac{a}{b}"), latex_height(r"e^{-\frac{x^{2}}{4}}")
    (1.0, 2.0, 1.45)
    """
    return round(_height(tex, 0, 0)[0], 6)


def _height(tex: str, i: int, level: int, closing: bool = False) -> tuple[float, int]:
    height = 1.0 if level == 0 else 0.75
    while i < len(tex):
        ch = tex[i]
        if ch == "}" and closing:
            return height, i + 1
        if ch == "{":
            h, i = _height(tex, i + 1, level, closing=True)
        elif ch in "^_":
            i += 1
            while i < len(tex) and tex[i] == " ":
                i += 1
            if i < len(tex) and tex[i] == "{":
                h, i = _height(tex, i + 1, min(level + 1, 2), closing=True)
            else:
                h, i = 0.75, i + 1
            h = 0.4 + 0.8 * h if ch == "^" else h
        elif ch == "\\":
            cmd, i = _command(tex, i)
            if cmd == r"\frac":
                parts = []
                for _ in range(2):
                    while i < len(tex) and tex[i] == " ":
                        i += 1
                    if i < len(tex) and tex[i] == "{":
                        h, i = _height(tex, i + 1, level if level == 0 else min(level + 1, 2), closing=True)
                    else:
                        h, i = 1.0, i + 1
                    parts.append(h)
                h = sum(parts) * (1.0 if level == 0 else 0.75)
            elif cmd == r"\sqrt":
                h, i = (_height(tex, i + 1, level, closing=True) if i < len(tex) and tex[i] == "{"
                        else (1.0, i))
                h += 0.2
            else:
                h = height
        else:
            h, i = height, i + 1
        height = max(height, h)
    return height, i


def _delimiter(tokens: Sequence[_Token]) -> str:
    r"""``\Big``, ``\bigg`` or ``\Bigg``: brackets around these tokens, which span lines."""
    h = max((latex_height(t.text.replace(_OPEN, "").replace(_CLOSE, "")) for t in tokens), default=1.0)
    return r"\Big" if h <= 1.8 else (r"\bigg" if h <= 2.4 else r"\Bigg")


# ----------------------------------------------------------------------------- prefactor
def split_prefactor(expr, variables: Iterable) -> tuple[sp.Expr, list[sp.Expr]]:
    r"""The common point-independent factor :math:`c` of the terms, and the terms divided by it.

    ``expr`` :math:`= c\,(t_1 + t_2 + \dots)` with :math:`c` free of ``variables`` (the
    points, or the momentum): the constant factor of a product, times the common constant
    factor of the terms of the sum it multiplies (``sympy.factor_terms`` of their constant
    parts). A single term gives ``[term]``; nothing to pull out gives :math:`c = 1`, and so
    does a single quotient (:math:`m\sigma^2/(p^2+m^2)` stays one fraction).

    Parameters
    ----------
    expr : sympy expression.
    variables : the symbols the prefactor must not contain (points, momentum).

    Returns
    -------
    (prefactor, terms) with ``prefactor * Add(*terms) == expr`` (up to expansion of the product).

    Examples
    --------
    >>> import sympy as sp
    >>> x, y, s, N = sp.symbols("x y sigma N", positive=True)
    >>> split_prefactor(s**4 * (3*sp.exp(-x) - 2*sp.exp(-y)) / (8*N), [x, y])
    (sigma**4/(8*N), [-2*exp(-y), 3*exp(-x)])
    >>> split_prefactor(s**2 * sp.exp(-x**2) / 2 + s**2 / 2, [x])
    (sigma**2/2, [1, exp(-x**2)])
    >>> split_prefactor(s**2 / (x**2 + N**2), [x])
    (1, [sigma**2/(N**2 + x**2)])
    """
    expr = sp.sympify(expr)
    variables = tuple(variables)
    if not variables or not (expr.free_symbols & set(variables)):
        return sp.S.One, [expr]
    if expr.is_Mul:
        c0, rest = expr.as_independent(*variables, as_Add=False)
    else:
        c0, rest = sp.S.One, expr
    if not rest.is_Add:
        quotient = any(f.is_Pow and f.exp.is_negative for f in sp.Mul.make_args(rest))
        if c0 == -1 or quotient:  # m s^2/(p^2 + m^2) stays one fraction
            return sp.S.One, [expr]
        return c0, [rest]
    terms = list(rest.args)
    parts = [t.as_independent(*variables, as_Add=False) for t in terms]
    marks = [sp.Dummy() for _ in terms]
    common, _ = sp.factor_terms(sp.Add(*[c * m for (c, _), m in zip(parts, marks)])).as_independent(
        *marks, as_Add=False)
    if common.is_Number and common < 0 and not all(t.could_extract_minus_sign() for t in terms):
        common = -common
    pref = c0 * common
    if pref == -1 and len(terms) > 1:
        return sp.S.One, [-t for t in terms]
    return pref, [t / common for t in terms]


# ----------------------------------------------------------------------------- splitting into lines
@dataclass(frozen=True)
class _Token:
    """An unbreakable piece of a right-hand side; a line may end before it when ``breakable``
    (the new line then starts with ``on_break``)."""

    text: str
    breakable: bool = False
    on_break: str = ""


@dataclass
class Row:
    r"""One equation of an ``align``: ``lhs = expr`` (``lhs`` is LaTeX).

    ``variables`` are the symbols a prefactor must not contain (default: all); ``label``
    (``eq:...``) goes on the row's last line; ``numbered=False`` gives it no number;
    ``note`` is LaTeX appended to the right-hand side (e.g. ``\quad \text{(numeric)}``).
    """

    lhs: str
    expr: Any
    variables: Sequence = ()
    label: str | None = None
    numbered: bool = True
    note: str = ""


def _ordered(printer: LatexPrinter, terms: Sequence) -> list:
    add = sp.Add(*terms, evaluate=False)
    return list(printer._as_ordered_terms(add, order=None)) if len(terms) > 1 else list(terms)


def _sum_tokens(printer, terms, variables, width: float) -> list[_Token]:
    """Tokens of ``t_1 + t_2 + ...``; the first token is not breakable (the caller glues it)."""
    out: list[_Token] = []
    for k, t in enumerate(_ordered(printer, terms)):
        neg = t.could_extract_minus_sign()
        body = -t if neg else t
        sub = _term_tokens(printer, body, variables, width)
        sign = "- " if neg else ("+ " if k else "")
        first = sub[0]
        if k == 0:
            out.append(_Token(sign + first.text))
        else:
            out.append(_Token(sign + first.text, breakable=True, on_break="{}"))
        out.extend(sub[1:])
    return out


def _term_tokens(printer, t, variables, width: float) -> list[_Token]:
    r"""Tokens of one term: the whole term if it fits a line, else its factors (a sum inside
    ``\Big( \Big)``, split further), with ``\times`` at a break."""
    tex = printer._print(t)
    if latex_width(tex) <= width:
        return [_Token(tex)]
    if isinstance(t, (Expectation, sp.re, sp.im)):  # E[...], re(...): split the argument inside \Big[ \Big]
        if isinstance(t, Expectation):
            head, (left, right) = r"\mathbb{E}_{%s}" % ",".join(printer._print(q) for q in t.params), "[]"
        else:
            head, (left, right) = r"\operatorname{%s}" % type(t).__name__, "()"
        inner = _term_tokens(printer, t.args[0], variables, width - latex_width(head) - 2)
        if len(inner) == 1:
            return [_Token(tex)]
        size = _delimiter(inner)
        return ([_Token(r"%s%s%s" % (head, size, left) + inner[0].text)] + inner[1:]
                + [_Token(r"%s%s" % (size, right))])
    if not (t.is_Mul or t.is_Add):
        return [_Token(tex)]
    if t.is_Add:
        inner = _sum_tokens(printer, t.args, variables, width - 2)
        size = _delimiter(inner)
        return [_Token(size + "(" + inner[0].text)] + inner[1:] + [_Token(size + ")")]
    c, rest = t.as_independent(*variables, as_Add=False) if variables else (sp.S.One, t)
    numer, denom = [], []
    for f in sp.Mul.make_args(rest):
        b, e = f.as_base_exp()
        if e.is_Number and e < 0:
            denom.append(b ** (-e))
        else:
            numer.append(f)
    den = sp.Mul(*denom)
    if den != 1 and latex_width(printer._print(c / den)) <= width / 3:
        c, den = c / den, sp.S.One  # a short denominator goes with the constant
    out: list[_Token] = []
    if c != 1:
        out.append(_Token(printer._print(c)))
    glue = c != 1 and latex_width(out[0].text) <= 6  # a short constant stays with the first factor
    for f in numer:
        sub = _term_tokens(printer, f, variables, width - 2)
        if len(sub) == 1:
            sub = [_Token(printer.parenthesize(f, PRECEDENCE["Mul"], strict=False))]
        if glue:
            out[0] = _Token(out[0].text + " " + sub[0].text)
            glue = False
        else:
            out.append(_Token(sub[0].text, breakable=bool(out), on_break=r"\times "))
        out.extend(sub[1:])
    if den != 1:
        out.append(_Token(r"\frac{1}{%s}" % printer._print(den), breakable=bool(out), on_break=r"\times "))
    return out


def _rhs_tokens(printer, expr, variables, width: float, prefactor: bool) -> list[_Token]:
    """The right-hand side as tokens (the prefactor bracket as the placeholders ``_OPEN``, ``_CLOSE``)."""
    pref, terms = split_prefactor(expr, variables) if prefactor else (sp.S.One, [sp.sympify(expr)])
    if len(terms) > 1:
        inner = _sum_tokens(printer, terms, variables, width)
    else:
        inner = _term_tokens(printer, terms[0], variables, width)
    if pref == 1:
        return inner
    sign = ""
    if pref.could_extract_minus_sign():
        pref, sign = -pref, "- "
    head = sign + (r"\left(%s\right)" if pref.is_Add else "%s") % printer._print(pref) + " "
    if len(terms) == 1:
        return [_Token(head + inner[0].text)] + inner[1:]
    # a long first term may start on the next line
    return [_Token(head + _OPEN), _Token(inner[0].text, breakable=True)] + inner[1:] + [_Token(_CLOSE)]


def _pack(tokens: Sequence[_Token], lhs: float, width: float) -> list[str]:
    """Greedy lines: break before a breakable token that would pass ``width``; every line starts
    at the alignment point, after the left-hand side of width ``lhs``."""
    lines: list[list[str]] = [[]]
    used = lhs + 2.0
    for tok in tokens:
        w = latex_width(tok.text.replace(_OPEN, "").replace(_CLOSE, ""))
        if tok.breakable and lines[-1] and used + w > width:
            lines.append([tok.on_break + tok.text])
            used = lhs + _INDENT + w
        else:
            lines[-1].append(tok.text)
            used += w
    return [" ".join(parts) for parts in lines]


def _brackets(text: str, single_line: bool, size: str = r"\Big") -> str:
    left, right = (r"\left[", r"\right]") if single_line else (size + "[", size + "]")
    text = text.replace(_OPEN + " ", _OPEN).replace(" " + _CLOSE, _CLOSE)
    return text.replace(_OPEN, left).replace(_CLOSE, right)


# ----------------------------------------------------------------------------- equations
def _check(style: str, label: str | None) -> None:
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    if label is not None:
        if style != "align":
            raise ValueError(f"label={label!r} needs style='align' (an inline equation has no number)")
        if not isinstance(label, str) or not label or re.search(r"[\s{}\\%#$&^~]", label):
            raise ValueError(f"label must be a non-empty LaTeX label such as 'eq:G4c' (no spaces, braces, "
                             f"backslashes or % # $ & ^ ~), got {label!r}")


def make_printer(distances: str = "abs", points: Sequence = (), symbol_names: Mapping | None = None):
    r"""The :class:`FieldTheoryLatexPrinter` for these options (``distances`` checked).

    >>> import sympy as sp
    >>> make_printer(symbol_names={sp.Symbol("K1"): r"K^{(1)}"}).doprint(2 * sp.Symbol("K1"))
    '2 K^{(1)}'
    """
    if distances not in DISTANCES:
        raise ValueError(f"distances must be one of {DISTANCES}, got {distances!r}")
    return FieldTheoryLatexPrinter({"distances": distances, "points": tuple(points),
                                    "symbol_names": dict(symbol_names or {})})


def equations(rows: Sequence[Row], style: str = "align", label: str | None = None, *, distances: str = "abs",
              prefactor: bool = True, width: float = LINE_WIDTH, symbol_names: Mapping | None = None,
              points: Sequence = ()) -> str:
    r"""Several equations: an ``align`` environment (or, inline, one string joined by ``,\qquad``).

    Parameters
    ----------
    rows : the :class:`Row` s, in order.
    style : ``"align"`` (default here) or ``"inline"``.
    label : a label for the last numbered row that has none.
    distances : ``"abs"`` (:math:`|x_1 - x_2|^2`) or ``"x_ij"`` (:math:`x_{12}^2`).
    prefactor : pull the common constant factor out in front (:func:`split_prefactor`).
    width : line width of the ``align`` split, in :func:`latex_width` units.
    symbol_names : LaTeX for some symbols (sympy's ``symbol_names`` setting).
    points : the points whose differences get the :math:`x_{ij}` names.

    Returns
    -------
    str

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b", positive=True)
    >>> print(equations([Row("u", a + b, numbered=False), Row("v", a * b, label="eq:v")]))
    \begin{align}
    u &= a + b \nonumber \\
    v &= a b \label{eq:v}
    \end{align}
    """
    _check(style, label)
    printer = make_printer(distances, points, symbol_names)
    rows = list(rows)
    if label is not None:
        free = [k for k, r in enumerate(rows) if r.numbered and r.label is None]
        if not free:
            raise ValueError(f"label={label!r}: every numbered row has its own label already")
        rows[free[-1]] = Row(**{**rows[free[-1]].__dict__, "label": label})
    for r in rows:
        if r.label is not None:
            _check("align", r.label)
    texts = []
    for r in rows:
        expr = sp.sympify(r.expr)
        variables = tuple(r.variables) or tuple(sorted(expr.free_symbols, key=sp.default_sort_key))
        if style == "inline":
            tokens = _rhs_tokens(printer, expr, variables, math.inf, prefactor)
            texts.append("%s = %s%s" % (r.lhs, _brackets(" ".join(t.text for t in tokens), True), r.note))
            continue
        lhs = latex_width(r.lhs)
        tokens = _rhs_tokens(printer, expr, variables, width - lhs - _INDENT, prefactor)
        if r.note:
            tokens.append(_Token(r.note.strip(), breakable=True))
        lines = _pack(tokens, lhs, width)
        size = _delimiter([t for t in tokens if _OPEN not in t.text])  # not the prefactor in front
        lines = [_brackets(line, len(lines) == 1, size) for line in lines]
        text = ["%s &= %s" % (r.lhs, lines[0])] + [r"&\quad %s" % line for line in lines[1:]]
        text = [line + r" \nonumber \\" for line in text[:-1]] + [text[-1]]
        text[-1] += (r" \label{%s}" % r.label if r.label else "") + ("" if r.numbered else r" \nonumber")
        texts.append("\n".join(text))
    if style == "inline":
        return r",\qquad ".join(texts)
    return "\\begin{align}\n" + " \\\\\n".join(texts) + "\n\\end{align}"


def equation(lhs: str, expr, variables: Sequence = (), style: str = "inline", label: str | None = None, *,
             distances: str = "abs", prefactor: bool = True, width: float = LINE_WIDTH, note: str = "",
             symbol_names: Mapping | None = None) -> str:
    r"""``lhs = expr`` in physics notation: one equation string (``style="inline"``) or an
    ``align`` environment split over lines (``style="align"``, ``label`` on the last line).

    Parameters
    ----------
    lhs : LaTeX of the left-hand side, e.g. ``G^{(4)}_c(x_{1}, \ldots, x_{4})``.
    expr : the sympy right-hand side.
    variables : the points (or momentum): the prefactor is free of them; their differences
        get the :math:`x_{ij}` names.
    style : ``"inline"`` or ``"align"``.
    label : ``\label`` of the equation (``style="align"`` only), e.g. ``"eq:G4c"``.
    distances : ``"abs"`` (:math:`|x_1 - x_2|^2`) or ``"x_ij"`` (:math:`x_{12}^2`).
    prefactor : pull the common constant factor of the terms out in front.
    width : the ``align`` line width (:func:`latex_width` units).
    note : LaTeX appended to the right-hand side.
    symbol_names : LaTeX for some symbols.

    Returns
    -------
    str

    Examples
    --------
    >>> import sympy as sp
    >>> x, s = sp.symbols("x sigma", positive=True)
    >>> equation("f(x)", s**2 * (sp.exp(-x) + sp.exp(-2*x)) / 2, [x])
    'f(x) = \\frac{\\sigma^{2}}{2} \\left[e^{- x} + e^{- 2 x}\\right]'
    """
    _check(style, label)
    row = Row(lhs, expr, variables, label, True, note)
    return equations([row], style, None, distances=distances, prefactor=prefactor, width=width,
                     symbol_names=symbol_names, points=variables)


def points_latex(points: Sequence) -> str:
    r"""The argument list :math:`x_1, \ldots, x_n` (all points for n <= 3).

    >>> import sympy as sp
    >>> points_latex(sp.symbols("x_1:6"))
    'x_{1}, \\ldots, x_{5}'
    """
    texs = [sp.latex(p) for p in points]
    if len(texs) > 3:
        return r"%s, \ldots, %s" % (texs[0], texs[-1])
    return ", ".join(texs)


# ----------------------------------------------------------------------------- documents
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _escape(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in str(text))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def _items(items) -> list[tuple[str | None, Any]]:
    if isinstance(items, Mapping):
        return [(str(k), v) for k, v in items.items()]
    out = []
    for item in items:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            out.append(item)
        else:
            out.append((None, item))
    return out


def write_tex(path, items, title: str | None = None) -> Path:
    r"""Write a standalone LaTeX document with one ``align`` environment per item.

    The preamble uses only ``article``, ``geometry``, ``amsmath`` and ``amssymb`` (all in
    Debian's ``texlive-latex-base``); long equations break across pages
    (``\allowdisplaybreaks``).

    Parameters
    ----------
    path : the ``.tex`` file to write (its directory is created).
    items : objects with ``.latex(style="align", label=...)`` (a :class:`~nnsym.Correlator`, a
        power spectrum, a deep kernel, ...), or ``(caption, object)`` pairs, or a mapping
        caption -> object. A caption becomes an unnumbered subsection heading and the label
        ``eq:<caption>`` (else ``eq:<k>``).
    title : the document's heading (none if None).

    Returns
    -------
    pathlib.Path of the written file.

    Examples
    --------
    >>> import tempfile, pathlib, nnsym as ns
    >>> net = ns.zoo.cos_net(2)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     tex = write_tex(pathlib.Path(tmp) / "cos.tex", {"cos-net G2": net.correlator(2)}, title="Cos-net")
    ...     text = tex.read_text()
    >>> r"\label{eq:cos-net-g2}" in text and text.count(r"\begin{align}") == 1
    True
    """
    path = Path(path)
    if path.suffix != ".tex":
        raise ValueError(f"write_tex writes a .tex file, got {str(path)!r}")
    parts = [r"\documentclass[10pt]{article}", r"\usepackage[margin=2cm]{geometry}",
             r"\usepackage{amsmath}", r"\usepackage{amssymb}", r"\allowdisplaybreaks", r"\begin{document}"]
    if title:
        parts.append(r"\section*{%s}" % _escape(title))
    seen: set[str] = set()
    for k, (caption, obj) in enumerate(_items(items), start=1):
        if not callable(getattr(obj, "latex", None)):
            raise TypeError(f"item {k} ({caption or type(obj).__name__}) has no .latex(style=..., label=...) "
                            "method: give correlators, power spectra, deep kernels or (caption, object) pairs")
        label = "eq:" + (_slug(caption) if caption and _slug(caption) else str(k))
        while label in seen:
            label += "-%d" % k
        seen.add(label)
        if caption:
            parts.append(r"\subsection*{%s}" % _escape(caption))
        parts.append(obj.latex(style="align", label=label))
    parts.append(r"\end{document}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def _first_error(log: Path) -> str:
    if not log.is_file():
        return "(no log file)"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    for k, line in enumerate(lines):
        if line.startswith("!"):
            where = next((s.strip() for s in lines[k + 1:k + 12] if re.match(r"l\.\d+", s)), "")
            return line + (f" (at {where})" if where else "")
    return "(no error line in the log)"


def compile_tex(path) -> Path:
    r"""Run ``pdflatex -interaction=nonstopmode -halt-on-error`` on ``path`` in its directory.

    A second run follows when LaTeX asks for one (cross-references).

    Parameters
    ----------
    path : a ``.tex`` file (e.g. from :func:`write_tex`).

    Returns
    -------
    pathlib.Path of the PDF.

    Raises
    ------
    FileNotFoundError
        if ``path`` or ``pdflatex`` is missing (Debian: ``apt-get install texlive-latex-base``).
    LatexError
        (a ``RuntimeError``) if ``pdflatex`` fails; the message has the log's first error line and
        the log's path.

    Examples
    --------
    >>> import tempfile, pathlib, shutil, nnsym as ns
    >>> if shutil.which("pdflatex"):
    ...     with tempfile.TemporaryDirectory() as tmp:
    ...         tex = write_tex(pathlib.Path(tmp) / "g2.tex", [ns.zoo.cos_net(2).correlator(2)])
    ...         print(compile_tex(tex).name)
    ... else:
    ...     print("g2.pdf")
    g2.pdf
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"compile_tex: no such file {str(path)!r}")
    exe = shutil.which("pdflatex")
    if exe is None:
        raise FileNotFoundError("compile_tex needs pdflatex on the PATH (TeX Live; on Debian/Ubuntu "
                                "apt-get install texlive-latex-base texlive-latex-recommended "
                                "texlive-fonts-recommended)")
    log = path.with_suffix(".log")
    pdf = path.with_suffix(".pdf")
    for _ in range(2):
        proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", path.name], cwd=path.parent,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                              check=False)
        if proc.returncode != 0 or not pdf.is_file():
            raise LatexError(f"pdflatex failed on {path.name} (exit code {proc.returncode}): "
                               f"{_first_error(log)}; full log: {log}")
        text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        if "Rerun to get" not in text and "Label(s) may have changed" not in text:
            break
    return pdf

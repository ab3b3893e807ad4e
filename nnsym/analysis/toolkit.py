r"""The analysis toolkit: what the symmetry checks, the spectra and the Osterwalder-Schrader
axioms share.

* :class:`Verdict`: a yes / no / undecided answer with its evidence;
* :func:`evaluate_with_error`: a correlator's values at point sets *and* the stated bound on
  their absolute error (0 for a closed form; the quadrature error of the unevaluated
  expectations otherwise), returned as data in a :class:`NumericValue`;
* :func:`default_values`, :func:`numeric_values`: numbers for the hyper-parameters of a
  numeric check, :func:`numeric_dimension`: the d it is done in;
* :func:`large_n_limit`: :math:`\lim_{N\to\infty}` of a correlator;
* :func:`as_number`: a closed-form coefficient as a float at given values, or None;
* :data:`SYMBOLIC_FAILURES` (from :mod:`nnsym.errors`): the exceptions by which sympy gives up on an integral or a
  simplification (caught where a numeric route takes over; anything else propagates).

>>> import numpy as np, nnsym as ns
>>> G2 = ns.zoo.cos_net(1).correlator(2)
>>> v = evaluate_with_error(G2, np.zeros((1, 2, 1)), dict(sigma_a=1.0, sigma_b=1.0))
>>> v.value, v.error, v.is_numeric                      # G^(2)(x, x) = sigma_a^2 / 2, exact
(array([0.5]), 0.0, False)
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

import numpy as np
import sympy as sp

from ..core.random import is_random
from ..core.vectors import ScalarPoint, VectorSymbol
from ..engine.expectation import Expectation
from ..errors import SYMBOLIC_FAILURES, NumericWarning  # SYMBOLIC_FAILURES re-exported for the analyses
from ..numeric.kernels import evaluate

__all__ = [
    "Verdict",
    "NumericValue",
    "evaluate_with_error",
    "correlator_with_error",
    "laurent_coefficients",
    "pairings",
    "WidthSeries",
    "width_series",
    "default_values",
    "numeric_values",
    "numeric_dimension",
    "large_n_limit",
    "as_number",
    "SYMBOLIC_FAILURES",
]

@dataclass
class Verdict:
    """A yes / no / undecided answer with its reasoning.

    ``holds`` is True, False or None (undecided); ``evidence`` says why; ``method`` is
    ``"symbolic"``, ``"structural"``, ``"numeric"`` or ``"undecided"``. ``bool(verdict)``
    raises for an undecided verdict rather than guessing.

    >>> v = Verdict(True, "depends on x_1 - x_2 only"); bool(v), str(v)
    (True, 'yes [symbolic]: depends on x_1 - x_2 only')
    """

    holds: bool | None
    evidence: str
    method: str = "symbolic"
    details: dict = field(default_factory=dict)

    def __bool__(self):
        if self.holds is None:
            raise ValueError(f"undecided verdict (use .holds): {self.evidence}")
        return bool(self.holds)

    def __str__(self):
        word = {True: "yes", False: "no", None: "undecided"}[self.holds]
        return f"{word} [{self.method}]: {self.evidence}"


# ----------------------------------------------------------------------------- values with their error
class NumericValue(NamedTuple):
    r"""Values of an expression at point sets, with the stated bound on their absolute error.

    ``value``: array over the point sets; ``error``: :math:`\epsilon` with
    :math:`|\text{value} - \text{exact}| \le \epsilon` at every point set (the sum of the quadrature
    error estimates of the unevaluated expectations, 0 for a closed form); ``is_numeric``: whether
    any part was computed by quadrature. Unpacks as ``value, error, is_numeric``.
    """

    value: np.ndarray
    error: float
    is_numeric: bool


def _expression_of(obj, points, dim):
    """(expr, points, dim) from a Correlator or from an expression with ``points`` and ``dim``."""
    if hasattr(obj, "expr") and hasattr(obj, "points") and hasattr(obj, "dim"):  # a Correlator (model layer)
        return obj.expr, tuple(obj.points), obj.dim
    if points is None or dim is None:
        raise TypeError("pass a Correlator, or an expression with points= and dim=")
    return sp.sympify(obj), tuple(points), sp.sympify(dim)


def evaluate_with_error(obj: Any, X, values: Mapping | None = None, points=None, dim=None,
                        quadratures: dict | None = None) -> NumericValue:
    r"""Evaluate a correlator (or an expression in ``points``) at the point sets ``X`` of shape
    ``(..., n, d)``, with an error bound.

    Unevaluated expectations :math:`E_j` in :math:`G = f(x; E_1, \dots, E_m)` are integrated by
    quadrature; each quadrature states an absolute error :math:`\epsilon_j` (the ``.error`` of its
    :class:`~nnsym.errors.NumericWarning`, read as data), and the bound returned is
    :math:`\epsilon = \sum_j \epsilon_j` (0 for a closed form). The warnings are consumed here.
    For :math:`G` linear in the :math:`E_j` with unit coefficients, :math:`\epsilon` bounds
    :math:`|G_\text{num} - G|`; other coefficients scale it (see the callers).

    >>> import numpy as np, sympy as sp, nnsym as ns
    >>> b = ns.Normal("b", 0, 1)
    >>> x = ns.ScalarPoint("x")
    >>> E = ns.Expectation(sp.tanh(b * x) ** 2, b)          # no closed form: quadrature
    >>> v = evaluate_with_error(E, np.ones((1, 1, 1)), {}, points=(x,), dim=1)
    >>> v.is_numeric, 0 < v.error < 1e-6
    (True, True)
    """
    expr, points, dim = _expression_of(obj, points, dim)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NumericWarning)
        out = evaluate(expr, points, dim, X, dict(values or {}), {}, quadratures)
    stated = [w.message for w in caught if isinstance(w.message, NumericWarning)]
    error = float(sum(w.error for w in stated if w.error is not None))
    return NumericValue(np.asarray(out), error, bool(stated))


def correlator_with_error(G: Any, X: np.ndarray, bindings: Mapping, quadratures: dict | None = None) -> tuple:
    r"""Values of the correlator ``G`` at the point sets ``X`` and a bound on their error:
    ``(value, error, is_numeric)``. A part left to quadrature,
    :math:`G = \sum_j c_j E_j + \dots`, has the stated quadrature error :math:`\epsilon` of
    :func:`~nnsym.analysis.toolkit.evaluate_with_error` scaled by :math:`\sum_j\max|c_j|`. ``quadratures``: a
    dict shared by calls at the same point sets, so that each expectation is integrated once."""
    atoms = sorted(G.expr.atoms(Expectation), key=sp.default_sort_key)
    if not atoms:
        v = np.broadcast_to(np.asarray(G.evaluate_bound(X, bindings), float), X.shape[:-2])
        return v, np.zeros(v.shape), False
    v, eps, _ = evaluate_with_error(G, X, bindings, quadratures=quadratures)
    dummies = [sp.Dummy(f"E{j}") for j in range(len(atoms))]
    body = G.expr.xreplace(dict(zip(atoms, dummies)))
    scale = 0.0
    for u in dummies:
        c = sp.diff(body, u).xreplace(dict(zip(dummies, atoms)))
        cv, ce, _ = evaluate_with_error(c, X, bindings, points=G.points, dim=G.dim, quadratures=quadratures)
        scale += float(np.max(np.abs(cv) + ce, initial=0.0))
    v = np.broadcast_to(np.asarray(v, float), X.shape[:-2])
    return v, np.full(v.shape, scale * eps + 8 * np.finfo(float).eps * float(np.max(np.abs(v), initial=0.0))), True


def laurent_coefficients(expr, N) -> dict | None:
    r"""``expr`` as a Laurent polynomial in :math:`N`: ``{p: c_p}`` with
    ``expr`` :math:`= \sum_p c_p N^p` and the :math:`c_p` free of :math:`N` (not simplified; a
    :math:`c_p` may be identically 0). None when ``expr`` is not such a polynomial (e.g. :math:`N`
    inside an exponential, under a root, or in a denominator :math:`1/(N+1)`).

    Read off the expression tree without expanding it: a sum merges the powers of its terms, a
    product convolves those of its factors, an integer power of a sum is repeated products (a
    negative one only of a monomial in :math:`N`); the :math:`N`-free parts stay as they are (no
    expansion of the large closed forms of a 6-point function).

    >>> N, s = sp.Symbol("N", positive=True), sp.Symbol("s", positive=True)
    >>> laurent_coefficients(s**4 * (1 - 1/N) / 8, N)
    {0: s**4/8, -1: -s**4/8}
    >>> laurent_coefficients(sp.exp(-1/N), N) is None, laurent_coefficients(1 / (N + 1), N) is None
    (True, True)
    """
    expr = sp.sympify(expr)
    powers = _laurent_terms(expr, N)
    if powers is None:
        return None
    return {p: sp.Add(*terms) for p, terms in powers.items()}


def _laurent_terms(expr: sp.Expr, N) -> dict | None:
    r"""``{p: [terms]}`` with ``expr`` :math:`= \sum_p N^p\sum` ``terms``, or None (not Laurent in ``N``)."""
    if N not in expr.free_symbols:
        return {0: [expr]}
    if expr == N:
        return {1: [sp.S.One]}
    if expr.is_Add:
        out: dict = {}
        for term in expr.args:
            part = _laurent_terms(term, N)
            if part is None:
                return None
            for p, terms in part.items():
                out.setdefault(p, []).extend(terms)
        return out
    if expr.is_Mul:
        c, rest = expr.as_independent(N, as_Add=False)
        out = {0: [c]}
        for factor in sp.Mul.make_args(rest):
            part = _laurent_terms(factor, N)
            if part is None:
                return None
            out = _laurent_product(out, part)
        return out
    if expr.is_Pow:
        base, e = expr.args
        if not e.is_Integer:  # a root of N, or N in the exponent
            return None
        part = _laurent_terms(base, N)
        if part is None:
            return None
        k = int(e)
        if k >= 0:
            out = {0: [sp.S.One]}
            for _ in range(k):
                out = _laurent_product(out, part)
            return out
        if len(part) != 1:  # 1/(N + 1): not a Laurent polynomial
            return None
        (p, terms), = part.items()
        return {p * k: [sp.Add(*terms) ** k]}
    return None  # N inside a function, an expectation, a piecewise...


def _laurent_product(a: dict, b: dict) -> dict:
    r"""The powers of a product from those of its two factors."""
    out: dict = {}
    for p, ta in a.items():
        A = sp.Add(*ta)
        for q, tb in b.items():
            out.setdefault(p + q, []).append(A * sp.Add(*tb))
    return out


def pairings(indices) -> list:
    r"""The :math:`(n-1)!!` perfect matchings of ``indices`` (an even number of them), each a list of pairs.

    >>> len(pairings(range(4))), len(pairings(range(6)))
    (3, 15)
    """
    items = list(indices)
    if len(items) % 2:
        raise ValueError(f"pairings: an odd number ({len(items)}) of indices has no perfect matching")
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out = []
    for j, partner in enumerate(rest):
        for tail in pairings(rest[:j] + rest[j + 1:]):
            out.append([(first, partner)] + tail)
    return out


@dataclass
class WidthSeries:
    r"""Values at a batch of point sets as a Laurent polynomial in the width,
    :math:`v(N) = \sum_p c_p\,N^p`, with a bound :math:`\epsilon_p` on the error of each coefficient
    array :math:`c_p`: :meth:`at` gives :math:`v(N)` and the bound :math:`\sum_p\epsilon_p N^p` at any
    width, with no new evaluation. Products (``*``) and :meth:`sum` carry the bounds
    (:math:`|\delta(cd)|\le|c|\epsilon_d + |d|\epsilon_c + \epsilon_c\epsilon_d`).

    >>> s = WidthSeries({0: np.array([1.0]), -1: np.array([2.0])}, {0: np.zeros(1), -1: np.zeros(1)})
    >>> (s * s).at(2.0)
    (array([4.]), array([0.]))
    """

    coefficients: dict
    errors: dict
    is_numeric: bool = False

    def at(self, N) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`(v(N), \epsilon(N))` at the width ``N``."""
        N = float(N)
        if not N > 0:
            raise ValueError(f"WidthSeries.at: the width must be positive, got {N}")
        value = sum(c * N**p for p, c in self.coefficients.items())
        error = sum(e * N**p for p, e in self.errors.items())
        return np.asarray(value, float), np.asarray(error, float)

    def take(self, index) -> "WidthSeries":
        r"""The values at the point sets ``index`` (numpy fancy indexing of every coefficient)."""
        return WidthSeries({p: c[index] for p, c in self.coefficients.items()},
                           {p: e[index] for p, e in self.errors.items()}, self.is_numeric)

    def __mul__(self, other: "WidthSeries") -> "WidthSeries":
        coefficients: dict = {}
        errors: dict = {}
        for p, c in self.coefficients.items():
            for q, d in other.coefficients.items():
                ec, ed = self.errors[p], other.errors[q]
                coefficients[p + q] = coefficients.get(p + q, 0) + c * d
                errors[p + q] = errors.get(p + q, 0) + np.abs(c) * ed + np.abs(d) * ec + ec * ed
        return WidthSeries(coefficients, errors, self.is_numeric or other.is_numeric)

    @staticmethod
    def sum(terms: list) -> "WidthSeries":
        r"""The sum of the series ``terms`` (errors add)."""
        coefficients: dict = {}
        errors: dict = {}
        for t in terms:
            for p, c in t.coefficients.items():
                coefficients[p] = coefficients.get(p, 0) + c
                errors[p] = errors.get(p, 0) + t.errors[p]
        return WidthSeries(coefficients, errors, any(t.is_numeric for t in terms))

    @staticmethod
    def zeros(size: int) -> "WidthSeries":
        r"""The series 0 at ``size`` point sets."""
        return WidthSeries({0: np.zeros(size)}, {0: np.zeros(size)}, False)


def width_series(G: Any, X: np.ndarray, bindings: Mapping, N, quadratures: dict | None = None) -> WidthSeries:
    r"""The correlator ``G`` at the point sets ``X`` for every width: its expression as a Laurent
    polynomial in the width symbol ``N`` (:func:`laurent_coefficients`), each coefficient evaluated
    once, with its error (:func:`correlator_with_error`; ``quadratures`` as there). Raises ``ValueError``
    if ``G`` is not a Laurent polynomial in ``N``.

    >>> import nnsym as ns
    >>> net = ns.zoo.cos_net(1)
    >>> s = width_series(net.correlator(4, connected=True), np.zeros((1, 4, 1)), {"sigma_a": 1.0, "sigma_b": 1.0},
    ...                  net.width)
    >>> sorted(s.coefficients), s.at(10)[0]          # G_c^(4)(0,0,0,0) = 3 sigma_a^4/(8N)
    ([-1], array([0.0375]))
    """
    powers = laurent_coefficients(G.expr, N)
    if powers is None:
        raise ValueError(f"width_series: the correlator is not a Laurent polynomial in {N}: {G.expr}")
    X = np.asarray(X, float)
    coefficients, errors, numeric = {}, {}, False
    for p, c in powers.items():
        part = type(G)(c, G.points, G.dim)
        v, e, is_num = correlator_with_error(part, X, bindings, quadratures)
        coefficients[p], errors[p] = np.array(v, float), np.array(e, float)
        numeric = numeric or is_num
    return WidthSeries(coefficients, errors, numeric)


# ----------------------------------------------------------------------------- numbers for numeric checks
def default_values(symbols, seed: int = 0) -> dict:
    r"""Numeric values by name for the numeric checks: integer symbols :math:`7`, positive
    (or non-negative) ones uniform in :math:`[0.6, 1.4]`, others uniform in :math:`[-1, 1]`
    (a ``numpy`` generator seeded with ``seed``, symbols in sympy's sort order).
    Vector symbols and dummies get no value.

    >>> default_values([sp.Symbol("N", positive=True, integer=True)])
    {'N': 7}
    >>> 0.6 <= default_values([sp.Symbol("m", positive=True)])["m"] <= 1.4
    True
    """
    rng = np.random.default_rng(seed)
    out = {}
    for s in sorted(symbols, key=sp.default_sort_key):
        if isinstance(s, (VectorSymbol, sp.Dummy)):
            continue
        if s.is_integer:
            out[s.name] = 7
        elif s.is_positive or s.is_nonnegative:
            out[s.name] = float(rng.uniform(0.6, 1.4))
        else:
            out[s.name] = float(rng.uniform(-1.0, 1.0))
    return out


def numeric_values(expr: sp.Expr, values: Mapping | None, dim) -> dict:
    r"""Values by name for every hyper-parameter of ``expr``: the given ``values``, completed by
    :func:`default_values`; a symbolic dimension :math:`d` defaults to 3.

    Points, parameters and vector symbols are not hyper-parameters and get no value.

    >>> import nnsym as ns
    >>> G2 = ns.zoo.cos_net(sp.Symbol("d", positive=True, integer=True)).correlator(2)
    >>> vals = numeric_values(G2.expr, {"sigma_a": 2.0}, G2.dim)
    >>> vals["sigma_a"], vals["d"], sorted(vals)
    (2.0, 3, ['d', 'sigma_a', 'sigma_b'])
    """
    dim = sp.sympify(dim)
    syms = {s for s in sp.sympify(expr).free_symbols
            if not isinstance(s, (VectorSymbol, ScalarPoint)) and not is_random(s)}
    if not dim.is_Integer:
        syms.discard(dim)
    vals = default_values(syms)
    vals.update(values or {})
    if not dim.is_Integer:
        vals.setdefault(dim.name, 3)
    return vals


def numeric_dimension(dim, values: Mapping | None = None) -> int:
    r"""The dimension :math:`D` a numeric check is done in: :math:`d` itself when it is an integer,
    otherwise the value given for the symbol :math:`d` (default 3).

    >>> numeric_dimension(2), numeric_dimension(sp.Symbol("d")), numeric_dimension(sp.Symbol("d"), {"d": 5})
    (2, 3, 5)
    """
    dim = sp.sympify(dim)
    if dim.is_Integer:
        return int(dim)
    return int((values or {}).get(dim.name, 3))


# ----------------------------------------------------------------------------- N -> oo
def large_n_limit(expr: sp.Expr, N) -> sp.Expr | None:
    r"""The width-to-infinity limit :math:`\lim_{N\to\infty} G` of a correlator expression, term by term:
    :math:`G = \sum_t c_t\, r_t(N)` with :math:`c_t` free of :math:`N` gives
    :math:`\sum_t c_t \lim_{N\to\infty} r_t(N)`.

    Returns None when a term diverges or has no limit, when :math:`N` appears inside an unevaluated
    expectation, or when ``N`` is not a symbol (a fixed width has no limit to take).

    >>> N, s = sp.Symbol("N", positive=True, integer=True), sp.Symbol("sigma", positive=True)
    >>> large_n_limit(s**2 + 3 * s**4 / N, N)
    sigma**2
    >>> large_n_limit(N * s**2, N) is None
    True
    """
    if N is None or not isinstance(N, sp.Symbol):
        return None
    expr = sp.sympify(expr)
    if N not in expr.free_symbols:
        return expr
    out = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(expr, deep=False, power_exp=False)):
        c, r = term.as_independent(N, as_Add=False)
        if r.has(Expectation) or (N in r.free_symbols and any(N in a.free_symbols for a in r.atoms(Expectation))):
            return None
        lim = sp.limit(r, N, sp.oo)
        if lim.has(sp.oo, -sp.oo, sp.zoo, sp.nan, sp.AccumBounds) or isinstance(lim, sp.Limit):
            return None
        out += c * lim
    return out


def as_number(expr, values: Mapping) -> float | None:
    r"""A closed-form coefficient as a float, its symbols replaced by ``values`` (by name);
    None if it is not a real number then (a symbol without value, a complex number).

    >>> m = sp.Symbol("m", positive=True)
    >>> as_number(-m**2 / 2, {"m": 2.0}), as_number(m + sp.Symbol("k"), {"m": 2.0})
    (-2.0, None)
    """
    e = sp.sympify(expr)
    sub = {s: values[s.name] for s in e.free_symbols if s.name in values}
    try:
        return float(e.subs(sub))
    except (TypeError, ValueError):
        return None

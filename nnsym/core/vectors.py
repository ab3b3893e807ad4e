r"""Points and vectors of :math:`\mathbb{R}^d` as sympy atoms, for any (also symbolic) ``d``.

nnsym never expands a point into components unless it has to. A point
:math:`x_k\in\mathbb{R}^d` is a :class:`VectorSymbol`; scalar products are
:class:`Dot` (bilinear, symmetric) and print as physicists write them:

.. math:: \mathrm{Dot}(u, u) = |u|^2, \qquad \mathrm{Dot}(u, v) = u\cdot v .

Vectors may be combined linearly with scalar coefficients (``x_1 - x_2`` is a
vector); a scalar expression only ever contains vectors inside ``Dot`` or
``Component``.

>>> from nnsym.core.vectors import VectorSymbol, Dot
>>> x1, x2 = VectorSymbol("x_1", 3), VectorSymbol("x_2", 3)
>>> Dot(x2 - x1, x2 - x1) == Dot(x1 - x2, x1 - x2)     # sign is canonical
True
>>> expand_dot(Dot(x1 - x2, x1 - x2))
Dot(x_1, x_1) - 2*Dot(x_1, x_2) + Dot(x_2, x_2)
"""
from __future__ import annotations

from typing import Iterable

import sympy as sp

__all__ = [
    "ScalarPoint",
    "VectorSymbol",
    "Dot",
    "ScalarProduct",
    "Component",
    "dot",
    "expand_dot",
    "vector_atoms",
    "linear_coefficients",
    "nice_quadratic",
    "real_imag_vector",
]


class ScalarPoint(sp.Symbol):
    """A point of the real line (inputs in d = 1 are scalars)."""

    def __new__(cls, name: str):
        return sp.Symbol.__new__(cls, name, real=True)

    def __getnewargs_ex__(self):
        return ((self.name,), {})

    @property
    def dim(self):
        return sp.S.One

    def dot(self, other) -> sp.Expr:
        return self * other

    def __getitem__(self, j):
        if j != 0:
            raise IndexError(f"a point in d = 1 has only component 0, not {j}")
        return self

    _iterable = False


class VectorSymbol(sp.Symbol):
    r"""A vector of :math:`\mathbb{R}^d` (``dim`` an int or a sympy Symbol)."""

    is_commutative = True
    _iterable = False  # x[j] is a component, but sympy must not iterate over a vector

    def __new__(cls, name: str, dim, **assumptions):
        # uncached: two vectors of one name but different dimension must differ
        obj = sp.Symbol.__xnew__(cls, name, **assumptions)
        obj._dim = sp.sympify(dim)
        return obj

    def _hashable_content(self):
        return super()._hashable_content() + (self._dim,)

    def __getnewargs_ex__(self):
        return ((self.name, self._dim), {})

    @property
    def dim(self):
        return self._dim

    def dot(self, other) -> sp.Expr:
        return dot(self, other)

    def __getitem__(self, j):
        return Component(self, j)


def vector_atoms(expr) -> set:
    """All :class:`VectorSymbol` atoms of ``expr``."""
    return {s for s in sp.sympify(expr).free_symbols if isinstance(s, VectorSymbol)}


def linear_coefficients(v) -> dict:
    """Write a vector expression as ``{VectorSymbol: scalar coefficient}``.

    Raises ``TypeError`` when ``v`` is not linear in its vector atoms.
    """
    v = sp.expand(sp.sympify(v))
    out: dict = {}
    for term in sp.Add.make_args(v):
        if term == 0:
            continue
        vecs = [f for f in sp.Mul.make_args(term) if vector_atoms(f)]
        if len(vecs) != 1 or not isinstance(vecs[0], VectorSymbol):
            raise TypeError(f"{v} is not a linear combination of vectors (term {term})")
        e = vecs[0]
        out[e] = out.get(e, 0) + sp.Mul(*[f for f in sp.Mul.make_args(term) if f is not e])
    return {k: c for k, c in out.items() if c != 0}


def real_imag_vector(v) -> tuple:
    r"""Split a vector expression :math:`v = v_r + i\,v_i` with real vectors :math:`v_r, v_i`.

    The vector atoms are real (points of :math:`\mathbb R^d`); the coefficients may
    contain ``I`` polynomially (``cos`` written as exponentials gives ``i x``).

    >>> x, y = VectorSymbol("x", 2), VectorSymbol("y", 2)
    >>> real_imag_vector(sp.I*x + y)
    (y, x)
    """
    re_part, im_part = sp.S.Zero, sp.S.Zero
    for e, c in linear_coefficients(v).items():
        c = sp.expand(c)
        cr = c.subs(sp.I, 0)
        ci = sp.expand((c - cr) / sp.I)
        if ci.has(sp.I) or cr.has(sp.I):
            raise TypeError(f"cannot split the coefficient {c} of {e} into real and imaginary parts")
        re_part += cr * e
        im_part += ci * e
    return re_part, im_part


def _split_scalar(u):
    """``u = c * w`` with ``c`` free of vectors and ``w`` a primitive vector expression."""
    u = sp.sympify(u)
    if isinstance(u, sp.Add):
        u = sp.factor_terms(u)
    if isinstance(u, sp.Mul):
        c, w = u.as_independent(*vector_atoms(u), as_Add=False)
        return c, w
    return sp.S.One, u


class ScalarProduct(sp.Function):
    r"""Euclidean scalar product :math:`u\cdot v` of two vector expressions.

    Canonical on construction (scalar factors pulled out, a minus sign taken
    out, arguments sorted) but never expanded, so :math:`|x_1-x_2|^2` stays
    compact; :func:`expand_dot` expands it bilinearly.
    """

    nargs = 2
    is_real = True

    @classmethod
    def eval(cls, u, v):
        if u == 0 or v == 0:
            return sp.S.Zero
        if not vector_atoms(u) or not vector_atoms(v):
            return None  # e.g. a common subexpression standing for a vector (lambdify's cse)
        if u.has(sp.I) or v.has(sp.I):
            # the bilinear (not sesquilinear) product of complex combinations of real vectors:
            # (u_r + i u_i).(v_r + i v_i) = u_r.v_r - u_i.v_i + i (u_r.v_i + u_i.v_r)
            (ur, ui), (vr, vi) = real_imag_vector(u), real_imag_vector(v)
            return cls(ur, vr) - cls(ui, vi) + sp.I * (cls(ur, vi) + cls(ui, vr))
        cu, wu = _split_scalar(u)
        cv, wv = _split_scalar(v)
        sign = 1
        if wu.could_extract_minus_sign():
            wu, sign = -wu, -sign
        if wv.could_extract_minus_sign():
            wv, sign = -wv, -sign
        c = cu * cv * sign
        if sp.default_sort_key(wv) < sp.default_sort_key(wu):
            wu, wv = wv, wu
        if c != 1 or (wu, wv) != (u, v):
            return c * cls(wu, wv, evaluate=False)
        return None

    def _eval_is_real(self):
        return True

    def as_real_imag(self, deep=True, **hints):
        return (self, sp.S.Zero)

    def _sympystr(self, printer):
        return "Dot(%s, %s)" % (printer._print(self.args[0]), printer._print(self.args[1]))

    def _latex(self, printer, exp=None):
        u, v = self.args
        if u == v:  # |u|^2, and (|u|^2)^k = |u|^{2k} for an integer power of it (exp: printed LaTeX)
            norm = printer._print(u)
            if exp is None:
                return r"\left|%s\right|^{2}" % norm
            if str(exp).lstrip("-").isdigit():
                return r"\left|%s\right|^{%d}" % (norm, 2 * int(exp))
            return r"\left(\left|%s\right|^{2}\right)^{%s}" % (norm, exp)
        pu = printer.parenthesize(u, sp.printing.precedence.PRECEDENCE["Mul"])
        pv = printer.parenthesize(v, sp.printing.precedence.PRECEDENCE["Mul"])
        body = r"%s \cdot %s" % (pu, pv)
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)

    def _pretty(self, printer):
        u, v = self.args
        if u == v:
            inner = printer._print(u)
            from sympy.printing.pretty.stringpict import prettyForm

            bars = prettyForm(*inner.parens("|", "|"))
            return bars ** prettyForm("2")
        return printer._print_Function(self)


Dot = ScalarProduct  # the short name used throughout nnsym


def dot(u, v) -> sp.Expr:
    r"""The scalar product :math:`u\cdot v` of two vector expressions, e.g. ``dot(x - mu, w)``
    for ``x = Input("x", 2)`` and a vector ``mu`` (``x - mu`` is a sympy ``Add``, which has no
    ``.dot``). Two scalars (d = 1) give ``u*v``. A vector with a scalar, vectors of different
    dimensions or a non-linear vector expression are refused.

    >>> x, mu = VectorSymbol("x", 2), VectorSymbol("mu", 2)
    >>> dot(x - mu, x - mu)
    Dot(mu - x, mu - x)
    """
    u, v = sp.sympify(u), sp.sympify(v)
    vu, vv = vector_atoms(u), vector_atoms(v)
    if not vu and not vv:
        return u * v
    if not vu or not vv:
        vec, sca = (u, v) if vu else (v, u)
        raise TypeError(f"dot: {vec} is a vector but {sca} is a scalar (in d > 1 both must be vectors, "
                        "e.g. nnsym.Input or a parameter with shape=d)")
    for w in (u, v):
        try:
            linear_coefficients(w)
        except TypeError as exc:
            raise TypeError(f"dot: {w} is not a vector (a linear combination of vectors with scalar "
                            f"coefficients; a vector minus a scalar is not one): {exc}") from None
    dims = {}
    for a in sorted(vu | vv, key=sp.default_sort_key):
        dims.setdefault(a.dim, []).append(a.name)
    if len(dims) > 1:
        desc = "; ".join(f"{', '.join(names)} in dimension {d}" for d, names in dims.items())
        raise ValueError(f"dot: the vectors have different dimensions ({desc})")
    return Dot(u, v)


class Component(sp.Function):
    r"""The ``j``-th Cartesian component :math:`u^{(j)}` of a vector (integer ``d`` only)."""

    nargs = 2
    is_real = True

    @classmethod
    def eval(cls, u, j):
        j = sp.sympify(j)
        if not j.is_integer or j.is_negative:
            raise TypeError(f"component index must be a non-negative integer, got {j}")
        u = sp.sympify(u)
        if isinstance(u, VectorSymbol):
            if u.dim.is_Integer and j >= u.dim:
                raise IndexError(f"component {j} of {u} in d = {u.dim}")
            return None
        if not vector_atoms(u):
            return None
        coeffs = linear_coefficients(u)
        return sp.Add(*[c * cls(e, j) for e, c in coeffs.items()])

    def _eval_is_real(self):
        return True

    def _latex(self, printer):
        u, j = self.args
        return r"%s^{(%s)}" % (printer._print(u), printer._print(j))


def expand_dot(expr):
    """Expand every :class:`Dot` bilinearly into scalar products of vector atoms."""
    expr = sp.sympify(expr)

    def _exp(d):
        u, v = d.args
        cu, cv = linear_coefficients(u), linear_coefficients(v)
        return sp.Add(*[a * b * Dot(e, f) for e, a in cu.items() for f, b in cv.items()])

    return expr.replace(lambda e: isinstance(e, Dot), _exp)


def _lcm_den(values: Iterable[sp.Rational]) -> int:
    return int(sp.ilcm(*[sp.Rational(v).q for v in values] + [1]))


def _sq(v):
    return Dot(v, v) if vector_atoms(v) else v**2


def _bil(u, v):
    return Dot(u, v) if vector_atoms(u) else u * v


def _quadratic_entries(e):
    """Split an expanded scalar into ``{(e_i, e_j): coefficient}`` of the point
    quadratic monomials (Dot of two vectors, or a product of two scalar points)
    and the rest; None if some term is of another shape."""
    rest = sp.S.Zero
    coeff: dict = {}
    for term in sp.Add.make_args(e):
        ds = [f for f in sp.Mul.make_args(term) if f.has(ScalarProduct)]
        if ds:
            if len(ds) != 1 or not isinstance(ds[0], ScalarProduct):
                return None
            key = tuple(sorted(ds[0].args, key=sp.default_sort_key))
            c = term / ds[0]
        else:
            pts = {s for s in term.free_symbols if isinstance(s, ScalarPoint)}
            if not pts:
                rest += term
                continue
            c, mono = term.as_independent(*pts, as_Add=False)
            pw = mono.as_powers_dict()
            if sum(pw.values()) != 2 or any(not isinstance(b, ScalarPoint) for b in pw):
                rest += term
                continue
            key = tuple(sorted([b for b, k in pw.items() for _ in range(int(k))], key=sp.default_sort_key))
        coeff[key] = coeff.get(key, 0) + c
    return coeff, rest


def nice_quadratic(expr):
    r"""Rewrite a scalar that is a quadratic form in points the way a paper does.

    The form :math:`\sum_{ij} Q_{ij}\, e_i\cdot e_j` (plus a point-free rest;
    the :math:`e_i` are vectors, or scalar points in d = 1) is written, in this
    order of preference, as

    * :math:`\kappa\,|\sum_j s_j e_j|^2` when :math:`Q = \kappa\, s s^T` (rank one);
    * :math:`-\kappa\sum_{i<j} R_{ij}|e_i-e_j|^2` when :math:`Q=\kappa R` has
      vanishing row sums (the form is translation invariant);
    * :math:`\kappa(\sum_i R_{ii}|e_i|^2 + 2\sum_{i<j}R_{ij}\,e_i\cdot e_j)` otherwise.

    Returns ``expr`` unchanged if it is not of that shape. This is exact
    algebra (no ``simplify``), so it is cheap.

    >>> x1, x2 = VectorSymbol("x_1", 2), VectorSymbol("x_2", 2)
    >>> s = sp.Symbol("s", positive=True)
    >>> nice_quadratic(s*Dot(x1 + x2, x1 + x2)/2 - s*Dot(x1, x1) - s*Dot(x2, x2))
    -s*Dot(x_1 - x_2, x_1 - x_2)/2
    >>> y1, y2 = ScalarPoint("y_1"), ScalarPoint("y_2")
    >>> nice_quadratic(-(y2 - y1)**2/2)
    -(y_1 - y_2)**2/2
    """
    expr = sp.sympify(expr)
    if not expr.has(ScalarProduct) and not any(isinstance(s, ScalarPoint) for s in expr.free_symbols):
        return expr
    e = sp.expand(expand_dot(expr))
    split = _quadratic_entries(e)
    if split is None:
        return expr
    coeff, rest = split
    if not coeff:
        return expr
    basis = sorted({a for k in coeff for a in k}, key=sp.default_sort_key)
    idx = {b: i for i, b in enumerate(basis)}
    n = len(basis)
    Q = [[sp.S.Zero] * n for _ in range(n)]
    for (u, v), c in coeff.items():
        i, j = idx[u], idx[v]
        if i == j:
            Q[i][i] += c
        else:
            Q[i][j] += c / 2
            Q[j][i] += c / 2
    pivot = next((Q[i][j] for i in range(n) for j in range(n) if Q[i][j] != 0), None)
    if pivot is None:
        return rest
    kappa = sp.factor_terms(pivot)
    R = [[sp.cancel(Q[i][j] / kappa) for j in range(n)] for i in range(n)]
    if not all(r.is_Rational for row in R for r in row):
        return expr
    i0 = next((i for i in range(n) if R[i][i] != 0), None)
    if i0 is not None:  # rank one?
        s = [R[i0][j] / R[i0][i0] for j in range(n)]
        lam = R[i0][i0]
        if all(R[i][j] == lam * s[i] * s[j] for i in range(n) for j in range(n)):
            L = _lcm_den(s)
            v = sp.Add(*[L * s[j] * basis[j] for j in range(n)])
            if v.could_extract_minus_sign():
                v = -v
            return rest + kappa * lam / L**2 * _sq(v)
    if all(sum(R[i]) == 0 for i in range(n)):
        form = sp.Add(*[-R[i][j] * _sq(basis[i] - basis[j]) for i in range(n) for j in range(i + 1, n)])
        return rest + kappa * form
    form = sp.Add(*[R[i][i] * _sq(basis[i]) for i in range(n)]) + sp.Add(
        *[2 * R[i][j] * _bil(basis[i], basis[j]) for i in range(n) for j in range(i + 1, n)]
    )
    return rest + kappa * form

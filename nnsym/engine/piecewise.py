r"""Piecewise-polynomial functions of one variable: where they kink, and their sign-polynomial form.

Activations such as ReLU, Abs, leaky ReLU ``Max(a z, z)``, ``Min(0, z)``, Heaviside and sign are
smooth except at a few points (:func:`kink_points`; quadrature is split there), and those with
their only kink at 0 are *sign polynomials* (:func:`sign_polynomial`),

.. math:: f(z) = \sum_k (c_k + d_k\,\mathrm{sgn}\,z)\,z^k \qquad (z\ne 0),

whose Gaussian expectations follow from truncated moments and Gaussian integration by parts
(:mod:`nnsym.engine.gaussian`, and numerically :mod:`nnsym.numeric.quadrature`).
"""
from __future__ import annotations

import math

import sympy as sp

from ..errors import SYMBOLIC_FAILURES

__all__ = ["kink_points", "sign_polynomial", "NONSMOOTH_UNKNOWN"]

#: non-smooth functions whose kinks are not located (quadrature cannot be split for them)
NONSMOOTH_UNKNOWN = (sp.floor, sp.ceiling, sp.frac, sp.Mod, sp.re, sp.im, sp.arg)


def _real_zeros(e, z):
    """The real zeros of ``e`` in ``z`` as a set, or None if sympy cannot list them."""
    e = sp.sympify(e)
    if not e.has(z):
        return set()
    try:
        P = sp.Poly(e, z)
    except sp.PolynomialError:
        P = None
    if P is not None and not any(c.has(z) for c in P.all_coeffs()):
        if P.degree() <= 0:
            return set()
        if P.degree() == 1:
            a, b = P.all_coeffs()
            return {sp.simplify(-b / a)}
        if not P.free_symbols - {z}:
            return set(P.real_roots())
    try:
        sol = sp.solveset(e, z, sp.S.Reals)
    except SYMBOLIC_FAILURES:  # solveset gave up: the kinks are not located
        return None
    if isinstance(sol, sp.FiniteSet):
        return set(sol.args)
    if sol is sp.S.EmptySet:
        return set()
    return None


def kink_points(expr, z) -> list | None:
    r"""Where a function of one real variable ``z`` may fail to be smooth: the zeros of the arguments
    of Abs, sign, Heaviside and DiracDelta, the points where two arguments of a Max or Min meet,
    and the boundaries of Piecewise conditions. Returns a sorted list of sympy numbers (or
    expressions in other symbols), or None when a non-smooth part cannot be located (floor, Mod,
    a condition or argument whose zeros sympy cannot list). Used to split quadrature there.

    >>> z = sp.Symbol("z", real=True)
    >>> kink_points(sp.Max(z / 10, z) + sp.Heaviside(z - 1) + sp.Abs(z + 2), z)
    [-2, 0, 1]
    """
    expr = sp.sympify(expr)
    if not expr.has(z):
        return []
    if any(expr.has(f) for f in NONSMOOTH_UNKNOWN):
        return None
    eqs = [a.args[0] for a in expr.atoms(sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta)]
    for a in expr.atoms(sp.Max, sp.Min):
        eqs += [u - v for i, u in enumerate(a.args) for v in a.args[i + 1:]]
    for a in expr.atoms(sp.Piecewise):
        for _, cond in a.args:
            if cond in (sp.true, sp.false):
                continue
            rels = cond.atoms(sp.core.relational.Relational)
            if not rels and cond.has(z):
                return None
            eqs += [r.lhs - r.rhs for r in rels]
    pts = set()
    for e in eqs:
        zs = _real_zeros(e, z)
        if zs is None:
            return None
        pts |= zs
    return sorted(pts, key=lambda v: ((float(v), sp.default_sort_key(v)) if v.is_number
                                      else (math.inf, sp.default_sort_key(v))))


def sign_polynomial(f, z) -> dict | None:
    r"""Write ``f`` (a function of ``z``) as :math:`\sum_k (c_k + d_k\,\mathrm{sgn}\,z)\,z^k` for
    :math:`z\ne 0` (piecewise polynomial with its only kink at 0: ReLU, Abs, leaky ReLU ``Max(a z, z)``,
    ``Min``, Heaviside, sign, a Piecewise of such, ...). Returns ``{(k, s): coefficient}`` (s = 0, 1)
    or None.

    >>> z = sp.Symbol("z", real=True)
    >>> sign_polynomial(sp.Max(0, z), z)  # ReLU = z/2 + |z|/2
    {(1, 0): 1/2, (1, 1): 1/2}
    """
    f = sp.sympify(f)
    if f.has(sp.DiracDelta) or any(f.has(g) for g in NONSMOOTH_UNKNOWN):
        return None
    if not f.has(z):
        return {(0, 0): f} if f != 0 else {}
    p = sp.Dummy("p", positive=True)
    sides = []
    for sgn in (1, -1):
        e = sp.expand(f.xreplace({z: sgn * p}))
        if e.has(sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside) or not e.is_polynomial(p):
            return None
        P = sp.Poly(e, p)
        if any(c.has(p) for c in P.all_coeffs()):
            return None
        sides.append({m[0]: c for m, c in zip(P.monoms(), P.coeffs())})
    plus, minus = sides  # f(p) = sum a_k p^k, f(-p) = sum b_k p^k
    out = {}
    for k in set(plus) | set(minus):
        a, b = plus.get(k, 0), (-1) ** k * minus.get(k, 0)
        for s, c in ((0, (a + b) / 2), (1, (a - b) / 2)):
            c = sp.simplify(c)
            if c != 0:
                out[(k, s)] = c
    return out

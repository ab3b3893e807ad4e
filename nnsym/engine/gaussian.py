r"""Gaussian pre-activations: :math:`E[\prod_k f(z(x_k))]` with :math:`z` affine in Gaussian parameters.

When the factors of a group of Gaussian parameters are functions of affine
forms :math:`z_j = L_j(\theta)`, the expectation is an integral over the
Gaussian vector :math:`z\sim\mathcal N(\mu, C)`, with

.. math:: \mu_j = E[L_j], \qquad C_{jk} = \sum_\theta \mathrm{Var}(\theta)\, s_{j\theta}s_{k\theta}
          + \sum_b \mathrm{Var}(b)\, v_{jb}\cdot v_{kb}

read off the parameters (for :math:`z = W\cdot x + b`:
:math:`C(x, y) = \sigma_b^2 + \sigma_W^2\, x\cdot y/d`). Closed forms used
(zero mean unless stated; :math:`\cos t = C_{12}/\sqrt{C_{11}C_{22}}`):

* erf: :math:`E[\mathrm{erf}\,z_1\,\mathrm{erf}\,z_2] = \tfrac{2}{\pi}\arcsin\frac{2C_{12}}{\sqrt{(1+2C_{11})(1+2C_{22})}}`,
  :math:`E[\mathrm{erf}\,z] = \mathrm{erf}(\mu/\sqrt{1+2C})` (any mean);
* rectified monomials :math:`\max(0,z)^n` (ReLU :math:`n=1`, Heaviside :math:`n=0`), the arc-cosine kernel
  :math:`E[\max(0,z_1)^n\max(0,z_2)^n] = \tfrac{1}{2\pi}(C_{11}C_{22})^{n/2}J_n(t)`,
  :math:`J_n(t) = (-1)^n(\sin t)^{2n+1}\big(\tfrac{1}{\sin t}\partial_t\big)^n\tfrac{\pi-t}{\sin t}` (Cho & Saul);
* sign: :math:`E[\mathrm{sgn}\,z_1\,\mathrm{sgn}\,z_2] = \tfrac{2}{\pi}\arcsin(\cos t)`;
* products of :math:`e^{-\alpha_j z_j^2}` (any n, any mean): the Gaussian integral
  :math:`\det(1+2AC)^{-1/2}\exp(-\mu^T(1+2AC)^{-1}A\mu)`;
* any n when all :math:`z_j = l_j\theta` share one zero-mean scalar :math:`\theta` and each factor is positively
  homogeneous (:math:`f(\lambda z) = \lambda^p f(z)`, :math:`\lambda>0`), e.g. ReLU without bias in d = 1:
  :math:`E = \tfrac12 E|\theta|^P\,[\prod_j f_j(l_j) + \prod_j f_j(-l_j)]`;
* exponential tilts (h real): :math:`E[e^{h\cdot z}F(z)] = e^{h\cdot\mu + h^TCh/2}\,E[F(z + Ch)]`, so
  :math:`e^{W x}` next to a kink never meets the Gaussian tail numerically;
* sign polynomials: every factor piecewise polynomial with its only kink at 0 (Abs, leaky ReLU
  ``Max(a z, z)``, ``Min(0, z)``, Heaviside, sign, a Piecewise of such) is
  :math:`\sum_k (c_k + d_k\,\mathrm{sgn}\,z) z^k`; one variable (any mean) by truncated moments, two
  (zero mean) by Gaussian integration by parts, e.g.
  :math:`E|z_1||z_2| = \tfrac{2}{\pi}\sqrt{C_{11}C_{22}}(\sin t + (\tfrac\pi2 - t)\cos t)`.

Polynomials (and Hermite polynomials) of :math:`z` never reach this module:
the engine expands them and applies Isserlis/Wick through the Gaussian moments.
Everything else becomes a :class:`GaussianExpectation` (marked numeric), evaluated with a stated
error (the ``.error`` of the :class:`~nnsym.numeric.kernels.NumericWarning`) that bounds the true one:

* products of erf, sign and Heaviside at zero mean (e.g. the 4-point moment of erf neurons):
  orthant moments (:func:`sign_moment`, accurate to ~1e-12);
* positively homogeneous integrands at zero mean in rank 2 or 3: angular rules split at the kinks;
* sign polynomials at zero mean (e.g. ReLU/Abs/leaky 4-point functions in rank 4): integration by
  parts down to orthant moments;
* rank 1: adaptive quadrature split at the kinks; rank 2 with kinks anywhere (any mean, any
  piecewise-smooth activation: :func:`kink_points`): Gauss-Legendre panels split at the kink lines
  (:func:`gauss2_kinked`);
* otherwise Gauss-Hermite after an eigen-decomposition of :math:`C` (kinked integrands of rank >= 3
  with a mean: a conservative error, ~1e-3).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from ..core.laws import NormalLaw, RandomSymbol, random_atoms
from ..engine.expectation import Expectation
from ..core.vectors import Dot, ScalarPoint, VectorSymbol

__all__ = ["GaussianExpectation", "preactivation_expectation", "arccos_J", "rewrite_rectifiers",
           "pair_expectation", "sign_moment", "kink_points", "gauss1_kinked", "gauss2_kinked"]


class GaussianExpectation(Expectation):
    r""":math:`E_{z\sim\mathcal N(\mu, C)}[g(z)]`, no closed form: ``GaussianExpectation(g, zs, mu, C)``
    with ``zs``, ``mu`` tuples and ``C`` a row-major tuple; evaluated by Gauss-Hermite quadrature."""

    @classmethod
    def eval(cls, *args):
        return None

    @property
    def integrand(self):
        return self.args[0]

    @property
    def variables(self):
        return tuple(self.args[1])

    @property
    def mean(self):
        return tuple(self.args[2])

    @property
    def covariance(self):
        m = len(self.args[1])
        c = self.args[3]
        return [[c[i * m + j] for j in range(m)] for i in range(m)]

    @property
    def params(self):  # for messages
        return self.variables

    def _latex(self, printer, exp=None):
        zs = ",".join(printer._print(z) for z in self.variables)
        tex = r"\mathbb{E}_{(%s)\sim\mathcal{N}(\mu, C)}\left[%s\right]" % (zs, printer._print(self.integrand))
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


class Correlation(sp.Function):
    r"""The correlation coefficient :math:`k_{12}/\sqrt{k_{11}k_{22}}` of a Gaussian pair.

    One object, so :math:`\arccos\rho` and :math:`\sqrt{1-\rho^2}` use the same number; equal to 1
    on the diagonal (symbolically), and clipped to [-1, 1] when evaluated (Cauchy-Schwarz: only
    rounding can leave that interval). This keeps deep arc-cosine compositions finite at x = x'.
    """

    nargs = 3
    is_real = True
    precedence = PRECEDENCE["Add"]  # printed as a quotient: parenthesised inside products and powers

    @classmethod
    def eval(cls, k12, k11, k22):
        if k12 == k11 and k11 == k22:
            return sp.S.One
        return None

    def _latex(self, printer, exp=None):  # the LaTeX printer passes exp= for a power of a function
        k12, k11, k22 = self.args
        tex = r"\frac{%s}{\sqrt{%s}}" % (printer._print(k12), printer._print(k11 * k22))
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)

    def _sympystr(self, printer):
        k12, k11, k22 = self.args
        return "(%s)/sqrt(%s)" % (printer._print(k12), printer._print(k11 * k22))


def rewrite_rectifiers(expr):
    r"""Write :math:`z^n\,\Theta(z)` (n >= 1) as :math:`\max(0, z)^n` before expansion, so ReLU written
    ``z*Heaviside(z)`` and ``Max(0, z)`` are the same function to the engine."""

    def is_rect(e):
        if not e.is_Mul:
            return False
        hs = [f for f in e.args if isinstance(f, sp.Heaviside)]
        return any(any(b == h.args[0] and k.is_Integer and k > 0 for b, k in (f.as_base_exp() for f in e.args)) for h in hs)

    def rect(e):
        args = list(e.args)
        changed = True
        while changed:
            changed = False
            for h in [f for f in args if isinstance(f, sp.Heaviside)]:
                z = h.args[0]
                f = next((f for f in args if f.as_base_exp()[0] == z and f.as_base_exp()[1].is_Integer
                          and f.as_base_exp()[1] > 0), None)
                if f is not None:
                    args.remove(f)
                    args.remove(h)
                    args.append(sp.Max(0, z) ** f.as_base_exp()[1])
                    changed = True
                    break
        return sp.Mul(*args)

    return sp.sympify(expr).replace(is_rect, rect)


@lru_cache(maxsize=None)
def arccos_J(n: int):
    r"""Cho & Saul's :math:`J_n(t)`; returns (t, expr)."""
    t = sp.Symbol("t", real=True)
    f = (sp.pi - t) / sp.sin(t)
    for _ in range(n):
        f = sp.diff(f, t) / sp.sin(t)
    return t, sp.simplify((-1) ** n * sp.sin(t) ** (2 * n + 1) * f)


class _NotPreactivation(Exception):
    pass


def _classify_1d(phi, z):
    """Kind of a one-variable factor: ('rect', n), ('sign',), ('erf',), ('poly', k), ('gauss', a, h) or ('other',)."""
    if phi == 1:
        return ("one",)
    factors = sp.Mul.make_args(phi)
    rect_n, hv, poly = None, False, 0
    other = []
    for f in factors:
        b, k = f.as_base_exp()
        if isinstance(b, sp.Max) and set(b.args) == {sp.S.Zero, z} and k.is_Integer and k > 0:
            rect_n = (rect_n or 0) + int(k)
        elif isinstance(b, sp.Heaviside) and b.args[0] == z:
            hv = True
        elif b == z and k.is_Integer and k > 0:
            poly += int(k)
        else:
            other.append(f)
    if not other:
        if rect_n is not None or hv:
            if poly and rect_n is None:
                return ("rect", poly)  # z^k Theta(z)
            if poly:
                return ("other",)
            return ("rect", rect_n or 0)
        if poly:
            return ("poly", poly)
    if len(other) == 1 and not (rect_n or hv or poly):
        f = other[0]
        if isinstance(f, sp.erf) and f.args[0] == z:
            return ("erf",)
        if isinstance(f, sp.sign) and f.args[0] == z:
            return ("sign",)
    # exp of a quadratic (no other factors)
    if not (rect_n or hv or poly) and all(isinstance(f, sp.exp) for f in other):
        arg = sp.expand(sp.Add(*[f.args[0] for f in other]))
        p = sp.Poly(arg, z) if arg.has(z) else None
        if p is not None and p.degree() <= 2 and not any(c.has(z) for c in p.all_coeffs()):
            cs = dict(zip([m[0] for m in p.monoms()], p.coeffs()))
            return ("gauss", -cs.get(2, 0), cs.get(1, 0), cs.get(0, 0))
    return ("other",)


def _homogeneous_degree(kind):
    if kind[0] == "rect":
        return kind[1]
    if kind[0] == "sign":
        return 0
    if kind[0] == "poly":
        return kind[1]
    return None


def _abs_moment(var, P: int):
    r""":math:`E|\theta|^P` for :math:`\theta\sim\mathcal N(0,\mathrm{var})`."""
    return var ** sp.Rational(P, 2) * 2 ** sp.Rational(P, 2) * sp.gamma(sp.Rational(P + 1, 2)) / sp.sqrt(sp.pi)


def _factor_per_variable(g, zs):
    """``g = coeff * prod_z per[z](z)`` with each factor a function of one variable; None if not."""
    coeff, rest = g.as_independent(*zs, as_Add=False)
    if rest.is_Add:
        return None
    per = {z: sp.S.One for z in zs}
    for f in sp.Mul.make_args(rest):
        fz = [z for z in zs if f.has(z)]
        if len(fz) != 1:
            return None
        per[fz[0]] *= f
    return coeff, per


def _closed_form_table(g, zs, mu, C, forms):
    m = len(zs)
    split = _factor_per_variable(g, zs)
    if split is None:
        return None
    coeff, per = split
    kinds = [_classify_1d(per[z], z) for z in zs]
    zero_mean = all(sp.simplify(u) == 0 for u in mu)

    # products of Gaussians exp(-a z^2 + h z + c), any mean
    if all(k[0] == "gauss" for k in kinds):
        A = sp.diag(*[k[1] for k in kinds])
        h = sp.Matrix([k[2] for k in kinds])
        c0 = sum(k[3] for k in kinds)
        Cm, mv = sp.Matrix(C), sp.Matrix(mu)
        M = sp.eye(m) + 2 * A * Cm
        Minv = M.inv()
        # E[exp(-z^T A z + h^T z)] = det(M)^{-1/2} exp(1/2 (h-2A mu)^T C M^{-1} (h-2A mu) + h^T mu - mu^T A mu)
        r = h - 2 * A * mv
        expo = (r.T * Cm * Minv * r)[0] / 2 + (h.T * mv)[0] - (mv.T * A * mv)[0] + c0
        return coeff * sp.exp(sp.simplify(expo)) / sp.sqrt(sp.factor(M.det()))

    # rank one through one zero-mean scalar, positively homogeneous factors, any n
    degs = [_homogeneous_degree(k) for k in kinds]
    if forms is not None and all(d is not None for d in degs):
        thetas = set()
        ls = []
        for a in forms:
            if a.vec or a.const != 0 or len(a.scal) != 1:
                thetas = None
                break
            (th, l), = a.scal.items()
            thetas.add(th)
            ls.append(l)
        if thetas is not None and len(thetas) == 1:
            th = thetas.pop()
            if th.law.params[0] == 0:
                P = sum(degs)
                plus = sp.Mul(*[per[z].subs(z, l) for z, l in zip(zs, ls)])
                minus = sp.Mul(*[per[z].subs(z, -l) for z, l in zip(zs, ls)])
                return coeff * _abs_moment(th.law.params[1], P) / 2 * (plus + minus)

    if m == 1:
        (k,), C11, u = kinds, C[0][0], mu[0]
        s = sp.sqrt(C11)
        if k[0] == "erf":
            return coeff * sp.erf(u / sp.sqrt(1 + 2 * C11))
        if k[0] == "sign":
            return coeff * sp.erf(u / sp.sqrt(2 * C11))
        if k[0] == "rect":
            n = k[1]
            if zero_mean:
                return coeff * _abs_moment(C11, n) / 2
            t = _ratio_over_sd(u, C11)
            if n == 0:
                return coeff * (1 + sp.erf(t / sp.sqrt(2))) / 2
            if n == 1:
                Phi = (1 + sp.erf(t / sp.sqrt(2))) / 2
                phi = sp.exp(-(t**2) / 2) / sp.sqrt(2 * sp.pi)
                return coeff * (u * Phi + s * phi)
        return None
    if m == 2 and zero_mean:
        C11, C22, C12 = C[0][0], C[1][1], C[0][1]
        k1, k2 = kinds
        if k1[0] == k2[0] == "erf":
            return coeff * 2 / sp.pi * sp.asin(Correlation(2 * C12, 1 + 2 * C11, 1 + 2 * C22))
        if k1[0] == k2[0] == "sign":
            return coeff * 2 / sp.pi * sp.asin(Correlation(C12, C11, C22))
        if k1[0] == k2[0] == "rect" and k1[1] == k2[1]:
            n = k1[1]
            t, J = arccos_J(n)
            ang = sp.acos(Correlation(C12, C11, C22))
            return coeff * (C11 * C22) ** sp.Rational(n, 2) * J.subs(t, ang) / (2 * sp.pi)
    return None


# ----------------------------------------------------------------------------- kinks, sign polynomials, tilts
_NONSMOOTH_UNKNOWN = (sp.floor, sp.ceiling, sp.frac, sp.Mod, sp.re, sp.im, sp.arg)


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
    except Exception:  # noqa: BLE001 -- sympy raises many kinds here
        return None
    if isinstance(sol, sp.FiniteSet):
        return set(sol.args)
    if sol is sp.S.EmptySet:
        return set()
    return None


def kink_points(expr, z):
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
    if any(expr.has(f) for f in _NONSMOOTH_UNKNOWN):
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
    return sorted(pts, key=lambda v: (float(v), sp.default_sort_key(v)) if v.is_number else (math.inf, sp.default_sort_key(v)))


def _sign_polynomial(f, z):
    r"""Write ``f`` (a function of ``z``) as :math:`\sum_k (c_k + d_k\,\mathrm{sgn}\,z)\,z^k` for
    :math:`z\ne 0` (piecewise polynomial with its only kink at 0: ReLU, Abs, leaky ReLU ``Max(a z, z)``,
    ``Min``, Heaviside, sign, a Piecewise of such, ...). Returns ``{(k, s): coefficient}`` (s = 0, 1)
    or None."""
    f = sp.sympify(f)
    if f.has(sp.DiracDelta) or any(f.has(g) for g in _NONSMOOTH_UNKNOWN):
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


def _m1_zero(k: int, s: int, var):
    r""":math:`E[z^k\,\mathrm{sgn}(z)^s]` for :math:`z\sim\mathcal N(0, \mathrm{var})`."""
    if (k + s) % 2:
        return sp.S.Zero
    if s == 0:
        return sp.factorial2(k - 1) * var ** sp.Rational(k, 2)
    return _abs_moment(var, k)


def _ratio_over_sd(u, var):
    r""":math:`u/\sqrt{\mathrm{var}}` with :math:`x/|x|` written :math:`1/\mathrm{sgn}\,x`, so that it stays
    finite or goes to :math:`\pm\infty` (never 0/0) where mean and variance vanish together (e.g. x = 0
    without a bias); erf of it is then a number and its prefactor (a power of x) makes the term 0."""
    r = sp.factor(u) / sp.sqrt(sp.factor(var))
    return r.xreplace({a: a.args[0] * sp.sign(a.args[0]) for a in r.atoms(sp.Abs)})


def _m1_mean(k: int, s: int, u, var):
    r""":math:`E[z^k\,\mathrm{sgn}(z)^s]` for :math:`z\sim\mathcal N(u, \mathrm{var})` (Stein: the
    truncated moments :math:`I_k = E[z^k\Theta(z)] = u I_{k-1} + \mathrm{var}((k-1)I_{k-2} + [k=1]p(0))`)."""
    if u == 0:
        return _m1_zero(k, s, var)
    raw = [sp.S.One, u]
    for j in range(2, k + 1):
        raw.append(u * raw[j - 1] + (j - 1) * var * raw[j - 2])
    if s == 0:
        return sp.expand(raw[k])
    t = _ratio_over_sd(u, var)
    I = [(1 + sp.erf(t / sp.sqrt(2))) / 2]
    p0 = sp.exp(-t**2 / 2) / sp.sqrt(2 * sp.pi * var)
    for j in range(1, k + 1):
        I.append(u * I[j - 1] + var * ((j - 1) * I[j - 2] if j >= 2 else p0))
    return 2 * I[k] - raw[k]


def _stein_pair(k11, k12, k22):
    r""":math:`M(a, b, s, t) = E[u^a v^b\,\mathrm{sgn}(u)^s\mathrm{sgn}(v)^t]` for a zero-mean Gaussian pair,
    by Gaussian integration by parts (:math:`E[u\,H] = k_{11}E[\partial_u H] + k_{12}E[\partial_v H]`,
    :math:`\partial\,\mathrm{sgn} = 2\delta`), down to :math:`E[\mathrm{sgn}\,u\,\mathrm{sgn}\,v] = \tfrac2\pi\arcsin\rho`.
    All in the one :class:`Correlation` :math:`\rho`, so the diagonal is exact."""
    rho = Correlation(k12, k11, k22)
    c11, c22 = k11 * (1 - rho**2), k22 * (1 - rho**2)  # Var(u | v = 0), Var(v | u = 0)
    memo = {}

    def M(a, b, s, t):
        key = (a, b, s, t)
        if key in memo:
            return memo[key]
        if a == 0 and s == 0:
            r = _m1_zero(b, t, k22)
        elif b == 0 and t == 0:
            r = _m1_zero(a, s, k11)
        elif a == 0 and b == 0:
            r = 2 / sp.pi * sp.asin(rho)  # s = t = 1
        elif a == 0:  # symmetric case: integrate v by parts
            r = _swap(b, a, t, s)
        else:
            r = sp.S.Zero
            if a >= 2:
                r += k11 * (a - 1) * M(a - 2, b, s, t)
            elif s:  # a == 1: d sgn(u) = 2 delta(u)
                r += sp.sqrt(k11) * sp.sqrt(2 / sp.pi) * _m1_zero(b, t, c22)  # k11 p_u(0), no 0/0
            if b >= 1:
                r += k12 * b * M(a - 1, b - 1, s, t)
            elif t:
                r += rho * sp.sqrt(k11) * sp.sqrt(2 / sp.pi) * _m1_zero(a - 1, s, c11)  # k12 p_v(0)
        memo[key] = r
        return r

    def _swap(a, b, s, t):  # E[v^a u^b sgn(v)^s sgn(u)^t], v integrated by parts
        r = sp.S.Zero
        if a >= 2:
            r += k22 * (a - 1) * M(b, a - 2, t, s)
        elif s:
            r += sp.sqrt(k22) * sp.sqrt(2 / sp.pi) * _m1_zero(b, t, c11)
        if b >= 1:
            r += k12 * b * M(b - 1, a - 1, t, s)
        elif t:
            r += rho * sp.sqrt(k22) * sp.sqrt(2 / sp.pi) * _m1_zero(a - 1, s, c22)
        return r

    return M


def _sign_polynomial_form(per, zs, mu, C):
    """Closed form of E[prod_j f_j(z_j)] for sign-polynomial factors: any mean in one variable,
    zero mean in two; else None."""
    decs = [_sign_polynomial(per[z], z) for z in zs]
    if any(d is None for d in decs):
        return None
    if len(zs) == 1:
        return sp.Add(*[c * _m1_mean(k, s, mu[0], C[0][0]) for (k, s), c in decs[0].items()])
    if len(zs) == 2 and all(sp.simplify(u) == 0 for u in mu):
        M = _stein_pair(C[0][0], C[0][1], C[1][1])
        return sp.Add(*[c1 * c2 * M(k1, k2, s1, s2) for (k1, s1), c1 in decs[0].items()
                        for (k2, s2), c2 in decs[1].items()])
    return None


def _exp_tilt(g, zs, mu, C):
    r"""Absorb the factors :math:`e^{h\cdot z}` (h real) into the Gaussian:
    :math:`E[e^{h\cdot z}F(z)] = e^{h\cdot\mu + h^TCh/2}\,E[F(z + Ch)]`. Returns
    (factor, F, zs', mu', C') over the variables F still depends on, or None if there is no such factor."""
    m = len(zs)
    coeff, rest = g.as_independent(*zs, as_Add=False)
    if rest.is_Add:
        return None
    h = [sp.S.Zero] * m
    c0 = sp.S.Zero
    F = sp.S.One
    found = False
    for f in sp.Mul.make_args(rest):
        if isinstance(f, sp.exp):
            arg = sp.expand(f.args[0])
            lin = [arg.coeff(z) for z in zs]
            const = sp.expand(arg - sum(l * z for l, z in zip(lin, zs)))
            if not const.has(*zs) and not any(l.has(*zs) for l in lin) and not arg.has(sp.I):
                h = [a + b for a, b in zip(h, lin)]
                c0 += const
                found = True
                continue
        F *= f
    if not found or all(v == 0 for v in h):
        return None
    Cm, mv, hv = sp.Matrix(C), sp.Matrix(mu), sp.Matrix(h)
    fac = coeff * sp.exp(sp.expand((hv.T * mv)[0] + (hv.T * Cm * hv)[0] / 2 + c0))
    mu2 = mv + Cm * hv
    keep = [j for j, z in enumerate(zs) if F.has(z)]
    return (fac, F, [zs[j] for j in keep], [sp.expand(mu2[j]) for j in keep],
            [[C[i][j] for j in keep] for i in keep])


def _closed_form(g, zs, mu, C, forms):
    """E[g(z)], z ~ N(mu, C): the table of closed forms, then exponential tilts, then sign
    polynomials (piecewise polynomials with the kink at 0: Abs, leaky ReLU, Min, ...); or None."""
    r = _closed_form_table(g, zs, mu, C, forms)
    if r is not None:
        return r
    t = _exp_tilt(g, zs, mu, C)
    if t is not None:
        fac, F, zs2, mu2, C2 = t
        if not zs2:
            return fac * F
        r = _closed_form(F, zs2, mu2, C2, None)
        return None if r is None else fac * r
    split = _factor_per_variable(g, zs)
    if split is None:
        return None
    coeff, per = split
    r = _sign_polynomial_form(per, zs, mu, C)
    return None if r is None else coeff * r


def preactivation_expectation(factors, group, affine) -> sp.Expr | None:
    """E over the Gaussian ``group`` of the product of ``factors`` (functions of affine
    forms), or None if this is not a Gaussian pre-activation integral."""
    if not all(isinstance(p.law, NormalLaw) and not p.law.joint for p in group):
        return None
    forms: dict = {}
    order: list = []

    def zof(L):
        a = affine(L)
        if a is None or (set(a.scal) | set(a.vec)) - group:
            raise _NotPreactivation
        if not a.scal and not a.vec:
            raise _NotPreactivation
        key = a.key()
        if key not in forms:
            forms[key] = (a, sp.Dummy(f"z{len(forms) + 1}", real=True))
            order.append(key)
        return forms[key][1]

    def function_of_one_form(A):
        """A non-affine argument that is a function of a single affine form (e.g. -(w x + b)^2)."""
        cands = {b for b in A.atoms(sp.Pow) if b.base.is_Add and affine(b.base) is not None
                 and (set(affine(b.base).scal) | set(affine(b.base).vec))}
        for pw in cands:
            z = zof(pw.base)
            B = A.xreplace({pw.base: z})
            if not (set(B.free_symbols) & set(group)) and not any(isinstance(s, (RandomSymbol,)) for s in B.free_symbols):
                return B
        raise _NotPreactivation

    def arg_of(A):
        a = affine(A)
        return zof(A) if a is not None else function_of_one_form(A)

    def one_form(A):
        """Any expression that depends on the group through one affine form L only (``Max(L/10, L)``,
        ``Min(0, L)``, a Piecewise in L, ...): the same expression in z = L."""
        found = []

        def walk(e):
            if not (random_atoms(e) & group):
                return
            a = affine(e) if isinstance(e, sp.Expr) else None
            if a is not None and (a.scal or a.vec):
                found.append((e, a))
                return
            for x in e.args:
                walk(x)

        walk(A)
        if not found:
            raise _NotPreactivation
        z = zof(found[0][0])
        rep = {}
        for e, a in found:
            r = _affine_ratio(a, found[0][1])
            if r is None:
                raise _NotPreactivation
            rep[e] = r * z
        B = A.xreplace(rep)
        if random_atoms(B):
            raise _NotPreactivation
        return B

    g = sp.S.One
    try:
        for f in factors:
            base, k = f.as_base_exp()
            if isinstance(f, sp.exp):
                base, k = f, sp.S.One
            if isinstance(base, (RandomSymbol, Dot)):
                g *= zof(base) ** k
            elif (isinstance(base, sp.Max) and len(base.args) == 2 and sp.S.Zero in base.args
                  and affine(base.args[0] if base.args[1] == 0 else base.args[1]) is not None):
                other = base.args[0] if base.args[1] == 0 else base.args[1]
                g *= sp.Max(0, zof(other)) ** k
            elif isinstance(base, sp.Heaviside) and affine(base.args[0]) is not None:
                g *= sp.Heaviside(zof(base.args[0])) ** k
            elif isinstance(base, sp.Function) and len(base.args) == 1 and not isinstance(base, (sp.Max, sp.Min)):
                g *= base.func(arg_of(base.args[0])) ** k
            else:  # Max(a L, L), Min(0, L), Piecewise in L, ...: a function of one affine form
                g *= one_form(base) ** k
    except _NotPreactivation:
        return None
    zs = [forms[k][1] for k in order]
    aff = [forms[k][0] for k in order]
    mu, C = _moments(aff)
    closed = _closed_form(g, zs, mu, C, aff)
    if closed is not None:
        return closed
    fac = sp.S.One
    t = _exp_tilt(g, zs, mu, C)  # e^{h.z} into the mean: no overflow of e^{h.z} against the density
    if t is not None:
        fac, g, zs, mu, C = t
    m = len(zs)
    return fac * GaussianExpectation(g, sp.Tuple(*zs), sp.Tuple(*mu), sp.Tuple(*[C[i][j] for i in range(m) for j in range(m)]))


def _affine_ratio(a, a0):
    """r (free of parameters) with a = r a0 for two affine forms, or None."""
    if a0.scal:
        p, c0 = next(iter(a0.scal.items()))
        r = a.scal.get(p, sp.S.Zero) / c0
    else:
        p, w0 = next(iter(a0.vec.items()))
        r = sp.cancel(a.vec.get(p, sp.S.Zero) / w0)
    outside_dots = r.xreplace({d: sp.Dummy() for d in r.atoms(Dot)})
    if r == 0 or random_atoms(r) or any(isinstance(s, (VectorSymbol, ScalarPoint)) for s in outside_dots.free_symbols):
        return None  # a ratio of points (x_2/x_1) is no ratio of forms
    return r if a0.scaled(r).key() == a.key() else None


def pair_expectation(f, k11, k12, k22):
    r""":math:`E[f(u)f(v)]` for :math:`(u, v)\sim\mathcal N(0, [[k_{11}, k_{12}], [k_{12}, k_{22}]])` in closed
    form (the engine's table), or None. ``f`` maps a sympy expression to a sympy expression.

    >>> k11, k22 = sp.symbols("k11 k22", positive=True); k12 = sp.Symbol("k12", real=True)
    >>> pair_expectation(sp.erf, k11, k12, k22)
    2*asin((2*k12)/sqrt((2*k11 + 1)*(2*k22 + 1)))/pi
    """
    z1, z2 = sp.Dummy("u", real=True), sp.Dummy("v", real=True)
    g = rewrite_rectifiers(sp.sympify(f(z1)) * sp.sympify(f(z2)))
    C = [[k11, k12], [k12, k22]]
    r = _closed_form(sp.expand(g), [z1, z2], [0, 0], C, None)
    if r is None:  # e.g. leaky ReLU written (1+a)/2 z + (1-a)/2 |z|: one sign polynomial per variable
        r = _sign_polynomial_form({z1: sp.sympify(f(z1)), z2: sp.sympify(f(z2))}, [z1, z2], [0, 0], C)
    return r


def _moments(aff):
    """Mean vector and covariance matrix of the affine forms."""
    from ..engine.expectation import ones_vector

    mu = []
    for a in aff:
        u = a.const + sum(c * p.law.params[0] for p, c in a.scal.items())
        for b, v in a.vec.items():
            if b.law.params[0] != 0:
                u += b.law.params[0] * Dot(ones_vector(b.dim), v)
        mu.append(sp.sympify(u))
    m = len(aff)
    C = [[sp.S.Zero] * m for _ in range(m)]
    for i in range(m):
        for j in range(i, m):
            c = sp.S.Zero
            for p, s in aff[i].scal.items():
                if p in aff[j].scal:
                    c += p.law.params[1] * s * aff[j].scal[p]
            for b, v in aff[i].vec.items():
                if b in aff[j].vec:
                    c += b.law.params[1] * Dot(v, aff[j].vec[b])
            C[i][j] = C[j][i] = c
    return mu, C


# ----------------------------------------------------------------------------- numerics
def sign_moment(R: np.ndarray, n: int = 20) -> float:
    r"""Orthant moment :math:`S(R) = E[\prod_j \mathrm{sgn}\,y_j]`, :math:`y\sim\mathcal N(0, R)`, R a correlation matrix.

    Price's theorem along :math:`R(\lambda) = 1 + \lambda R_{\rm off}` gives a smooth one-dimensional
    integral per level (Gauss-Legendre, exponential convergence):

    .. math:: S(R) = \int_0^1 d\lambda \sum_{i<j} R_{ij}\,\frac{2}{\pi\sqrt{1-\lambda^2R_{ij}^2}}\,
              S\big(R^{(ij)}(\lambda)\big),\qquad S = \tfrac{2}{\pi}\arcsin R_{12}\ (m = 2),

    with :math:`R^{(ij)}` the correlation of the other coordinates given :math:`y_i = y_j = 0`;
    each pair's integral is taken in :math:`\varphi = \arcsin(\lambda R_{ij})`, which removes the
    endpoint singularity at strong correlation.

    >>> R = np.array([[1, .3, .2, .1], [.3, 1, .4, .2], [.2, .4, 1, .5], [.1, .2, .5, 1]])
    >>> round(float(sign_moment(R)), 10)  # Monte Carlo, 4e6 draws: 0.0735 +- 0.0005
    0.0742550122
    """
    m = len(R)
    if m == 0:
        return 1.0
    if m % 2:
        return 0.0
    if m == 2:
        return 2 / math.pi * math.asin(max(-1.0, min(1.0, float(R[0, 1]))))
    x, w = np.polynomial.legendre.leggauss(n)
    off = R - np.diag(np.diag(R))
    total = 0.0
    for i in range(m):
        for j in range(i + 1, m):
            r = float(R[i, j])
            if r == 0:
                continue
            # lambda = sin(phi)/r removes the 1/sqrt(1 - lambda^2 r^2) endpoint singularity exactly
            top = math.asin(max(-1.0, min(1.0, r)))
            rest = [k for k in range(m) if k not in (i, j)]
            acc = 0.0
            for xi, wi in zip(x, w):
                phi = top * (xi + 1) / 2
                lam = min(1.0, math.sin(phi) / r)
                Rl = np.eye(m) + lam * off
                Cr = Rl[np.ix_(rest, [i, j])]
                cond = Rl[np.ix_(rest, rest)] - Cr @ np.linalg.solve(Rl[np.ix_([i, j], [i, j])], Cr.T)
                dn = np.sqrt(np.clip(np.diag(cond), 1e-300, None))
                acc += wi * sign_moment(np.clip(cond / np.outer(dn, dn), -1.0, 1.0), n)
            total += 2 / math.pi * top / 2 * acc
    return total


# ----------------------------------------------------------------------------- kink-aware panel rules
_T_CUT = 8.5  # |u| > 8.5 carries 1.9e-17 of a standard normal's mass
_HALF = np.array([0.5, 1.0, 1.75, 2.5, 3.5, 4.75, 6.25, _T_CUT])
_BASE = np.concatenate([-_HALF[::-1], [0.0], _HALF])  # 16 panels, finer where the mass is
_N_HI, _N_LO = 10, 7  # Gauss-Legendre nodes per panel: the value, and the rule it is checked against


@lru_cache(maxsize=None)
def _leg(n: int):
    return np.polynomial.legendre.leggauss(n)


def _panel_rule(breaks, n: int):
    """Gauss-Legendre on the panels between sorted ``breaks`` (..., B): nodes and weights (..., (B-1) n)."""
    x, w = _leg(n)
    lo, hi = breaks[..., :-1, None], breaks[..., 1:, None]
    half = (hi - lo) / 2
    nodes = (lo + hi) / 2 + half * x
    wts = half * w
    shape = breaks.shape[:-1] + (-1,)
    return nodes.reshape(shape), wts.reshape(shape)


def _phi(u):
    return np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)


def gauss1_kinked(h, mu, s, kinks, n: int = _N_HI):
    r""":math:`E[h(\mu + s u)]`, :math:`u\sim\mathcal N(0,1)`, elementwise over arrays ``mu``, ``s``; ``h`` is
    vectorised and smooth between the points ``kinks`` (floats). Gauss-Legendre panels on
    :math:`|u| \le 8.5`, split at the kinks."""
    mu, s = np.broadcast_arrays(np.asarray(mu, float), np.asarray(s, float))
    ks = np.asarray(list(kinks), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ku = (ks[None, :] - mu.reshape(-1, 1)) / s.reshape(-1, 1)
    ku = np.clip(np.nan_to_num(ku, nan=_T_CUT, posinf=_T_CUT, neginf=-_T_CUT), -_T_CUT, _T_CUT)
    br = np.sort(np.concatenate([np.broadcast_to(_BASE, (ku.shape[0], len(_BASE))), ku], axis=1), axis=1)
    u, w = _panel_rule(br, n)
    z = mu.reshape(-1, 1) + s.reshape(-1, 1) * u
    with np.errstate(over="ignore", invalid="ignore"):
        hv = np.broadcast_to(h(z), z.shape)
        tot = np.sum(np.where(w > 0, w * _phi(u) * hv, 0.0), axis=1)
    return tot.reshape(mu.shape)


def _best_rotation(nrm):
    """Outer direction for an iterated 2-D rule: the kink lines (normals ``nrm``, (P, K, 2)) should cross
    the inner axis at points that move slowly with the outer variable; lines exactly along the inner
    axis are fine (they become outer breakpoints). Returns (P, 2, 2) rotations [d, e]."""
    P, K = nrm.shape[:2]
    th = np.linspace(0, np.pi, 48, endpoint=False)
    cand = np.broadcast_to(th, (P, len(th)))
    if K:
        along = np.arctan2(nrm[..., 1], nrm[..., 0]) + np.pi / 2  # outer axis along a line
        perp = along - np.pi / 2  # outer axis across a line: the line is an outer breakpoint
        cand = np.concatenate([cand, along, perp], axis=1)
    d = np.stack([np.cos(cand), np.sin(cand)], -1)  # (P, Q, 2)
    e = np.stack([-d[..., 1], d[..., 0]], -1)
    if K:
        nd = np.abs(np.einsum("pkc,pqc->pqk", nrm, d))
        ne = np.abs(np.einsum("pkc,pqc->pqk", nrm, e))
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = nd / ne
        slope = np.where(ne <= 1e-13 * (nd + ne), 0.0, slope)  # exactly across: an outer breakpoint
        q = np.argmin(np.max(np.nan_to_num(slope), axis=2), axis=1)
    else:
        q = np.zeros(P, int)
    idx = np.arange(P)
    return np.stack([d[idx, q], e[idx, q]], axis=-1)  # columns d, e


def gauss2_kinked(g, mu, L, kinks, n: int = _N_HI, chunk_nodes: int = 4_000_000):
    r""":math:`E[g(\mu + L u)]`, :math:`u\sim\mathcal N(0, I_2)`, for a batch: ``mu`` (P, m), ``L`` (P, m, 2);
    ``g(z_1, ..., z_m)`` vectorised and smooth away from the lines :math:`z_j = c` for ``c`` in
    ``kinks[j]`` (floats). Iterated Gauss-Legendre panels on :math:`[-8.5, 8.5]^2` after a rotation
    that keeps the kink lines' crossings of the inner axis slow; the outer axis is split where a line
    is parallel to the inner axis, where two lines cross, and (graded) around steep lines."""
    mu, L = np.asarray(mu, float), np.asarray(L, float)
    P, m = mu.shape
    rows = [(j, float(c)) for j in range(m) for c in kinks[j]]
    K = len(rows)
    nrm = np.stack([L[:, j, :] for j, _ in rows], 1) if K else np.zeros((P, 0, 2))
    off = np.stack([c - mu[:, j] for j, c in rows], 1) if K else np.zeros((P, 0))
    R = _best_rotation(nrm)
    L2 = L @ R
    nrm2 = nrm @ R  # (P, K, 2): components along d (outer) and e (inner)
    nd, ne = nrm2[..., 0], nrm2[..., 1]
    scale = np.abs(nd) + np.abs(ne)
    flat = np.abs(ne) <= 1e-13 * scale  # line parallel to the inner axis
    T = _T_CUT
    with np.errstate(divide="ignore", invalid="ignore"):
        brk = [np.broadcast_to(_BASE, (P, len(_BASE)))]
        brk.append(np.where(flat & (scale > 0), off / nd, T))
        for a in range(K):
            for b in range(a + 1, K):
                det = nd[:, a] * ne[:, b] - ne[:, a] * nd[:, b]
                xi = (off[:, a] * ne[:, b] - off[:, b] * ne[:, a]) / det
                brk.append(np.where(np.abs(det) > 1e-14 * scale[:, a] * scale[:, b], xi, T)[:, None])
        slope = np.abs(nd) / np.abs(ne)
        steep = (~flat) & (slope > 1)
        centre = off / nd
        for k in range(10):
            w = 4.0 ** k / np.where(steep, slope, 1.0)
            brk.append(np.where(steep & (w < 2 * T), centre - w, T))
            brk.append(np.where(steep & (w < 2 * T), centre + w, T))
    br = np.sort(np.clip(np.nan_to_num(np.concatenate(brk, 1), nan=T), -T, T), axis=1)
    br = br[:, :int(np.max(np.sum(br < T, axis=1))) + 1]  # unused breakpoints (at T) make empty panels
    xi, wx = _panel_rule(br, n)  # (P, Kx)
    out = np.zeros(P)
    Kx = xi.shape[1]
    nb = len(_BASE) + K
    step = max(1, int(chunk_nodes // max(1, Kx * (nb - 1) * n)))
    for s0 in range(0, P, step):
        sl = slice(s0, s0 + step)
        X = xi[sl]  # (p, Kx)
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = (off[sl, None, :] - nd[sl, None, :] * X[..., None]) / ne[sl, None, :]
        cross = np.where(flat[sl, None, :], T, cross)
        ib = np.concatenate([np.broadcast_to(_BASE, X.shape + (len(_BASE),)), cross], -1)
        ib = np.sort(np.clip(np.nan_to_num(ib, nan=T), -T, T), axis=-1)
        eta, wy = _panel_rule(ib, n)  # (p, Kx, Ky)
        z = [mu[sl, j, None, None] + L2[sl, j, 0, None, None] * X[..., None] + L2[sl, j, 1, None, None] * eta
             for j in range(m)]
        with np.errstate(over="ignore", invalid="ignore"):
            gv = np.broadcast_to(g(*z), eta.shape)
            inner = np.sum(np.where(wy > 0, wy * _phi(eta) * gv, 0.0), -1)
        out[sl] = np.sum(wx[sl] * _phi(X) * inner, -1)
    return out


def _orthant_plan(E: GaussianExpectation):
    """If the integrand is c * prod_j f_j(z_j) with f_j in {erf, sign, Heaviside} (each z once),
    return (c, kinds); else None."""
    zs = list(E.variables)
    c, rest = E.integrand.as_independent(*zs, as_Add=False)
    kinds = {}
    for f in sp.Mul.make_args(rest):
        if isinstance(f, sp.erf) and f.args[0] in zs and f.args[0] not in kinds:
            kinds[f.args[0]] = "erf"
        elif isinstance(f, sp.sign) and f.args[0] in zs and f.args[0] not in kinds:
            kinds[f.args[0]] = "sign"
        elif isinstance(f, sp.Heaviside) and f.args[0] in zs and f.args[0] not in kinds:
            kinds[f.args[0]] = "step"
        else:
            return None
    if len(kinds) != len(zs) or len(zs) > 6:
        return None
    return c, [kinds[z] for z in zs]


def _per_variable(E: GaussianExpectation):
    """(c, {z: factor}) when the integrand is c * prod_j f_j(z_j), else None."""
    return _factor_per_variable(E.integrand, list(E.variables))


def _signpoly_plan(E: GaussianExpectation):
    r"""The integrand as :math:`\sum_t c_t\prod_j z_j^{a_{tj}}\mathrm{sgn}(z_j)^{s_{tj}}` (every factor a
    piecewise polynomial with its kink at 0): a list of (c_t, a_t, s_t), or None."""
    pv = _per_variable(E)
    if pv is None:
        return None
    c, per = pv
    zs = list(E.variables)
    decs = [_sign_polynomial(per[z], z) for z in zs]
    if any(d is None for d in decs):
        return None
    terms = [(c, (), ())]
    for d in decs:
        terms = [(ct * cd, a + (k,), s + (sg,)) for ct, a, s in terms for (k, sg), cd in d.items()]
    return terms


class _Degenerate(Exception):
    pass


def _stein_numeric(terms, C, n: int = 20):
    r""":math:`\sum_t c_t E[\prod_j z_j^{a_j}\mathrm{sgn}(z_j)^{s_j}]`, :math:`z\sim\mathcal N(0, C)`, C numeric:
    Gaussian integration by parts (:math:`E[z_j H] = \sum_k C_{jk}E[\partial_k H]`,
    :math:`\partial\,\mathrm{sgn} = 2\delta`: conditioning on :math:`z_k = 0`) down to orthant moments
    (:math:`\tfrac2\pi\arcsin\rho` for two signs, :func:`sign_moment` for four or more). Proportional
    variables are merged first, so coincident points are exact. Returns (value, used_sign_moment);
    raises _Degenerate for a singular orthant of four or more signs."""
    memo = {}
    used = [False]

    def m1(k, s, var):
        if (k + s) % 2:
            return 0.0
        if s == 0:
            return float(np.prod(np.arange(k - 1, 0, -2))) * var ** (k / 2)
        return var ** (k / 2) * 2 ** (k / 2) * math.gamma((k + 1) / 2) / math.sqrt(math.pi)

    def E(a, s, C):
        idx = [j for j in range(len(a)) if a[j] or s[j]]
        if not idx:
            return 1.0
        a, s, C = [a[j] for j in idx], [s[j] for j in idx], C[np.ix_(idx, idx)]
        key = (tuple(a), tuple(s), C.tobytes())
        if key in memo:
            return memo[key]
        d = np.diag(C)
        if np.any(d <= 1e-14 * max(float(d.max()), 0.0)) or d.max() <= 0:
            memo[key] = 0.0  # z_j = 0 there: z^a = 0 (a > 0), sgn 0 = 0
            return 0.0
        coef, a, s, keep = 1.0, list(a), list(s), list(range(len(a)))
        merged = True
        while merged:  # z_k = c z_j exactly: one variable
            merged = False
            for x in range(len(keep)):
                for y in range(x + 1, len(keep)):
                    j, k = keep[x], keep[y]
                    if C[j, k] ** 2 >= C[j, j] * C[k, k] * (1 - 1e-12):
                        c = C[j, k] / C[j, j]
                        coef *= c ** a[k] * (1.0 if c > 0 else -1.0) ** s[k]
                        a[j] += a[k]
                        s[j] = (s[j] + s[k]) % 2
                        keep.pop(y)
                        merged = True
                        break
                if merged:
                    break
        if len(keep) < len(a):
            r = coef * E([a[j] for j in keep], [s[j] for j in keep], C[np.ix_(keep, keep)])
            memo[key] = r
            return r
        m = len(a)
        if m == 1:
            r = m1(a[0], s[0], C[0, 0])
        elif not any(a):  # orthant moment of m signs
            dn = np.sqrt(d)
            R = C / np.outer(dn, dn)
            if m % 2:
                r = 0.0
            elif m == 2:
                r = 2 / math.pi * math.asin(max(-1.0, min(1.0, float(R[0, 1]))))
            else:
                ev = np.linalg.eigvalsh(R)
                if ev.min() < 1e-8 * ev.max():
                    raise _Degenerate
                used[0] = True
                r = float(sign_moment(R, n))
        else:
            j = int(np.argmax(a))
            a1 = list(a)
            a1[j] -= 1
            r = 0.0
            for k in range(m):
                if C[j, k] == 0:
                    continue
                if a1[k] >= 1:
                    a2 = list(a1)
                    a2[k] -= 1
                    r += C[j, k] * a1[k] * E(a2, s, C)
                elif s[k]:  # d sgn(z_k) = 2 delta(z_k): condition on z_k = 0
                    rest = [i for i in range(m) if i != k]
                    S = C[np.ix_(rest, rest)] - np.outer(C[rest, k], C[k, rest]) / C[k, k]
                    r += C[j, k] * 2 / math.sqrt(2 * math.pi * C[k, k]) * E([a1[i] for i in rest], [s[i] for i in rest], S)
        memo[key] = r
        return r

    total = sum(c * E(list(a), list(s), np.asarray(C, float)) for c, a, s in terms)
    return total, used[0]


def _float_kink_lists(E: GaussianExpectation, hv):
    """Per variable, the kinks of the integrand as floats (hyper-parameters at their values), or None."""
    out = []
    for z in E.variables:
        ks = kink_points(E.integrand, z)
        if ks is None:
            return None
        vals = []
        for k in ks:
            try:
                c = complex(sp.sympify(k).xreplace({h: sp.Float(float(v)) for h, v in hv.items()}))
            except TypeError:
                return None
            if c.imag == 0:
                vals.append(c.real)
        out.append(vals)
    return out


def _homogeneous_plan(E: GaussianExpectation):
    """Total degree P if the integrand is positively homogeneous (products of Max(0, z)^n,
    Heaviside, sign, powers of z), else None."""
    zs = list(E.variables)
    _, rest = E.integrand.as_independent(*zs, as_Add=False)
    if rest.is_Add:
        return None
    P = 0
    for f in sp.Mul.make_args(rest):
        b, k = f.as_base_exp()
        if not (k.is_Integer and k > 0):
            return None
        if isinstance(b, sp.Max) and len(b.args) == 2 and sp.S.Zero in b.args and any(a in zs for a in b.args):
            P += int(k)
        elif isinstance(b, (sp.Heaviside, sp.sign)) and b.args[0] in zs:
            pass
        elif b in zs:
            P += int(k)
        else:
            return _homogeneous_degree_any(E)
    return P


def _homogeneous_degree_any(E: GaussianExpectation):
    """Total degree if every factor is a sign polynomial of one degree (|z|, Max(a z, z), Min(0, z), ...)."""
    pv = _per_variable(E)
    if pv is None:
        return None
    P = 0
    for z, f in pv[1].items():
        d = _sign_polynomial(f, z)
        degs = {k for k, _ in d} if d else None
        if not degs or len(degs) != 1:
            return None
        P += degs.pop()
    return P


def _angular_rank2(g, L, P, hyp, m, n=24):
    r"""E[g(L u)], u ~ N(0, I_2), g positively homogeneous of degree P: in polar coordinates
    :math:`E[r^P]\,\tfrac{1}{2\pi}\int_0^{2\pi} g(L(\cos\varphi,\sin\varphi))\,d\varphi` with
    :math:`E[r^P] = 2^{P/2}\Gamma(1+P/2)`; the angle integral is split at the kinks
    (where some :math:`(L e_\varphi)_j = 0`) and done by Gauss-Legendre on each smooth piece."""
    breaks = {0.0, 2 * math.pi}
    for j in range(m):
        a, b = L[j]
        if a == 0 and b == 0:
            continue
        base = math.atan2(-a, b)  # a cos + b sin = 0
        for t in (base, base + math.pi, base + 2 * math.pi, base - math.pi):
            if 0 < t < 2 * math.pi:
                breaks.add(t)
    br = sorted(breaks)
    vals = []
    for nn in (n, n // 2):
        x, w = np.polynomial.legendre.leggauss(nn)
        phis, ws = [], []
        for lo, hi in zip(br[:-1], br[1:]):
            phis.append((lo + hi) / 2 + (hi - lo) / 2 * x)
            ws.append((hi - lo) / 2 * w)
        phi, wt = np.concatenate(phis), np.concatenate(ws)
        z = L @ np.stack([np.cos(phi), np.sin(phi)])  # (m, K)
        gv = np.broadcast_to(g(*[z[j] for j in range(m)], *hyp), phi.shape)
        vals.append(2 ** (P / 2) * math.gamma(1 + P / 2) * float(wt @ gv) / (2 * math.pi))
    return vals[0], abs(vals[0] - vals[1])


def _angular_rank3(g, L, P, hyp, m, n=16):
    r"""E[g(L u)], u ~ N(0, I_3), g positively homogeneous of degree P:
    :math:`E[r^P]\,\tfrac{1}{4\pi}\int g(L\hat u)\,d\Omega` with :math:`E[r^P] = 2^{P/2}\Gamma((3+P)/2)/\Gamma(3/2)`.
    The sphere is cut along the kink circles :math:`\ell_j\cdot\hat u = 0`: the azimuth at the
    directions where two circles cross (and where a circle is a meridian), the polar angle at each
    circle; Gauss-Legendre on every smooth panel."""
    Ls = np.asarray(L)

    def phi_breaks():
        br = {0.0, 2 * math.pi}
        rows = [r for r in Ls if np.linalg.norm(r) > 0]
        for i in range(len(rows)):
            a, b, c = rows[i]
            for t in (math.atan2(-a, b), math.atan2(a, -b)):  # A(phi) = 0
                br.add(t % (2 * math.pi))
            for j in range(i + 1, len(rows)):
                cr = np.cross(rows[i], rows[j])
                for v in (cr, -cr):
                    if abs(v[0]) + abs(v[1]) > 0:
                        br.add(math.atan2(v[1], v[0]) % (2 * math.pi))
        return sorted(br)

    def integrate(nn):
        x, w = np.polynomial.legendre.leggauss(nn)
        br = phi_breaks()
        total = 0.0
        for lo, hi in zip(br[:-1], br[1:]):
            if hi - lo < 1e-15:
                continue
            for phi, wp in zip((lo + hi) / 2 + (hi - lo) / 2 * x, (hi - lo) / 2 * w):
                cp, sphi = math.cos(phi), math.sin(phi)
                tb = {0.0, math.pi}
                for r in Ls:
                    A = r[0] * cp + r[1] * sphi
                    if A == 0 and r[2] == 0:
                        continue
                    t = math.atan2(-r[2], A) % math.pi
                    if 0 < t < math.pi:
                        tb.add(t)
                tb = sorted(tb)
                th = np.concatenate([(a + b) / 2 + (b - a) / 2 * x for a, b in zip(tb[:-1], tb[1:])])
                wt = np.concatenate([(b - a) / 2 * w for a, b in zip(tb[:-1], tb[1:])])
                u = np.stack([np.sin(th) * cp, np.sin(th) * sphi, np.cos(th)])
                z = Ls @ u
                gv = np.broadcast_to(g(*[z[j] for j in range(m)], *hyp), th.shape)
                total += wp * float((wt * np.sin(th)) @ gv)
        return 2 ** (P / 2) * math.gamma((3 + P) / 2) / math.gamma(1.5) * total / (4 * math.pi)

    hi_, lo_ = integrate(n), integrate(max(6, (2 * n) // 3))
    return hi_, abs(hi_ - lo_)


def _orthant_value(kinds, C, n):
    r"""E[prod f_j(z_j)] for zero-mean z ~ N(0, C): erf(z) = E_eps[sgn(sqrt(2) z + eps)],
    Heaviside = (1 + sgn)/2, then orthant moments."""
    m = len(kinds)
    Dg = np.array([math.sqrt(2) if k == "erf" else 1.0 for k in kinds])
    Cy = C * np.outer(Dg, Dg) + np.diag([1.0 if k == "erf" else 0.0 for k in kinds])
    dn = np.sqrt(np.diag(Cy))
    if np.any(dn == 0):
        return None
    R = Cy / np.outer(dn, dn)
    ev = np.linalg.eigvalsh(R)
    if m > 1 and ev.min() < 1e-8 * ev.max():
        return None  # rank-deficient pre-activations: the angular or Gauss-Hermite rule does it
    steps = [j for j, k in enumerate(kinds) if k == "step"]
    signs = [j for j, k in enumerate(kinds) if k != "step"]
    total = 0.0
    for mask in range(1 << len(steps)):
        idx = signs + [steps[b] for b in range(len(steps)) if mask >> b & 1]
        total += sign_moment(R[np.ix_(idx, idx)], n)
    return total / 2 ** len(steps)


def gaussian_numeric(E: GaussianExpectation, points, Xf, values, dsym=None, max_nodes: int = 200_000):
    """Gauss-Hermite quadrature of ``E`` at every point set; returns values and an error estimate."""
    from ..numeric.kernels import _ones_symbols, _point_arrays, check_values, compile_kernel

    zs = list(E.variables)
    m = len(zs)
    stats = sp.Tuple(*E.mean, *[c for row in E.covariance for c in row])
    ones = _ones_symbols(stats)
    hyper = sorted((stats.free_symbols | E.integrand.free_symbols) - set(points) - set(zs) - set(ones)
                   - ({dsym} if dsym is not None else set()), key=sp.default_sort_key)
    hv = check_values(hyper, values, "Gaussian expectation")
    D = Xf.shape[-1]
    extra = [np.ones(D)] * len(ones) + [hv[h] for h in hyper] + ([D] if dsym is not None else [])
    fstats = compile_kernel(list(points) + ones + hyper + ([dsym] if dsym is not None else []), stats)
    P = Xf.shape[0]
    raw = fstats(*_point_arrays(points, Xf), *extra)
    arr = np.array([np.broadcast_to(np.asarray(v, dtype=float), (P,)) for v in raw])  # (m + m^2, P)
    mus, covs = arr[:m].T, arr[m:].T.reshape(P, m, m)
    g = compile_kernel(zs + hyper, E.integrand)

    def rule(n, r):
        x, w = np.polynomial.hermite_e.hermegauss(n)
        w = w / math.sqrt(2 * math.pi)
        grids = np.meshgrid(*([x] * r), indexing="ij")
        wg = np.ones(()) if r == 0 else np.prod(np.meshgrid(*([w] * r), indexing="ij"), axis=0)
        return np.stack([gg.reshape(-1) for gg in grids], axis=1) if r else np.zeros((1, 0)), wg.reshape(-1)

    plan = _orthant_plan(E)
    homog = _homogeneous_plan(E)
    cfun = compile_kernel(hyper, plan[0]) if plan is not None else None
    hyp = [hv[h] for h in hyper]
    lazy = {}

    def spoly():  # the integrand as sign polynomials, coefficients at the values (None if it is not)
        if "spoly" not in lazy:
            t = _signpoly_plan(E)
            at = {h: sp.Float(float(v)) for h, v in hv.items()}
            lazy["spoly"] = None if t is None else [(float(complex(sp.sympify(c).xreplace(at)).real), a, sg)
                                                    for c, a, sg in t]
        return lazy["spoly"]

    def kink_lists():
        if "kinks" not in lazy:
            lazy["kinks"] = _float_kink_lists(E, hv)
        return lazy["kinks"]

    out = np.empty(P)
    err = 0.0
    for p in range(P):
        zero_mean = bool(np.all(mus[p] == 0))
        if plan is not None and zero_mean:
            hi = _orthant_value(plan[1], covs[p], 20)
            if hi is not None:
                lo = _orthant_value(plan[1], covs[p], 14)
                c = float(cfun(*hyp))
                out[p] = c * hi
                err = max(err, abs(c * (hi - lo)), 1e-12 * abs(c * hi))
                continue
        lam, V = np.linalg.eigh(covs[p])
        keep = lam > 1e-13 * max(lam.max(), 1e-300)
        if homog is not None and int(keep.sum()) in (2, 3) and zero_mean:
            L = V[:, keep] * np.sqrt(lam[keep])
            angular = _angular_rank2 if int(keep.sum()) == 2 else _angular_rank3
            out[p], e2 = angular(g, L, homog, hyp, m)
            err = max(err, e2, 1e-12 * abs(out[p]))
            continue
        # Abs, leaky ReLU, ... in full rank (or not homogeneous): integration by parts, exact to rounding
        if zero_mean and (int(keep.sum()) == m or m <= 3) and spoly() is not None:
            terms = spoly()
            try:
                hi, used = _stein_numeric(terms, covs[p], 20)
                lo = _stein_numeric(terms, covs[p], 14)[0] if used else hi
                out[p] = hi
                scale = sum(abs(c) for c, _, _ in terms) * max(float(np.max(np.abs(covs[p]))), 1e-300) ** (
                    max(sum(a) for _, a, _ in terms) / 2)
                err = max(err, abs(hi - lo), 1e-12 * (abs(hi) + scale))
                continue
            except _Degenerate:
                pass
        kinks = kink_lists()
        kinked = kinks is None or any(kinks)
        if int(keep.sum()) == 1:  # one direction: adaptive quadrature, split at the kinks
            from scipy.integrate import quad

            ell = V[:, keep][:, 0] * math.sqrt(lam[keep][0])
            cut = 38.0  # exp(-u^2/2) underflows beyond
            brk = sorted({(c - mus[p][j]) / ell[j] for j in range(m) for c in (kinks[j] if kinks else [])
                          if ell[j] != 0 and abs((c - mus[p][j]) / ell[j]) < cut} | {-cut, cut})

            def f(u):
                w = math.exp(-u * u / 2) / math.sqrt(2 * math.pi)
                with np.errstate(all="ignore"):
                    v = float(np.real(g(*(mus[p] + ell * u), *hyp)))
                return 0.0 if w == 0.0 else v * w

            val, e1 = 0.0, 0.0
            for a, b in zip(brk[:-1], brk[1:]):
                v1, r1 = quad(f, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)
                val, e1 = val + v1, e1 + r1
            out[p], err = val, max(err, 10 * e1, 1e-12 * abs(val))
            continue
        if np.any(lam < -1e-9 * max(abs(lam).max(), 1.0)):
            raise ValueError(f"covariance of the pre-activations is not positive semi-definite at point set {p}")
        L = V[:, keep] * np.sqrt(lam[keep])
        r = int(keep.sum())
        if r == 2 and kinks is not None and kinked:  # kinks at any place, any mean: split panels
            Lb, mb = L[None, :, :], mus[p][None, :]
            gg = lambda *z: g(*z, *hyp)
            hi, lo = gauss2_kinked(gg, mb, Lb, kinks, _N_HI)[0], gauss2_kinked(gg, mb, Lb, kinks, _N_LO)[0]
            out[p] = hi
            err = max(err, abs(hi - lo), 1e-12 * abs(hi))
            continue
        n = int(max(8, min(120, math.floor(max_nodes ** (1.0 / max(r, 1))))))
        res = []
        for nn in (n, max(6, (3 * n) // 4)):
            u, w = rule(nn, r)
            z = mus[p][None, :] + u @ L.T
            with np.errstate(over="ignore", invalid="ignore"):
                vals = np.broadcast_to(g(*[z[:, j] for j in range(m)], *hyp), w.shape)
            res.append(float(w @ vals))
        out[p] = res[0]
        # kinks (Max, Heaviside, sign, Abs) make Gauss-Hermite converge slowly: the difference of
        # two nearby rules understates the error, so report a conservative multiple of it
        err = max(err, abs(res[0] - res[1]) * (10 if kinked else 1), 1e-12 * abs(res[0]))
    return out, err

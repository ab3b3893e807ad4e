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
  :math:`E = \tfrac12 E|\theta|^P\,[\prod_j f_j(l_j) + \prod_j f_j(-l_j)]`.

Polynomials (and Hermite polynomials) of :math:`z` never reach this module:
the engine expands them and applies Isserlis/Wick through the Gaussian moments.
Everything else becomes a :class:`GaussianExpectation` (marked numeric). Products
of erf, sign and Heaviside at zero mean (e.g. the 4-point moment of erf neurons)
are integrated deterministically through orthant moments (:func:`sign_moment`,
accurate to ~1e-12); other integrands by Gauss-Hermite quadrature after an
eigen-decomposition of :math:`C`.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp

from .distributions import NormalLaw, RandomSymbol
from .expectation import Expectation
from .vectors import Dot

__all__ = ["GaussianExpectation", "preactivation_expectation", "arccos_J", "rewrite_rectifiers",
           "pair_expectation", "sign_moment"]


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

    def _latex(self, printer):
        zs = ",".join(printer._print(z) for z in self.variables)
        return r"\mathbb{E}_{(%s)\sim\mathcal{N}(\mu, C)}\left[%s\right]" % (zs, printer._print(self.integrand))


class Correlation(sp.Function):
    r"""The correlation coefficient :math:`k_{12}/\sqrt{k_{11}k_{22}}` of a Gaussian pair.

    One object, so :math:`\arccos\rho` and :math:`\sqrt{1-\rho^2}` use the same number; equal to 1
    on the diagonal (symbolically), and clipped to [-1, 1] when evaluated (Cauchy-Schwarz: only
    rounding can leave that interval). This keeps deep arc-cosine compositions finite at x = x'.
    """

    nargs = 3
    is_real = True

    @classmethod
    def eval(cls, k12, k11, k22):
        if k12 == k11 and k11 == k22:
            return sp.S.One
        return None

    def _latex(self, printer):
        k12, k11, k22 = self.args
        return r"\frac{%s}{\sqrt{%s}}" % (printer._print(k12), printer._print(k11 * k22))

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


def _closed_form(g, zs, mu, C, forms):
    m = len(zs)
    coeff, rest = g.as_independent(*zs, as_Add=False)
    if rest.is_Add:
        return None
    per = {z: sp.S.One for z in zs}
    for f in sp.Mul.make_args(rest):
        fz = [z for z in zs if f.has(z)]
        if len(fz) != 1:
            return None
        per[fz[0]] *= f
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
            if n == 0:
                return coeff * (1 + sp.erf(u / (sp.sqrt(2) * s))) / 2
            if n == 1:
                Phi = (1 + sp.erf(u / (sp.sqrt(2) * s))) / 2
                phi = sp.exp(-(u**2) / (2 * C11)) / sp.sqrt(2 * sp.pi)
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

    g = sp.S.One
    try:
        for f in factors:
            base, k = f.as_base_exp()
            if isinstance(f, sp.exp):
                base, k = f, sp.S.One
            if isinstance(base, (RandomSymbol, Dot)):
                g *= zof(base) ** k
            elif isinstance(base, sp.Max) and len(base.args) == 2 and sp.S.Zero in base.args:
                other = base.args[0] if base.args[1] == 0 else base.args[1]
                g *= sp.Max(0, zof(other)) ** k
            elif isinstance(base, sp.Heaviside):
                g *= sp.Heaviside(zof(base.args[0])) ** k
            elif isinstance(base, sp.Function) and len(base.args) == 1:
                g *= base.func(arg_of(base.args[0])) ** k
            else:
                raise _NotPreactivation
    except _NotPreactivation:
        return None
    zs = [forms[k][1] for k in order]
    aff = [forms[k][0] for k in order]
    mu, C = _moments(aff)
    closed = _closed_form(g, zs, mu, C, aff)
    if closed is not None:
        return closed
    m = len(zs)
    return GaussianExpectation(g, sp.Tuple(*zs), sp.Tuple(*mu), sp.Tuple(*[C[i][j] for i in range(m) for j in range(m)]))


def pair_expectation(f, k11, k12, k22):
    r""":math:`E[f(u)f(v)]` for :math:`(u, v)\sim\mathcal N(0, [[k_{11}, k_{12}], [k_{12}, k_{22}]])` in closed
    form (the engine's table), or None. ``f`` maps a sympy expression to a sympy expression.

    >>> k11, k22 = sp.symbols("k11 k22", positive=True); k12 = sp.Symbol("k12", real=True)
    >>> pair_expectation(sp.erf, k11, k12, k22)
    2*asin((2*k12)/sqrt((2*k11 + 1)*(2*k22 + 1)))/pi
    """
    z1, z2 = sp.Dummy("u", real=True), sp.Dummy("v", real=True)
    g = rewrite_rectifiers(sp.sympify(f(z1)) * sp.sympify(f(z2)))
    return _closed_form(sp.expand(g), [z1, z2], [0, 0], [[k11, k12], [k12, k22]], None)


def _moments(aff):
    """Mean vector and covariance matrix of the affine forms."""
    from .expectation import ones_vector

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
            return None
    return P


def _angular_rank2(g, L, P, hyp, m, n=24):
    r"""E[g(L u)], u ~ N(0, I_2), g positively homogeneous of degree P: in polar coordinates
    :math:`E[r^P]\,	frac{1}{2\pi}\int_0^{2\pi} g(L(\cosarphi,\sinarphi))\,darphi` with
    :math:`E[r^P] = 2^{P/2}\Gamma(1+P/2)`; the angle integral is split at the kinks
    (where some :math:`(L e_arphi)_j = 0`) and done by Gauss-Legendre on each smooth piece."""
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
    from .kernels import _ones_symbols, _point_arrays, check_values, compile_kernel

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
    out = np.empty(P)
    err = 0.0
    for p in range(P):
        if plan is not None and np.all(mus[p] == 0):
            hi = _orthant_value(plan[1], covs[p], 20)
            if hi is not None:
                lo = _orthant_value(plan[1], covs[p], 14)
                c = float(cfun(*[hv[h] for h in hyper]))
                out[p] = c * hi
                err = max(err, abs(c * (hi - lo)))
                continue
        lam, V = np.linalg.eigh(covs[p])
        keep = lam > 1e-13 * max(lam.max(), 1e-300)
        if homog is not None and int(keep.sum()) in (2, 3) and np.all(mus[p] == 0):
            L = V[:, keep] * np.sqrt(lam[keep])
            hyp = [hv[h] for h in hyper]
            angular = _angular_rank2 if int(keep.sum()) == 2 else _angular_rank3
            out[p], e2 = angular(g, L, homog, hyp, m)
            err = max(err, e2)
            continue
        if int(keep.sum()) == 1:  # one direction: adaptive quadrature is exact to ~1e-12
            from scipy.integrate import quad

            ell = V[:, keep][:, 0] * math.sqrt(lam[keep][0])
            hyp = [hv[h] for h in hyper]
            f = lambda u: float(np.real(g(*(mus[p] + ell * u), *hyp))) * math.exp(-u * u / 2) / math.sqrt(2 * math.pi)
            val, e1 = quad(f, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-12, limit=200)
            out[p], err = val, max(err, e1)
            continue
        if np.any(lam < -1e-9 * max(abs(lam).max(), 1.0)):
            raise ValueError(f"covariance of the pre-activations is not positive semi-definite at point set {p}")
        L = V[:, keep] * np.sqrt(lam[keep])
        r = int(keep.sum())
        n = int(max(8, min(120, math.floor(max_nodes ** (1.0 / max(r, 1))))))
        res = []
        for nn in (n, max(6, (3 * n) // 4)):
            u, w = rule(nn, r)
            z = mus[p][None, :] + u @ L.T
            vals = np.broadcast_to(g(*[z[:, j] for j in range(m)], *[hv[h] for h in hyper]), w.shape)
            res.append(float(w @ vals))
        out[p] = res[0]
        # kinks (Max, Heaviside, sign, Abs) make Gauss-Hermite converge slowly: the difference of
        # two nearby rules understates the error, so report a conservative multiple of it
        smooth = not E.integrand.has(sp.Max, sp.Heaviside, sp.sign, sp.Abs, sp.Min)
        err = max(err, abs(res[0] - res[1]) * (1 if smooth else 10))
    return out, err

r"""Gaussian pre-activations: :math:`E[\prod_k f(z(x_k))]` with :math:`z` affine in Gaussian parameters.

When the factors of a group of Gaussian parameters are functions of affine
forms :math:`z_j = L_j(\theta)`, the expectation is an integral over the
Gaussian vector :math:`z\sim\mathcal N(\mu, C)`, with

.. math:: \mu_j = E[L_j], \qquad C_{jk} = \sum_\theta \mathrm{Var}(\theta)\, s_{j\theta}s_{k\theta}
          + \sum_b \mathrm{Var}(b)\, v_{jb}\cdot v_{kb}

read off the parameters (for :math:`z = W\cdot x + b`:
:math:`C(x, y) = \sigma_b^2 + \sigma_W^2\, x\cdot y/d`). This reduction is the group rule
:func:`gaussian_preactivations`; the integral :math:`E[g(z)]` (a :class:`GaussianIntegral`) is then
asked of :data:`~nnsym.engine.registry.GAUSSIAN_RULES`, whose closed forms are registered here,
in this order (zero mean unless stated; :math:`\cos t = C_{12}/\sqrt{C_{11}C_{22}}`):

* products of :math:`e^{-\alpha_j z_j^2}` (any n, any mean): the Gaussian integral
  :math:`\det(1+2AC)^{-1/2}\exp(-\mu^T(1+2AC)^{-1}A\mu)`, finite only where every eigenvalue of
  :math:`1 + 2AC` is positive (a growing :math:`e^{kz^2}`, :math:`\alpha = -k < 0`: one variable
  :math:`1 - 2kC > 0`), recorded as the domain of the result (:func:`bump_domain`);
* any n when all :math:`z_j = l_j\theta` share one zero-mean scalar :math:`\theta` and each factor is positively
  homogeneous (:math:`f(\lambda z) = \lambda^p f(z)`, :math:`\lambda>0`), e.g. ReLU without bias in d = 1:
  :math:`E = \tfrac12 E|\theta|^P\,[\prod_j f_j(l_j) + \prod_j f_j(-l_j)]`;
* one variable: :math:`E[\mathrm{erf}\,z] = \mathrm{erf}(\mu/\sqrt{1+2C})`,
  :math:`E[\mathrm{sgn}\,z] = \mathrm{erf}(\mu/\sqrt{2C})` (any mean), rectified monomials;
* pairs:
  :math:`E[\mathrm{erf}\,z_1\,\mathrm{erf}\,z_2] = \tfrac{2}{\pi}\arcsin\frac{2C_{12}}{\sqrt{(1+2C_{11})(1+2C_{22})}}`,
  :math:`E[\mathrm{sgn}\,z_1\,\mathrm{sgn}\,z_2] = \tfrac{2}{\pi}\arcsin(\cos t)`, and for rectified monomials
  :math:`\max(0,z)^n` (ReLU :math:`n=1`, Heaviside :math:`n=0`) the arc-cosine kernel
  :math:`E[\max(0,z_1)^n\max(0,z_2)^n] = \tfrac{1}{2\pi}(C_{11}C_{22})^{n/2}J_n(t)`,
  :math:`J_n(t) = (-1)^n(\sin t)^{2n+1}\big(\tfrac{1}{\sin t}\partial_t\big)^n\tfrac{\pi-t}{\sin t}` (Cho & Saul);
* exponential tilts (h real): :math:`E[e^{h\cdot z}F(z)] = e^{h\cdot\mu + h^TCh/2}\,E[F(z + Ch)]`, so
  :math:`e^{W x}` next to a kink never meets the Gaussian tail numerically;
* sign polynomials: every factor piecewise polynomial with its only kink at 0 (Abs, leaky ReLU
  ``Max(a z, z)``, ``Min(0, z)``, Heaviside, sign, a Piecewise of such) is
  :math:`\sum_k (c_k + d_k\,\mathrm{sgn}\,z) z^k` (:func:`~nnsym.engine.piecewise.sign_polynomial`); one
  variable (any mean) by truncated moments, two (zero mean) by Gaussian integration by parts, e.g.
  :math:`E|z_1||z_2| = \tfrac{2}{\pi}\sqrt{C_{11}C_{22}}(\sin t + (\tfrac\pi2 - t)\cos t)`.

Polynomials (and Hermite polynomials) of :math:`z` never reach this module:
the engine expands them and applies Isserlis/Wick through the Gaussian moments.
Everything else becomes a :class:`GaussianExpectation` (marked numeric), integrated by
:mod:`nnsym.numeric.quadrature` with a stated error that bounds the true one; its exponentials of
quadratics are first absorbed into the Gaussian (:func:`quadratic_tilt`, the domain recorded):
:math:`E[e^{z^TQz}F(z)] = \det(1 - 2QC)^{-1/2}e^{\mu^TQ\mu'}E_{\mathcal N(\mu', C')}[F]`.

>>> import sympy as sp
>>> from nnsym import Normal, expectation
>>> w, x, y = Normal("w", 0, 1), *sp.symbols("x y", real=True)
>>> expectation(sp.erf(w*x) * sp.erf(w*y))
2*asin((2*x*y)/sqrt((2*x**2 + 1)*(2*y**2 + 1)))/pi
"""
from __future__ import annotations

from functools import cached_property, lru_cache

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from ..core.random import RandomSymbol, random_atoms
from ..core.vectors import Dot, ScalarPoint, VectorSymbol
from .domains import growth_degree, require
from .forms import Affine, affine, ones_vector
from .piecewise import sign_polynomial
from .registry import GAUSSIAN_RULES, gaussian_rule, group_rule
from .terms import Term
from .unevaluated import Expectation

__all__ = ["GaussianExpectation", "Correlation", "GaussianIntegral", "gaussian_preactivations", "closed_form",
           "preactivation_moments", "factor_per_variable", "arccos_J", "rewrite_rectifiers", "pair_expectation",
           "exponential_tilt", "rectified_power", "gaussian_bump", "homogeneous_degree", "bump_domain",
           "quadratic_exponent", "exponent_form", "quadratic_tilt"]


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
        return any(any(b == h.args[0] and k.is_Integer and k > 0 for b, k in (f.as_base_exp() for f in e.args))
                   for h in hs)

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


# ----------------------------------------------------------------------------- one-variable shapes
def _shape(phi, z):
    """Split a one-variable factor into (rectifier power or None, Heaviside?, power of z, other factors)."""
    rect_n, hv, poly = None, False, 0
    other = []
    for f in sp.Mul.make_args(phi):
        b, k = f.as_base_exp()
        if isinstance(b, sp.Max) and set(b.args) == {sp.S.Zero, z} and k.is_Integer and k > 0:
            rect_n = (rect_n or 0) + int(k)
        elif isinstance(b, sp.Heaviside) and b.args[0] == z:
            hv = True
        elif b == z and k.is_Integer and k > 0:
            poly += int(k)
        else:
            other.append(f)
    return rect_n, hv, poly, other


def rectified_power(phi, z) -> int | None:
    r"""n if ``phi`` is the rectified monomial :math:`\max(0, z)^n` (also written :math:`z^n\Theta(z)`;
    :math:`\Theta(z)` is n = 0), else None.

    >>> z = sp.Symbol("z", real=True)
    >>> rectified_power(sp.Max(0, z)**2, z), rectified_power(sp.Heaviside(z), z), rectified_power(z, z)
    (2, 0, None)
    """
    if phi == 1:
        return None
    rect_n, hv, poly, other = _shape(phi, z)
    if other or not (rect_n is not None or hv):
        return None
    if poly and rect_n is None:
        return poly  # z^k Theta(z)
    if poly:
        return None
    return rect_n or 0


def _monomial_power(phi, z) -> int | None:
    """k if ``phi`` is z^k (k >= 1)."""
    if phi == 1:
        return None
    rect_n, hv, poly, other = _shape(phi, z)
    return poly if poly and not other and rect_n is None and not hv else None


def gaussian_bump(phi, z) -> tuple | None:
    r"""(a, h, c) if ``phi`` is :math:`e^{-a z^2 + h z + c}` (a product of exponentials of a quadratic), else None.

    >>> z = sp.Symbol("z", real=True)
    >>> gaussian_bump(sp.exp(-z**2 + 3*z), z)
    (1, 3, 0)
    """
    if phi == 1:
        return None
    rect_n, hv, poly, other = _shape(phi, z)
    if rect_n or hv or poly or not all(isinstance(f, sp.exp) for f in other):
        return None
    arg = sp.expand(sp.Add(*[f.args[0] for f in other]))
    p = sp.Poly(arg, z) if arg.has(z) else None
    if p is not None and p.degree() <= 2 and not any(c.has(z) for c in p.all_coeffs()):
        cs = dict(zip([m[0] for m in p.monoms()], p.coeffs()))
        return -cs.get(2, 0), cs.get(1, 0), cs.get(0, 0)
    return None


def homogeneous_degree(phi, z) -> int | None:
    r"""p if ``phi`` is positively homogeneous of degree p by its shape (:math:`\max(0,z)^n`, Heaviside,
    sign, :math:`z^k`), else None.

    >>> z = sp.Symbol("z", real=True)
    >>> homogeneous_degree(sp.Max(0, z), z), homogeneous_degree(sp.sign(z), z), homogeneous_degree(sp.erf(z), z)
    (1, 0, None)
    """
    n = rectified_power(phi, z)
    if n is not None:
        return n
    if isinstance(phi, sp.sign) and phi.args[0] == z:
        return 0
    return _monomial_power(phi, z)


def _abs_moment(var, P: int):
    r""":math:`E|\theta|^P` for :math:`\theta\sim\mathcal N(0,\mathrm{var})`."""
    return var ** sp.Rational(P, 2) * 2 ** sp.Rational(P, 2) * sp.gamma(sp.Rational(P + 1, 2)) / sp.sqrt(sp.pi)


def factor_per_variable(g, zs) -> tuple | None:
    r"""``(coeff, {z: f_z})`` with :math:`g = \mathrm{coeff}\prod_z f_z(z)`, each factor a function of one
    variable; None if ``g`` does not factor so.

    >>> u, v = sp.symbols("u v", real=True)
    >>> factor_per_variable(3 * sp.erf(u) * sp.sign(v), [u, v])
    (3, {u: erf(u), v: sign(v)})
    """
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


# ----------------------------------------------------------------------------- the integral
class GaussianIntegral:
    r""":math:`E[g(z)]`, :math:`z\sim\mathcal N(\mu, C)`: what a rule of
    :data:`~nnsym.engine.registry.GAUSSIAN_RULES` receives.

    ``integrand`` g, ``variables`` the :math:`z_j`, ``mean`` :math:`\mu`, ``covariance`` C (a list of rows),
    ``forms`` the affine forms :math:`z_j = L_j(\theta)` (None when not known), ``rank`` the number of
    variables, ``per_variable`` the split of :func:`factor_per_variable` (or None), ``zero_mean``.
    """

    def __init__(self, integrand, variables, mean, covariance, forms=None):
        self.integrand = integrand
        self.variables = list(variables)
        self.mean = list(mean)
        self.covariance = covariance
        self.forms = forms
        self.rank = len(self.variables)

    @cached_property
    def classes(self) -> frozenset:
        """The classes of the sub-expressions of the integrand (what class patterns match)."""
        return frozenset(type(e) for e in sp.preorder_traversal(self.integrand))

    @cached_property
    def per_variable(self) -> tuple | None:
        return factor_per_variable(self.integrand, self.variables)

    @cached_property
    def zero_mean(self) -> bool:
        return all(sp.simplify(u) == 0 for u in self.mean)

    def factors_all(self, recognise) -> tuple | None:
        """``(coeff, [recognise(f_z, z) for each z])`` if the integrand factors per variable and every
        factor is recognised (not None); else None."""
        split = self.per_variable
        if split is None:
            return None
        coeff, per = split
        shapes = [recognise(per[z], z) for z in self.variables]
        return None if any(s is None for s in shapes) else (coeff, shapes)


def closed_form(integral: GaussianIntegral) -> sp.Expr | None:
    r"""The first closed form of :math:`E[g(z)]` among the :data:`~nnsym.engine.registry.GAUSSIAN_RULES`, or None."""
    return GAUSSIAN_RULES.apply(integral)


def _any_integrand(integral: GaussianIntegral) -> bool:
    return True


def _is_erf(phi, z):
    return True if isinstance(phi, sp.erf) and phi.args[0] == z else None


def _is_sign(phi, z):
    return True if isinstance(phi, sp.sign) and phi.args[0] == z else None


@gaussian_rule(sp.exp, order=10)
def gaussian_bumps(I: GaussianIntegral) -> sp.Expr | None:
    r"""Products of :math:`e^{-a_j z_j^2 + h_j z_j + c_j}`, any mean:
    :math:`E[e^{-z^TAz + h^Tz}] = \det M^{-1/2}\exp(\tfrac12 r^TCM^{-1}r + h^T\mu - \mu^TA\mu)`,
    :math:`M = 1 + 2AC`, :math:`r = h - 2A\mu`."""
    found = I.factors_all(gaussian_bump)
    if found is None:
        return None
    coeff, bumps = found
    A = sp.diag(*[k[0] for k in bumps])
    h = sp.Matrix([k[1] for k in bumps])
    c0 = sum(k[2] for k in bumps)
    Cm, mv = sp.Matrix(I.covariance), sp.Matrix(I.mean)
    M = sp.eye(I.rank) + 2 * A * Cm
    require(bump_domain(A, Cm), f"E[{I.integrand}]")
    Minv = M.inv()
    r = h - 2 * A * mv
    expo = (r.T * Cm * Minv * r)[0] / 2 + (h.T * mv)[0] - (mv.T * A * mv)[0] + c0
    return coeff * sp.exp(sp.simplify(expo)) / sp.sqrt(sp.factor(M.det()))


def bump_domain(A: sp.Matrix, C: sp.Matrix) -> sp.Boolean:
    r"""Where :math:`E[e^{-z^TAz}]`, :math:`z\sim\mathcal N(\mu, C)` (A symmetric), is finite: the
    quadratic form :math:`C^{-1}/2 + A` is positive definite on the range of C. With
    :math:`C = LL^T`, :math:`z = \mu + Lu`, that is :math:`1 + 2L^TAL > 0`, whose eigenvalues other
    than 1 are those of :math:`M = 1 + 2AC` (:math:`AB` and :math:`BA` share their non-zero
    eigenvalues). They are real, so all are positive iff the coefficients of the characteristic
    polynomial :math:`\det(\lambda - M) = \sum_k (-1)^k e_k(M)\lambda^{n-k}` alternate in sign:
    :math:`e_k(M) > 0` for every k (Descartes). Unlike Sylvester's leading minors of
    :math:`C + 2CAC` this holds where C is singular (coincident points, :math:`z_2 = 2 z_1`). Only the
    variables with a quadratic term enter; true at once for a decaying diagonal A (every
    :math:`a_j \ge 0`).

    >>> s = sp.Symbol("s", real=True)
    >>> bump_domain(sp.Matrix([[-s]]), sp.Matrix([[2]]))
    4*s - 1 < 0
    >>> bump_domain(sp.diag(-s, -s), sp.Matrix([[1, 1], [1, 1]]))  # z_1 = z_2: E[e^{2 s z^2}] < oo
    (2*s - 1 < 0) & (4*s - 1 < 0)
    """
    if A.is_diagonal() and all(sp.sympify(a).is_nonnegative for a in A.diagonal()):
        return sp.true
    idx = [j for j in range(A.rows) if any(A[j, k] != 0 for k in range(A.cols))]
    M = sp.eye(len(idx)) + 2 * A.extract(idx, idx) * C.extract(idx, idx)
    coeffs = M.charpoly(sp.Dummy("lambda")).all_coeffs()  # 1, -e_1, e_2, ...
    conds = []
    for k, c in enumerate(coeffs[1:], start=1):
        e = sp.factor(sp.expand((-1) ** k * c).as_content_primitive()[1])  # e_k(M) without its positive content
        conds.append((-e < 0) if e.could_extract_minus_sign() else (e > 0))
    return sp.And(*conds)


def _real_and_imaginary(arg):
    """(real part, imaginary part / i) of an expanded exponent with real symbols, or None."""
    re, im = [], []
    for term in sp.Add.make_args(sp.expand(arg)):
        if not term.has(sp.I):
            re.append(term)
        elif not (term / sp.I).has(sp.I):
            im.append(term / sp.I)
        else:
            return None
    return sp.Add(*re), sp.Add(*im)


def quadratic_exponent(g, zs) -> sp.Matrix | None:
    r"""The symmetric Q of the quadratic part :math:`z^TQz` of the real parts of the exponents in ``g``
    (:math:`|e^{a + ib}| = e^a`), when every other factor grows at most like a power (then
    :math:`E[g(z)] < \infty` iff :func:`bump_domain` of :math:`-Q` holds); None when that cannot be
    read off (an exponent whose real part is not quadratic, a factor of unknown growth). Sums of
    exponentials with imaginary exponents (a cosine the engine wrote out) are bounded.

    >>> u, v = sp.symbols("u v", real=True)
    >>> quadratic_exponent(sp.exp(u**2/8 - u*v) * sp.erf(v) * sp.Max(0, u), [u, v])
    Matrix([
    [ 1/8, -1/2],
    [-1/2,    0]])
    >>> quadratic_exponent(sp.exp(u**2/8 + sp.I*u) * (sp.exp(sp.I*v) + sp.exp(-sp.I*v)), [u, v])
    Matrix([
    [1/8, 0],
    [  0, 0]])
    """
    form = exponent_form(g, zs)
    return None if form is None else form[0]


def exponent_form(g, zs) -> tuple | None:
    r"""``(Q, h)`` with :math:`|g(z)| \le \mathrm{poly}(z)\,e^{z^TQz + h^Tz + c}`: Q symmetric and h the
    quadratic and linear parts of the real parts of the exponents of the exponential factors of ``g``
    (:math:`|e^{a + ib}| = e^a`), when every other factor grows at most like a power (then the bound is
    also the growth of g up to powers); None when that cannot be read off (see
    :func:`quadratic_exponent`).

    >>> u, v = sp.symbols("u v", real=True)
    >>> exponent_form(sp.exp(u**2/8 - u*v + 3*v + sp.I*u) * sp.cos(v), [u, v])
    (Matrix([
    [ 1/8, -1/2],
    [-1/2,    0]]), Matrix([
    [0],
    [3]]))
    """
    m = len(zs)
    Q, h = sp.zeros(m, m), sp.zeros(m, 1)

    def phase(e):  # e^{a + ib} with a free of z: bounded
        if not isinstance(e, sp.exp) or not e.has(*zs):
            return False
        parts = _real_and_imaginary(e.args[0])
        return parts is not None and not parts[0].has(*zs)

    for f in sp.Mul.make_args(g):
        if not f.has(*zs):
            continue
        if isinstance(f, sp.exp):
            parts = _real_and_imaginary(f.args[0])
            if parts is None:
                return None
            try:
                p = sp.Poly(parts[0], *zs)
            except sp.PolynomialError:
                return None
            if p.total_degree() > 2 or any(c.has(*zs) for c in p.coeffs()):
                return None
            for mon, c in zip(p.monoms(), p.coeffs()):
                if sum(mon) == 2:
                    i, j = [k for k in range(m) for _ in range(mon[k])]
                    Q[i, j] += c / 2
                    Q[j, i] += c / 2
                elif sum(mon) == 1:
                    h[mon.index(1)] += c
        else:
            bounded = f.replace(phase, lambda e: sp.cos(sp.Dummy()))
            if any(growth_degree(bounded, z) is None for z in zs if bounded.has(z)):
                return None
    return Q, h


@gaussian_rule(lambda I: I.forms is not None, order=20)
def homogeneous_of_one_scalar(I: GaussianIntegral) -> sp.Expr | None:
    r"""All :math:`z_j = l_j\theta` of one zero-mean scalar :math:`\theta`, each factor positively homogeneous of
    degree :math:`p_j`: :math:`E = \tfrac12 E|\theta|^P\,[\prod_j f_j(l_j) + \prod_j f_j(-l_j)]`,
    :math:`P = \sum_j p_j`."""
    found = I.factors_all(homogeneous_degree)
    if found is None:
        return None
    coeff, degs = found
    thetas, ls = set(), []
    for a in I.forms:
        if a.vec or a.const != 0 or len(a.scal) != 1:
            return None
        (th, l), = a.scal.items()
        thetas.add(th)
        ls.append(l)
    if len(thetas) != 1:
        return None
    th = thetas.pop()
    if th.law.mean != 0:
        return None
    per = I.per_variable[1]
    P = sum(degs)
    plus = sp.Mul(*[per[z].subs(z, l) for z, l in zip(I.variables, ls)])
    minus = sp.Mul(*[per[z].subs(z, -l) for z, l in zip(I.variables, ls)])
    return coeff * _abs_moment(th.law.variance, P) / 2 * (plus + minus)


@gaussian_rule(sp.erf, order=30)
def erf_of_one_variable(I: GaussianIntegral) -> sp.Expr | None:
    r""":math:`E[\mathrm{erf}\,z] = \mathrm{erf}(\mu/\sqrt{1 + 2C})`."""
    found = I.factors_all(_is_erf) if I.rank == 1 else None
    if found is None:
        return None
    return found[0] * sp.erf(I.mean[0] / sp.sqrt(1 + 2 * I.covariance[0][0]))


@gaussian_rule(sp.sign, order=30)
def sign_of_one_variable(I: GaussianIntegral) -> sp.Expr | None:
    r""":math:`E[\mathrm{sgn}\,z] = \mathrm{erf}(\mu/\sqrt{2C})`."""
    found = I.factors_all(_is_sign) if I.rank == 1 else None
    if found is None:
        return None
    return found[0] * sp.erf(I.mean[0] / sp.sqrt(2 * I.covariance[0][0]))


@gaussian_rule((sp.Max, sp.Heaviside), order=30)
def rectified_of_one_variable(I: GaussianIntegral) -> sp.Expr | None:
    r""":math:`E[\max(0, z)^n] = \tfrac12 E|z|^n` at zero mean; with a mean :math:`\Phi(\mu/\sigma)` (n = 0)
    and :math:`\mu\Phi(\mu/\sigma) + \sigma\varphi(\mu/\sigma)` (ReLU)."""
    found = I.factors_all(rectified_power) if I.rank == 1 else None
    if found is None:
        return None
    coeff, (n,) = found
    C11, u = I.covariance[0][0], I.mean[0]
    if I.zero_mean:
        return coeff * _abs_moment(C11, n) / 2
    t = _ratio_over_sd(u, C11)
    if n == 0:
        return coeff * (1 + sp.erf(t / sp.sqrt(2))) / 2
    if n == 1:
        Phi = (1 + sp.erf(t / sp.sqrt(2))) / 2
        phi = sp.exp(-(t**2) / 2) / sp.sqrt(2 * sp.pi)
        return coeff * (u * Phi + sp.sqrt(C11) * phi)
    return None


def _pair(I: GaussianIntegral, recognise):
    """(coeff, shapes, C11, C22, C12) for a zero-mean pair whose factors ``recognise`` knows, else None."""
    if I.rank != 2:
        return None
    found = I.factors_all(recognise)
    if found is None or not I.zero_mean:
        return None
    C = I.covariance
    return found + (C[0][0], C[1][1], C[0][1])


@gaussian_rule(sp.erf, order=40)
def erf_pair(I: GaussianIntegral) -> sp.Expr | None:
    r""":math:`E[\mathrm{erf}\,z_1\,\mathrm{erf}\,z_2]
    = \tfrac{2}{\pi}\arcsin\frac{2C_{12}}{\sqrt{(1+2C_{11})(1+2C_{22})}}`."""
    found = _pair(I, _is_erf)
    if found is None:
        return None
    coeff, _, C11, C22, C12 = found
    return coeff * 2 / sp.pi * sp.asin(Correlation(2 * C12, 1 + 2 * C11, 1 + 2 * C22))


@gaussian_rule(sp.sign, order=40)
def sign_pair(I: GaussianIntegral) -> sp.Expr | None:
    r""":math:`E[\mathrm{sgn}\,z_1\,\mathrm{sgn}\,z_2] = \tfrac{2}{\pi}\arcsin\rho`."""
    found = _pair(I, _is_sign)
    if found is None:
        return None
    coeff, _, C11, C22, C12 = found
    return coeff * 2 / sp.pi * sp.asin(Correlation(C12, C11, C22))


@gaussian_rule((sp.Max, sp.Heaviside), order=40)
def arccos_pair(I: GaussianIntegral) -> sp.Expr | None:
    r"""The arc-cosine kernel :math:`E[\max(0,z_1)^n\max(0,z_2)^n] = \tfrac{1}{2\pi}(C_{11}C_{22})^{n/2}J_n(t)`."""
    found = _pair(I, rectified_power)
    if found is None or found[1][0] != found[1][1]:
        return None
    coeff, (n, _), C11, C22, C12 = found
    t, J = arccos_J(n)
    ang = sp.acos(Correlation(C12, C11, C22))
    return coeff * (C11 * C22) ** sp.Rational(n, 2) * J.subs(t, ang) / (2 * sp.pi)


def exponential_tilt(g, zs, mu, C) -> tuple | None:
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


def quadratic_tilt(g, zs, mu, C, Q) -> tuple:
    r"""Absorb the quadratic part :math:`e^{z^TQz}` of the exponentials of g (Q from
    :func:`quadratic_exponent`) into the Gaussian, inside the domain of :func:`bump_domain`:

    .. math:: E[e^{z^TQz}F(z)] = \det(1 - 2QC)^{-1/2}\,e^{\mu^TQ\mu'}\,E_{z\sim\mathcal N(\mu', C')}[F(z)],
              \quad \mu' = (1 - 2CQ)^{-1}\mu,\quad C' = (1 - 2CQ)^{-1}C

    (complete the square in :math:`z = \mu + Lu`; :math:`(1 - 2CQ)^{-1}` by Woodbury on the variables
    with a quadratic term). Returns (factor, F, zs', mu', C') over the variables F still depends on.

    >>> u = sp.Symbol("u", real=True); q = sp.Rational(1, 8)
    >>> quadratic_tilt(sp.exp(q * u**2) * sp.cos(u), [u], [1], [[2]], sp.Matrix([[q]]))
    (sqrt(2)*exp(1/4), cos(u), [u], [2], [[4]])
    """
    m = len(zs)
    F = sp.S.One
    for f in sp.Mul.make_args(g):
        if isinstance(f, sp.exp) and f.has(*zs):
            re, im = _real_and_imaginary(f.args[0])  # only the real quadratic part goes (quadratic_exponent)
            p = sp.Poly(re, *zs)
            rest = sum((c * sp.Mul(*[z**e for z, e in zip(zs, mon)]) for mon, c in zip(p.monoms(), p.coeffs())
                        if sum(mon) < 2), sp.S.Zero)
            F *= sp.exp(rest + sp.I * im)
        else:
            F *= f
    Cm, mv = sp.Matrix(C), sp.Matrix(mu)
    sup = [j for j in range(m) if any(Q[j, k] != 0 for k in range(m))]
    Ms = sp.eye(len(sup)) - 2 * Q.extract(sup, sup) * Cm.extract(sup, sup)
    K = sp.eye(m) + 2 * Cm.extract(list(range(m)), sup) * Ms.inv() * Q.extract(sup, list(range(m)))
    mu2, C2 = K * mv, K * Cm
    fac = sp.exp(sp.cancel((mv.T * Q * mu2)[0])) / sp.sqrt(sp.factor(Ms.det()))
    keep = [j for j, z in enumerate(zs) if F.has(z)]
    return (fac, F, [zs[j] for j in keep], [sp.cancel(mu2[j]) for j in keep],
            [[sp.cancel(C2[min(i, j), max(i, j)]) for j in keep] for i in keep])


@gaussian_rule(sp.exp, order=50)
def tilted(I: GaussianIntegral) -> sp.Expr | None:
    r""":math:`E[e^{h\cdot z}F(z)] = e^{h\cdot\mu + h^TCh/2}\,E[F(z + Ch)]`, then the closed forms for what is left."""
    t = exponential_tilt(I.integrand, I.variables, I.mean, I.covariance)
    if t is None:
        return None
    fac, F, zs2, mu2, C2 = t
    if not zs2:
        return fac * F
    r = closed_form(GaussianIntegral(F, zs2, mu2, C2, None))
    return None if r is None else fac * r


@gaussian_rule(_any_integrand, order=60)
def sign_polynomials(I: GaussianIntegral) -> sp.Expr | None:
    r"""Every factor a sign polynomial :math:`\sum_k (c_k + d_k\,\mathrm{sgn}\,z)z^k`: truncated moments (one
    variable, any mean) or Gaussian integration by parts (two, zero mean)."""
    split = I.per_variable
    if split is None:
        return None
    coeff, per = split
    r = _sign_polynomial_form(per, I.variables, I.mean, I.covariance)
    return None if r is None else coeff * r


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
    r = r.xreplace({a: a.args[0] * sp.sign(a.args[0]) for a in r.atoms(sp.Abs)})
    if r.has(Dot):  # Dot(1, x)/|x| has no such form: z = 0 at x = 0 (a mean from a vector's mean, no bias);
        return sp.Piecewise((r, sp.Ne(u, 0) | sp.Ne(var, 0)), (0, True))  # u/0 alone is +-oo, as above
    return r


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
    var_p0 = sp.sqrt(var) * sp.exp(-t**2 / 2) / sp.sqrt(2 * sp.pi)  # var p(0): no 0 * oo where var = 0
    for j in range(1, k + 1):
        I.append(u * I[j - 1] + ((j - 1) * var * I[j - 2] if j >= 2 else var_p0))
    return 2 * I[k] - raw[k]


def _stein_pair(k11, k12, k22):
    r""":math:`M(a, b, s, t) = E[u^a v^b\,\mathrm{sgn}(u)^s\mathrm{sgn}(v)^t]` for a zero-mean Gaussian pair,
    by Gaussian integration by parts (:math:`E[u\,H] = k_{11}E[\partial_u H] + k_{12}E[\partial_v H]`,
    :math:`\partial\,\mathrm{sgn} = 2\delta`), down to
    :math:`E[\mathrm{sgn}\,u\,\mathrm{sgn}\,v] = \tfrac2\pi\arcsin\rho`.
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
    decs = [sign_polynomial(per[z], z) for z in zs]
    if any(d is None for d in decs):
        return None
    if len(zs) == 1:
        return sp.Add(*[c * _m1_mean(k, s, mu[0], C[0][0]) for (k, s), c in decs[0].items()])
    if len(zs) == 2 and all(sp.simplify(u) == 0 for u in mu):
        M = _stein_pair(C[0][0], C[0][1], C[1][1])
        return sp.Add(*[c1 * c2 * M(k1, k2, s1, s2) for (k1, s1), c1 in decs[0].items()
                        for (k2, s2), c2 in decs[1].items()])
    return None


# ----------------------------------------------------------------------------- the group rule
class _Preactivations:
    """The affine forms met so far, each with its variable z_j."""

    def __init__(self, group: set):
        self.group = group
        self.forms: dict = {}
        self.order: list = []
        self.coefficients_in_integrand = False  # points or hyper-parameters left in g(z) (not only in mu, C)

    def z_of(self, L):
        """The variable of the affine form ``L`` in the group's parameters, or None."""
        a = affine(L)
        if a is None or a.params - self.group or not a.params:
            return None
        key = a.key()
        if key not in self.forms:
            self.forms[key] = (a, sp.Dummy(f"z{len(self.forms) + 1}", real=True))
            self.order.append(key)
        return self.forms[key][1]

    def function_of_one_form(self, A):
        """A non-affine argument that is a function of a single affine form (e.g. -(w x + b)^2; also
        :math:`-(w x)^2`, which sympy writes :math:`-w^2x^2`, a function of z = w), or None."""
        cands = sorted((b for b in A.atoms(sp.Pow) if affine(b.base) is not None and affine(b.base).params),
                       key=lambda b: (not b.base.is_Add, sp.default_sort_key(b)))
        for pw in cands:
            if affine(pw.base).params - self.group:
                return None
            u = sp.Dummy("u", real=True)
            B = A.xreplace({pw.base: u})
            if not (set(B.free_symbols) & set(self.group)) and not any(
                    isinstance(s, (RandomSymbol,)) for s in B.free_symbols):
                if not pw.base.is_Add and B.free_symbols - {u}:
                    self.coefficients_in_integrand = True  # -x^2 z^2: a closed form, or no GaussianExpectation
                return B.xreplace({u: self.z_of(pw.base)})
        return None

    def argument(self, A):
        return self.z_of(A) if affine(A) is not None else self.function_of_one_form(A)

    def one_form(self, A):
        """Any expression that depends on the group through one affine form L only (``Max(L/10, L)``,
        ``Min(0, L)``, a Piecewise in L, ...): the same expression in z = L; or None."""
        found = []

        def walk(e):
            if not (random_atoms(e) & self.group):
                return
            a = affine(e) if isinstance(e, sp.Expr) else None
            if a is not None and a.params:
                found.append((e, a))
                return
            for x in e.args:
                walk(x)

        walk(A)
        if not found:
            return None
        z = self.z_of(found[0][0])
        if z is None:
            return None
        rep = {}
        for e, a in found:
            r = _affine_ratio(a, found[0][1])
            if r is None:
                return None
            rep[e] = r * z
        B = A.xreplace(rep)
        return None if random_atoms(B) else B

    def factor(self, f):
        """The factor ``f`` as a function of the variables z, or None if it is not one."""
        base, k = f.as_base_exp()
        if isinstance(f, sp.exp):
            base, k = f, sp.S.One
        if isinstance(base, (RandomSymbol, Dot)):
            z = self.z_of(base)
            return None if z is None else z ** k
        if (isinstance(base, sp.Max) and len(base.args) == 2 and sp.S.Zero in base.args
                and affine(base.args[0] if base.args[1] == 0 else base.args[1]) is not None):
            z = self.z_of(base.args[0] if base.args[1] == 0 else base.args[1])
            return None if z is None else sp.Max(0, z) ** k
        if isinstance(base, sp.Heaviside) and affine(base.args[0]) is not None:
            z = self.z_of(base.args[0])
            return None if z is None else sp.Heaviside(z) ** k
        if isinstance(base, sp.Function) and len(base.args) == 1 and not isinstance(base, (sp.Max, sp.Min)):
            z = self.argument(base.args[0])
            return None if z is None else base.func(z) ** k
        B = self.one_form(base)  # Max(a L, L), Min(0, L), Piecewise in L, ...: a function of one affine form
        return None if B is None else B ** k


def _all_gaussian(t: Term, group: set) -> bool:
    return bool(t.opaque_of(group)) and all(p.law.is_gaussian and not p.law.is_joint for p in group)


@group_rule(_all_gaussian, order=20)
def gaussian_preactivations(t: Term, group: set) -> sp.Expr | None:
    r"""E over the Gaussian ``group`` of the product of its factors, functions of affine forms
    :math:`z_j`: :math:`E[g(z)]` over :math:`z\sim\mathcal N(\mu, C)` in closed form, else a
    :class:`GaussianExpectation`; None if this is not a Gaussian pre-activation integral."""
    pre = _Preactivations(group)
    g = sp.S.One
    for f in t.factors_of(group):
        gf = pre.factor(f)
        if gf is None:
            return None
        g *= gf
    zs = [pre.forms[k][1] for k in pre.order]
    aff = [pre.forms[k][0] for k in pre.order]
    mu, C = preactivation_moments(aff)
    closed = closed_form(GaussianIntegral(g, zs, mu, C, aff))
    if closed is not None:
        return closed
    fac = sp.S.One
    Q = quadratic_exponent(g, zs)  # left to quadrature: it must still exist (e^{k z^2} grows)
    if Q is not None and not Q.is_zero_matrix:
        require(bump_domain(-Q, sp.Matrix(C)), f"E[{g}]")
        # e^{z^T Q z} into the Gaussian: an exact prefactor, and no e^{k z^2} against the density near the
        # boundary of the domain (where a quadrature rule overflows or converges slowly)
        fac, g, zs, mu, C = quadratic_tilt(g, zs, mu, C, Q)
        if not zs:
            return fac * g
        closed = closed_form(GaussianIntegral(g, zs, mu, C, None))
        if closed is not None:
            return fac * closed
    if pre.coefficients_in_integrand and g.free_symbols - set(zs):  # GaussianExpectation wants g(z) free of
        return None  # the points: the engine's quadrature over the parameters does it (domain recorded)
    tilt = exponential_tilt(g, zs, mu, C)  # e^{h.z} into the mean: no overflow of e^{h.z} against the density
    if tilt is not None:
        fac2, g, zs, mu, C = tilt
        fac *= fac2
    m = len(zs)
    return fac * GaussianExpectation(g, sp.Tuple(*zs), sp.Tuple(*mu),
                                     sp.Tuple(*[C[i][j] for i in range(m) for j in range(m)]))


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
    r = closed_form(GaussianIntegral(sp.expand(g), [z1, z2], [0, 0], C, None))
    if r is None:  # e.g. leaky ReLU written (1+a)/2 z + (1-a)/2 |z|: one sign polynomial per variable
        r = _sign_polynomial_form({z1: sp.sympify(f(z1)), z2: sp.sympify(f(z2))}, [z1, z2], [0, 0], C)
    return r


def preactivation_moments(aff: list[Affine]) -> tuple:
    r"""Mean vector :math:`\mu_j = E[L_j]` and covariance :math:`C_{jk} = \mathrm{Cov}(L_j, L_k)` of the affine
    forms ``aff`` in Gaussian parameters.

    >>> from nnsym import Normal
    >>> w, b, x = Normal("w", 0, 2), Normal("b", 1, 3), sp.Symbol("x", real=True)
    >>> preactivation_moments([affine(w*x + b)])
    ([1], [[2*x**2 + 3]])
    """
    mu = []
    for a in aff:
        u = a.const + sum(c * p.law.mean for p, c in a.scal.items())
        for b, v in a.vec.items():
            if b.law.mean != 0:
                u += b.law.mean * Dot(ones_vector(b.dim), v)
        mu.append(sp.sympify(u))
    m = len(aff)
    C = [[sp.S.Zero] * m for _ in range(m)]
    for i in range(m):
        for j in range(i, m):
            c = sp.S.Zero
            for p, s in aff[i].scal.items():
                if p in aff[j].scal:
                    c += p.law.variance * s * aff[j].scal[p]
            for b, v in aff[i].vec.items():
                if b in aff[j].vec:
                    c += b.law.variance * Dot(v, aff[j].vec[b])
            C[i][j] = C[j][i] = c
    return mu, C

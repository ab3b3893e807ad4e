r"""Couplings of the effective action, in position space, on a lattice, and a local fit.

A network's correlators define a field theory; its *effective action* is written around the
Gaussian process (the :math:`N\to\infty` theory) with the propagator :math:`K`,

.. math:: S[\phi] = \underbrace{\tfrac12\int d^dx\,d^dy\;\phi(x)\,K^{-1}(x,y)\,\phi(y)}_{S_{\rm GP}}
          \;+\;\frac{\lambda}{4!}\int d^dy\;\phi(y)^4 \;+\;\dots

At first order in :math:`\lambda` the only connected 4-point function is the tree diagram,
:math:`4!` Wick contractions of the vertex with the four external fields, each leg a propagator:

.. math:: G_c^{(4)}(x_1,\dots,x_4) = -\lambda\int d^dy\,\prod_{i=1}^4 K(x_i, y) + O(\lambda^2).

Read backwards, the exact finite-:math:`N` :math:`G_c^{(4)}` *defines* a position-dependent
coupling. nnsym states it with a sign :math:`s` and a factor :math:`c`,

.. math:: \lambda(x_1,\dots,x_4) = \frac{s\; G_c^{(4)}(x_1,\dots,x_4)}{c\int_R d^dy\,\prod_{i=1}^4
          K_{\rm EFT}(x_i, y)},\qquad K_{\rm EFT} = G^{(2)} - \mathrm{Var}(b_{\rm out}),

in two conventions (:data:`CONVENTIONS`):

* ``"nnsym"`` (default, docs/conventions.md, "Effective action"): :math:`s=-1`, :math:`c=1`, so
  that the local vertex :math:`\frac{\lambda}{4!}\phi^4` gives back :math:`G_c^{(4)} = -\lambda\int\prod K`;
* ``"nn-qft"`` (the public code of Halverson, Maiti, Stoner, arXiv:2008.08601): :math:`s=+1`,
  :math:`c=24`; hence :math:`\lambda_{\rm nn\text{-}qft} = -\lambda_{\rm nnsym}/24`.

The output bias :math:`b_{\rm out}` adds the constant :math:`\mathrm{Var}(b_{\rm out})` to
:math:`G^{(2)}`: a zero mode that does not propagate, removed from the legs
(:func:`kernel_eft`). The integration region :math:`R` is all of :math:`\mathbb R^d` or a box:

* over :math:`\mathbb R^d`, when :math:`K_{\rm EFT}(x,y) = P(x)\,e^{E_0(x) - a(x)|y|^2 + b(x)\cdot y}`
  (the Gauss-net), the integral is Gaussian,
  :math:`\int d^dy\,e^{-A|y|^2 + B\cdot y} = (\pi/A)^{d/2}e^{|B|^2/4A}`, with
  :math:`A = \sum_i a(x_i) > 0`, :math:`B = \sum_i b(x_i)`; for the Gauss-net

  .. math:: \int d^dy\prod_{i=1}^4 K(x_i,y) = \Big(\frac{\sigma_a^2}{2}\Big)^4\Big(\frac{\pi d}{2\sigma_b^2}\Big)^{d/2}
            \exp\Big[-\frac{\sigma_b^2}{2d}\Big(\sum_i|x_i|^2 - \frac14\Big|\sum_i x_i\Big|^2\Big)\Big];

* otherwise the behaviour of the integrand along rays :math:`y = r u`, :math:`r\to\infty`, decides:
  the erf kernel tends to a non-zero function of the direction, the ReLU kernel grows like
  :math:`|y|`, and :math:`\int^\infty r^{d-1}\,r^{\kappa}\,dr` diverges for :math:`\kappa\ge -d`:
  :class:`~nnsym.errors.DivergentExpectation`, never a number from a divergent quadrature.
  A convergent integral without a closed form raises :class:`~nnsym.errors.NoClosedForm`;
* over a bounded box, adaptive cubature (:func:`scipy.integrate.cubature`) with its error estimate.

**On a lattice** :math:`\{y_a\}_{a=1}^M` the action is
:math:`\frac12\sum_{ab}\phi_a K^{-1}_{ab}\phi_b + \frac1{4!}\sum\lambda_{abcd}\phi_a\phi_b\phi_c\phi_d`, and the
tree diagram is amputated with the inverse kernel matrix,

.. math:: \lambda_{abcd} = -\sum_{efgh} G_c^{(4)}(y_e,y_f,y_g,y_h)\,K^{-1}_{ea}K^{-1}_{fb}K^{-1}_{gc}K^{-1}_{hd};

a lattice-local vertex :math:`\lambda_{abcd} = \lambda\,w_a\,\delta_{abcd}` is what
:math:`G_c = -\lambda\sum_y w_y\prod_i K(x_i,y)` gives back. Amputating four legs multiplies the
relative error of :math:`G_c` by up to :math:`\mathrm{cond}(K)^4`: the condition number is reported,
a bound on the error is stated, and a vertex whose bound exceeds its size is refused.

**A local fit**: the first-order :math:`G_c^{(4)}` of each term of

.. math:: S_{\rm int} = \frac{\lambda}{4!}\int\phi^4 + \frac{g}{4}\int\phi^2(\partial\phi)^2
          + \frac{\mu}{8}\int\!\!\int\phi^2(y)\,f_\ell(y-z)\,\phi^2(z),\qquad
          f_\ell(v) = \frac{e^{-|v|^2/2\ell^2}}{(2\pi\ell^2)^{d/2}},

is a column of a design matrix (:func:`local_term_correlators`), fitted to the exact
:math:`G_c^{(4)}` by least squares (:func:`fit_local_couplings`): the coefficients, the condition
number and the residuals say how local the network's interaction is.

>>> import numpy as np, nnsym as ns
>>> CONVENTIONS["nn-qft"]
Convention(name='nn-qft', s=1, c=24)
>>> I = kernel_integral(ns.zoo.gauss_net(2), np.zeros((1, 4, 2)), sigma_a=1.0, sigma_b=1.0)
>>> I.is_exact, bool(np.isclose(I.value[0], (1 / 2) ** 4 * np.pi))     # (sigma_a^2/2)^4 (pi d/2 sigma_b^2)^(d/2)
(True, True)
"""
from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from functools import reduce
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import sympy as sp
from scipy.integrate import cubature
from scipy.special import roots_legendre

from ..core.vectors import Dot, ScalarPoint, VectorSymbol, dot, expand_dot, vector_atoms
from ..engine.gaussian import Correlation
from ..errors import DivergentExpectation, NoClosedForm, NumericWarning
from ..model.correlator import Correlator
from ..model.network import Network
from ..numeric.bindings import Bindings
from ..numeric.kernels import as_points, evaluate
from .toolkit import SYMBOLIC_FAILURES, correlator_with_error

__all__ = [
    "Convention",
    "CONVENTIONS",
    "kernel_eft",
    "kernel_integral_closed_form",
    "kernel_integral",
    "KernelIntegral",
    "quartic_coupling",
    "QuarticCoupling",
    "lattice_quartic_coupling",
    "amputate_four_point",
    "LatticeCoupling",
    "local_term_correlators",
    "fit_local_couplings",
    "LocalFit",
    "LOCAL_TERMS",
]

_EPS = np.finfo(float).eps


# ============================================================================= conventions
class Convention(NamedTuple):
    r"""A convention for the quartic coupling, :math:`\lambda = s\,G_c^{(4)}/(c\int\prod K)`."""

    name: str
    s: int
    c: int

    def latex(self, region: str = r"\mathbb{R}^d") -> str:
        r"""The defining formula with this convention's :math:`s` and :math:`c`.

        >>> print(CONVENTIONS["nn-qft"].latex())
        \lambda = \frac{G_c^{(4)}(x_1, x_2, x_3, x_4)}{24\int_{\mathbb{R}^d} d^dy\,\prod_{i=1}^{4} K_{\rm EFT}(x_i, y)}
        """
        sign = "-" if self.s < 0 else ""
        factor = "" if self.c == 1 else str(self.c)
        return (r"\lambda = %s\frac{G_c^{(4)}(x_1, x_2, x_3, x_4)}{%s\int_{%s} d^dy\,\prod_{i=1}^{4} "
                r"K_{\rm EFT}(x_i, y)}" % (sign, factor, region))


CONVENTIONS: dict = {
    "nnsym": Convention("nnsym", -1, 1),
    "nn-qft": Convention("nn-qft", +1, 24),
}
r"""The two conventions: ``"nnsym"`` (:math:`s=-1, c=1`: :math:`\frac{\lambda}{4!}\phi^4` gives
:math:`G_c^{(4)} = -\lambda\int\prod K`; docs/conventions.md, "Effective action") and ``"nn-qft"``
(:math:`s=+1, c=24`, the NN-QFT paper's code). :math:`\lambda_{\rm nn\text{-}qft} = -\lambda_{\rm nnsym}/24`."""


def _convention(name) -> Convention:
    if isinstance(name, Convention):
        return name
    if not isinstance(name, str) or name not in CONVENTIONS:
        raise ValueError(f"unknown convention {name!r}: use one of {', '.join(map(repr, CONVENTIONS))}")
    return CONVENTIONS[name]


# ============================================================================= input checks
def _check_network(net, context: str) -> None:
    if not isinstance(net, Network):
        raise TypeError(f"{context} needs an nnsym.Network, got {type(net).__name__}")


def _tuples(net: Network, X4, context: str, name: str = "X4") -> np.ndarray:
    """Point tuples of shape (..., 4, d): real, finite, in the network's dimension."""
    X = as_points(X4, name)
    if X.ndim < 2 or X.shape[-2] != 4:
        raise ValueError(f"{context}: {name} must have shape (..., 4, d) (tuples of four points), got {X.shape}")
    if net.dim.is_Integer and X.shape[-1] != int(net.dim):
        raise ValueError(f"{context}: {name} must have shape (..., 4, {net.dim}) in d = {net.dim}, got {X.shape}")
    if X.shape[-1] < 1:
        raise ValueError(f"{context}: {name} has no coordinates (last axis of length 0)")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{context}: {name} contains inf or nan")
    return X


@dataclass(frozen=True)
class _Box:
    """A bounded box prod_j [lo_j, hi_j]."""

    lo: tuple
    hi: tuple

    @property
    def volume(self) -> float:
        return float(np.prod(np.subtract(self.hi, self.lo)))

    def latex(self) -> str:
        return r"\times".join(r"[%g, %g]" % (a, b) for a, b in zip(self.lo, self.hi))

    def __str__(self):
        return " x ".join(f"[{a:g}, {b:g}]" for a, b in zip(self.lo, self.hi))


def _region(region, D: int, context: str):
    r"""``"R^d"`` (also ``"R^1"``, ``"R^2"``, ... matching d) or a box: one ``(lo, hi)`` pair (the cube
    :math:`[lo, hi]^d`) or ``d`` pairs."""
    if isinstance(region, str):
        if region.replace(" ", "") in ("R^d", f"R^{D}", "Rd", f"R{D}"):
            return "R^d"
        raise ValueError(f"{context}: region must be 'R^d' or a box ((lo, hi) or d such pairs), got {region!r}")
    try:
        arr = np.asarray(region, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{context}: region must be 'R^d' or a box ((lo, hi) or d such pairs), "
                        f"got {region!r}") from None
    if arr.shape == (2,):
        arr = np.tile(arr, (D, 1))
    if arr.shape != (D, 2):
        raise ValueError(f"{context}: a box in d = {D} is one (lo, hi) pair or {D} pairs, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{context}: a box must be bounded (finite ends); for all of R^d pass region='R^d'")
    if np.any(arr[:, 0] >= arr[:, 1]):
        raise ValueError(f"{context}: each side of the box needs lo < hi, got {arr.tolist()}")
    return _Box(tuple(arr[:, 0]), tuple(arr[:, 1]))


# ============================================================================= the propagator K_EFT
def kernel_eft(net: Network) -> Correlator:
    r"""The propagator of the effective action,
    :math:`K_{\rm EFT}(x, y) = G^{(2)}(x, y) - \mathrm{Var}(b_{\rm out})` (just :math:`G^{(2)}` without
    an output bias), as a 2-point :class:`~nnsym.Correlator` named ``K_EFT``.

    The output bias adds a constant to :math:`G^{(2)}`, a zero mode that does not propagate.

    >>> import nnsym as ns
    >>> net = ns.zoo.erf_net(1)                    # output bias b1 ~ N(0, sigma_b^2)
    >>> net.correlator(2).expr - kernel_eft(net).expr
    sigma_b**2
    """
    _check_network(net, "kernel_eft")
    cache = net.derived_cache("couplings")
    if "K_EFT" not in cache:
        G2 = net.correlator(2)
        var = sp.S.Zero if net.bias is None else net.bias.law.variance
        if var.has(sp.oo):
            raise DivergentExpectation(f"the output bias {net.bias} has no variance: K_EFT is not defined")
        cache["K_EFT"] = Correlator(G2.expr - var, G2.points, G2.dim, name="K_EFT", network=net)
    return cache["K_EFT"]


def _point(name: str, dim):
    return ScalarPoint(name) if sp.sympify(dim) == 1 else VectorSymbol(name, dim)


def _explicit(expr):
    """Correlation(k12, k11, k22) written out as k12/sqrt(k11 k22) (for limits and derivatives)."""
    return expr.replace(lambda e: isinstance(e, Correlation), lambda e: e.args[0] / sp.sqrt(e.args[1] * e.args[2]))


class _KernelXY(NamedTuple):
    expr: sp.Expr      # K_EFT(x, y)
    x: sp.Symbol       # the external point (x_1 of G^(2))
    y: sp.Symbol       # the vertex (integration) point
    dim: sp.Expr


def _kernel_xy(net: Network) -> _KernelXY:
    cache = net.derived_cache("couplings")
    if "Kxy" not in cache:
        K = kernel_eft(net)
        x, x2 = K.points
        y = _point("y", K.dim)
        cache["Kxy"] = _KernelXY(K.expr.xreplace({x2: y}), x, y, K.dim)
    return cache["Kxy"]


# ============================================================================= Gaussian kernels in closed form
class _GaussianKernel(NamedTuple):
    r""":math:`K(x, y) = P(x)\,e^{E_0(x) - a(x)|y|^2 + b(x)\cdot y}`."""

    prefactor: sp.Expr
    E0: sp.Expr
    a: sp.Expr
    b: sp.Expr       # a vector expression in x (a scalar in d = 1)


def _exponent_of(f, y):
    """The exponent of a factor exp(u) or exp(u)**k with k free of y; None otherwise."""
    if isinstance(f, sp.exp):
        return f.args[0]
    if f.is_Pow and isinstance(f.base, sp.exp) and not f.exp.has(y):
        return f.base.args[0] * f.exp
    return None


def _gaussian_form(Kxy: _KernelXY) -> _GaussianKernel | None:
    r"""Write :math:`K(x,y)` as :math:`P(x)e^{E_0(x) - a(x)|y|^2 + b(x)\cdot y}`, or None if its log is not a
    quadratic polynomial in :math:`y` of this isotropic form."""
    K, y = Kxy.expr, Kxy.y
    if not K.has(y):
        return None
    pref, expo = sp.S.One, sp.S.Zero
    for f in sp.Mul.make_args(sp.powsimp(K, combine="exp")):
        if not f.has(y):
            pref *= f
            continue
        u = _exponent_of(f, y)
        if u is None:
            return None
        expo += u
    expo = sp.expand(expand_dot(expo))
    E0, a, b = sp.S.Zero, sp.S.Zero, sp.S.Zero
    if isinstance(y, ScalarPoint):
        poly = expo.as_poly(y)
        if poly is None or poly.degree() > 2 or any(c.has(y) for c in poly.all_coeffs()):
            return None
        E0, b, a = expo.coeff(y, 0), expo.coeff(y, 1), -expo.coeff(y, 2)
    else:
        for term in sp.Add.make_args(expo):
            if not term.has(y):
                E0 += term
                continue
            dots = [f for f in sp.Mul.make_args(term) if f.has(y)]
            if len(dots) != 1 or not isinstance(dots[0], Dot):
                return None
            coeff = term / dots[0]
            u, v = dots[0].args
            if u == y and v == y:
                a -= coeff
            elif u == y or v == y:
                other = v if u == y else u
                if other.has(y):
                    return None
                b += coeff * other
            else:
                return None
    if a == 0:
        return None
    return _GaussianKernel(pref, E0, a, b)


def _gaussian_kernel(net: Network) -> _GaussianKernel | None:
    cache = net.derived_cache("couplings")
    if "gaussian" not in cache:
        cache["gaussian"] = _gaussian_form(_kernel_xy(net))
    return cache["gaussian"]


def _at(g: _GaussianKernel, x, xi):
    """The Gaussian form of K(x_i, y)."""
    sub = {x: xi}
    return _GaussianKernel(*(sp.sympify(e).xreplace(sub) for e in g))


def _dot(u, v):
    return sp.expand(expand_dot(dot(u, v)))


def _gaussian_integral_parts(net: Network, legs: Sequence) -> tuple:
    r"""For :math:`\prod_{i\in\text{legs}} K(x_i, y) = C\,e^{-A|y|^2 + B\cdot y}`: (C, A, B)."""
    g = _gaussian_kernel(net)
    x = _kernel_xy(net).x
    parts = [_at(g, x, xi) for xi in legs]
    C = sp.Mul(*[p.prefactor for p in parts]) * sp.exp(sp.Add(*[p.E0 for p in parts]))
    return C, sp.Add(*[p.a for p in parts]), sp.Add(*[p.b for p in parts]), parts


def _require_gaussian(net: Network, context: str) -> _GaussianKernel:
    g = _gaussian_kernel(net)
    if g is None:
        raise NoClosedForm(f"{context}: K_EFT(x, y) = {_kernel_xy(net).expr} is not of the Gaussian form "
                           "P(x) exp(E0(x) - a(x)|y|^2 + b(x).y), so nnsym has no closed form of its integral over R^d")
    return g


def kernel_integral_closed_form(net: Network) -> Correlator:
    r"""The closed form of :math:`I(x_1,\dots,x_4) = \int_{\mathbb R^d} d^dy\,\prod_{i=1}^4 K_{\rm EFT}(x_i, y)`
    for a kernel Gaussian in :math:`y`, :math:`K = P(x)e^{E_0(x) - a(x)|y|^2 + b(x)\cdot y}`:

    .. math:: I = \prod_i P(x_i)\,e^{\sum_i E_0(x_i)}\Big(\frac{\pi}{A}\Big)^{d/2} e^{|B|^2/4A},\qquad
              A = \sum_i a(x_i),\quad B = \sum_i b(x_i),

    valid for :math:`A > 0` (checked by :func:`kernel_integral` at the values). Symbolic in :math:`d`
    and in the points; a 4-point :class:`~nnsym.Correlator` named ``I``. Raises
    :class:`~nnsym.errors.NoClosedForm` for any other kernel (:func:`kernel_integral` then decides
    convergence).

    >>> import sympy as sp, nnsym as ns
    >>> I = kernel_integral_closed_form(ns.zoo.gauss_net(1))
    >>> sp.simplify(I.expr.subs({p: 0 for p in I.points}))      # (sigma_a^2/2)^4 (pi/(2 sigma_b^2))^(1/2)
    sqrt(2)*sqrt(pi)*sigma_a**8/(32*sigma_b)
    """
    _check_network(net, "kernel_integral_closed_form")
    cache = net.derived_cache("couplings")
    if "I" not in cache:
        _require_gaussian(net, "kernel_integral_closed_form")
        X = net.points(4)
        C, A, B, _ = _gaussian_integral_parts(net, X)
        d = net.dim
        A = sp.factor_terms(sp.simplify(A))
        exponent = sp.expand(_dot(B, B) / (4 * A))
        expr = C * (sp.pi / A) ** (d / 2) * sp.exp(exponent)
        expr = sp.powsimp(expr, combine="exp")
        cache["I"] = Correlator(expr, X, d, name="I", network=net)
        cache["I_A"] = A
    return cache["I"]


def _decay_rate(net: Network, X: np.ndarray, bindings: Bindings, context: str) -> None:
    r"""Refuse (``DivergentExpectation``) where :math:`A = \sum_i a(x_i) \le 0`: the integrand does not decay."""
    kernel_integral_closed_form(net)
    A = net.derived_cache("couplings")["I_A"]
    vals = np.broadcast_to(np.asarray(evaluate(A, net.points(4), net.dim, X, bindings, {}), float), X.shape[:-2])
    bad = ~(vals > 0)
    if np.any(bad):
        k = np.argwhere(bad)[0]
        raise DivergentExpectation(
            f"{context}: the integral over R^d of prod_i K_EFT(x_i, y) = C exp(-A|y|^2 + B.y) diverges where "
            f"A = {A} <= 0 (A = {vals[tuple(k)]:g} at tuple {tuple(int(j) for j in k)}): the integrand does not decay")


# ============================================================================= convergence along rays
@dataclass
class _RayLimit:
    """K_EFT(x, r u) ~ coeff * r^power as r -> oo (generic in x: coeff is an expression)."""

    power: int
    coeff: sp.Expr
    args: tuple          # the symbols coeff depends on: (q, t) in d >= 2, (x,) in d = 1
    fn: Callable


_RAY_POWERS = (0, 1, 2, 3, 4)


def _is_finite_limit(L) -> bool:
    return not (isinstance(L, sp.Limit) or L.has(sp.oo, -sp.oo, sp.zoo, sp.nan, sp.AccumBounds, sp.Limit))


def _leading(F, r, max_decay: int) -> tuple | None:
    r"""(k, L) with :math:`F \sim L\,r^k`, :math:`L = \lim F/r^k \ne 0` finite, k an integer; ``(None, 0)``
    when :math:`F = o(r^{-\text{max\_decay}})` (or vanishes along the ray); None if undecided."""
    for k in _RAY_POWERS:
        L = sp.limit(F / r**k, r, sp.oo)
        if not _is_finite_limit(L):
            continue
        if L == 0 and k == 0:
            break
        if L == 0:
            return None  # between two integer powers
        return k, L
    else:
        return None
    for k in range(-1, -max_decay - 1, -1):
        L = sp.limit(F * r ** (-k), r, sp.oo)
        if not _is_finite_limit(L):
            return None
        if L != 0:
            return k, L
    return None, sp.S.Zero


def _ray_form(net: Network, D: int, hv: dict, u_sign: int | None = None):
    r"""K_EFT(x, r u) with numbers for the hyper-parameters: (F(r, args), r, args). d >= 2: args = (q, t),
    q = |x|^2, t = x.u; d = 1: args = (x,), with u = u_sign."""
    Kxy = _kernel_xy(net)
    K = _explicit(Kxy.expr)
    r = sp.Symbol("r", positive=True)
    numbers = {s: sp.Rational(repr(float(v))) for s, v in hv.items()}
    if isinstance(Kxy.y, ScalarPoint):
        F = K.xreplace({Kxy.y: u_sign * r})
        x = sp.Symbol("x", real=True)
        F = F.xreplace({Kxy.x: x})
        args = (x,)
    else:
        q, t = sp.Symbol("q", nonnegative=True), sp.Symbol("t", real=True)
        K = expand_dot(K)
        x, y = Kxy.x, Kxy.y
        F = K.xreplace({Dot(x, x): q, Dot(x, y): r * t, Dot(y, x): r * t, Dot(y, y): r**2})
        if vector_atoms(F):
            raise NoClosedForm("K_EFT(x, y) is not a function of |x|^2, x.y and |y|^2 only: nnsym cannot decide "
                               "the convergence of its integral over R^d along rays")
        args = (q, t)
    F = F.xreplace(numbers)
    if not Kxy.dim.is_Integer:
        F = F.xreplace({Kxy.dim: sp.Integer(D)})
    return F, r, args


def _ray_limit(net: Network, D: int, hv: dict, u_sign: int | None = None) -> _RayLimit | None:
    key = ("ray", D, tuple(sorted((s.name, float(v)) for s, v in hv.items())), u_sign)
    cache = net.derived_cache("couplings")
    if key not in cache:
        F, r, args = _ray_form(net, D, hv, u_sign)
        try:
            lead = _leading(F, r, max_decay=D + 1)
        except SYMBOLIC_FAILURES:
            lead = None
        if lead is None or lead[0] is None:
            cache[key] = None
        else:
            k, L = lead
            cache[key] = _RayLimit(k, L, args, sp.lambdify(args, L, modules="numpy"))
    return cache[key]


def _ray_limit_at(net: Network, D: int, hv: dict, u_sign, numbers: tuple) -> tuple | None:
    """(k, L) at one point (numbers for the args), when the generic coefficient vanishes there."""
    F, r, args = _ray_form(net, D, hv, u_sign)
    F = F.xreplace({a: sp.Rational(repr(float(v))) for a, v in zip(args, numbers)})
    try:
        lead = _leading(F, r, max_decay=D + 1)
    except SYMBOLIC_FAILURES:
        return None
    return None if lead is None else (lead[0], float(lead[1]))  # (None, 0.0): faster than any power tried


def _pretty_limit(lim: _RayLimit) -> str:
    if len(lim.args) == 2:
        q, t = lim.args
        L = lim.coeff.xreplace({q: sp.Symbol("|x|^2"), t: sp.Symbol("x.u")})
    else:
        L = lim.coeff
    if lim.power == 0:
        return f"K_EFT(x, r u) -> {L}"
    return f"K_EFT(x, r u) ~ r^{lim.power} * {L}"


def _refuse_over_rd(net: Network, X: np.ndarray, bindings: Bindings, context: str):
    r"""A kernel that is not Gaussian: decide the integral over :math:`\mathbb R^d` along rays and raise,
    ``DivergentExpectation`` (divergent) or ``NoClosedForm`` (convergent or undecided)."""
    D = X.shape[-1]
    Kxy = _kernel_xy(net)
    syms = sorted(Kxy.expr.free_symbols - {Kxy.x, Kxy.y} - ({Kxy.dim} if not Kxy.dim.is_Integer else set()),
                  key=sp.default_sort_key)
    syms = [s for s in syms if not isinstance(s, (VectorSymbol, ScalarPoint))]
    hv = bindings.require(syms, context)
    Xf = X.reshape(-1, 4, D)
    if D == 1:
        directions = [(np.array([1.0]), 1), (np.array([-1.0]), -1)]
    else:
        rng = np.random.default_rng(0)
        U = rng.normal(size=(3, D))
        directions = [(u / np.linalg.norm(u), None) for u in U]
    undecided, decays = [], []
    for u, u_sign in directions:
        lim = _ray_limit(net, D, hv, u_sign)
        if lim is None:
            undecided.append("the leading power of K_EFT(x, r u) as r -> oo")
            continue
        if D == 1:
            args = (Xf[:, :, 0],)
        else:
            args = (np.einsum("tid,tid->ti", Xf, Xf), Xf @ u)
        with np.errstate(all="ignore"):
            coeff = np.broadcast_to(np.asarray(lim.fn(*args), dtype=complex), Xf.shape[:2])
        for t in range(Xf.shape[0]):
            powers, cs = [], []
            for i in range(4):
                c = coeff[t, i]
                if np.isfinite(c) and abs(c.imag) <= 1e-12 * max(1.0, abs(c.real)) and c.real != 0:
                    powers.append(lim.power)
                    cs.append(c.real)
                    continue
                pt = (Xf[t, i, 0],) if D == 1 else (float(args[0][t, i]), float(args[1][t, i]))
                at = _ray_limit_at(net, D, hv, u_sign, pt)
                if at is None:
                    break
                powers.append(at[0])
                cs.append(at[1])
            if len(powers) < 4:
                undecided.append(f"the leading behaviour of K_EFT(x_i, r u) at tuple {t}")
                continue
            if None in powers:  # one leg decays faster than any power tried (or vanishes) along this ray
                decays.append(f"faster than r^-{D + 1}")
                continue
            kappa = sum(powers)
            if kappa >= -D:
                where = "tends to" if kappa == 0 else f"~ r^{kappa} times"
                raise DivergentExpectation(
                    f"{context}: the integral over R^{D} of prod_i K_EFT(x_i, y) diverges. Along the ray y = r u "
                    f"(u = {np.round(u, 3).tolist()}), r -> oo, {_pretty_limit(lim)}"
                    f"{' (a non-zero function of the direction)' if lim.power == 0 else ''}; at tuple {t} the "
                    f"integrand {where} {float(np.prod(cs)):.4g} != 0, and int^oo r^({D - 1}) r^({kappa}) dr diverges "
                    "(so does a neighbourhood of directions). Integrate over a bounded box instead "
                    "(region=((lo, hi), ...)).")
            decays.append(f"like r^{kappa}")
    if undecided:
        raise NoClosedForm(f"{context}: K_EFT(x, y) is not Gaussian in y and nnsym could not decide {undecided[0]}: "
                           "no number is returned for the integral over R^d; integrate over a bounded box instead")
    raise NoClosedForm(f"{context}: the integrand decays ({', '.join(sorted(set(decays)))}) along the directions tried "
                       f"(so the integral over R^{D} converges there), but K_EFT(x, y) is not Gaussian in y and nnsym "
                       "has no closed form; integrate over a bounded box instead")


# ============================================================================= numbers: K_EFT, its gradient, cubature
class _PairFunction:
    """A compiled expression f(x, y) evaluated on external points x (..., D) and vertex points y."""

    def __init__(self, expr, x, y, dim, bindings: Bindings):
        self.expr, self.points, self.dim, self.bindings = sp.sympify(expr), (x, y), dim, bindings
        self.cache: dict = {}
        self.zero = self.expr == 0

    def __call__(self, Xe: np.ndarray, Yv: np.ndarray) -> np.ndarray:
        """Xe: (T, 4, D) external points; Yv: (P, D) vertex points -> (P, T, 4)."""
        P, (T, n, D) = Yv.shape[0], Xe.shape
        if self.zero:
            return np.zeros((P, T, n))
        pairs = np.empty((P, T, n, 2, D))
        pairs[:, :, :, 0, :] = Xe[None]
        pairs[:, :, :, 1, :] = Yv[:, None, None, :]
        out = evaluate(self.expr, self.points, self.dim, pairs, self.bindings, self.cache)
        return np.broadcast_to(np.asarray(out, dtype=float), (P, T, n))


def _gradient_parts(net: Network, hv: dict) -> tuple:
    r""":math:`\nabla_y K(x,y) = \alpha(x,y)\,x + \beta(x,y)\,y + \gamma(x,y)` (:math:`\gamma`: d = 1 only), with
    the numbers ``hv`` (symbol -> value) put in before differentiating, so that a value at the edge of its
    range (:math:`\sigma_b = 0`) needs no limit. ``NoClosedForm`` when the derivative is not finite there."""
    key = ("grad", tuple(sorted((s.name, float(v)) for s, v in hv.items())))
    cache = net.derived_cache("couplings")
    if key not in cache:
        Kxy = _kernel_xy(net)
        K = _explicit(Kxy.expr).xreplace({s: sp.Rational(repr(float(v))) for s, v in hv.items()})
        x, y = Kxy.x, Kxy.y
        if isinstance(y, ScalarPoint):
            parts = (sp.S.Zero, sp.S.Zero, sp.diff(K, y))
        else:
            K = expand_dot(K)
            xy, yy = sp.Dummy("xy"), sp.Dummy("yy")
            Kd = K.xreplace({Dot(x, y): xy, Dot(y, x): xy, Dot(y, y): yy})
            if Kd.has(y):
                raise NoClosedForm("the gradient of K_EFT(x, y) needs a kernel in |x|^2, x.y and |y|^2 only")
            back = {xy: Dot(x, y), yy: Dot(y, y)}
            parts = (sp.diff(Kd, xy).xreplace(back), 2 * sp.diff(Kd, yy).xreplace(back), sp.S.Zero)
        if any(p.has(sp.zoo, sp.nan, sp.oo, -sp.oo) for p in parts):
            raise NoClosedForm(f"the y-gradient of K_EFT(x, y) at these values is not finite as written "
                               f"({', '.join(f'{s.name} = {v:g}' for s, v in hv.items())}): the phi^2 (d phi)^2 "
                               "column cannot be integrated")
        cache[key] = parts
    return cache[key]


class _Legs:
    """K_EFT(x_i, y) and its y-gradient at numbers, for cubature integrands."""

    def __init__(self, net: Network, bindings: Bindings, gradient: bool = False):
        Kxy = _kernel_xy(net)
        self.K = _PairFunction(Kxy.expr, Kxy.x, Kxy.y, Kxy.dim, bindings)
        if gradient:
            syms = [t for t in Kxy.expr.free_symbols - {Kxy.x, Kxy.y, Kxy.dim}
                    if not isinstance(t, (VectorSymbol, ScalarPoint))]
            hv = bindings.require(sorted(syms, key=sp.default_sort_key))
            self.grad = [_PairFunction(e, Kxy.x, Kxy.y, Kxy.dim, bindings) for e in _gradient_parts(net, hv)]

    def values(self, Xe, Yv):
        return self.K(Xe, Yv)

    def gradients(self, Xe, Yv) -> np.ndarray:
        """(P, T, 4, D)"""
        try:
            al, be, ga = (f(Xe, Yv) for f in self.grad)
        except FloatingPointError as exc:
            raise NoClosedForm(f"the y-gradient of K_EFT(x, y) is not finite at some points of the box ({exc}): "
                               "the phi^2 (d phi)^2 column cannot be integrated there") from None
        return al[..., None] * Xe[None] + be[..., None] * Yv[:, None, None, :] + ga[..., None]


_CHUNK = 200_000  # point-tuple pairs per evaluation (memory)


def _chunked(f: Callable, T: int) -> Callable:
    def g(Yv):
        step = max(1, _CHUNK // max(T, 1))
        return np.concatenate([f(Yv[k:k + step]) for k in range(0, Yv.shape[0], step)], axis=0)
    return g


def _cubature(f: Callable, lo: np.ndarray, hi: np.ndarray, T: int, scale: float, kinks: Sequence = (),
              rtol: float = 1e-9) -> tuple:
    r"""Adaptive cubature of a vector integrand (P, ndim) -> (P, T) over a box; (estimate, error, converged).

    Tensor Gauss-Kronrod rules (21 points per axis up to two dimensions, 15 above); ``scale`` bounds
    :math:`|f|` times the volume (from the legs, not from ``f``, which may cancel), and the absolute
    tolerance is :math:`10^{-13}` of it, so that an integral that is exactly 0 terminates."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    f = _chunked(f, T)
    atol = 1e-13 * scale if scale > 0 else 1e-300
    rule = "gk21" if lo.size <= 2 else "gk15"
    pts = [np.asarray(p, float) for p in kinks if np.all(p > lo) and np.all(p < hi)]
    res = cubature(f, lo, hi, rule=rule, rtol=rtol, atol=atol, max_subdivisions=20000, points=pts or None)
    est, err = np.asarray(res.estimate, float), np.asarray(res.error, float)
    if not np.all(np.isfinite(est)):
        raise FloatingPointError("the cubature of the kernel product produced inf or nan (the kernel is not "
                                 "finite somewhere in the box)")
    # rounding: a sum of terms bounded by scale (an upper bound of the integral of |f|)
    return est, err + 16 * _EPS * max(scale, float(np.max(np.abs(est), initial=0.0))), res.status == "converged"


def _leg_scales(legs: "_Legs", Xf: np.ndarray, box: _Box, gradient: bool = False) -> tuple:
    """max |K_EFT(x_i, y)| (and max |grad_y K|) over the tuples' points and a sample of the box."""
    lo, hi = np.array(box.lo), np.array(box.hi)
    grid = lo + (hi - lo) * np.random.default_rng(0).random((256, lo.size))
    grid = np.concatenate([grid, lo[None], hi[None]])
    k = float(np.max(np.abs(legs.values(Xf, grid)), initial=0.0))
    g = float(np.max(np.linalg.norm(legs.gradients(Xf, grid), axis=-1), initial=0.0)) if gradient else 0.0
    return k, g


def _box_integral(net: Network, X: np.ndarray, box: _Box, bindings: Bindings, context: str) -> tuple:
    Xf = X.reshape(-1, 4, X.shape[-1])
    legs = _Legs(net, bindings)

    def integrand(Yv):
        return np.prod(legs.values(Xf, Yv), axis=-1)

    kmax, _ = _leg_scales(legs, Xf, box)
    est, err, ok = _cubature(integrand, box.lo, box.hi, Xf.shape[0], kmax**4 * box.volume,
                             kinks=[np.zeros(X.shape[-1])])
    if not ok:
        warnings.warn(NumericWarning(f"{context}: the cubature over {box} did not reach its tolerance; the stated "
                                     f"error {float(np.max(err)):.3g} is the estimate where it stopped",
                                     float(np.max(err))), stacklevel=3)
    return est.reshape(X.shape[:-2]), err.reshape(X.shape[:-2])


# ============================================================================= kernel integral
@dataclass
class KernelIntegral:
    r""":math:`I(x_1,\dots,x_4) = \int_R d^dy\,\prod_{i=1}^4 K_{\rm EFT}(x_i, y)` at a batch of tuples.

    ``value`` and ``error`` (a bound on :math:`|I_{\rm num} - I|`, 0 for a closed form) have the batch
    shape of the tuples; ``is_exact``; ``region`` (``"R^d"`` or the box); ``closed_form`` (the
    :class:`~nnsym.Correlator` of :func:`kernel_integral_closed_form`, or None)."""

    value: np.ndarray
    error: np.ndarray
    is_exact: bool
    region: Any
    closed_form: Correlator | None = None

    def __repr__(self):
        kind = "closed form" if self.is_exact else f"cubature, error <= {float(np.max(self.error)):.2g}"
        values = np.array2string(np.asarray(self.value), precision=6)
        return f"KernelIntegral(region={self.region}, {kind}, value={values})"


def kernel_integral(net: Network, X4, region="R^d", **values) -> KernelIntegral:
    r""":math:`I(x_1,\dots,x_4) = \int_R d^dy\,\prod_{i=1}^4 K_{\rm EFT}(x_i, y)` at the tuples ``X4``
    (shape ``(..., 4, d)``).

    ``region="R^d"``: the closed form :func:`kernel_integral_closed_form` when :math:`K_{\rm EFT}` is
    Gaussian in :math:`y` (refused, ``DivergentExpectation``, where its decay rate :math:`A\le 0`, e.g.
    :math:`\sigma_b = 0`); otherwise the integrand along rays :math:`y = ru` decides:
    :math:`\prod_i K_{\rm EFT}(x_i, ru)\sim C(u)\,r^\kappa` with :math:`C\ne0` and :math:`\kappa\ge-d`
    diverges (``DivergentExpectation``, naming the kernel's limit); anything else raises
    ``NoClosedForm``. ``region`` a box (``(lo, hi)`` for the cube, or d pairs): adaptive cubature
    (:func:`scipy.integrate.cubature`, Gauss-Kronrod rules) with the
    stated error its estimate.

    >>> import numpy as np, nnsym as ns
    >>> X4 = np.zeros((1, 4, 1))
    >>> I = kernel_integral(ns.zoo.gauss_net(1), X4, sigma_a=1.0, sigma_b=1.0)
    >>> bool(np.isclose(I.value[0], (1 / 2) ** 4 * np.sqrt(np.pi / 2))), I.is_exact
    (True, True)
    >>> kernel_integral(ns.zoo.erf_net(1), X4 + 0.5, sigma_W=1.0, sigma_b=1.0)
    Traceback (most recent call last):
    ...
    nnsym.errors.DivergentExpectation: kernel_integral: the integral over R^1 of prod_i K_EFT(x_i, y) diverges. ...
    """
    _check_network(net, "kernel_integral")
    X = _tuples(net, X4, "kernel_integral")
    bindings = net.bind(values, "kernel_integral")
    return _kernel_integral(net, X, _region(region, X.shape[-1], "kernel_integral"), bindings, "kernel_integral")


def _kernel_integral(net: Network, X: np.ndarray, region, bindings: Bindings, context: str) -> KernelIntegral:
    if region == "R^d":
        if _gaussian_kernel(net) is None:
            _refuse_over_rd(net, X, bindings, context)
        I = kernel_integral_closed_form(net)
        _decay_rate(net, X, bindings, context)
        v = np.broadcast_to(np.asarray(I.evaluate_bound(X, bindings), float), X.shape[:-2])
        return KernelIntegral(v, np.zeros(v.shape), True, "R^d", I)
    v, e = _box_integral(net, X, region, bindings, context)
    return KernelIntegral(v, e, False, region, None)


# ============================================================================= G_c^(4) with its error
# ============================================================================= the quartic coupling
@dataclass
class QuarticCoupling:
    r"""The position-space quartic coupling :math:`\lambda = s\,G_c^{(4)}/(c\,I)` at a batch of tuples.

    Attributes: ``value``, ``error`` (a bound on the absolute error; 0 when exact), ``convention``
    (a :class:`Convention` with ``s`` and ``c``), ``is_exact``, ``region``, ``X4`` (the tuples),
    ``connected`` (:math:`G_c^{(4)}` values), ``connected_error``, ``integral`` (a :class:`KernelIntegral`),
    ``expr`` (the closed form :math:`s\,G_c^{(4)}/(c\,I)` in the points when both are exact, else None).
    :meth:`to` converts between conventions; :meth:`latex` shows the definition."""

    value: np.ndarray
    error: np.ndarray
    convention: Convention
    is_exact: bool
    region: Any
    X4: np.ndarray
    connected: np.ndarray
    connected_error: np.ndarray
    integral: KernelIntegral
    expr: sp.Expr | None = None

    def to(self, convention: str) -> "QuarticCoupling":
        r"""The same coupling in another convention: :math:`\lambda' = \frac{s'/c'}{s/c}\,\lambda`
        (:math:`\lambda_{\rm nn\text{-}qft} = -\lambda_{\rm nnsym}/24`)."""
        new = _convention(convention)
        ratio = sp.Rational(new.s * self.convention.c, new.c * self.convention.s)
        f = float(ratio)
        return QuarticCoupling(self.value * f, self.error * abs(f), new, self.is_exact, self.region, self.X4,
                               self.connected, self.connected_error, self.integral,
                               None if self.expr is None else ratio * self.expr)

    @property
    def s(self) -> int:
        return self.convention.s

    @property
    def c(self) -> int:
        return self.convention.c

    def latex(self) -> str:
        r"""The defining formula with this convention's :math:`s` and :math:`c` (and the region)."""
        region = r"\mathbb{R}^d" if self.region == "R^d" else self.region.latex()
        head = self.convention.latex(region)
        return head + r" \quad (\text{convention %s: } s = %+d,\ c = %d)" % (self.convention.name, self.s, self.c)

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def __repr__(self):
        kind = "exact" if self.is_exact else f"numeric, error <= {float(np.max(self.error, initial=0)):.2g}"
        return (f"QuarticCoupling(convention={self.convention.name!r} (s={self.s:+d}, c={self.c}), "
                f"region={self.region}, {kind}, value={np.array2string(np.asarray(self.value), precision=6)})")


def quartic_coupling(net: Network, X4, region="R^d", convention: str = "nnsym", **values) -> QuarticCoupling:
    r"""The quartic coupling of the effective action at the point tuples ``X4`` (shape ``(..., 4, d)``),

    .. math:: \lambda(x_1,\dots,x_4) = \frac{s\,G_c^{(4)}(x_1,\dots,x_4)}
              {c\int_R d^dy\,\prod_{i=1}^4 K_{\rm EFT}(x_i,y)},

    ``convention="nnsym"`` (:math:`s=-1, c=1`: the local :math:`\frac{\lambda}{4!}\phi^4` gives
    :math:`G_c^{(4)} = -\lambda\int\prod K`) or ``"nn-qft"`` (:math:`s=+1, c=24`, the NN-QFT paper's
    code); :math:`\lambda_{\rm nn\text{-}qft} = -\lambda_{\rm nnsym}/24`. ``region``: ``"R^d"`` or a box,
    as in :func:`kernel_integral` (a divergent integral is refused, never integrated).
    :math:`G_c^{(4)}` is ``net.correlator(4, connected=True)``; a part of it left to quadrature (erf,
    ReLU nets) carries its stated error, and the error of :math:`\lambda` bounds
    :math:`|G/I - \hat G/\hat I|\le(\epsilon_G + |\hat G/\hat I|\,\epsilon_I)/(|\hat I| - \epsilon_I)`.
    A tuple where the integral is not distinguishable from 0 is refused (``ValueError``).

    >>> import numpy as np, nnsym as ns
    >>> X4 = np.zeros((1, 4, 2))
    >>> lam = quartic_coupling(ns.zoo.gauss_net(2), X4, sigma_a=1.0, sigma_b=1.0, sigma_c=0.0, N=10)
    >>> float(lam.value[0]) == 0.0, lam          # G_c^(4)(0, 0, 0, 0) = (3 - 3) sigma_a^4/(4N) at sigma_c = 0
    (True, QuarticCoupling(convention='nnsym' (s=-1, c=1), region=R^d, exact, value=[-0.]))
    """
    _check_network(net, "quartic_coupling")
    conv = _convention(convention)
    X = _tuples(net, X4, "quartic_coupling")
    bindings = net.bind(values, "quartic_coupling")
    reg = _region(region, X.shape[-1], "quartic_coupling")
    I = _kernel_integral(net, X, reg, bindings, "quartic_coupling")
    G4c = net.correlator(4, connected=True)
    G, eG, numeric = correlator_with_error(G4c, X, bindings)
    Iv, eI = I.value, I.error
    small = ~(np.abs(Iv) > eI) | (Iv == 0)
    if np.any(small):
        k = tuple(int(j) for j in np.argwhere(small)[0])
        raise ValueError(f"quartic_coupling: the kernel integral vanishes at tuple {k} "
                         f"(I = {Iv[k]:.3g} +- {eI[k]:.2g}): the coupling is not defined there")
    ratio = conv.s / conv.c
    value = ratio * G / Iv
    with np.errstate(divide="ignore"):
        err = abs(ratio) * (eG + np.abs(G / Iv) * eI) / (np.abs(Iv) - eI)
    err = np.where(eG + eI == 0, 0.0, err)
    exact = I.is_exact and not numeric
    expr = sp.Rational(conv.s, conv.c) * G4c.expr / I.closed_form.expr if exact else None
    return QuarticCoupling(value, err, conv, exact, reg, X, G, eG, I, expr)


# ============================================================================= the lattice
@dataclass
class LatticeCoupling:
    r"""The amputated lattice vertex :math:`\lambda_{abcd}` (nnsym convention,
    :math:`\frac{1}{4!}\sum\lambda_{abcd}\phi_a\phi_b\phi_c\phi_d`).

    Attributes: ``vertex`` (M, M, M, M); ``condition_number`` of :math:`K`; ``error``: a bound on the
    Frobenius norm of the error of ``vertex`` (first order in the errors of :math:`G_c` and :math:`K`,
    amplified by :math:`\|K^{-1}\|_2^4`); ``relative_error`` (``error / ||vertex||``); ``diagonal``
    (:math:`\lambda_{aaaa}`); ``locality`` (:math:`\|\text{diagonal}\|/\|\lambda\|`, 1 for a lattice-local
    vertex); ``points`` (the lattice, or None), ``kernel`` (the matrix K), ``connected`` (the tensor :math:`G_c`)."""

    vertex: np.ndarray
    condition_number: float
    error: float
    relative_error: float
    kernel: np.ndarray
    connected: np.ndarray
    points: np.ndarray | None = None

    @property
    def diagonal(self) -> np.ndarray:
        M = self.vertex.shape[0]
        return self.vertex[(np.arange(M),) * 4]

    @property
    def locality(self) -> float:
        n = float(np.linalg.norm(self.vertex))
        return float(np.linalg.norm(self.diagonal)) / n if n > 0 else float("nan")

    def __repr__(self):
        return (f"LatticeCoupling(M={self.vertex.shape[0]}, cond(K)={self.condition_number:.3g}, "
                f"error <= {self.error:.2g} (relative {self.relative_error:.2g}), locality={self.locality:.4f})")


def amputate_four_point(connected, kernel, connected_error: float = 0.0, points=None) -> LatticeCoupling:
    r"""Amputate a lattice 4-point function:
    :math:`\lambda_{abcd} = -\sum_{efgh} G_{efgh}\,K^{-1}_{ea}K^{-1}_{fb}K^{-1}_{gc}K^{-1}_{hd}`.

    ``connected``: the tensor :math:`G_c^{(4)}(y_e, y_f, y_g, y_h)` (M, M, M, M); ``kernel``: the symmetric
    M x M matrix :math:`K(y_a, y_b)`; ``connected_error``: a bound on the absolute error of each entry
    of ``connected``. Each leg is a linear solve with :math:`K`. The stated ``error`` bounds (to first order)

    .. math:: \|\delta\lambda\|_F \le \|K^{-1}\|_2^4\,\|\delta G\|_F + 4\,\|\lambda\|_F\,\|K^{-1}\|_2\,\|\delta K\|_2,

    with :math:`\delta G` the stated error plus a rounding of :math:`8\epsilon\|G\|_F`, and
    :math:`\|\delta K\|_2 = 2M\epsilon\|K\|_2` (the rounding of :math:`K` and the backward error of each solve).
    Refused (``ValueError``) when :math:`K` is singular or the bound is as large as the vertex itself
    (points closer than the kernel's correlation length resolves); a ``NumericWarning`` when the relative
    bound exceeds :math:`10^{-6}`.

    A lattice-local vertex comes back on the diagonal:

    >>> import numpy as np
    >>> y = np.arange(4.0); K = np.exp(-(y[:, None] - y[None, :]) ** 2 / 2)
    >>> G = -0.3 * np.einsum("ay,by,cy,dy->abcd", K, K, K, K)       # lambda = 0.3, w_y = 1
    >>> lat = amputate_four_point(G, K)
    >>> bool(np.allclose(lat.diagonal, 0.3)), float(np.round(lat.locality, 6))
    (True, 1.0)
    """
    G = np.asarray(connected, dtype=float)
    K = np.asarray(kernel, dtype=float)
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"amputate_four_point: the kernel must be a square matrix, got shape {K.shape}")
    M = K.shape[0]
    if G.shape != (M,) * 4:
        raise ValueError(f"amputate_four_point: the 4-point tensor must have shape {(M,) * 4}, got {G.shape}")
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(K))):
        raise ValueError("amputate_four_point: the kernel or the 4-point tensor contains inf or nan")
    if not np.allclose(K, K.T, rtol=1e-12, atol=0):
        raise ValueError("amputate_four_point: the kernel matrix K(y_a, y_b) must be symmetric")
    connected_error = float(connected_error)
    if not (connected_error >= 0 and math.isfinite(connected_error)):
        raise ValueError(f"amputate_four_point: connected_error must be a finite number >= 0, got {connected_error}")
    sv = np.linalg.svd(K, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    why = ("K_EFT on these points is too close to singular: points nearer to each other than the kernel's "
           "correlation length resolves (or repeated points) make its rows nearly equal")
    if not math.isfinite(cond) or cond * M * _EPS >= 1:
        raise ValueError(f"amputate_four_point: the lattice kernel is singular (condition number {cond:.3g}); {why}")
    vertex = G
    for axis in range(4):
        moved = np.moveaxis(vertex, axis, 0)
        solved = np.linalg.solve(K, moved.reshape(M, -1)).reshape(moved.shape)
        vertex = np.moveaxis(solved, 0, axis)
    vertex = -vertex
    inv = 1.0 / sv[-1]
    size = float(np.linalg.norm(vertex))
    dG = connected_error * M**2 + 8 * _EPS * float(np.linalg.norm(G))
    # delta(K^-1) = -K^-1 dK K^-1 on each of four legs, with dK the rounding of K and the backward error
    # of each solve (M eps ||K||): ||delta lambda|| <= 4 ||lambda|| ||K^-1|| ||dK|| (twice, to be safe)
    error = inv**4 * dG + 8 * M * _EPS * cond * size
    rel = error / size if size > 0 else (0.0 if error == 0 else float("inf"))
    if rel >= 1:
        raise ValueError(f"amputate_four_point: cannot trust the amputated vertex: amputating four legs multiplies "
                         f"errors by up to ||K^-1||^4 = {inv ** 4:.3g} (condition number {cond:.3g}), and the error "
                         f"bound {error:.3g} exceeds the vertex's size {size:.3g}; {why}")
    if rel > 1e-6:
        warnings.warn(NumericWarning(f"the amputated lattice vertex has a relative error of up to {rel:.2g} "
                                     f"(condition number of K: {cond:.3g}, amplified to the fourth power)", error),
                      stacklevel=2)
    return LatticeCoupling(vertex, cond, error, rel, K, G, None if points is None else np.asarray(points))


def lattice_quartic_coupling(net: Network, Y, **values) -> LatticeCoupling:
    r"""The lattice vertex of the network at the points ``Y`` (shape ``(M, d)``):
    :math:`K_{ab} = K_{\rm EFT}(y_a, y_b)`, :math:`G_{abcd} = G_c^{(4)}(y_a, y_b, y_c, y_d)`, amputated by
    :func:`amputate_four_point`,
    :math:`\lambda_{abcd} = -\sum G_c(y_e..y_h)\,K^{-1}_{ea}K^{-1}_{fb}K^{-1}_{gc}K^{-1}_{hd}`
    (nnsym convention). :math:`G_c^{(4)}` is evaluated on the sorted index tuples only (it is
    symmetric); a part left to quadrature carries its stated error into the bound.

    >>> import numpy as np, nnsym as ns
    >>> lat = lattice_quartic_coupling(ns.zoo.gauss_net(1), np.array([[-1.0], [0.0], [1.0]]),
    ...                                sigma_a=1.0, sigma_b=1.0, sigma_c=0.3, N=10)
    >>> lat.vertex.shape, bool(lat.condition_number < 10), bool(lat.relative_error < 1e-10)
    ((3, 3, 3, 3), True, True)
    """
    _check_network(net, "lattice_quartic_coupling")
    Yp = as_points(Y, "Y")
    if Yp.ndim != 2 or (net.dim.is_Integer and Yp.shape[1] != int(net.dim)):
        want = int(net.dim) if net.dim.is_Integer else "d"
        raise ValueError(f"lattice_quartic_coupling: Y must have shape (M, {want}) (the lattice points), "
                         f"got {Yp.shape}")
    if not np.all(np.isfinite(Yp)):
        raise ValueError("lattice_quartic_coupling: Y contains inf or nan")
    M, D = Yp.shape
    if M < 1:
        raise ValueError("lattice_quartic_coupling: Y has no points")
    bindings = net.bind(values, "lattice_quartic_coupling")
    Kc = kernel_eft(net)
    pairs = np.stack(np.broadcast_arrays(Yp[:, None, :], Yp[None, :, :]), axis=2)
    K = np.broadcast_to(np.asarray(Kc.evaluate_bound(pairs, bindings), float), (M, M))
    K = (K + K.T) / 2
    idx = list(itertools.combinations_with_replacement(range(M), 4))
    Gs, eG, _ = correlator_with_error(net.correlator(4, connected=True), Yp[np.array(idx)], bindings)
    G = np.empty((M,) * 4)
    for (a, b, c, d), g in zip(idx, Gs):
        for p in set(itertools.permutations((a, b, c, d))):
            G[p] = g
    return amputate_four_point(G, K, float(np.max(eG, initial=0.0)), points=Yp)


# ============================================================================= local fit
LOCAL_TERMS = ("phi4", "phi2_dphi2", "nonlocal_phi2_phi2")
r"""The terms of :func:`fit_local_couplings`, with the normalisation of their coefficients:
``"phi4"`` :math:`\frac{\lambda}{4!}\int\phi^4`,
``"phi2_dphi2"`` :math:`\frac{g}{4}\int\phi^2\,\partial\phi\cdot\partial\phi`,
``"nonlocal_phi2_phi2"`` :math:`\frac{\mu}{8}\int\!\int\phi^2(y)\,f_\ell(y-z)\,\phi^2(z)`,
:math:`f_\ell(v) = (2\pi\ell^2)^{-d/2}e^{-|v|^2/2\ell^2}` (so :math:`\ell\to0` is :math:`\frac{3\mu}{4!}\phi^4`)."""

_PAIRS = list(itertools.combinations(range(4), 2))
_PAIRINGS = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]


def _check_terms(terms) -> tuple:
    if isinstance(terms, str):
        terms = (terms,)
    terms = tuple(terms)
    for t in terms:
        if t not in LOCAL_TERMS:
            raise ValueError(f"unknown local term {t!r}: use some of {', '.join(map(repr, LOCAL_TERMS))}")
    if not terms or len(set(terms)) != len(terms):
        raise ValueError(f"terms must be distinct names from {LOCAL_TERMS}, got {terms}")
    return terms


def _check_range(ell) -> sp.Expr:
    try:
        v = float(ell)
    except (TypeError, ValueError):
        raise TypeError(f"nonlocal_range must be a positive number, got {ell!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"nonlocal_range must be a positive finite number, got {ell!r}")
    return sp.nsimplify(v, rational=True)


def local_term_correlators(net: Network, terms=LOCAL_TERMS, nonlocal_range: float = 1.0) -> dict:
    r"""The connected 4-point function each local term of the action gives at first order, in closed
    form, for a kernel Gaussian in :math:`y` (:math:`K_i = P_i e^{E_{0,i} - a_i|y|^2 + b_i\cdot y}`) over
    :math:`\mathbb R^d`: a dict ``term -> Correlator`` (normalisations in :data:`LOCAL_TERMS`),

    .. math:: \phi^4:\quad -\int d^dy\prod_i K_i = -I,\qquad
              I = C\Big(\frac{\pi}{A}\Big)^{d/2}e^{|B|^2/4A},

    .. math:: \phi^2(\partial\phi)^2:\quad -\sum_{k<l}\int d^dy\;\nabla K_k\cdot\nabla K_l\prod_{i\ne k,l}K_i
              = -I\sum_{k<l}\Big[(b_k - 2a_k m)\cdot(b_l - 2a_l m) + \frac{2a_ka_l d}{A}\Big],\quad m = \frac{B}{2A},

    .. math:: \phi^2 f_\ell\,\phi^2:\quad -\sum_{\{ij\}\{kl\}}\int\!\!\int K_iK_j(y)\,f_\ell(y-z)\,K_kK_l(z)
              = -\sum C_{ij}C_{kl}\,(2\pi\ell^2)^{-d/2}\Big(\frac{\pi^2}{\Delta}\Big)^{d/2}
              \exp\frac{(A_2+h)|B_1|^2 + 2hB_1\cdot B_2 + (A_1+h)|B_2|^2}{4\Delta},

    :math:`h = 1/2\ell^2`, :math:`\Delta = A_1A_2 + h(A_1+A_2)`, :math:`(C_1, A_1, B_1)` of
    :math:`K_iK_j` and :math:`(C_2, A_2, B_2)` of :math:`K_kK_l`. ``NoClosedForm`` for other kernels.

    >>> import sympy as sp, nnsym as ns
    >>> cols = local_term_correlators(ns.zoo.gauss_net(1), ("phi4",))
    >>> I = kernel_integral_closed_form(ns.zoo.gauss_net(1))
    >>> sp.simplify(cols["phi4"].expr + I.expr)
    0
    """
    _check_network(net, "local_term_correlators")
    terms = _check_terms(terms)
    ell = _check_range(nonlocal_range)
    _require_gaussian(net, "local_term_correlators")
    X = net.points(4)
    d = net.dim
    I = kernel_integral_closed_form(net)
    out = {}
    if "phi4" in terms:
        out["phi4"] = Correlator(-I.expr, X, d, name="G_phi4", network=net)
    if "phi2_dphi2" in terms:
        _, A, B, parts = _gaussian_integral_parts(net, X)
        m = B / (2 * A)
        s = sp.S.Zero
        for k, l in _PAIRS:
            vk, vl = parts[k].b - 2 * parts[k].a * m, parts[l].b - 2 * parts[l].a * m
            s += _dot(vk, vl) + 2 * parts[k].a * parts[l].a * d / A
        out["phi2_dphi2"] = Correlator(-I.expr * s, X, d, name="G_dphi", network=net)
    if "nonlocal_phi2_phi2" in terms:
        h = 1 / (2 * ell**2)
        total = sp.S.Zero
        for (i, j), (k, l) in _PAIRINGS:
            C1, A1, B1, _ = _gaussian_integral_parts(net, (X[i], X[j]))
            C2, A2, B2, _ = _gaussian_integral_parts(net, (X[k], X[l]))
            det = A1 * A2 + h * (A1 + A2)
            expo = ((A2 + h) * _dot(B1, B1) + 2 * h * _dot(B1, B2) + (A1 + h) * _dot(B2, B2)) / (4 * det)
            total += C1 * C2 * (2 * sp.pi * ell**2) ** (-d / 2) * (sp.pi**2 / det) ** (d / 2) * sp.exp(sp.expand(expo))
        out["nonlocal_phi2_phi2"] = Correlator(-sp.powsimp(total, combine="exp"), X, d, name="G_nonlocal", network=net)
    return out


def _legendre_panels(lo: float, hi: float, n: int) -> tuple:
    """Gauss-Legendre nodes and weights on [lo, hi], n per panel, panels split at 0 (a kink of the
    rectifier kernels) when 0 is inside."""
    x, w = roots_legendre(n)
    cuts = [lo, 0.0, hi] if lo < 0 < hi else [lo, hi]
    nodes, weights = [], []
    for a, b in zip(cuts[:-1], cuts[1:]):
        nodes.append((b - a) / 2 * x + (a + b) / 2)
        weights.append((b - a) / 2 * w)
    return np.concatenate(nodes), np.concatenate(weights)


def _nonlocal_on_grid(legs: "_Legs", Xf: np.ndarray, box: _Box, ell: float, rtol: float = 1e-9) -> tuple:
    r"""The non-local column :math:`-\sum\int\!\int_{\rm box^2} K_iK_j(y)\,f_\ell(y-z)\,K_kK_l(z)` by a
    tensor Gauss-Legendre rule: :math:`f_\ell` factorises over the axes, so the double integral is
    :math:`P_1^T (W F W) P_2` with :math:`F = \otimes_j F^{(j)}` applied axis by axis. The number of
    nodes per panel is doubled (8, 16, ..., 128) until two rules agree to ``rtol``; the stated error is
    their difference (a bound for the finer rule when the rule converges, as Gauss rules do on
    smooth integrands). (estimate (T,), error (T,), converged)."""
    T, D = Xf.shape[0], Xf.shape[-1]
    prev = None
    for n in (8, 16, 32, 64, 128):
        axes = [_legendre_panels(a, b, n) for a, b in zip(box.lo, box.hi)]
        if D * math.log(axes[0][0].size) > math.log(4e5):  # too many nodes for the grid
            break
        grid = np.stack(np.meshgrid(*[a[0] for a in axes], indexing="ij"), axis=-1).reshape(-1, D)
        w = reduce(np.multiply.outer, [a[1] for a in axes]).reshape(-1)
        shape = tuple(a[0].size for a in axes)
        K = _chunked(lambda Yv: legs.values(Xf, Yv), T)(grid)                     # (G, T, 4)
        F = [np.exp(-(a[0][:, None] - a[0][None, :]) ** 2 / (2 * ell**2)) / math.sqrt(2 * math.pi * ell**2)
             for a in axes]
        total, total_abs = np.zeros(T), np.zeros(T)
        for (i, j), (k, m) in _PAIRINGS:
            for Kw, out in ((K, total), (np.abs(K), total_abs)):
                P2 = (w[:, None] * Kw[:, :, k] * Kw[:, :, m]).reshape(shape + (T,))
                for ax, Fa in enumerate(F):  # (F P2) along each axis
                    P2 = np.moveaxis(np.tensordot(Fa, P2, axes=([1], [ax])), 0, ax)
                out += np.einsum("gt,gt->t", w[:, None] * Kw[:, :, i] * Kw[:, :, j], P2.reshape(-1, T))
        est = -total
        if prev is not None:  # the difference of two rules, and the rounding of sums of |terms| <= total_abs
            err = np.abs(est - prev) + (D * shape[0] + grid.shape[0] + 16) * _EPS * total_abs
            if np.all(err <= rtol * np.abs(est) + 1e-300):
                return est, err, True
        prev = est
    if prev is None:
        raise ValueError("the non-local column over a box needs a grid too large for this dimension (d <= 3)")
    return est, err, False


def _box_columns(net: Network, X: np.ndarray, terms: tuple, box: _Box, ell: float, bindings: Bindings) -> tuple:
    """Columns by cubature over the box: (values (T, n_terms), errors (T, n_terms))."""
    Xf = X.reshape(-1, 4, X.shape[-1])
    T, D = Xf.shape[0], Xf.shape[-1]
    legs = _Legs(net, bindings, gradient="phi2_dphi2" in terms)
    lo, hi = np.array(box.lo), np.array(box.hi)
    kmax, gmax = _leg_scales(legs, Xf, box, gradient="phi2_dphi2" in terms)
    cols, errs = [], []
    for term in terms:
        if term == "phi4":
            def f(Yv):
                return -np.prod(legs.values(Xf, Yv), axis=-1)
            est, err, ok = _cubature(f, lo, hi, T, kmax**4 * box.volume, kinks=[np.zeros(D)])
        elif term == "phi2_dphi2":
            def f(Yv):
                K = legs.values(Xf, Yv)
                g = legs.gradients(Xf, Yv)
                out = np.zeros(K.shape[:2])
                for k, l in _PAIRS:
                    i, j = (m for m in range(4) if m not in (k, l))
                    out += np.einsum("ptd,ptd->pt", g[:, :, k], g[:, :, l]) * K[:, :, i] * K[:, :, j]
                return -out
            est, err, ok = _cubature(f, lo, hi, T, 6 * kmax**2 * gmax**2 * box.volume, kinks=[np.zeros(D)])
        else:
            est, err, ok = _nonlocal_on_grid(legs, Xf, box, ell)
        if not ok:
            warnings.warn(NumericWarning(f"fit_local_couplings: the cubature of the {term} column over {box} did not "
                                         "reach its tolerance; its stated error is the estimate where it stopped",
                                         float(np.max(err))), stacklevel=3)
        cols.append(est)
        errs.append(err)
    return np.stack(cols, axis=1), np.stack(errs, axis=1)


@dataclass
class LocalFit:
    r"""A least-squares fit of local couplings to :math:`G_c^{(4)}` at a set of tuples.

    ``terms``; ``coefficients`` (dict term -> value, normalisations of :data:`LOCAL_TERMS`);
    ``design`` (T, n_terms): the first-order :math:`G_c^{(4)}` of each term with unit coefficient;
    ``design_error``; ``target``, ``target_error``; ``condition_number`` of the design matrix and
    ``scaled_condition_number`` (columns scaled to unit norm); ``residuals`` (target - design @ coefficients),
    ``relative_residual`` (:math:`\|r\|/\|G\|`), ``max_relative_residual`` (:math:`\max_t |r_t|/|G_t|`);
    ``coefficient_error`` (a first-order bound from the stated errors of design and target:
    :math:`\|A^+\|(\|\delta G\| + \|\delta A\|\,\|c\|) + \|A^+\|^2\|\delta A\|\,\|r\|`);
    ``region``, ``nonlocal_range``."""

    terms: tuple
    coefficients: dict
    design: np.ndarray
    design_error: np.ndarray
    target: np.ndarray
    target_error: np.ndarray
    condition_number: float
    scaled_condition_number: float
    residuals: np.ndarray
    relative_residual: float
    max_relative_residual: float
    coefficient_error: float
    region: Any
    nonlocal_range: float

    def __str__(self):
        lines = [f"local fit of G_c^(4) at {self.target.size} tuples over {self.region} "
                 f"(non-local range {self.nonlocal_range:g})"]
        for t in self.terms:
            lines.append(f"  {t:<20s} {self.coefficients[t]: .6g}")
        lines.append(f"  cond(design) = {self.condition_number:.3g} (columns scaled: "
                     f"{self.scaled_condition_number:.3g}); coefficient error <= {self.coefficient_error:.2g}")
        lines.append(f"  residual: |r|/|G| = {self.relative_residual:.3g}, "
                     f"max_t |r_t|/|G_t| = {self.max_relative_residual:.3g}")
        return "\n".join(lines)

    def __repr__(self):
        coefs = ", ".join(f"{t}={v:.6g}" for t, v in self.coefficients.items())
        return f"LocalFit({coefs}; cond={self.condition_number:.3g}, |r|/|G|={self.relative_residual:.3g})"


def fit_local_couplings(net: Network, X4_tuples, terms=LOCAL_TERMS, region="R^d", nonlocal_range: float = 1.0,
                        target=None, **values) -> LocalFit:
    r"""Fit :math:`G_c^{(4)}(x_1..x_4)\approx\sum_t c_t\,G_t(x_1..x_4)` by least squares at the tuples
    ``X4_tuples`` (shape ``(T, 4, d)``), :math:`G_t` the first-order 4-point function of the term
    :math:`t` with unit coefficient (normalisations in :data:`LOCAL_TERMS`):

    .. math:: G_{\phi^4} = -\int d^dy\prod_i K(x_i,y),\qquad
              G_{\phi^2(\partial\phi)^2} = -\sum_{k<l}\int d^dy\,\nabla_yK(x_k,y)\cdot\nabla_yK(x_l,y)
              \prod_{i\ne k,l}K(x_i,y),

    .. math:: G_{\phi^2f\phi^2} = -\sum_{\{ij\}\{kl\}}\int\!\!\int d^dy\,d^dz\,K(x_i,y)K(x_j,y)\,f_\ell(y-z)
              \,K(x_k,z)K(x_l,z),

    :math:`K = K_{\rm EFT}`, :math:`f_\ell(v) = (2\pi\ell^2)^{-d/2}e^{-|v|^2/2\ell^2}`, :math:`\ell` =
    ``nonlocal_range``. Over ``"R^d"`` the columns are the closed forms of :func:`local_term_correlators`
    (Gaussian kernels; others raise as :func:`kernel_integral` does); over a box, adaptive cubature for
    the first two (the gradient is sympy's derivative of :math:`K_{\rm EFT}` at the given values), and for
    the non-local term, a 2d-dimensional integral over box x box, a tensor Gauss-Legendre rule in which
    :math:`f_\ell` factorises over the axes, refined by doubling until two rules agree. ``target``: values of
    :math:`G_c^{(4)}` at the tuples to fit instead of the network's exact ones (e.g. a synthetic local
    theory). Coefficients are in the nnsym convention (:math:`\lambda_{\rm nn\text{-}qft} = -\lambda/24`).

    A pure :math:`\lambda\phi^4` theory comes back exactly:

    >>> import numpy as np, nnsym as ns
    >>> net = ns.zoo.gauss_net(1)
    >>> X = np.random.default_rng(1).normal(size=(12, 4, 1)) * 0.5
    >>> vals = dict(sigma_a=1.0, sigma_b=1.0, sigma_c=0.3, N=10)
    >>> G = 0.7 * -kernel_integral(net, X, **vals).value              # lambda = 0.7
    >>> fit = fit_local_couplings(net, X, target=G, **vals)
    >>> round(fit.coefficients["phi4"], 10), bool(fit.relative_residual < 1e-10)
    (0.7, True)
    """
    _check_network(net, "fit_local_couplings")
    terms = _check_terms(terms)
    ell = _check_range(nonlocal_range)
    X = _tuples(net, X4_tuples, "fit_local_couplings", "X4_tuples")
    if X.ndim != 3:
        raise ValueError(f"fit_local_couplings: X4_tuples must have shape (T, 4, d), got {X.shape}")
    T = X.shape[0]
    if T < len(terms):
        raise ValueError(f"fit_local_couplings: {len(terms)} terms need at least as many tuples, got {T}")
    bindings = net.bind(values, "fit_local_couplings")
    reg = _region(region, X.shape[-1], "fit_local_couplings")
    if reg == "R^d":
        if _gaussian_kernel(net) is None:
            _refuse_over_rd(net, X, bindings, "fit_local_couplings")
        _decay_rate(net, X, bindings, "fit_local_couplings")
        cols = local_term_correlators(net, terms, float(ell))
        A = np.stack([np.broadcast_to(np.asarray(cols[t].evaluate_bound(X, bindings), float), (T,))
                      for t in terms], axis=1)
        dA = 8 * _EPS * np.abs(A)
    else:
        A, dA = _box_columns(net, X, terms, reg, float(ell), bindings)
    if target is None:
        G, dG, _ = correlator_with_error(net.correlator(4, connected=True), X, bindings)
    else:
        G = np.asarray(target, dtype=float)
        if G.shape != (T,):
            raise ValueError(f"fit_local_couplings: target must have shape ({T},) (one value per tuple), got {G.shape}")
        if not np.all(np.isfinite(G)):
            raise ValueError("fit_local_couplings: target contains inf or nan")
        dG = 8 * _EPS * np.abs(G)
    norms = np.linalg.norm(A, axis=0)
    if np.any(norms == 0):
        raise ValueError(f"fit_local_couplings: the column of {terms[int(np.argmin(norms))]} vanishes at every tuple")
    coef_scaled, *_ = np.linalg.lstsq(A / norms, G, rcond=None)
    coef = coef_scaled / norms
    sv = np.linalg.svd(A, compute_uv=False)
    svs = np.linalg.svd(A / norms, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    conds = float(svs[0] / svs[-1]) if svs[-1] > 0 else float("inf")
    r = G - A @ coef
    nG = float(np.linalg.norm(G))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_t = np.where(G != 0, np.abs(r) / np.abs(G), np.where(r == 0, 0.0, np.inf))
    pinv_norm = 1.0 / sv[-1] if sv[-1] > 0 else float("inf")
    # first-order perturbation of least squares (Wedin): ||A^+|| (||dG|| + ||dA|| ||c||) + ||A^+||^2 ||dA|| ||r||
    ndA = float(np.linalg.norm(dA))
    coef_err = (pinv_norm * (float(np.linalg.norm(dG)) + ndA * float(np.linalg.norm(coef)))
                + pinv_norm**2 * ndA * float(np.linalg.norm(r)))
    return LocalFit(terms, dict(zip(terms, map(float, coef))), A, dA, G, dG, cond, conds, r,
                    float(np.linalg.norm(r)) / nG if nG > 0 else float("nan"), float(np.max(rel_t)), coef_err,
                    reg, float(ell))

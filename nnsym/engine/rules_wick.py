r"""Group rule: polynomial moments of Gaussian vectors by Wick/Isserlis, without differentiating.

For :math:`b\sim\mathcal N(\mu\mathbf 1, \sigma^2 I_d)` the scalars :math:`z_j = b\cdot w_j` are jointly
Gaussian with means :math:`m_j = \mu\,\mathbf 1\cdot w_j` and covariances
:math:`C_{ij} = \sigma^2\,w_i\cdot w_j`, so a polynomial moment is a sum over pairings (Isserlis),
computed by Stein's recursion (one variable taken out at a time):

.. math:: E\Big[z_i\prod_j z_j^{k_j}\Big] = m_i\,E\Big[\prod_j z_j^{k_j}\Big]
          + \sum_l C_{il}\,k_l\,E\Big[z_l^{-1}\prod_j z_j^{k_j}\Big].

An exponential :math:`e^{b\cdot v}` next to the polynomial tilts the law (Cameron-Martin):
:math:`E[f(b)\,e^{b\cdot v}] = M_b(v)\,E[f(b')]` with
:math:`M_b(v) = e^{\mu\mathbf 1\cdot v + \sigma^2|v|^2/2}` and :math:`b'\sim\mathcal N(\mu\mathbf 1 + \sigma^2 v,
\sigma^2 I_d)`, so the same recursion runs with :math:`m_j = (\mu\mathbf 1 + \sigma^2 v)\cdot w_j`.

The transform method (:mod:`nnsym.engine.transforms`) gets the same numbers by differentiating
:math:`M_b(v + \sum_j t_j w_j)` in the :math:`t_j`, which costs sympy far more for high degrees (a Hermite
neuron :math:`H_3(W\cdot x + b)` at four points: minutes). This rule runs first (order 5) for a group
with at least one Gaussian vector with polynomial factors and no opaque factor; anything else (a
non-Gaussian or joint vector law, a scalar law without a closed-form transform) returns None and
the transform method takes it.

>>> import sympy as sp
>>> from nnsym import Normal, Input, expectation
>>> x = Input("x", 3)
>>> W = Normal("W", 1, 2, shape=3)
>>> expectation(W.dot(x)**2)
Dot(1_d, x)**2 + 2*Dot(x, x)
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..core.random import RandomVector
from ..core.vectors import Dot, expand_dot
from .forms import ones_vector
from .registry import group_rule
from .terms import Term
from .transforms import combine_transforms, require_vector_domain

__all__ = ["isserlis_moment", "gaussian_vector_moment", "wick_method", "clear_wick_cache"]


def isserlis_moment(means: list, cov: list, powers: tuple) -> sp.Expr:
    r""":math:`E[\prod_j z_j^{k_j}]` for jointly Gaussian :math:`z` with ``means`` :math:`m_j` and covariance
    ``cov`` :math:`C_{ij}` (sympy expressions), ``powers`` the :math:`k_j`: the Isserlis (Wick) sum over
    pairings with the unpaired factors replaced by their means, by Stein's recursion.

    >>> m, c = sp.symbols("m c")
    >>> sp.expand(isserlis_moment([m], [[c]], (4,)))
    3*c**2 + 6*c*m**2 + m**4
    >>> s11, s12, s22 = sp.symbols("s11 s12 s22")
    >>> isserlis_moment([0, 0], [[s11, s12], [s12, s22]], (2, 2))
    s11*s22 + 2*s12**2
    """
    means = [sp.sympify(m) for m in means]
    cov = [[sp.sympify(c) for c in row] for row in cov]

    @lru_cache(maxsize=None)
    def E(k: tuple) -> sp.Expr:
        i = next((j for j, kj in enumerate(k) if kj), None)
        if i is None:
            return sp.S.One
        rest = list(k)
        rest[i] -= 1
        out = [means[i] * E(tuple(rest))] if means[i] != 0 else []
        for j, kj in enumerate(rest):
            if kj and cov[i][j] != 0:
                lower = list(rest)
                lower[j] -= 1
                out.append(kj * cov[i][j] * E(tuple(lower)))
        return sp.Add(*out)

    return E(tuple(int(k) for k in powers))


def gaussian_vector_moment(b: RandomVector, polys: list, v) -> sp.Expr:
    r""":math:`E[\prod_j (b\cdot w_j)^{k_j}\,e^{b\cdot v}]` for :math:`b\sim\mathcal N(\mu\mathbf 1, \sigma^2 I_d)`
    (``polys`` the list of :math:`(w_j, k_j)`; ``v`` 0 for no exponential): the law tilted by
    :math:`e^{b\cdot v}` times :func:`isserlis_moment`, the scalar products expanded as the transform method
    writes them (memoised: the monomials of a product of neurons repeat the same vector factors)."""
    return _gaussian_vector_moment(b.law, b, tuple(polys), sp.sympify(v))


def clear_wick_cache() -> None:
    """Forget the memoised Gaussian vector moments."""
    _gaussian_vector_moment.cache_clear()


@lru_cache(maxsize=65536)
def _gaussian_vector_moment(law, b: RandomVector, polys: tuple, v) -> sp.Expr:
    mu, var = law.mean, law.variance
    ones = ones_vector(b.dim)
    shift = var * v if v != 0 else sp.S.Zero
    if mu != 0:
        shift = shift + mu * ones
    means = [expand_dot(Dot(shift, w)) if shift != 0 else sp.S.Zero for w, _ in polys]
    cov = [[expand_dot(var * Dot(wi, wj)) for wj, _ in polys] for wi, _ in polys]
    moment = isserlis_moment(means, cov, tuple(k for _, k in polys))
    if v == 0:
        return moment
    exponent = var / 2 * Dot(v, v)
    if mu != 0:
        exponent += mu * Dot(ones, v)
    return sp.exp(expand_dot(exponent)) * moment


def _gaussian_vector_polynomials(t: Term, group: set) -> bool:
    """A group without opaque factors in which a Gaussian vector of i.i.d. components has polynomial
    factors, and every vector is Gaussian with i.i.d. components."""
    if t.opaque_of(group):
        return False
    vectors = [p for p in group if isinstance(p, RandomVector)]
    return (any(t.vpolys.get(p) for p in vectors)
            and all(p.law.is_gaussian and not p.law.is_joint for p in vectors))


@group_rule(_gaussian_vector_polynomials, order=5)
def wick_method(t: Term, group: set) -> sp.Expr | None:
    r"""Closed form over ``group``: each exponential combination of the factors (as in the transform
    method, :func:`~nnsym.engine.transforms.combine_transforms`), the scalar parameters by their
    transforms, the Gaussian vectors by :func:`gaussian_vector_moment`; None if a scalar law has no
    closed-form transform."""
    return combine_transforms(t, group, _wick_vector_moment)


def _wick_vector_moment(b: RandomVector, polys: list, v) -> sp.Expr:
    require_vector_domain(b, v)
    return gaussian_vector_moment(b, polys, v)

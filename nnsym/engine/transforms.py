r"""The transform method: moments times exponentials of affine forms, from each law's transform.

For a group of parameters whose factors are all moments and exponentials of affine forms
(:mod:`nnsym.engine.rules_moments`, :mod:`nnsym.engine.rules_exponential`), the product of the
exponential factors is expanded into single exponentials :math:`e^{c + \sum_\theta s_\theta\theta
+ \sum_b b\cdot v_b}`, and each parameter contributes its transform

.. math:: E[\theta^k e^{s\theta}] = \partial_s^k M(s), \qquad
          E\Big[\prod_j (b\cdot w_j)^{k_j} e^{b\cdot v}\Big]
          = \prod_j\partial_{t_j}^{k_j} M_b\big(v + \textstyle\sum_j t_j w_j\big)\Big|_{t=0},

(the characteristic function for imaginary :math:`s`). A Gaussian vector
:math:`b\sim\mathcal N(\mu\mathbf 1,\sigma^2 I_d)` gives
:math:`M_b(v) = e^{\mu\,\mathbf 1\cdot v + \sigma^2|v|^2/2}` in any (symbolic) :math:`d`.

>>> import sympy as sp
>>> from nnsym import Normal
>>> b, s = Normal("b", 0, 1), sp.Symbol("s", real=True)
>>> scalar_transform(b, 2, s)  # E[b^2 e^{s b}]
(s**2 + 1)*exp(s**2/2)
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import sympy as sp

from ..core.random import RandomSymbol, RandomVector
from ..core.vectors import Component, Dot, expand_dot
from ..errors import DivergentExpectation
from .domains import require
from .forms import Affine, ones_vector
from .registry import group_rule
from .terms import Term

__all__ = ["scalar_transform", "vector_transform", "combine_transforms", "require_scalar_domain",
           "require_vector_domain", "transform_method", "exponential_combinations", "clear_transform_cache"]


def scalar_transform(theta: RandomSymbol, k: int, s) -> sp.Expr | None:
    r""":math:`E[\theta^k e^{s\theta}] = M^{(k)}(s)`, for ``s`` in the domain of :math:`M`
    (recorded; a number outside it raises :class:`DivergentExpectation`); None when the law
    knows no closed form of :math:`M` (``law.transform_known``)."""
    s = sp.sympify(s)
    require_scalar_domain(theta, s)
    if s != 0 and not theta.law.transform_known(s if k == 0 else sp.Dummy("u")):
        return None
    return _scalar_transform_cached(theta.law, theta, int(k), s)


def require_scalar_domain(theta: RandomSymbol, s) -> None:
    r"""Record the domain of :math:`E[e^{s\theta}]`; refuse an ``s`` surely outside it."""
    if s == 0:
        return
    cond = theta.law.mgf_domain(s)
    if cond is sp.false:
        raise DivergentExpectation(
            f"E[exp({s}*{theta})] does not exist for {theta.law}: {s} is outside the domain "
            f"{theta.law.mgf_domain(sp.Symbol('s'))} of its moment generating function")
    require(cond, f"E[exp({s}*{theta})]")


@lru_cache(maxsize=65536)
def _scalar_transform_cached(law, theta, k: int, s) -> sp.Expr:
    s = sp.sympify(s)
    if s == 0:
        if k > 0 and not law.has_mgf:
            raise DivergentExpectation(f"E[{theta}^{k}] does not exist for {law}")
        return law.moment(k)
    if k == 0:
        try:
            return law.transform(s)
        except ValueError as exc:
            raise DivergentExpectation(f"E[exp({s}*{theta})] does not exist for {law}") from exc
    if not law.has_mgf:
        raise DivergentExpectation(f"E[{theta}^{k} exp(...)] does not exist for {law}")
    u = sp.Dummy("u")
    return sp.diff(law.mgf(u), u, k).subs(u, s)


def clear_transform_cache() -> None:
    """Forget the memoised scalar transforms."""
    _scalar_transform_cached.cache_clear()


def _vector_mgf(b: RandomVector, v) -> sp.Expr | None:
    r""":math:`E[e^{b\cdot v}]` for ``b`` with i.i.d. components; None for i.i.d. non-Gaussian
    components in a symbolic dimension (no closed form)."""
    law = b.law
    if law.is_joint:  # a law of the whole vector (e.g. uniform in a ball)
        return law.vector_transform(v, b.dim)
    if law.is_gaussian:
        mu, var = law.mean, law.variance
        out = var / 2 * Dot(v, v)
        if mu != 0:
            out += mu * Dot(ones_vector(b.dim), v)
        return sp.exp(out)
    if not b.dim.is_Integer or not law.transform_known(Component(v, 0)):
        return None
    return sp.Mul(*[law.transform(Component(v, j)) for j in range(int(b.dim))])


def require_vector_domain(b: RandomVector, v) -> None:
    r"""The domain of :math:`E[e^{b\cdot v}]`: each i.i.d. component's transform must converge."""
    if b.law.is_joint or v == 0 or not b.dim.is_Integer:
        return
    for j in range(int(b.dim)):
        sj = Component(v, j)
        cond = b.law.mgf_domain(sj)
        if cond is sp.false:
            raise DivergentExpectation(f"E[exp({b}.v)] does not exist for {b.law} components: "
                                       f"component {j} of v = {v} is outside the domain of the transform")
        require(cond, f"E[exp({b}.v)]")


def vector_transform(b: RandomVector, polys: list, v) -> sp.Expr | None:
    r""":math:`E[\prod_j (b\cdot w_j)^{k_j} e^{b\cdot v}] = \prod_j\partial_{t_j}^{k_j} M(v + \sum_j t_j w_j)|_{t=0}`
    (``polys`` the list of :math:`(w_j, k_j)`); None when :math:`M` has no closed form."""
    require_vector_domain(b, v)
    if not polys:
        if v == 0:
            return sp.S.One
        return _vector_mgf(b, v)
    if not b.law.has_mgf:
        raise DivergentExpectation(f"moments of {b.law} do not exist")
    ts = [sp.Dummy(f"t{j}") for j in range(len(polys))]
    arg = v + sp.Add(*[t * w for t, (w, _) in zip(ts, polys)])
    M = _vector_mgf(b, arg)
    if M is None:
        return None
    M = expand_dot(M)
    for t, (_, k) in zip(ts, polys):
        M = sp.diff(M, t, k)
    return M.subs({t: 0 for t in ts})


def _no_opaque_factor(t: Term, group: set) -> bool:
    return not t.opaque_of(group)


def exponential_combinations(alts: list) -> list:
    r"""The product of exponential factors :math:`\prod_f \sum_a c_{fa} e^{L_{fa}}` (``alts``, one list of
    alternatives per factor) multiplied out into single exponentials :math:`\sum c\,e^{L}`, equal exponents
    merged: a list of ``(c, L)`` with the coefficient expanded and nonzero (``[(1, 0)]`` for no factor)."""
    combos: dict = {}
    for choice in itertools.product(*alts) if alts else [()]:
        c = sp.S.One
        total = Affine()
        for ci, ai in choice:
            c *= ci
            total = total + ai
        key = total.key()
        if key in combos:
            combos[key] = (combos[key][0] + c, total)
        else:
            combos[key] = (c, total)
    out = []
    for c, total in combos.values():
        c = sp.expand(c)
        if c != 0:
            out.append((c, total))
    return out


def combine_transforms(t: Term, group: set, vector_moment) -> sp.Expr | None:
    r""":math:`E` over ``group`` of the factors of ``t`` involving it, exponential combination by
    exponential combination: the scalar parameters by :func:`scalar_transform`, each random vector
    ``b`` by ``vector_moment(b, polys, v)`` (:math:`E[\prod_j (b\cdot w_j)^{k_j} e^{b\cdot v}]`);
    None as soon as one of them has no closed form. Scalar transforms come first: they are cheap,
    and a zero (e.g. :math:`E[e^{ikc}] = 0` for c uniform on :math:`[-\pi, \pi]`) spares the vector
    moments of that exponential."""
    ordered = sorted(group, key=lambda p: (not isinstance(p, RandomSymbol), sp.default_sort_key(p)))
    terms = []
    for c, total in exponential_combinations(t.exponentials_of(group)):
        val = c * sp.exp(total.const)
        for p in ordered:
            if isinstance(p, RandomSymbol):
                f = scalar_transform(p, t.polys.get(p, 0), total.scal.get(p, 0))
            else:
                f = vector_moment(p, t.vpolys.get(p, []), total.vec.get(p, 0))
            if f is None:
                return None
            val *= f
            if val == 0:
                break
        terms.append(val)
    return sp.Add(*terms)


@group_rule(_no_opaque_factor, order=10)
def transform_method(t: Term, group: set) -> sp.Expr | None:
    r"""Closed form of :math:`E` over ``group`` of the factors of ``t`` involving it, all moments and
    exponentials of affine forms (:func:`combine_transforms` with :func:`vector_transform`); None if a
    law has no closed-form transform."""
    return combine_transforms(t, group, vector_transform)

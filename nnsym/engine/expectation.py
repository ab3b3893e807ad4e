r"""The expectation engine: :math:`E_\theta[f(\theta)]` of a sympy expression.

It works on the expression, not on a list of known networks. :func:`expectation`

1. expands the integrand into monomials (**linearity**); powers of sums with parameters, e.g. the
   :math:`(w x + b)^3` of a Hermite neuron, are multiplied out (Wick/Isserlis then acts through the
   moments); function arguments are left alone;
2. asks the factor rules of :mod:`nnsym.engine.registry` what each factor of a monomial is (a moment,
   exponentials of an affine form, or opaque), and splits the parameters into groups that share no
   factor (**factorisation**: independent groups give a product of expectations);
3. asks the group rules for each group: the **transform method**
   :math:`E[\theta^k e^{s\theta}] = \partial_s^k M(s)` (:mod:`nnsym.engine.transforms`; for a Gaussian
   vector :math:`b\sim\mathcal N(\mu\mathbf 1,\sigma^2 I_d)` and any ``d``,
   :math:`E[e^{b\cdot v}] = e^{\mu\,\mathbf 1\cdot v + \sigma^2 |v|^2/2}`), then **Gaussian
   pre-activations** (:mod:`nnsym.engine.gaussian`: erf, ReLU, ... of affine forms in Gaussian
   parameters, with closed forms where they exist);
4. keeps what no rule can do as the **fallback**, an explicit :class:`Expectation`
   (:mod:`nnsym.engine.unevaluated`), which :meth:`nnsym.Correlator.evaluate` integrates numerically
   (and marks so), after checking that it exists (:mod:`nnsym.engine.domains`);
5. writes the result in its final form: exponentials merged, exponents as a paper writes them,
   the real part of a real integrand's expectation, and the domain where it exists.

A divergent expectation (a moment of a Cauchy law) raises :class:`DivergentExpectation`.

>>> import sympy as sp
>>> from nnsym import Normal, Uniform
>>> b, c, x, y = Normal("b", 0, 1), Uniform("c", -sp.pi, sp.pi), *sp.symbols("x y", real=True)
>>> expectation(sp.cos(b*x + c) * sp.cos(b*y + c))
exp(-(x - y)**2/2)/2
"""
from __future__ import annotations

import itertools
import math

import sympy as sp

from ..core.random import RandomSymbol, RandomVector, random_atoms
from ..core.vectors import VectorSymbol, nice_quadratic
from ..errors import DivergentExpectation
from . import rules_exponential, rules_moments  # noqa: F401  (register the factor rules)
from .domains import collecting_domains, growth_degree, split_domain, with_domain
from .forms import Affine, affine, ones_vector
from .gaussian import arccos_J, rewrite_rectifiers
from .registry import FACTOR_RULES, GROUP_RULES
from .terms import Term
from .transforms import clear_transform_cache, require_scalar_domain, require_vector_domain
from .unevaluated import Expectation, is_exact

__all__ = ["expectation", "Expectation", "DivergentExpectation", "ones_vector", "is_exact", "with_domain",
           "split_domain", "growth_degree", "affine", "Affine", "classify", "clear_caches"]


def classify(term) -> Term:
    r"""Sort the factors of the monomial ``term`` by the factor rules (:data:`~nnsym.engine.registry.FACTOR_RULES`):
    moments, exponentials of affine forms, and opaque factors no rule takes.

    >>> from nnsym import Normal
    >>> a, b = Normal("a", 0, 1), Normal("b", 0, 1)
    >>> t = classify(3 * a**2 * sp.cos(b) * sp.tanh(b))
    >>> t.coeff, dict(t.polys), len(t.exps), t.opaque
    (3, {a: 2}, 1, [tanh(b)])
    """
    rnd = random_atoms(term)
    coeff, rest = term.as_independent(*rnd, as_Add=False)
    t = Term(coeff, set(rnd))
    for f in sp.Mul.make_args(rest):
        t.factors.append(f)
        base, k = f.as_base_exp()
        if isinstance(f, sp.exp):
            base, k = f, sp.S.One
        piece = FACTOR_RULES.apply(base, k)
        if piece is None:
            t.opaque.append(f)
        else:
            t.add(piece)
    return t


def _surely_finite(t: Term, group: set) -> bool:
    """The expectation over ``group`` exists: no opaque factor, and every law has an entire transform."""
    if t.opaque_of(group):
        return False
    u = sp.Dummy("u")
    return all(p.law.has_mgf and p.law.mgf_domain_known and p.law.mgf_domain(u) is sp.true for p in group)


def _term_expectation(term) -> sp.Expr:
    t = classify(term)
    if not t.params:
        return term
    out = t.coeff
    groups = sorted(t.groups(), key=lambda g: not t.only_polynomial(g))  # cheap zeros (E[a^odd]) first
    for j, group in enumerate(groups):
        if out == 0 and all(_surely_finite(t, g) for g in groups[j:]):
            return sp.S.Zero  # e.g. an odd moment of the readout: the neuron's factor is not needed
        r = GROUP_RULES.apply(t, group)
        if r is None:  # the fallback: an explicit expectation, integrated numerically
            _require_numeric_domain(t, group)
            r = Expectation(t.product_over(group), *sorted(group, key=sp.default_sort_key))
        out *= r
    return out


def _require_numeric_domain(t: Term, group: set) -> None:
    r"""The domain of an expectation left to quadrature: each exponential :math:`e^{s\theta}` of its
    integrand must have :math:`s` in the strip of :math:`\theta`'s transform, else the integral
    diverges and no quadrature rule may return a number. Only decided when the other factors
    cannot decay faster than a power (no exponential of a non-affine form): then the condition
    is necessary as well as sufficient."""
    others = t.opaque_of(group)
    for p in group:  # polynomial growth needs the matching moment (ReLU of a Cauchy parameter: none)
        if isinstance(p, RandomSymbol) and p.law.moment_exists(1) is not True:
            degs = [growth_degree(o, p) for o in others] + [t.polys.get(p, 0)]
            if None not in degs and sum(degs) > 0 and p.law.moment_exists(sum(degs)) is False:
                raise DivergentExpectation(
                    f"E[...] grows like |{p}|^{sum(degs)} and E[|{p}|^{sum(degs)}] does not exist for {p.law}")
    if not all(p.law.mgf_domain_known for p in group):
        return  # a density whose tails sympy cannot read: no strip to state
    u = sp.Dummy("u")
    if all(p.law.mgf_domain(u) is sp.true for p in group):
        return
    if any(e.has(*group) for o in others for e in o.atoms(sp.exp, sp.cosh, sp.sinh)) or any(
            pw.exp.has(*group) for o in others for pw in o.atoms(sp.Pow)):
        return  # a factor that may decay like exp(-theta^2): the strip is not the domain
    alts = t.exponentials_of(group)
    if math.prod(len(a) for a in alts) > 256:
        return
    for choice in itertools.product(*alts) if alts else [()]:
        total = Affine()
        for _, ai in choice:
            total = total + ai
        for p in group:
            if isinstance(p, RandomSymbol):
                require_scalar_domain(p, total.scal.get(p, 0))
            else:
                require_vector_domain(p, total.vec.get(p, 0))


# ----------------------------------------------------------------------------- final form
def _canonical_even_power(e):
    return e.is_Pow and e.exp.is_Integer and e.exp % 2 == 0 and e.base.is_Add and e.base.could_extract_minus_sign()


def _nice_exponentials(expr):
    """Merge the exponentials of each product and write their exponents as a paper
    does; even powers such as :math:`(x_2 - x_1)^2` get the canonical sign."""
    terms = []
    for term in sp.Add.make_args(expr):
        term = sp.powsimp(term, combine="exp")
        term = term.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(nice_quadratic(e.args[0])))
        term = term.replace(_canonical_even_power, lambda e: (-e.base) ** e.exp)
        terms.append(term)
    return sp.Add(*terms)


def _real_part(expr):
    r"""The real part of ``expr``, term by term, for real symbols:
    :math:`\mathrm{Re}(c\,e^{a+ib}) = e^{a}(\mathrm{Re}\,c\cos b - \mathrm{Im}\,c\sin b)`."""
    if not expr.has(sp.I):
        return expr
    reals = {s: sp.Dummy(s.name, real=True) for s in expr.free_symbols
             if not s.is_extended_real and not isinstance(s, VectorSymbol)}
    out = []
    for term in sp.Add.make_args(sp.expand(expr.xreplace(reals), power_exp=False, deep=False)):
        term = sp.powsimp(term, combine="exp")
        exps = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.exp)]
        c = sp.Mul(*[f for f in sp.Mul.make_args(term) if not isinstance(f, sp.exp)])
        z = sp.expand(sp.Add(*[f.args[0] for f in exps]))
        zi = sp.expand((z - z.subs(sp.I, 0)) / sp.I)
        zr = sp.expand(z - sp.I * zi)
        cr, ci = sp.expand(c).as_real_imag()
        out.append(sp.exp(zr) * (cr * sp.cos(zi) - ci * sp.sin(zi)))
    return sp.Add(*out).xreplace({v: k for k, v in reals.items()})


def _expand_polynomial_factors(e):
    """Multiply out integer powers of sums that contain parameters, at the top level only (terms and
    factors), never inside function arguments (exp(-(w x + b)^2) must stay a function of one form)."""
    if e.is_Add:
        return sp.Add(*[_expand_polynomial_factors(a) for a in e.args])
    if e.is_Mul:
        return sp.Mul(*[_expand_polynomial_factors(a) for a in e.args])
    if e.is_Pow and e.exp.is_Integer and e.exp > 1 and e.base.is_Add and random_atoms(e.base):
        return sp.expand(e, deep=False, power_exp=False)
    return e


def _point_value(p):
    """The constant a degenerate parameter stands for (a vector: ``mean * 1``)."""
    mu = p.law.mean
    return mu * ones_vector(p.dim) if isinstance(p, RandomVector) else mu


def expectation(expr, over=None) -> sp.Expr:
    r"""Exact :math:`E[\mathrm{expr}]` over its random parameters (or those in ``over``).

    Returns a sympy expression; parts without a closed form are left as
    :class:`Expectation` objects (see :func:`is_exact`).
    """
    expr = sp.sympify(expr)
    if over is not None:
        keep = set(over)
        frozen = {p: sp.Dummy(p.name) for p in random_atoms(expr) - keep}
        return expectation(expr.xreplace(frozen)).xreplace({v: k for k, v in frozen.items()})
    params = random_atoms(expr)
    if not params:
        return expr
    degenerate = {p: _point_value(p) for p in params if p.law.is_degenerate}
    if degenerate:  # a point mass (variance 0) is a constant: E[f(theta)] = f(mean)
        return expectation(expr.xreplace(degenerate))
    if expr.has(sp.Heaviside):
        expr = rewrite_rectifiers(expr)
    # powers of sums with parameters, e.g. (w x + b)^3 of a Hermite neuron, are multiplied out
    # (Wick/Isserlis then acts through the moments); function arguments are left alone
    expr = _expand_polynomial_factors(expr)
    expanded = sp.expand(expr, power_exp=False, log=False, deep=False)
    with collecting_domains() as conditions:
        result = _nice_exponentials(sp.Add(*[_term_expectation(term) for term in sp.Add.make_args(expanded)]))
    if not expr.has(sp.I):  # a real integrand has a real expectation
        result = _nice_exponentials(_real_part(result))
    return with_domain(result, sp.And(*sorted(conditions, key=sp.default_sort_key)))


def clear_caches() -> None:
    """Forget the engine's memoised results (the scalar transforms and the arc-cosine kernels)."""
    clear_transform_cache()
    arccos_J.cache_clear()

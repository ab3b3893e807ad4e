r"""The expectation engine: :math:`E_\theta[f(\theta)]` of a sympy expression.

It works on the expression, not on a list of known networks. The rules, each a
small function below:

1. **Linearity** -- the integrand is expanded into a sum of monomials.
2. **Factorisation** -- the parameters of a term split into groups that share
   no factor; independent groups give a product of expectations.
3. **Transforms** -- cos, sin, cosh, sinh and exp of an *affine* form in the
   parameters are written as exponentials; each parameter then contributes
   its transform :math:`E[\theta^k e^{s\theta}] = \partial_s^k M(s)`
   (characteristic function for imaginary ``s``). For a Gaussian vector
   :math:`b\sim\mathcal N(\mu\mathbf 1,\sigma^2 I_d)` and any ``d``,

   .. math:: E[e^{b\cdot v}] = e^{\mu\,\mathbf 1\cdot v + \sigma^2 |v|^2/2},

   with :math:`v` a linear combination of the points, kept as such.
4. **Gaussian pre-activations** -- functions of affine forms in Gaussian
   parameters (erf, ReLU, ...) become integrals over the Gaussian vector of the
   forms, with closed forms where they exist (:mod:`nnsym.engine.gaussian`).
5. **Fallback** -- a group containing a factor none of the rules know (e.g.
   ``tanh`` of a non-Gaussian parameter) becomes an explicit :class:`Expectation`, which
   :meth:`nnsym.Correlator.evaluate` integrates numerically (and marks so).
   A divergent expectation (a moment of a Cauchy law) raises
   :class:`DivergentExpectation`.

>>> import sympy as sp
>>> from nnsym import Normal, Uniform
>>> b, c, x, y = Normal("b", 0, 1), Uniform("c", -sp.pi, sp.pi), *sp.symbols("x y", real=True)
>>> expectation(sp.cos(b*x + c) * sp.cos(b*y + c))
exp(-(x - y)**2/2)/2
"""
from __future__ import annotations

import itertools
import math
from functools import lru_cache
from collections import defaultdict
from dataclasses import dataclass, field

import sympy as sp

from ..errors import DivergentExpectation
from ..core.laws import NormalLaw, RandomSymbol, RandomVector, random_atoms
from ..core.vectors import Component, Dot, VectorSymbol, expand_dot, nice_quadratic

__all__ = ["expectation", "Expectation", "DivergentExpectation", "ones_vector", "is_exact", "with_domain", "split_domain", "growth_degree"]


class Expectation(sp.Function):
    r"""An unevaluated :math:`E_{\theta}[f]`: no closed form was found.

    ``Expectation(f, theta_1, ..., theta_k)``; evaluated numerically by
    quadrature in :meth:`nnsym.Correlator.evaluate`.
    """

    is_real = None

    @classmethod
    def eval(cls, f, *params):
        return None

    @property
    def integrand(self):
        return self.args[0]

    @property
    def params(self):
        return self.args[1:]

    def _latex(self, printer):
        sub = ",".join(printer._print(p) for p in self.params)
        return r"\mathbb{E}_{%s}\left[%s\right]" % (sub, printer._print(self.integrand))


def is_exact(expr) -> bool:
    """False if ``expr`` still contains an unevaluated :class:`Expectation`."""
    return not sp.sympify(expr).has(Expectation)


_ONES: dict = {}


def ones_vector(dim) -> VectorSymbol:
    r"""The vector :math:`\mathbf 1 = (1,\dots,1)\in\mathbb R^d` (mean of an i.i.d. vector law)."""
    dim = sp.sympify(dim)
    if dim not in _ONES:
        _ONES[dim] = VectorSymbol("1_d", dim)
    return _ONES[dim]


# ----------------------------------------------------------------------------- affine forms
@dataclass
class Affine:
    r"""``const + sum_theta s_theta theta + sum_b b . v_b`` (coefficients free of parameters)."""

    const: sp.Expr = sp.S.Zero
    scal: dict = field(default_factory=dict)
    vec: dict = field(default_factory=dict)

    def scaled(self, c) -> "Affine":
        return Affine(
            sp.expand(c * self.const),
            {k: sp.expand(c * v) for k, v in self.scal.items()},
            {k: sp.expand(c * v) for k, v in self.vec.items()},
        )

    def __add__(self, o: "Affine") -> "Affine":
        scal, vec = dict(self.scal), dict(self.vec)
        for k, v in o.scal.items():
            scal[k] = sp.expand(scal.get(k, 0) + v)
        for k, v in o.vec.items():
            vec[k] = sp.expand(vec.get(k, 0) + v)
        return Affine(
            sp.expand(self.const + o.const),
            {k: v for k, v in scal.items() if v != 0},
            {k: v for k, v in vec.items() if v != 0},
        )

    def key(self):
        return (
            self.const,
            frozenset(self.scal.items()),
            frozenset(self.vec.items()),
        )


def affine(L) -> Affine | None:
    """Decompose ``L`` as an affine form in the random parameters, or None."""
    L = sp.expand(expand_dot(sp.sympify(L)))
    out = Affine()
    for term in sp.Add.make_args(L):
        rnd = random_atoms(term)
        if not rnd:
            out.const += term
            continue
        c, r = term.as_independent(*rnd, as_Add=False)
        if isinstance(r, RandomSymbol):
            out.scal[r] = out.scal.get(r, 0) + c
        elif isinstance(r, Dot):
            u, v = r.args
            if isinstance(u, RandomVector) and not random_atoms(v):
                b, w = u, v
            elif isinstance(v, RandomVector) and not random_atoms(u):
                b, w = v, u
            else:
                return None
            out.vec[b] = sp.expand(out.vec.get(b, 0) + c * w)
        else:
            return None
    return out


# ----------------------------------------------------------------------------- factor classification
@dataclass
class _Term:
    coeff: sp.Expr
    polys: dict  # RandomSymbol -> power
    vpolys: dict  # RandomVector -> list of (vector w, power): factors (b . w)^k
    exps: list  # list of alternatives: each a list of (coefficient, Affine)
    opaque: list  # factors no rule knows
    params: set
    factors: list = field(default_factory=list)  # every factor with parameters, as written


def _exp_alternatives(f, k: int):
    """cos/sin/cosh/sinh/exp of an affine form, to the power k, as exponentials."""
    if not (k.is_Integer and k > 0):
        if isinstance(f, sp.exp):
            a = affine(f.args[0] * k)
            return None if a is None else [[(sp.S.One, a)]]
        return None
    arg = f.args[0] if isinstance(f, (sp.cos, sp.sin, sp.cosh, sp.sinh, sp.exp)) else None
    if arg is None:
        return None
    a = affine(arg)
    if a is None:
        return None
    I = sp.I
    if isinstance(f, sp.exp):
        alts = [(sp.S.One, a)]
    elif isinstance(f, sp.cos):
        alts = [(sp.S.Half, a.scaled(I)), (sp.S.Half, a.scaled(-I))]
    elif isinstance(f, sp.sin):
        alts = [(-I / 2, a.scaled(I)), (I / 2, a.scaled(-I))]
    elif isinstance(f, sp.cosh):
        alts = [(sp.S.Half, a), (sp.S.Half, a.scaled(-1))]
    else:  # sinh
        alts = [(sp.S.Half, a), (-sp.S.Half, a.scaled(-1))]
    return [alts] * int(k)


def _classify(term) -> _Term:
    rnd = random_atoms(term)
    coeff, rest = term.as_independent(*rnd, as_Add=False)
    t = _Term(coeff, defaultdict(int), defaultdict(list), [], [], set(rnd))
    for f in sp.Mul.make_args(rest):
        t.factors.append(f)
        base, k = f.as_base_exp()
        if isinstance(f, sp.exp):
            base, k = f, sp.S.One
        if isinstance(base, RandomSymbol) and k.is_Integer and k > 0:
            t.polys[base] += int(k)
            continue
        if isinstance(base, Dot) and k.is_Integer and k > 0:
            a = affine(base)
            if a is not None and not a.scal and len(a.vec) == 1 and a.const == 0:
                (b, w), = a.vec.items()
                t.vpolys[b].append((w, int(k)))
                continue
        alts = _exp_alternatives(base, k) if isinstance(base, (sp.cos, sp.sin, sp.cosh, sp.sinh, sp.exp)) else None
        if alts is not None:
            t.exps.extend(alts)
            continue
        t.opaque.append(f)
    return t


def _groups(t: _Term) -> list[set]:
    """Parameters that share a factor (connected components)."""
    parent = {p: p for p in t.params}

    def find(p):
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    def link(ps):
        ps = list(ps)
        for q in ps[1:]:
            parent[find(q)] = find(ps[0])

    for alts in t.exps:
        link(_alt_params(alts))
    for f in t.opaque:
        link(random_atoms(f))
    comps = defaultdict(set)
    for p in t.params:
        comps[find(p)].add(p)
    return list(comps.values())


# ----------------------------------------------------------------------------- domains of transforms
#: conditions met by the transforms of the expectation being taken (a stack: one set per call)
_DOMAINS: list = []


def with_domain(value, condition) -> sp.Expr:
    r"""``value`` where ``condition`` holds and :math:`+\infty` (no finite expectation) elsewhere:
    ``Piecewise((value, condition), (oo, True))``; just ``value`` if the condition is always true.

    >>> x = sp.Symbol("x", real=True)
    >>> with_domain(1/(1 - x**2), abs(x) < 1)
    Piecewise((1/(1 - x**2), Abs(x) < 1), (oo, True))
    """
    condition = sp.sympify(condition)
    if condition is sp.true:
        return value
    if condition is sp.false:
        raise DivergentExpectation(f"the expectation {value} does not exist anywhere")
    return sp.Piecewise((value, condition), (sp.oo, True))


def _is_domain(e) -> bool:
    return isinstance(e, sp.Piecewise) and len(e.args) == 2 and e.args[1] == (sp.oo, sp.true)


def split_domain(expr) -> tuple:
    r"""Undo :func:`with_domain` everywhere in ``expr``: returns ``(value, condition)`` with every
    domain ``Piecewise`` replaced by its value and the conjunction of their conditions.

    >>> x = sp.Symbol("x", real=True)
    >>> split_domain(2*with_domain(1/(1 - x), x < 1) + 1)
    (1 + 2/(1 - x), x < 1)
    """
    conds: list = []

    def take(e):
        conds.append(e.args[0][1])
        return e.args[0][0]

    expr = sp.sympify(expr)
    while True:  # domains inside domains (nested expectations) come out one level at a time
        inner = expr.replace(_is_domain, take) if expr.has(sp.Piecewise) else expr
        if inner == expr:
            break
        expr = inner
    return expr, sp.And(*conds)


def _require(condition, what: str) -> None:
    """Record the domain ``condition`` of a transform (a symbolic condition on the points)."""
    condition = sp.sympify(condition)
    if condition is sp.true:
        return
    if condition is sp.false:
        raise DivergentExpectation(f"{what} does not exist (outside the domain of the transform)")
    if _DOMAINS:
        _DOMAINS[-1].add(condition)


# ----------------------------------------------------------------------------- transforms of one parameter
def _scalar_transform(theta: RandomSymbol, k: int, s) -> sp.Expr:
    r""":math:`E[\theta^k e^{s\theta}] = M^{(k)}(s)`, for ``s`` in the domain of :math:`M`
    (recorded; a number outside it raises :class:`DivergentExpectation`)."""
    s = sp.sympify(s)
    _require_scalar_domain(theta, s)
    return _scalar_transform_cached(theta.law, theta, int(k), s)


def _require_scalar_domain(theta: RandomSymbol, s) -> None:
    """Record the domain of :math:`E[e^{s\theta}]`; refuse an ``s`` surely outside it."""
    if s == 0:
        return
    cond = theta.law.mgf_domain(s)
    if cond is sp.false:
        raise DivergentExpectation(
            f"E[exp({s}*{theta})] does not exist for {theta.law}: {s} is outside the domain "
            f"{theta.law.mgf_domain(sp.Symbol('s'))} of its moment generating function")
    _require(cond, f"E[exp({s}*{theta})]")




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


def _vector_mgf(b: RandomVector, v) -> sp.Expr:
    r""":math:`E[e^{b\cdot v}]` for ``b`` with i.i.d. components."""
    law = b.law
    if law.joint:  # a law of the whole vector (e.g. uniform in a ball)
        return law.vector_transform(v, b.dim)
    if isinstance(law, NormalLaw):
        mu, var = law.params
        out = var / 2 * Dot(v, v)
        if mu != 0:
            out += mu * Dot(ones_vector(b.dim), v)
        return sp.exp(out)
    if not b.dim.is_Integer:
        raise NotImplementedError(
            f"E[exp({b}.v)] for i.i.d. {law} components needs an integer dimension (got d = {b.dim})"
        )
    return sp.Mul(*[law.transform(Component(v, j)) for j in range(int(b.dim))])


def _require_vector_domain(b: RandomVector, v) -> None:
    r"""The domain of :math:`E[e^{b\cdot v}]`: each i.i.d. component's transform must converge."""
    if b.law.joint or v == 0 or not b.dim.is_Integer:
        return
    for j in range(int(b.dim)):
        sj = Component(v, j)
        cond = b.law.mgf_domain(sj)
        if cond is sp.false:
            raise DivergentExpectation(f"E[exp({b}.v)] does not exist for {b.law} components: "
                                       f"component {j} of v = {v} is outside the domain of the transform")
        _require(cond, f"E[exp({b}.v)]")


def _vector_transform(b: RandomVector, polys: list, v) -> sp.Expr:
    r""":math:`E[\prod_j (b\cdot w_j)^{k_j} e^{b\cdot v}] = \prod_j\partial_{t_j}^{k_j} M(v + \sum_j t_j w_j)|_{t=0}`."""
    _require_vector_domain(b, v)
    if not polys:
        if v == 0:
            return sp.S.One
        return _vector_mgf(b, v)
    if not b.law.has_mgf:
        raise DivergentExpectation(f"moments of {b.law} do not exist")
    ts = [sp.Dummy(f"t{j}") for j in range(len(polys))]
    arg = v + sp.Add(*[t * w for t, (w, _) in zip(ts, polys)])
    M = expand_dot(_vector_mgf(b, arg))
    for t, (_, k) in zip(ts, polys):
        M = sp.diff(M, t, k)
    return M.subs({t: 0 for t in ts})


# ----------------------------------------------------------------------------- one group
def _alt_params(alts) -> set:
    return set().union(*[set(a.scal) | set(a.vec) for _, a in alts])

def _group_expectation(t: _Term, group: set) -> sp.Expr:
    """Closed form of E over ``group`` of the factors of ``t`` involving it."""
    # alternatives touching this group; the product is expanded into single exponentials
    alts = [a for a in t.exps if _alt_params(a) & group]
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
    result = sp.S.Zero
    for c, total in combos.values():
        c = sp.expand(c)
        if c == 0:
            continue
        val = c * sp.exp(total.const)
        for p in group:
            if isinstance(p, RandomSymbol):
                val *= _scalar_transform(p, t.polys.get(p, 0), total.scal.get(p, 0))
            else:
                val *= _vector_transform(p, t.vpolys.get(p, []), total.vec.get(p, 0))
            if val == 0:
                break
        result += val
    return result


def _group_factors(t: _Term, group: set) -> sp.Expr:
    """The product of the factors of ``t`` that involve ``group`` (for the fallback)."""
    f = sp.S.One
    for p in group:
        if isinstance(p, RandomSymbol):
            f *= p ** t.polys.get(p, 0)
        else:
            for w, k in t.vpolys.get(p, []):
                f *= Dot(p, w) ** k
    for alts in t.exps:
        if _alt_params(alts) & group:
            f *= sp.Add(*[c * sp.exp(a.const + sum(k * v for k, v in a.scal.items()) + sum(Dot(k, v) for k, v in a.vec.items())) for c, a in alts])
    for o in t.opaque:
        if random_atoms(o) & group:
            f *= o
    return f


def _only_polynomial(t: _Term, group: set) -> bool:
    return not any(_alt_params(a) & group for a in t.exps) and not any(random_atoms(o) & group for o in t.opaque)


def _surely_finite(t: _Term, group: set) -> bool:
    """The expectation over ``group`` exists: no opaque factor, and every law has an entire transform."""
    if any(random_atoms(o) & group for o in t.opaque):
        return False
    u = sp.Dummy("u")
    try:
        return all(p.law.has_mgf and p.law.mgf_domain(u) is sp.true for p in group)
    except NotImplementedError:  # a density whose tails sympy cannot read
        return False


def _term_expectation(term) -> sp.Expr:
    t = _classify(term)
    if not t.params:
        return term
    # a constant exponential from an affine factor belongs to the coefficient
    out = t.coeff
    groups = sorted(_groups(t), key=lambda g: not _only_polynomial(t, g))  # cheap zeros (E[a^odd]) first
    for j, group in enumerate(groups):
        if out == 0 and all(_surely_finite(t, g) for g in groups[j:]):
            return sp.S.Zero  # e.g. an odd moment of the readout: the neuron's factor is not needed
        has_opaque = any(random_atoms(o) & group for o in t.opaque)
        if not has_opaque:
            try:
                out *= _group_expectation(t, group)
                continue
            except NotImplementedError:
                pass
        else:  # functions of affine forms in Gaussian parameters: an integral over pre-activations
            from ..engine.gaussian import preactivation_expectation

            r = preactivation_expectation([f for f in t.factors if random_atoms(f) & group], group, affine)
            if r is not None:
                out *= r
                continue
        _require_numeric_domain(t, group)
        out *= Expectation(_group_factors(t, group), *sorted(group, key=sp.default_sort_key))
    return out


_BOUNDED = (sp.cos, sp.sin, sp.tanh, sp.erf, sp.erfc, sp.sign, sp.Heaviside, sp.atan, sp.sinc)


def growth_degree(e, p):
    r"""An integer :math:`g` with :math:`|e| = O(|p|^g)` as the parameter :math:`|p|\to\infty`
    (uniformly in the rest), or None if unknown (exponentials, negative powers, unknown functions).
    The engine and the Monte Carlo layer use it to ask for the moment :math:`E|p|^g` an
    expectation needs (a ReLU of a Cauchy parameter has none).

    >>> p = sp.Symbol("p", real=True)
    >>> growth_degree(sp.Max(0, 2*p - 1) * sp.tanh(p) + p**2, p), growth_degree(sp.exp(p), p)
    (2, None)
    """
    if not e.has(p):
        return 0
    if e == p:
        return 1
    if isinstance(e, (Dot, Component)) or e.is_Mul:
        parts = [growth_degree(a, p) for a in e.args]
        return None if None in parts else sum(parts)
    if e.is_Add or isinstance(e, (sp.Max, sp.Min, sp.Abs)):
        parts = [growth_degree(a, p) for a in e.args]
        return None if None in parts else max(parts)
    if e.is_Pow:
        base, ex = e.args
        if ex.has(p) or not ex.is_number or not ex.is_extended_real or ex < 0:
            return None
        g = growth_degree(base, p)
        return None if g is None else math.ceil(g * float(ex))
    if isinstance(e, _BOUNDED):
        return 0
    return None


def _require_numeric_domain(t: _Term, group: set) -> None:
    r"""The domain of an expectation left to quadrature: each exponential :math:`e^{s\theta}` of its
    integrand must have :math:`s` in the strip of :math:`\theta`'s transform, else the integral
    diverges and no quadrature rule may return a number. Only decided when the other factors
    cannot decay faster than a power (no exponential of a non-affine form): then the condition
    is necessary as well as sufficient."""
    others = [o for o in t.opaque if random_atoms(o) & group]
    for p in group:  # polynomial growth needs the matching moment (ReLU of a Cauchy parameter: none)
        if isinstance(p, RandomSymbol) and p.law.moment_exists(1) is not True:
            degs = [growth_degree(o, p) for o in others] + [t.polys.get(p, 0)]
            if None not in degs and sum(degs) > 0 and p.law.moment_exists(sum(degs)) is False:
                raise DivergentExpectation(
                    f"E[...] grows like |{p}|^{sum(degs)} and E[|{p}|^{sum(degs)}] does not exist for {p.law}")
    u = sp.Dummy("u")
    try:
        laws_entire = all(p.law.mgf_domain(u) is sp.true for p in group)
    except NotImplementedError:
        return
    if laws_entire:
        return
    if any(e.has(*group) for o in others for e in o.atoms(sp.exp, sp.cosh, sp.sinh)) or any(
            pw.exp.has(*group) for o in others for pw in o.atoms(sp.Pow)):
        return  # a factor that may decay like exp(-theta^2): the strip is not the domain
    alts = [a for a in t.exps if _alt_params(a) & group]
    if math.prod(len(a) for a in alts) > 256:
        return
    for choice in itertools.product(*alts) if alts else [()]:
        total = Affine()
        for _, ai in choice:
            total = total + ai
        for p in group:
            if isinstance(p, RandomSymbol):
                _require_scalar_domain(p, total.scal.get(p, 0))
            else:
                _require_vector_domain(p, total.vec.get(p, 0))


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
        from ..engine.gaussian import rewrite_rectifiers

        expr = rewrite_rectifiers(expr)
    # powers of sums with parameters, e.g. (w x + b)^3 of a Hermite neuron, are multiplied out
    # (Wick/Isserlis then acts through the moments); function arguments are left alone
    expr = _expand_polynomial_factors(expr)
    expanded = sp.expand(expr, power_exp=False, log=False, deep=False)
    _DOMAINS.append(set())
    try:
        result = _nice_exponentials(sp.Add(*[_term_expectation(term) for term in sp.Add.make_args(expanded)]))
    finally:
        conditions = _DOMAINS.pop()
    if not expr.has(sp.I):  # a real integrand has a real expectation
        result = _nice_exponentials(_real_part(result))
    return with_domain(result, sp.And(*sorted(conditions, key=sp.default_sort_key)))

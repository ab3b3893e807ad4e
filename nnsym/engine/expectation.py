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
   :math:`E[e^{b\cdot v}] = e^{\mu\,\mathbf 1\cdot v + \sigma^2 |v|^2/2}`; polynomial moments of a
   Gaussian vector first by **Wick/Isserlis**, :mod:`nnsym.engine.rules_wick`), then **Gaussian
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
from . import rules_exponential, rules_moments, rules_wick  # noqa: F401  (register the rules)
from .domains import collecting_domains, growth_degree, require, split_domain, with_domain
from .forms import Affine, affine, ones_vector
from .gaussian import arccos_J, bump_domain, exponent_form, rewrite_rectifiers
from .registry import FACTOR_RULES, GROUP_RULES
from .rules_wick import clear_wick_cache
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
    diverges and no quadrature rule may return a number. Exponentials of quadratic forms are
    decided by :func:`_require_exponent_domain`. Only decided when the other factors cannot decay
    faster than a power: then the condition is necessary as well as sufficient."""
    others = t.opaque_of(group)
    for p in group:  # polynomial growth needs the matching moment (ReLU of a Cauchy parameter: none)
        if isinstance(p, RandomSymbol) and p.law.moment_exists(1) is not True:
            degs = [growth_degree(o, p) for o in others] + [t.polys.get(p, 0)]
            if None not in degs and sum(degs) > 0 and p.law.moment_exists(sum(degs)) is False:
                raise DivergentExpectation(
                    f"E[...] grows like |{p}|^{sum(degs)} and E[|{p}|^{sum(degs)}] does not exist for {p.law}")
    if any(e.has(*group) for o in others for e in o.atoms(sp.exp, sp.cosh, sp.sinh)) or any(
            pw.exp.has(*group) for o in others for pw in o.atoms(sp.Pow)):
        _require_exponent_domain(t, group)  # e.g. e^{(b x + u)^2/8}: decided where the laws allow
        return
    if not all(p.law.mgf_domain_known for p in group):
        return  # a density whose tails sympy cannot read: no strip to state
    u = sp.Dummy("u")
    if all(p.law.mgf_domain(u) is sp.true for p in group):
        return
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


def _tail_kind(p) -> str:
    r"""'bounded' (finite support), 'gaussian', 'heavy' (a transform with a finite strip: tails no lighter
    than exponential, so :math:`e^{c\theta^2}`, c > 0, is not integrable) or 'unknown'."""
    law = p.law
    if law.is_bounded:
        return "bounded"
    if law.is_gaussian:
        return "gaussian"
    if law.mgf_domain_known and law.mgf_domain(sp.Dummy("s", real=True)) is not sp.true:
        return "heavy"
    return "unknown"


def _strip_at_vertices(p, s, box: dict) -> sp.Boolean:
    r""":math:`E[e^{s\theta}] < \infty` for every value of the bounded parameters in ``s``: the strip of
    :math:`\theta` is an interval in Re s and s is affine in each of them, so its vertices decide."""
    inside = [b for b in sorted(s.free_symbols & set(box), key=sp.default_sort_key)]
    conds = []
    for corner in itertools.product(*[box[b] for b in inside]):
        sv = sp.expand(s.xreplace(dict(zip(inside, corner))))
        conds.append(sp.true if sv == 0 else p.law.mgf_domain(sv))
    return sp.And(*conds)


def _surely_positive_quadratic(p) -> bool:
    r"""True if the polynomial ``p`` of total degree <= 2 in real symbols, with rational coefficients, is
    positive everywhere: :math:`p = (x, 1)^TM(x, 1)` with M positive semidefinite and no null vector of M
    with a last component (else :math:`(x, 1)` in the null space would be a zero of p).

    >>> x, y = sp.symbols("x y", real=True)
    >>> _surely_positive_quadratic(6*(x - y)**2 + 1), _surely_positive_quadratic(x**2 + y**2)
    (True, False)
    """
    syms = sorted(p.free_symbols, key=sp.default_sort_key)
    if not all(s.is_real for s in syms):
        return False
    if not syms:
        return bool(p.is_positive)
    try:
        poly = sp.Poly(sp.expand(p), *syms)
    except sp.PolynomialError:
        return False
    if poly.total_degree() > 2 or not all(c.is_Rational for c in poly.coeffs()):
        return False
    n = len(syms)
    M = sp.zeros(n + 1, n + 1)
    for mon, c in zip(poly.monoms(), poly.coeffs()):
        at = [k for k in range(n) for _ in range(mon[k])] + [n] * (2 - sum(mon))
        M[at[0], at[1]] += c / 2
        M[at[1], at[0]] += c / 2
    return bool(M.is_positive_semidefinite) and all(v[n] == 0 for v in M.nullspace())


def _sign_everywhere(e) -> int:
    """+1 (-1) if the rational function ``e`` is positive (negative) for every real value of its symbols
    (numerator and denominator of degree <= 2 with rational coefficients), else 0 (not shown)."""
    num, den = sp.fraction(sp.together(e))
    signs = []
    for q in (num, den):
        if _surely_positive_quadratic(q):
            signs.append(1)
        elif _surely_positive_quadratic(-q):
            signs.append(-1)
        else:
            return 0
    return signs[0] * signs[1]


def _exponent_condition(Q: sp.Matrix, lin: sp.Matrix, ps: list, kinds: dict) -> list | None:
    r"""Conditions for :math:`E[\mathrm{poly}(\theta)\,e^{\theta^TQ\theta + l^T\theta}] < \infty` over
    independent parameters ``ps``. The Gaussian ones G (with a quadratic term) integrate in closed form,
    finite iff :math:`1 - 2Q_{GG}V` has positive eigenvalues (:func:`~nnsym.engine.gaussian.bump_domain`);
    what is left for the heavy-tailed ones H is :math:`e^{\theta_H^TS\theta_H + l'^T\theta_H}`,

    .. math:: S = Q_{HH} + 2Q_{HG}(V^{-1} - 2Q_{GG})^{-1}Q_{GH},\qquad
              l' = l_H + 2Q_{HB}\theta_B + 2Q_{HG}(V^{-1} - 2Q_{GG})^{-1}(2Q_{GB}\theta_B + l_G + V^{-1}\mu_G),

    finite iff S < 0, or S = 0 and :math:`l'` in the strip of the transform (for every value of the
    bounded parameters B). A non-diagonal S is refused only where it surely diverges: a positive
    diagonal element, or S = 0 outside the strips; a singular negative semidefinite S is left undecided.
    None if undecided (too many parameters)."""
    idx = {p: i for i, p in enumerate(ps)}
    G = [p for p in ps if kinds[p] == "gaussian" and any(Q[idx[p], k] != 0 for k in range(len(ps)))]
    H = [p for p in ps if kinds[p] == "heavy"]
    B = [p for p in ps if kinds[p] == "bounded"]
    if len(G) > 4 or len(H) > 4:
        return None
    gi, hi, bi = [idx[p] for p in G], [idx[p] for p in H], [idx[p] for p in B]
    conds = []
    if G:
        V = sp.diag(*[p.law.variance for p in G])
        conds.append(bump_domain(-Q.extract(gi, gi), V))
    if not H:
        return conds
    QHH = Q.extract(hi, hi)
    th_B = sp.Matrix(B) if B else sp.zeros(0, 1)
    lin_H = lin.extract(hi, [0]) + (2 * Q.extract(hi, bi) * th_B if B else sp.zeros(len(H), 1))
    if G:
        Vinv = sp.diag(*[1 / p.law.variance for p in G])
        Minv = (Vinv - 2 * Q.extract(gi, gi)).inv()
        a = lin.extract(gi, [0]) + Vinv * sp.Matrix([p.law.mean for p in G])
        if B:
            a += 2 * Q.extract(gi, bi) * th_B
        S = QHH + 2 * Q.extract(hi, gi) * Minv * Q.extract(gi, hi)
        lin_H = lin_H + 2 * Q.extract(hi, gi) * Minv * a
    else:
        S = QHH
    S = S.applyfunc(lambda e: sp.factor(sp.cancel(e)))
    box = {p: p.law.support for p in B}
    if any(len(lin_H[j].free_symbols & set(B)) > 4 for j in range(len(H))):
        return None
    strips = [_strip_at_vertices(p, sp.expand(lin_H[j]), box) for j, p in enumerate(H)]
    if all(S[i, j] == 0 for i in range(len(H)) for j in range(len(H)) if i != j):
        for j in range(len(H)):
            sign = _sign_everywhere(S[j, j])
            conds.append(sp.true if sign < 0 else sp.false if sign > 0 else
                         sp.Or(S[j, j] < 0, sp.And(sp.Eq(S[j, j], 0), strips[j])))
        return conds
    # a coupled S: the exponent grows along the axis of a heavy-tailed parameter where S_jj > 0 (divergent);
    # S = 0 leaves e^{l'.theta} (the strips decide); a negative semidefinite S is finite where it is definite
    # and undecided where it is singular (e^{-(b x/2 - c)^2} is bounded): nothing is refused there
    diagonal = []
    for j in range(len(H)):
        sign = _sign_everywhere(S[j, j])
        diagonal.append(sp.true if sign < 0 else sp.false if sign > 0 else S[j, j] <= 0)
    zero = sp.And(*[sp.Eq(S[i, j], 0) for i in range(len(H)) for j in range(i, len(H))])
    conds.append(sp.And(*diagonal, sp.Or(sp.Not(zero), sp.And(*strips))))
    return conds


def _require_exponent_domain(t: Term, group: set) -> None:
    r"""The domain of :math:`E[e^{q(\theta)}F(\theta)]` left to quadrature, q quadratic (the real part of
    the exponents of the integrand's exponentials) and F of power growth: a growing :math:`e^{cu^2}`
    needs Gaussian (or bounded) u and then has a domain (:func:`_exponent_condition`); against a law
    whose tails are exponential or heavier (Laplace, Cauchy, sech) it diverges. Recorded with
    :func:`~nnsym.engine.domains.require`; left undecided (nothing recorded) when the exponents are not
    quadratic, a factor's growth is unknown, or a law's tails are not known."""
    ps = sorted(group, key=sp.default_sort_key)
    if not all(isinstance(p, RandomSymbol) for p in ps):
        return
    form = exponent_form(sp.Mul(*t.opaque_of(group)), ps)
    if form is None:
        return
    Q, l0 = form
    kinds = {p: _tail_kind(p) for p in ps}
    for j, p in enumerate(ps):  # a law of unknown tails: only a linear exponent with an entire transform
        if kinds[p] == "unknown" and (any(Q[j, k] != 0 for k in range(len(ps)))
                                      or not (p.law.mgf_domain_known and p.law.mgf_domain(sp.Dummy("s")) is sp.true)):
            return
    alts = t.exponentials_of(group)
    if math.prod(len(a) for a in alts) > 256:
        return
    integrand = t.product_over(group)
    found = set()
    for choice in itertools.product(*alts) if alts else [()]:
        total = Affine()
        for _, ai in choice:
            total = total + ai
        lin = l0 + sp.Matrix([sp.re(sp.expand(total.scal.get(p, 0))) for p in ps])
        conds = _exponent_condition(Q, lin, ps, kinds)
        if conds is None:
            return
        found.update(conds)
    for c in sorted(found, key=sp.default_sort_key):
        if c is sp.false:
            laws = ", ".join(f"{p} ~ {p.law}" for p in ps)
            raise DivergentExpectation(
                f"E[{integrand}] does not exist ({laws}): its exponent grows faster than the tails of the laws")
        require(c, f"E[{integrand}]")


# ----------------------------------------------------------------------------- final form
def _canonical_even_power(e):
    return e.is_Pow and e.exp.is_Integer and e.exp % 2 == 0 and e.base.is_Add and e.base.could_extract_minus_sign()


def _nice_exponentials(expr):
    """Merge the exponentials of each product and write their exponents as a paper
    does; even powers such as :math:`(x_2 - x_1)^2` get the canonical sign."""
    terms = []
    for term in sp.Add.make_args(expr):
        if term.has(sp.exp) or any(not p.exp.is_Number for p in term.atoms(sp.Pow)):
            # (a polynomial term, e.g. a Wick moment, has nothing to merge: powsimp would only cost)
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
    """Forget the engine's memoised results (the scalar transforms, the Gaussian vector moments and the
    arc-cosine kernels)."""
    clear_transform_cache()
    clear_wick_cache()
    arccos_J.cache_clear()

r"""E0, temperedness: the correlators are tempered distributions (polynomially bounded).

Two arguments: a bounded neuron (:func:`bounded_neuron`) gives bounded correlators at every n
and N; otherwise each exponential of :math:`G^{(2)}, G^{(4)}_c` is checked for a positive
direction of its quadratic form in the points (:func:`growth`, Gaussian growth confirmed
numerically). For :math:`N\to\infty` a Gaussian limit needs only :math:`G^{(2)}` (Wick).

>>> import nnsym as ns
>>> from nnsym.analysis.axioms.verdicts import AxiomCorrelators
>>> vals = {"sigma_a": 1.0, "sigma_b": 1.0, "sigma_c": 1.0, "N": 7}
>>> fin, lim = temperedness(AxiomCorrelators.of(ns.zoo.gauss_net(1), vals))
>>> fin.holds, lim.holds
(False, True)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np
import sympy as sp

from ...core.random import RandomVector, random_atoms
from ...core.special import LambdaBessel
from ...core.vectors import Dot, ScalarPoint, expand_dot, vector_atoms
from ...engine.expectation import Expectation
from ..toolkit import Verdict, as_number, evaluate_with_error, numeric_dimension
from .verdicts import AxiomCorrelators, correlator_label

if TYPE_CHECKING:  # pragma: no cover
    from ...model.correlator import Correlator
    from ...model.network import Network

__all__ = ["temperedness", "bounded_neuron", "growth"]


_BOUNDED = (sp.cos, sp.sin, sp.tanh, sp.erf, sp.atan, sp.sech)


def _law_compact(p) -> bool:
    return p.law.is_bounded


def bounded_neuron(net: "Network", vals: Mapping) -> Verdict | None:
    r"""Temperedness from boundedness: if the input enters the neuron :math:`h = F(\theta)\,\prod_j f_j(x;\theta)`
    only through bounded functions (:math:`|f_j|\le 1`: cos, sin, tanh, erf, atan, sech of real arguments), then
    :math:`|h(x)|\le|F|` and

    .. math:: |G^{(n)}(x_1,\dots,x_n)| \le E\Big[\Big(\sum_{i\le N}|a_i F_i|\Big)^n\Big] < \infty

    uniformly in the points, when the readout (and bias) laws have all moments and :math:`F` is
    constant or continuous on a compact support. Returns True (structural), False (a readout law
    without moments), or None when the argument does not apply.

    >>> import nnsym as ns
    >>> bounded_neuron(ns.zoo.cos_net(1), {"sigma_a": 1.0, "sigma_b": 1.0}).holds
    True
    >>> bounded_neuron(ns.zoo.gauss_net(1), {}) is None           # exp(b x): unbounded in x
    True
    """
    x = net.input
    xs, F = [], sp.S.One
    for f in sp.Mul.make_args(net.neuron):
        if x in f.free_symbols:
            xs.append(f)
        else:
            F *= f
    if not all(isinstance(f, _BOUNDED) for f in xs):
        return None
    for f in xs:
        if f.args[0].is_extended_real is False:
            return None
    lawnote = []
    for p, what in ((net.readout, "readout"), (net.bias, "output bias")):
        if p is None:
            continue
        if not p.law.has_mgf:
            return Verdict(False, f"the {what} law {p.law} has no finite moments: the correlators do not exist",
                           "structural")
        lawnote.append(f"the {what} law {p.law} has all moments")
    rnd = random_atoms(F)
    if not rnd:
        fnote = f"F = {F} is a constant"
    elif all(_law_compact(p) for p in rnd):
        # continuity on a compact support: check F is finite on a fine sample of it
        rng = np.random.default_rng(0)
        D = numeric_dimension(net.dim, vals)
        draws = {p: (p.law.sample(rng, (2000, D), vals) if isinstance(p, RandomVector) else
                     p.law.sample(rng, 2000, vals)) for p in rnd}
        from ...numeric.kernels import compile_kernel

        hyper = sorted(F.free_symbols - rnd - ({net.dim} if not net.dim.is_Integer else set()), key=str)
        fn = compile_kernel(sorted(rnd, key=str) + hyper, F)
        with np.errstate(all="ignore"):
            v = fn(*[draws[p] for p in sorted(rnd, key=str)], *[vals[h.name] for h in hyper],
                   *([] if net.dim.is_Integer else []))
        if not np.all(np.isfinite(v)):
            return None
        fnote = (f"F = {F} is continuous on the compact support of {', '.join(map(str, rnd))} "
                 f"(max |F| = {np.max(np.abs(v)):.3g} on 2000 draws)")
    else:
        return None
    return Verdict(True, (
        "|h(x)| <= |F| for every x "
        f"(x enters only through {', '.join(sorted({type(f).__name__ for f in xs}))}); "
        f"{fnote}; {'; '.join(lawnote)}: so |G^(n)(x_1..x_n)| <= E[(sum_i |a_i F_i|)^n] < oo uniformly "
        "in the points: bounded continuous correlators are tempered, for every n and N"),
        "structural")


def _quadratic_form(expo, points, vals):
    """Numeric matrix Q with expo = sum_ij Q_ij x_i.x_j + (point-free), or None."""
    e = sp.expand(expand_dot(expo))
    n = len(points)
    Q = np.zeros((n, n))
    idx = {p: i for i, p in enumerate(points)}
    for term in sp.Add.make_args(e):
        pts = [s for s in term.free_symbols if s in idx]
        if not pts:
            continue
        dots = [f for f in sp.Mul.make_args(term) if isinstance(f, Dot)]
        if isinstance(points[0], ScalarPoint):
            c, mono = term.as_independent(*pts, as_Add=False)
            pw = mono.as_powers_dict()
            if sum(pw.values()) != 2 or not all(b in idx for b in pw):
                return None
            ij = [idx[b] for b, k in pw.items() for _ in range(int(k))]
        else:
            if len(dots) != 1 or not vector_atoms(dots[0]) <= set(points):
                return None
            c = term / dots[0]
            if any(s in idx for s in sp.sympify(c).free_symbols):
                return None
            ij = [idx[dots[0].args[0]], idx[dots[0].args[1]]]
        cv = as_number(c, vals)
        if cv is None:
            return None
        i, j = ij
        Q[i, j] += cv / 2
        Q[j, i] += cv / 2
    return Q


def growth(G: "Correlator", vals: Mapping) -> Verdict:
    r"""Is the correlator polynomially bounded (True), of Gaussian growth (False), or undecided?

    Term by term, :math:`G = \sum_t P_t(x)\,e^{Q_t(x)}` with :math:`Q_t(x) = \sum_{ij} q_{ij}\,x_i\cdot x_j`
    (absolute values with negative coefficients dropped, which only enlarges :math:`Q_t`): if every
    :math:`q` is negative semi-definite, :math:`G` is polynomially bounded; otherwise :math:`G` is
    evaluated along the leading eigenvector :math:`v`, :math:`x_k = \lambda v_k e`, and growth faster
    than any power confirms a violation of temperedness.

    >>> import nnsym as ns
    >>> vals = {"sigma_a": 1.0, "sigma_b": 1.0, "sigma_c": 1.0, "N": 7}
    >>> growth(ns.zoo.gauss_net(1).correlator(4, connected=True), vals).holds
    False
    """
    expr, points, dim = G.expr, G.points, G.dim
    if expr == 0:
        return Verdict(True, f"{correlator_label(G)} = 0", "symbolic")
    if expr.has(Expectation):
        return Verdict(None, f"{correlator_label(G)} has no closed form", "undecided")
    worst = None
    for term in sp.Add.make_args(sp.expand(expr, power_exp=False, deep=False)):
        term = sp.powsimp(term, combine="exp")
        expo = sp.Add(*[f.args[0] for f in sp.Mul.make_args(term) if isinstance(f, sp.exp)])
        other = [f for f in sp.Mul.make_args(term) if not isinstance(f, sp.exp) and set(points) & f.free_symbols]
        if any(not (isinstance(f, (LambdaBessel, sp.cos, sp.sin)) or f.is_polynomial(*points)) for f in other):
            return Verdict(None, f"{correlator_label(G)} contains factors whose growth is not analysed: {other}",
                           "undecided")
        if expo == 0:
            continue
        expo_q = expo.replace(lambda u: isinstance(u, sp.Abs), lambda u: sp.S.Zero) if all(
            (as_number(c, vals) or 0) <= 0 for c in [expo.coeff(a) for a in expo.atoms(sp.Abs)]) else None
        if expo_q is None:
            return Verdict(None, f"{correlator_label(G)}: an |.| with a positive coefficient in an exponent",
                           "undecided")
        Q = _quadratic_form(expo_q, points, vals)
        if Q is None:
            return Verdict(None, f"{correlator_label(G)}: an exponent that is not a quadratic form in the points",
                           "undecided")
        w, V = np.linalg.eigh(Q)
        if worst is None or w[-1] > worst[0]:
            worst = (w[-1], V[:, -1], term)
    if worst is None or worst[0] <= 1e-12:
        return Verdict(True, f"{correlator_label(G)}: every exponential has a negative semi-definite quadratic form "
                             "in the points and the other factors are bounded or polynomial: polynomially bounded",
                       "symbolic")
    lam_max, v, term = worst
    D = numeric_dimension(dim, vals)
    e = np.zeros(D)
    e[0] = 1.0
    lams = np.array([2.0, 4.0, 8.0])
    X = lams[:, None, None] * v[None, :, None] * e[None, None, :] / max(1e-300, np.max(np.abs(v)))
    with np.errstate(all="ignore"):
        f, _, _ = evaluate_with_error(expr, X, vals, points=points, dim=dim)
    la = np.log(np.abs(f) + 1e-300)
    grows = (not np.all(np.isfinite(f))) or (la[2] - la[1] > 2.0 * max(la[1] - la[0], 0.0) and la[2] - la[1] > 3.0)
    if grows:
        return Verdict(False, (
            f"{correlator_label(G)} grows like a Gaussian: the term {term} has a quadratic form with a "
            f"positive eigenvalue {lam_max:.3g} (at {vals}); along x_k = lambda v_k e with v = "
            f"{np.round(v, 3).tolist()}, |G| = {np.abs(f).tolist()} at lambda = {lams.tolist()}: "
            "not polynomially bounded, so not a tempered distribution"), "symbolic+numeric",
            {"eigenvalue": lam_max})
    return Verdict(None, f"{correlator_label(G)}: a term with a growing direction, but no growth seen numerically "
                         "(cancellation?)", "undecided")


def temperedness(C: AxiomCorrelators) -> tuple[Verdict, Verdict]:
    r"""E0 at finite N and for :math:`N\to\infty`: ``(finite_N, large_N)`` verdicts.

    Finite N: :func:`bounded_neuron` if it decides, else :func:`growth` of :math:`G^{(2)}` and
    :math:`G^{(4)}_c` (a growing one violates E0; bounded ones leave higher n undecided).
    :math:`N\to\infty`: bounded at every N stays bounded; a Gaussian limit is decided by
    :math:`G^{(2)}`, since :math:`|G^{(2)}(x,y)|\le\sqrt{G^{(2)}(x,x)G^{(2)}(y,y)}` and Wick's theorem.

    >>> import nnsym as ns
    >>> from nnsym.analysis.axioms.verdicts import AxiomCorrelators
    >>> fin, lim = temperedness(AxiomCorrelators.of(ns.zoo.cos_net(1), {"sigma_a": 1.0, "sigma_b": 1.0, "N": 7}))
    >>> fin.holds, lim.holds
    (True, True)
    """
    net, vals = C.network, C.values
    G2, G4c, G2i, G4ci = C.G2, C.G4c, C.G2_inf, C.G4c_inf
    bn = bounded_neuron(net, vals)
    if bn is not None and bn.holds is not None:
        e0f = bn
    else:
        gs = [growth(G, vals) for G in (G2, G4c)]
        if any(g.holds is False for g in gs):
            e0f = next(g for g in gs if g.holds is False)
        elif all(g.holds for g in gs):
            e0f = Verdict(None, "; ".join(g.evidence for g in gs) + "; higher n not decided", "undecided")
        else:
            e0f = Verdict(None, "; ".join(g.evidence for g in gs), "undecided")
    if C.no_limit is not None:
        e0l = C.no_limit
    elif bn is not None and bn.holds:
        e0l = Verdict(True, "bounded correlators at every N (see finite N), hence in the limit", "structural")
    elif C.gaussian:
        g = growth(G2i, vals)
        e0l = Verdict(g.holds, ("N -> oo: a Gaussian process; every correlator is a sum of products of G^(2) (Wick), "
                                "and |G^(2)(x, y)| <= sqrt(G^(2)(x, x) G^(2)(y, y)). " + g.evidence), g.method)
    else:
        gs = [growth(G, vals) for G in (G2i, G4ci)]
        e0l = next((g for g in gs if g.holds is False), Verdict(None, "non-Gaussian limit: " +
                                                                "; ".join(g.evidence for g in gs), "undecided"))
    return e0f, e0l

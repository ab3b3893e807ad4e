r"""E4, cluster decomposition: connected correlators vanish when a subset of the points moves away.

The limit :math:`\lambda\to\infty` of :math:`G_c(\dots, x_k+\lambda e, \dots)` for ``k`` in a proper
subset, term by term (:func:`cluster_limit`): exponents polynomial in :math:`\lambda` decide by
their leading coefficient; unevaluated expectations lose their terms
:math:`E_b[R(b)e^{i\lambda k\, b\cdot e}]`, :math:`k\ne0`, by the Riemann-Lebesgue lemma; a
numeric fallback evaluates at growing :math:`\lambda`.

>>> import nnsym as ns
>>> cluster_limit(ns.zoo.cos_net(1).correlator(4, connected=True), (3, 4)).kind
'persists'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import sympy as sp

from ...core.random import random_atoms
from ...core.special import LambdaBessel
from ...core.vectors import Dot, ScalarPoint, VectorSymbol, expand_dot, vector_atoms
from ...engine.expectation import Expectation, affine
from ..symmetries import canonical
from ..toolkit import Verdict, as_number, evaluate_with_error, numeric_dimension, numeric_values
from .verdicts import AxiomCorrelators, correlator_label

if TYPE_CHECKING:  # pragma: no cover
    from ...model.correlator import Correlator
    from ..spectra import PowerSpectrum

__all__ = ["cluster_decomposition", "cluster_limit", "ClusterLimit", "has_hard_cutoff"]


@dataclass
class ClusterLimit:
    """The limit of a correlator when the points in ``subset`` move to infinity.

    ``kind``: ``"vanishes"``, ``"persists"`` (``expr`` is the non-zero limit), ``"grows"``
    (no limit: exponential growth along some directions), ``"oscillates"`` or ``"unknown"``."""

    kind: str
    expr: Any
    subset: tuple
    evidence: str
    method: str = "symbolic"


def _rl_limit(E, lam):
    """Riemann-Lebesgue limit of an unevaluated expectation with points shifted by lam*e."""
    f = E.integrand
    if lam not in f.free_symbols:
        return E
    pts = {s for s in f.free_symbols if isinstance(s, (VectorSymbol, ScalarPoint)) and not random_atoms(s)} | {lam}
    amp, body = f.as_independent(*pts, as_Add=False)  # F(b)^k times the trigonometric part
    kept = []
    for t in sp.Add.make_args(sp.expand(expand_dot(body), power_exp=False)):
        if lam not in t.free_symbols:
            kept.append(t)
            continue
        t2 = sp.powsimp(t, combine="exp")
        exps = [g for g in sp.Mul.make_args(t2) if isinstance(g, sp.exp)]
        rest = sp.Mul(*[g for g in sp.Mul.make_args(t2) if not isinstance(g, sp.exp)])
        if lam in rest.free_symbols:
            return None
        expo = sp.expand(expand_dot(sp.Add(*[g.args[0] for g in exps])))
        if lam not in expo.free_symbols:  # the shift cancels in this term
            kept.append(rest * sp.exp(expo))
            continue
        if sp.diff(expo, lam, 2) != 0:
            return None
        c1 = sp.expand(sp.diff(expo, lam) / sp.I)
        if c1.has(sp.I) or not random_atoms(c1):
            return None
        A = affine(c1)
        if A is None or random_atoms(A.const):
            return None
        # e^{i lam (linear form in absolutely continuous parameters)}: -> 0 (Riemann-Lebesgue)
    if not kept:
        return sp.S.Zero
    return Expectation(amp * sp.Add(*[sp.powsimp(t, combine="exp") for t in kept]), *E.params)


def _exp_limit(arg, lam, vals):
    """('vanish'|'const'|'grow'|'direction'|'oscillates'|'unknown', limit factor)."""
    a = sp.expand(expand_dot(arg))
    a = a.xreplace({Dot(VectorSymbol("e_", s.dim), VectorSymbol("e_", s.dim)): 1
                    for s in a.free_symbols if isinstance(s, VectorSymbol) and s.name == "e_"})
    for ab in [u for u in a.atoms(sp.Abs) if lam in u.free_symbols]:
        inner = sp.expand(ab.args[0])
        al = sp.diff(inner, lam)
        if lam in al.free_symbols or al == 0:
            return "unknown", None
        sg = sp.sign(al)
        if sg not in (1, -1):
            v = as_number(al, vals)
            if v is None or v == 0:
                return "unknown", None
            sg = 1 if v > 0 else -1
        a = a.xreplace({ab: sg * inner})
    a = sp.expand(a)
    if a.has(sp.Abs) and any(lam in u.free_symbols for u in a.atoms(sp.Abs)):
        return "unknown", None
    try:
        poly = sp.Poly(a, lam)
    except sp.PolynomialError:
        return "unknown", None
    if poly.degree() > 2:
        return "unknown", None
    coeffs = {k[0]: c for k, c in zip(poly.monoms(), poly.coeffs())}
    for deg in (2, 1):
        c = sp.sympify(coeffs.get(deg, 0))
        if c == 0:
            continue
        if c.has(sp.I):
            re_c = sp.re(c)
            if re_c == 0:
                return "oscillates", None
            c = re_c
        if any(isinstance(s, VectorSymbol) and s.name == "e_" for s in vector_atoms(c)):
            return "direction", c
        sign = c.is_negative if c.is_negative is not None else None
        if sign is None:
            v = as_number(c, vals)
            if v is None:
                return "unknown", None
            sign = v < 0
        return ("vanish", None) if sign else ("grow", c)
    return "const", sp.exp(coeffs.get(0, 0))


def _term_limit(term, lam, vals):
    cats, out = [], sp.S.One
    for f in sp.Mul.make_args(sp.powsimp(term, combine="exp")):
        if lam not in f.free_symbols:
            out *= f
            continue
        if isinstance(f, sp.exp):
            kind, val = _exp_limit(f.args[0], lam, vals)
            cats.append(kind)
            if kind == "const":
                out *= val
            continue
        if isinstance(f, (sp.re, sp.im)) and isinstance(f.args[0], Expectation) or isinstance(f, Expectation):
            E = f.args[0] if isinstance(f, (sp.re, sp.im)) else f
            lim = _rl_limit(E, lam)
            if lim is None:
                cats.append("unknown")
            elif lim == 0:
                cats.append("vanish")
            else:
                cats.append("const")
                out *= f.func(lim) if isinstance(f, (sp.re, sp.im)) else lim
            continue
        if isinstance(f, LambdaBessel):
            s = sp.expand(expand_dot(f.args[1]))
            try:
                deg = sp.Poly(s, lam).degree()
            except sp.PolynomialError:
                deg = None
            cats.append("power-vanish" if deg == 2 else "unknown")
            continue
        if isinstance(f, (sp.cos, sp.sin)):
            cats.append("oscillates")
            continue
        cats.append("poly" if f.is_polynomial(lam) else "unknown")
    if "unknown" in cats:
        return "unknown", None
    if "vanish" in cats and not {"grow", "direction"} & set(cats):
        return "vanish", None
    if "power-vanish" in cats and not {"grow", "direction", "poly"} & set(cats):
        return "vanish", None
    if {"grow", "direction"} & set(cats):
        return ("grow" if "grow" in cats else "direction"), None
    if "poly" in cats:
        return "grow", None
    if "oscillates" in cats:
        return "oscillates", None
    return "const", out


def cluster_limit(G: "Correlator", subset: Sequence[int], values: Mapping | None = None, seed: int = 0) -> ClusterLimit:
    r""":math:`\lim_{\lambda\to\infty} G(\dots, x_k + \lambda e, \dots)` for the points ``x_k``, ``k`` in ``subset``
    (1-based indices), for every direction ``e``.

    Term by term: an exponent polynomial in :math:`\lambda` decides by its leading
    coefficient; an unevaluated expectation drops its terms :math:`e^{i\lambda k\,b\cdot e}`,
    :math:`k\ne0`, by the Riemann-Lebesgue lemma (all nnsym laws have densities). The
    surviving limit is checked to be non-zero numerically. If the symbolic analysis
    fails, :math:`G` is evaluated at growing :math:`\lambda` (``method = "numeric"``).

    >>> import nnsym as ns
    >>> G = ns.zoo.cos_net(2).correlator(2)
    >>> cluster_limit(G, (2,)).kind
    'vanishes'
    """
    subset = tuple(sorted(set(int(k) for k in subset)))
    pts = G.points
    if not subset or not all(1 <= k <= len(pts) for k in subset) or len(subset) == len(pts):
        raise ValueError(f"subset must be a proper, non-empty subset of 1..{len(pts)}, got {subset}")
    vals = numeric_values(G.expr, values, G.dim)
    lam = sp.Symbol("lambda_", positive=True)
    scalar = isinstance(pts[0], ScalarPoint)
    dirs = [sp.S.One, -sp.S.One] if scalar else [VectorSymbol("e_", G.dim)]
    limits = []
    for e in dirs:
        shifted = G.expr.xreplace({pts[k - 1]: pts[k - 1] + lam * e for k in subset})
        kinds, L = [], sp.S.Zero
        for term in sp.Add.make_args(sp.expand(shifted, deep=False, power_exp=False)):
            kind, val = _term_limit(term, lam, vals)
            kinds.append(kind)
            if kind == "const":
                L += val
        limits.append((kinds, L))
    moved = ", ".join(str(pts[k - 1]) for k in subset)
    if any("unknown" in k for k, _ in limits):
        return _numeric_cluster(G, subset, vals, seed)
    for kinds, _ in limits:
        if "grow" in kinds or "direction" in kinds:
            return ClusterLimit("grows", None, subset, (
                f"moving {moved} to infinity: a term of {correlator_label(G)} grows exponentially"
                + (" along some directions e" if "direction" in kinds else "") + ", so it has no limit"))
    if any("oscillates" in k for k, _ in limits):
        return ClusterLimit("oscillates", None, subset,
                            f"moving {moved} to infinity: {correlator_label(G)} oscillates without decay")
    Ls = [L for _, L in limits]
    L = Ls[0]
    rl = (" (the terms e^{i lambda k b.e}, k != 0, of the unevaluated expectations vanish by the "
          "Riemann-Lebesgue lemma)") if G.expr.has(Expectation) else ""
    if all(sp.expand(canonical(l), power_exp=False) == 0 for l in Ls):
        return ClusterLimit("vanishes", sp.S.Zero, subset,
                            f"moving {moved} to infinity: every term of {correlator_label(G)} vanishes{rl}")
    # a surviving limit: check it is not zero numerically
    D = numeric_dimension(G.dim, vals)
    X = np.random.default_rng(seed).normal(scale=0.5, size=(3, len(pts), D))
    worst = 0.0
    for l in Ls:
        f, err, _ = evaluate_with_error(l, X, vals, points=pts, dim=G.dim)
        worst = max(worst, float(np.max(np.abs(f))) - 50 * err)
    if worst <= 1e-12:
        return ClusterLimit("vanishes", sp.S.Zero, subset,
                            f"moving {moved} to infinity: the surviving terms cancel (numerically)", "symbolic+numeric")
    return ClusterLimit("persists", L, subset, (
        f"moving {moved} to infinity, {correlator_label(G)} tends to {L} "
        f"(e.g. {worst:.4g} at random points, values {vals}), not 0{rl}"))


def _numeric_cluster(G, subset, vals, seed) -> ClusterLimit:
    D = numeric_dimension(G.dim, vals)
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=0.5, size=(3, G.n, D))
    e = rng.normal(size=D)
    e /= np.linalg.norm(e)
    lams = np.array([0.0, 10.0, 20.0, 40.0])
    vals_at = []
    for lm in lams:
        Y = X.copy()
        for k in subset:
            Y[:, k - 1, :] += lm * e
        f, err, _ = evaluate_with_error(G, Y, vals)
        vals_at.append(float(np.max(np.abs(f))))
    moved = ", ".join(str(G.points[k - 1]) for k in subset)
    scale = max(vals_at[0], 1e-300)
    if vals_at[-1] < 1e-3 * scale and vals_at[-2] < 1e-2 * scale:
        return ClusterLimit("vanishes", sp.S.Zero, subset, (
            f"numerical: moving {moved} by lambda e, max|{correlator_label(G)}| = {vals_at} "
            f"at lambda = {lams.tolist()}"), "numeric")
    if vals_at[-1] > 0.05 * scale and vals_at[-1] > 0.8 * vals_at[-2] and vals_at[-2] > 0.8 * vals_at[-3]:
        return ClusterLimit("persists", None, subset, (
            f"numerical: moving {moved} by lambda e, max|{correlator_label(G)}| = {vals_at} "
            f"at lambda = {lams.tolist()} does not decay"), "numeric")
    return ClusterLimit("unknown", None, subset, f"numerical: inconclusive decay {vals_at} at lambda = {lams.tolist()}",
                        "numeric")


def _cluster_verdict(corrs, vals, regime) -> Verdict:
    parts, fails, unknown = [], [], []
    limits = {}
    for G in corrs:
        if G is None:
            continue
        n = G.n
        subsets = [(n,)] + ([(n - 1, n)] if n >= 4 else [])
        for S in subsets:
            if G.expr == 0:
                continue
            cl = cluster_limit(G, S, vals)
            limits[(correlator_label(G), S)] = cl
            if cl.kind == "vanishes":
                parts.append(cl.evidence)
            elif cl.kind == "unknown":
                unknown.append(cl.evidence)
            else:
                fails.append(cl)
    if fails:
        cl = fails[0]
        return Verdict(False, f"{regime}: {cl.evidence}; connected correlators must vanish", cl.method,
                       {"limits": limits})
    if unknown:
        return Verdict(None, f"{regime}: " + "; ".join(unknown), "undecided", {"limits": limits})
    checked = ", ".join(sorted({correlator_label(G) for G in corrs if G is not None}))
    method = "numeric" if any(cl.method == "numeric" for cl in limits.values()) else "symbolic"
    return Verdict(True, f"{regime}: " + "; ".join(parts) + f" (checked: {checked})", method, {"limits": limits})


def has_hard_cutoff(S: "PowerSpectrum | None", vals: Mapping, D: int) -> bool:
    r"""Does the (exact, isotropic) spectrum vanish outside a ball, :math:`G(p) = 0` for :math:`|p| > \Lambda`?

    Then :math:`G^{(2)}` decays only like a power with oscillations: no exponential clustering,
    no mass gap.

    >>> import nnsym as ns
    >>> S = ns.power_spectrum(ns.zoo.free_scalar(3))
    >>> has_hard_cutoff(S, {"sigma_a": 1.0, "m": 1.0, "Lambda": 2.0}, 3)
    True
    """
    if S is None or not S.is_exact or not S.expr.has(sp.Piecewise):
        return False
    try:
        support = S.radial_spectrum(D, vals).support
    except (ValueError, TypeError):
        return False
    return support is not None


def cluster_decomposition(C: AxiomCorrelators, S: "PowerSpectrum | None" = None) -> tuple[Verdict, Verdict]:
    r"""E4 at finite N and for :math:`N\to\infty`: ``(finite_N, large_N)`` verdicts.

    :math:`G^{(2)}` with its last point moved, :math:`G^{(4)}_c` with the last one and the last two
    moved (:func:`cluster_limit`); every limit must vanish. In a Gaussian :math:`N\to\infty` limit
    the connected :math:`n\ge3` functions vanish and only :math:`G^{(2)}` is checked. A spectrum ``S``
    with a hard momentum cutoff adds a note (power-law decay only).

    >>> import nnsym as ns
    >>> from nnsym.analysis.axioms.verdicts import AxiomCorrelators
    >>> C = AxiomCorrelators.of(ns.zoo.cos_net(1), {"sigma_a": 1.0, "sigma_b": 1.0, "N": 7})
    >>> fin, lim = cluster_decomposition(C)
    >>> fin.holds, lim.holds
    (False, True)
    """
    vals = C.values
    e4f = _cluster_verdict([C.G2, C.G4c], vals, "finite N")
    if C.no_limit is not None:
        e4l = C.no_limit
    else:
        e4l = _cluster_verdict(C.limit_correlators, vals,
                               "N -> oo" + (" (Gaussian: the connected n >= 3 functions vanish)" if C.gaussian else ""))
    if S is not None and has_hard_cutoff(S, vals, numeric_dimension(C.network.dim, vals)):
        note = ("; note: the spectrum has a hard momentum cutoff, so G^(2) decays only like a power with "
                "oscillations (no exponential clustering, no mass gap)")
        e4f = Verdict(e4f.holds, e4f.evidence + note, e4f.method, e4f.details)
        e4l = Verdict(e4l.holds, e4l.evidence + note, e4l.method, e4l.details)
    return e4f, e4l

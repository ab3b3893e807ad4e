"""Osterwalder-Schrader reports (issue 4), against hand derivations.

Each verdict is checked against an independent computation written here: spectral
functions rho(p, tau) and reflection matrices from the formulas of docs/conventions.md, scipy
quadrature of the spectra, and the cos-net's cluster limit derived by hand."""
import numpy as np
import pytest
import sympy as sp
from scipy import integrate

import nnsym as ns
from nnsym.analysis.axioms import cluster_limit, reflection_matrix
from nnsym.analysis.symmetries import canonical
from nnsym.core.vectors import Dot

N = sp.Symbol("N", positive=True, integer=True)
sa, sb, m = sp.symbols("sigma_a sigma_b m", positive=True)
pytestmark = pytest.mark.filterwarnings("ignore::nnsym.NumericWarning")


def test_report_structure_and_printing():
    rep = ns.os_axioms(ns.zoo.cos_net(1), values=dict(sigma_a=1.0, sigma_b=0.8, N=10))
    names = ["temperedness", "euclidean_invariance", "reflection_positivity", "permutation_symmetry",
             "cluster_decomposition"]
    for name in names:
        ax = getattr(rep, name)
        assert ax.holds in (True, False, None) and isinstance(ax.evidence, str) and ax.evidence
        assert ax.N in ("every N", "finite N", "N -> oo")
        assert ax.finite_N.holds in (True, False, None) and ax.large_N.holds in (True, False, None)
    text = str(rep)
    for s in ("E0 temperedness", "E1 euclidean invariance", "E2 reflection positivity", "E3 permutation symmetry",
              "E4 cluster decomposition", "finite N", "N -> oo", "sigma_b"):
        assert s in text
    assert rep.values["N"] == 10 and rep.holds is False
    inf = ns.os_axioms(ns.zoo.cos_net(1), N=sp.oo)
    assert inf.cluster_decomposition.holds is True and inf.cluster_decomposition.N == "N -> oo"
    fin = ns.os_axioms(ns.zoo.cos_net(1), N="finite")
    assert fin.cluster_decomposition.holds is False and fin.cluster_decomposition.N == "finite N"


def test_cauchy_net_reflection_positive():
    """Example 2: rho(tau) = int dp/(2 pi) e^{i p tau} sigma^2 m/(p^2+m^2) = (sigma^2/2) e^{-m tau}."""
    vals = dict(sigma_a=1.1, m=0.7, N=9)
    rep = ns.os_axioms(ns.zoo.cauchy_net(), values=vals)
    rp = rep.reflection_positivity
    assert rp.holds is True and rp.N == "N -> oo" and rp.large_N.method == "symbolic"
    assert rp.finite_N.holds is None and "necessary" in rp.finite_N.evidence
    tau = sp.Symbol("tau", positive=True)
    assert sp.simplify(rp.details["rho"] - sa**2 / 2 * sp.exp(-m * tau)) == 0
    # by hand, numerically: rho from scipy's Fourier integral of the spectrum
    for t in (0.3, 1.7):
        num = integrate.quad(lambda p: vals["sigma_a"] ** 2 * vals["m"] / (p * p + vals["m"] ** 2) / np.pi,
                             0, np.inf, weight="cos", wvar=t)[0]
        assert abs(num - vals["sigma_a"] ** 2 / 2 * np.exp(-vals["m"] * t)) < 1e-9
    # the reflection matrix: rank one, M_ij = (sigma^2/2) e^{-m (tau_i + tau_j)}
    r = reflection_matrix(ns.zoo.cauchy_net().correlator(2), vals)
    t = r["taus"]
    hand = vals["sigma_a"] ** 2 / 2 * np.exp(-vals["m"] * (t[:, None] + t[None, :]))
    np.testing.assert_allclose(r["M"], hand, rtol=1e-12)
    assert np.linalg.eigvalsh(hand)[0] > -1e-12 and r["min"] > -1e-12 * r["max"]
    assert ns.os_axioms(ns.zoo.cauchy_net(), N=sp.oo, values=vals).reflection_positivity.holds is True


@pytest.mark.parametrize("kind,d", [("cos", 1), ("cos", 3), ("gauss", 1), ("gauss", 3)])
def test_gaussian_spectrum_nets_violate_reflection_positivity(kind, d):
    """G(p) ~ exp(-d p^2/(2 sigma_b^2)): rho(0, tau) ~ exp(-sigma_b^2 tau^2/(2d)) is not completely
    monotone; by hand: det [rho(2t1), rho(t1+t2); rho(t1+t2), rho(2t2)] < 0 for t1 != t2."""
    vals = dict(sigma_a=1.0, sigma_b=0.9, sigma_c=0.5, N=6)
    net = (ns.zoo.cos_net if kind == "cos" else ns.zoo.gauss_net)(d)
    rep = ns.os_axioms(net, values=vals)
    rp = rep.reflection_positivity
    assert rp.holds is False and rp.N == "every N"
    assert "Gaussian in tau" in rp.evidence and "eigenvalue" in rp.evidence
    rho = lambda t: np.exp(-vals["sigma_b"] ** 2 * t**2 / (2 * d))  # noqa: E731
    t1, t2 = 0.3, 1.4
    assert rho(2 * t1) * rho(2 * t2) - rho(t1 + t2) ** 2 < 0
    # the report's reflection matrix against the formula (docs/conventions.md)
    # G2 = (sigma_a^2/2) exp(-sigma_b^2 |x-y|^2/(2d))
    r = reflection_matrix(net.correlator(2), vals)
    X = r["X"]
    TX = X.copy()
    TX[:, 0] *= -1
    hand = vals["sigma_a"] ** 2 / 2 * np.exp(-vals["sigma_b"] ** 2 * np.sum((TX[:, None] - X[None]) ** 2, -1) / (2 * d))
    np.testing.assert_allclose(r["M"], hand, rtol=1e-12)
    lowest = np.linalg.eigvalsh(hand)[0]
    assert lowest < -1e-6 and abs(rp.details["reflection_min"] - lowest) < 1e-12


def test_gauss_net_verdicts_with_reasons():
    vals = dict(sigma_a=1.0, sigma_b=0.9, sigma_c=0.5, N=6)
    rep = ns.os_axioms(ns.zoo.gauss_net(3), values=vals)
    e0, e1, e4 = rep.temperedness, rep.euclidean_invariance, rep.cluster_decomposition
    assert (e0.finite_N.holds, e0.large_N.holds) == (False, True) and e0.N == "finite N"
    assert "grows like a Gaussian" in e0.finite_N.evidence and "Wick" in e0.large_N.evidence
    assert (e1.finite_N.holds, e1.large_N.holds) == (False, True) and "not translation invariant" in e1.evidence
    assert (e4.finite_N.holds, e4.large_N.holds) == (False, True) and "grows exponentially" in e4.finite_N.evidence
    assert rep.permutation_symmetry.holds is True
    # by hand (docs/conventions.md, "Gauss-net"):
    # G_c^(4)(x, x, x, x) = sigma_a^4/(4N) [3 e^{4 sigma_c^2} e^{4 sigma_b^2 |x|^2/d} - 3]
    G4c = ns.zoo.gauss_net(3).correlator(4, connected=True)
    for lam in (1.0, 3.0):
        X = np.zeros((1, 4, 3))
        X[0, :, 0] = lam
        hand = vals["sigma_a"] ** 4 / (4 * vals["N"]) * (
            3 * np.exp(4 * vals["sigma_c"] ** 2) * np.exp(4 * vals["sigma_b"] ** 2 * lam**2 / 3) - 3)
        assert abs(G4c.evaluate(X, **vals)[0] / hand - 1) < 1e-12


def test_cos_net_cluster_decomposition_at_finite_N_by_hand():
    """Sending x_3, x_4 -> x_3 + lambda e, x_4 + lambda e in the G_c^(4) of the cos-net (docs/conventions.md):
    g(x1+x2-x3-x4), g(x1-x3)g(x2-x4), g(x1-x4)g(x2-x3) -> 0, the rest survives:

        lim G_c^(4) = sigma_a^4/(8N) [3 g(x1-x2+x3-x4) + 3 g(x1-x2-x3+x4) - 2 g(x1-x2) g(x3-x4)]  != 0

    (e.g. 4 sigma_a^4/(8N) at x1 = x2, x3 = x4): no cluster decomposition at finite N; at N -> oo
    G_c^(4) = 0 and G^(2) -> 0, so it holds."""
    d = 3
    net = ns.zoo.cos_net(d)
    G4c = net.correlator(4, connected=True)
    x1, x2, x3, x4 = G4c.points
    g = lambda v: sp.exp(-sb**2 * Dot(v, v) / (2 * d))  # noqa: E731
    hand = sa**4 / (8 * N) * (3 * g(x1 - x2 + x3 - x4) + 3 * g(x1 - x2 - x3 + x4) - 2 * g(x1 - x2) * g(x3 - x4))
    cl = cluster_limit(G4c, (3, 4))
    assert cl.kind == "persists"
    assert sp.expand(canonical(cl.expr - hand), power_exp=False) == 0
    assert cluster_limit(G4c, (4,)).kind == "vanishes"
    # numerically: G_c^(4) at lambda = 60 equals the hand limit, which is not 0
    vals = dict(sigma_a=1.2, sigma_b=0.8, N=5)
    X = np.random.default_rng(3).normal(size=(4, 4, d)) * 0.5
    X[0, 1], X[0, 3] = X[0, 0], X[0, 2]  # x1 = x2, x3 = x4
    e = np.array([0.6, -0.48, 0.64])
    Y = X.copy()
    Y[:, 2:] += 60 * e
    hand_num = ns.Correlator(hand, G4c.points, d).evaluate(X, **vals)
    np.testing.assert_allclose(G4c.evaluate(Y, **vals), hand_num, rtol=1e-10)
    assert abs(hand_num[0] - 4 * vals["sigma_a"] ** 4 / (8 * vals["N"])) < 1e-12
    rep = ns.os_axioms(net, values=vals)
    e4 = rep.cluster_decomposition
    assert e4.finite_N.holds is False and e4.large_N.holds is True and e4.N == "finite N"
    lim = e4.finite_N.details["limits"][("G_c^(4)", (3, 4))]
    assert sp.expand(canonical(lim.expr - hand), power_exp=False) == 0


def test_free_scalar_cutoff_spoils_reflection_positivity():
    """Example 1 with the hard cutoff: rho(0, tau) = C int_{-Lambda}^{Lambda} dp/(2 pi) cos(p tau)/(p^2+m^2)
    goes negative (computed here with scipy), so RP fails: reported, with the reason, at every N.
    Cluster decomposition fails at finite N (Riemann-Lebesgue limit of the unevaluated expectations)."""
    vals = dict(sigma_a=1.0, m=0.8, Lambda=1.5, N=6)
    rep = ns.os_axioms(ns.zoo.free_scalar(1), values=vals)
    rp = rep.reflection_positivity
    assert rp.holds is False and rp.N == "every N" and "cutoff" in rp.evidence and "band-limited" in rp.evidence
    C = vals["sigma_a"] ** 2 * 2 * np.pi / (2 * 2 * vals["Lambda"])
    rho = lambda t: C * integrate.quad(lambda p: np.cos(p * t) / (p * p + vals["m"] ** 2), -vals["Lambda"],  # noqa: E731
                                       vals["Lambda"], limit=200)[0] / (2 * np.pi)
    taus = np.linspace(0.05, 60.0, 400) / vals["Lambda"]
    r = np.array([rho(t) for t in taus])
    assert r.min() < 0
    assert abs(rp.details["rho_min"] - r.min()) < 1e-8
    assert rep.temperedness.holds is True and rep.euclidean_invariance.holds is True
    e4 = rep.cluster_decomposition
    assert e4.finite_N.holds is False and e4.large_N.holds is True
    # the persisting limit at x1 = x2, x3 = x4 is N E[a^4] E[F^4]/4 - N E[a^2]^2 E[F^2]^2/4 > 0 (hand, scipy)
    lim = e4.finite_N.details["limits"][("G_c^(4)", (3, 4))]
    X = np.zeros((1, 4, 1))
    X[0, :, 0] = [0.3, 0.3, -0.5, -0.5]
    lim_corr = ns.Correlator(lim.expr, lim_points(rep), 1)
    got = lim_corr.evaluate(X, **{k: v for k, v in vals.items() if k in lim_corr.value_names()})[0]
    L, mm, s2, n = vals["Lambda"], vals["m"], vals["sigma_a"] ** 2, vals["N"]
    EF2 = integrate.quad(lambda b: 1 / (b * b + mm * mm), -L, L)[0] / (2 * L)
    EF4 = integrate.quad(lambda b: 1 / (b * b + mm * mm) ** 2, -L, L)[0] / (2 * L)
    hand = (3 * s2**2 / n) * EF4 / 4 - (s2**2 / n) * EF2**2 / 4
    assert abs(got - hand) < 1e-8 and hand > 0


def lim_points(rep):
    return rep.network.points(4)


def test_bad_input_and_divergent_readout():
    with pytest.raises(TypeError):
        ns.os_axioms("cos-net")
    with pytest.raises(ValueError):
        ns.os_axioms(ns.zoo.cos_net(1), N=12)
    x = ns.Input("x", 1)
    net = ns.Network(sp.cos(ns.Normal("b", 0, 1) * x + ns.Uniform("c", -sp.pi, sp.pi)), ns.Cauchy("a", 0, 1), N, x)
    rep = ns.os_axioms(net)
    assert rep.temperedness.holds is False and "do not exist" in rep.temperedness.evidence
    assert rep.reflection_positivity.holds is None
    with pytest.raises(ValueError, match="undecided"):
        bool(rep.reflection_positivity)

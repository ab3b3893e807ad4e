"""Issue 8, "valid input that fails": power spectra of i.i.d. non-Gaussian frequency vectors and of
numeric 2-point functions, and the up-front cost estimate of correlator derivations.

Every closed form here is checked against an independent reference: a formula derived by hand,
and a numerical (inverse) Fourier transform done with numpy/scipy quadrature, not with nnsym.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

import nnsym as ns
from nnsym.model.network import CostWarning, DerivationCost, TooExpensive

N = sp.Symbol("N", positive=True, integer=True)
sa, L, s = sp.symbols("sigma_a L s", positive=True)


def _cos_net(d, law):
    x = ns.Input("x", d)
    a = ns.Normal("a", 0, sa**2 / N)
    b = law(d)
    c = ns.Uniform("c", -sp.pi, sp.pi)
    bx = b * x if d == 1 else b.dot(x)
    return ns.Network(neuron=sp.cos(bx + c), readout=a, width=N, input=x)


def _inverse_ft(S, x, nodes, weights, **values):
    r""":math:`\int d^dp/(2\pi)^d e^{ip.x} G(p)` by a tensor-product rule (``nodes`` of shape (K, d))."""
    G = S.evaluate(nodes, **values)
    d = nodes.shape[-1]
    return float(np.sum(weights * np.cos(nodes @ x) * G)) / (2 * np.pi) ** d


def _tensor_rule(a, b, m, d):
    t, w = np.polynomial.legendre.leggauss(m)
    t, w = 0.5 * (b - a) * t + 0.5 * (a + b), 0.5 * (b - a) * w
    grids = np.meshgrid(*[t] * d, indexing="ij")
    wg = np.prod(np.meshgrid(*[w] * d, indexing="ij"), axis=0)
    return np.stack([g.ravel() for g in grids], axis=-1), wg.ravel()


# ----------------------------------------------------------------------------- i.i.d. non-Gaussian frequencies
def test_uniform_cube_spectrum_d3():
    """b ~ U[-L, L]^3: G(p) = sigma_a^2 pi^3/(2 L^3) on the cube |p_j| <= L (by hand: the delta rule
    with the product density 1/(2L)^3), and its inverse transform is G^(2) = (sigma_a^2/2) prod sinc."""
    net = _cos_net(3, lambda d: ns.Uniform("b", -L, L, shape=d))
    S = net.power_spectrum()  # was TypeError: 'Mul' object is not subscriptable
    assert S.method == "delta rule" and S.is_exact
    vals = dict(sigma_a=1.3, L=1.7, N=5)
    P = np.array([[0.1, -0.4, 1.2], [1.6, 1.6, -1.6], [1.8, 0.0, 0.0], [0.0, -0.3, -2.5]])
    inside = np.all(np.abs(P) <= 1.7, axis=-1)
    expected = np.where(inside, 1.3**2 * np.pi**3 / (2 * 1.7**3), 0.0)
    np.testing.assert_allclose(S.evaluate(P, **vals), expected, rtol=1e-12)
    # inverse Fourier transform over the cube (Gauss-Legendre) vs the hand-made position space
    nodes, w = _tensor_rule(-1.7, 1.7, 24, 3)
    for x in (np.array([0.3, -0.2, 0.5]), np.array([1.1, 0.7, -0.9])):
        ref = 1.3**2 / 2 * np.prod(np.sinc(1.7 * x / np.pi))
        assert _inverse_ft(S, x, nodes, w, **vals) == pytest.approx(ref, rel=1e-10, abs=1e-12)
        X = np.stack([x, np.zeros(3)])[None]
        assert net.correlator(2).evaluate(X, **vals)[0] == pytest.approx(ref, rel=1e-10)


def test_laplace_components_spectrum_d2():
    """b with two i.i.d. Laplace(0, s) components: G(p) = sigma_a^2 pi^2/(2 s^2) e^{-(|p_1|+|p_2|)/s}, and
    its numerical inverse transform is G^(2)(x, 0) = (sigma_a^2/2) prod_j 1/(1 + s^2 x_j^2)."""
    net = _cos_net(2, lambda d: ns.Laplace("b", 0, s, shape=d))
    S = net.power_spectrum()
    assert S.method == "delta rule" and S.is_exact
    vals = dict(sigma_a=0.8, s=0.6, N=5)
    P = np.array([[0.0, 0.0], [0.5, -1.5], [-3.0, 0.2]])
    expected = 0.8**2 * np.pi**2 / (2 * 0.36) * np.exp(-np.abs(P).sum(-1) / 0.6)
    np.testing.assert_allclose(S.evaluate(P, **vals), expected, rtol=1e-12)
    # the kink at p_j = 0: integrate each quadrant separately, the spectrum is below 1e-19 beyond 30 s
    t, w = _tensor_rule(0.0, 18.0, 160, 2)
    x = np.array([0.7, -1.1])
    total = sum(_inverse_ft(S, x, t * np.array(sg), w, **vals) for sg in ((1, 1), (1, -1), (-1, 1), (-1, -1)))
    ref = 0.8**2 / 2 / np.prod(1 + 0.36 * x**2)
    assert total == pytest.approx(ref, rel=1e-9)
    G2 = net.correlator(2).evaluate(np.stack([x, np.zeros(2)])[None], **vals)[0]
    assert G2 == pytest.approx(ref, rel=1e-10)


def test_iid_non_gaussian_frequency_in_symbolic_d_is_refused_clearly():
    d = sp.Symbol("d", positive=True, integer=True)
    net = _cos_net(d, lambda dd: ns.Uniform("b", -L, L, shape=dd))
    with pytest.raises(ValueError, match=r"symbolic.*integer"):
        net.power_spectrum()
    with pytest.raises(ValueError, match="symbolic"):
        net.power_spectrum(method="delta")


def test_iid_gaussian_and_d1_laws_unchanged():
    S = ns.zoo.cos_net(2).power_spectrum()
    assert S.method == "delta rule"
    p = S.momentum
    ssb, sa_ = sp.Symbol("sigma_b", positive=True), sp.Symbol("sigma_a", positive=True)
    # (2 pi)^2/2 * the N(0, sigma_b^2/2 I) density = the 2-d transform of (sigma_a^2/2) e^{-sigma_b^2 r^2/4}
    expected = 2 * sp.pi * sa_**2 * sp.exp(-ns.Dot(p, p) / ssb**2) / ssb**2
    P = np.array([[0.3, -0.2], [1.0, 2.0]])
    np.testing.assert_allclose(S.evaluate(P, sigma_a=1.1, sigma_b=0.9, N=3),
                               [float(expected.subs({sa_: 1.1, ssb: 0.9}).subs(ns.Dot(p, p), float(q @ q)))
                                for q in P], rtol=1e-12)
    # d = 1, Laplace frequency: G(p) = sigma_a^2 pi e^{-|p|/s}/(2 s) * 2 / 2
    S1 = _cos_net(1, lambda d: ns.Laplace("b", 0, s)).power_spectrum()
    np.testing.assert_allclose(S1.evaluate(np.array([0.0, -1.0]), sigma_a=1.0, s=0.5, N=2),
                               np.pi * np.exp(-np.array([0.0, 1.0]) / 0.5) / (2 * 0.5), rtol=1e-12)


# ----------------------------------------------------------------------------- numeric G^(2)
def _two_mode_net(d):
    """h = cos(b.x + c) + tanh(e) cos(f.x + c'): not one cos factor (no delta rule); G^(2) holds E[tanh(e)^2]."""
    x = ns.Input("x", d)
    a = ns.Normal("a", 0, sa**2 / N)
    if d == 1:
        b, f = ns.Normal("b", 0, 1), ns.Normal("f", 0, 4)
        bx, fx = b * x, f * x
    else:
        b, f = ns.Normal("b", 0, 1, shape=d), ns.Normal("f", 0, 4, shape=d)
        bx, fx = b.dot(x), f.dot(x)
    c, c2, e = ns.Uniform("c", -sp.pi, sp.pi), ns.Uniform("c2", -sp.pi, sp.pi), ns.Normal("e", 0, 1)
    return ns.Network(neuron=sp.cos(bx + c) + sp.tanh(e) * sp.cos(fx + c2), readout=a, width=N, input=x)


@pytest.mark.parametrize("d", [1, 2])
def test_numeric_G2_gives_a_numeric_spectrum(d):
    """G(p) = sigma_a^2 (2 pi)^d/2 [phi_1(p) + E[tanh^2 e] phi_4(p)] (phi_v the N(0, v I) density): the
    delta rule mode by mode, by hand; E[tanh^2 e] by scipy. Before: NotImplementedError."""
    net = _two_mode_net(d)
    assert not net.correlator(2).is_exact
    S = net.power_spectrum()
    assert S.method == "numeric" and not S.is_exact
    ps = np.array([0.0, 0.5, 1.3, 2.7, 5.0])
    P = np.zeros((ps.size, d))
    P[:, 0] = ps
    with pytest.warns(ns.NumericWarning, match="power spectrum.*estimated abs. error"):
        got = S.evaluate(P, sigma_a=0.9, N=4)
    Et2 = integrate.quad(lambda e: np.tanh(e) ** 2 * stats.norm.pdf(e), -np.inf, np.inf, epsabs=1e-14)[0]
    phi = lambda p, v: (2 * np.pi * v) ** (-d / 2) * np.exp(-p**2 / (2 * v))  # noqa: E731
    ref = 0.81 * (2 * np.pi) ** d / 2 * (phi(ps, 1) + Et2 * phi(ps, 4))
    np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-12)
    # the position space of a numeric spectrum is the 2-point function it came from
    X = np.array([[[0.4] + [0.0] * (d - 1), [0.0] * d]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ns.NumericWarning)
        assert S.position_space(X, sigma_a=0.9, N=4)[0] == pytest.approx(
            0.81 / 2 * (np.exp(-0.08) + Et2 * np.exp(-0.32)), rel=1e-10)


def test_numeric_G2_with_unreliable_quadrature_is_refused():
    """cos(sinh(b) x + c): G^(2) = (sigma_a^2/2) E[cos(sinh(b) r)] oscillates too fast for the engine's
    quadrature before it decays; the numeric transform refuses instead of returning noise."""
    x = ns.Input("x", 1)
    b, c = ns.Normal("b", 0, 1), ns.Uniform("c", -sp.pi, sp.pi)
    net = ns.Network(neuron=sp.cos(sp.sinh(b) * x + c), readout=ns.Normal("a", 0, sa**2 / N), width=N, input=x)
    S = net.power_spectrum()
    assert S.method == "numeric"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ns.NumericWarning)
        with pytest.raises(ValueError, match="quadrature becomes unreliable"):
            S.evaluate(np.array([0.5]), sigma_a=1.0, N=2)


@pytest.mark.slow
def test_numeric_G2_point_dependent_expectation():
    """cos(e b x + c), b ~ N(0, 1), e ~ U(1, 2): G^(2) is a 3-d quadrature in the points;
    G(p) = sigma_a^2 pi E_e[phi(p/e)/e] (scipy) -- within the stated error."""
    x = ns.Input("x", 1)
    b, c, e = ns.Normal("b", 0, 1), ns.Uniform("c", -sp.pi, sp.pi), ns.Uniform("e", 1, 2)
    net = ns.Network(neuron=sp.cos(e * b * x + c), readout=ns.Normal("a", 0, sa**2 / N), width=N, input=x)
    S = net.power_spectrum()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        got = S.evaluate(np.array([0.0, 0.5, 1.3]), sigma_a=1.0, N=3)
    msg = [str(w.message) for w in rec if "power spectrum" in str(w.message)][0]
    err = float(msg.rsplit("error ", 1)[1].rstrip(")"))
    ref = [integrate.quad(lambda v: np.pi * stats.norm.pdf(p / v) / v, 1, 2)[0] for p in (0.0, 0.5, 1.3)]
    assert np.max(np.abs(got - ref)) <= err
    assert err < 1e-3


# ----------------------------------------------------------------------------- the cost of a derivation
def test_cost_model_counts():
    net = ns.zoo.cos_net(2)
    c = net.correlator_cost(8, connected=True)
    assert isinstance(c, DerivationCost)
    assert (c.partitions, c.expectations, c.neuron_terms) == (4140, 255, 2)
    assert c.terms == 8 * 2 * 3**7 + 4140
    assert net.correlator_cost(30).partitions == 846749014511809332450147  # B_30
    assert ns.zoo.gauss_net(2).correlator_cost(4).neuron_terms == 1


def test_correlator_30_is_refused_quickly():
    """It hung before (B_30 ~ 8.5e23 set partitions). It must raise at once, naming the estimate."""
    net = ns.zoo.cos_net(2)
    for connected in (False, True):
        with pytest.raises(TooExpensive, match=r"G(_c)?\^\(30\).*8\.47e\+23 set partitions.*max_terms"):
            net.correlator(30, connected=connected)
    with pytest.raises(ValueError, match="H\\^\\(30\\)"):  # TooExpensive is a ValueError
        net.neuron_correlator(30)
    try:
        net.correlator(12, connected=True)
    except TooExpensive as exc:
        assert exc.cost.partitions == 4213597 and "14 min" in str(exc)
    else:  # pragma: no cover
        pytest.fail("G_c^(12) of the cos-net should be refused by default")


def test_large_n_warns_with_the_estimate():
    """Above WARN_TERMS the derivation warns with its estimate before it starts (the warning is made an
    error here, so nothing long runs); a limit below the estimate refuses, naming it."""
    net = ns.zoo.cos_net(2)
    est = net.correlator_cost(10, connected=True)
    with pytest.raises(TooExpensive, match=r"G_c\^\(10\).*1\.16e\+05 set partitions.*51 s"):
        net.correlator(10, connected=True, max_terms=est.terms - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CostWarning)
        with pytest.raises(CostWarning, match=r"G_c\^\(8\): ~3\.91e\+04 terms.*roughly 3\.9 s.*progress=True"):
            net.correlator(8, connected=True)
        with pytest.raises(CostWarning, match=r"G_c\^\(10\)"):  # max_terms=inf: no refusal, still the warning
            net.correlator(10, connected=True, max_terms=float("inf"))


def test_max_terms_must_be_a_positive_number():
    net = ns.zoo.cos_net(2)
    for bad in (0, -5, "many", True, float("nan")):
        with pytest.raises(ValueError, match="max_terms must be a positive number"):
            net.correlator(2, max_terms=bad)


def test_cheap_correlators_unaffected():
    net = ns.zoo.cos_net(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CostWarning)
        G4 = net.correlator(4, connected=True)
        G2 = net.correlator(2)
    assert G4.expr == ns.zoo.cos_net(2).correlator(4, connected=True).expr
    assert G2.expr.has(ns.Dot)
    assert net.correlator(31).expr == 0  # Z2: an odd correlator is 0 without any work, at any n


def test_progress_bars_give_the_same_result(capsys):
    pytest.importorskip("tqdm")
    for connected in (True, False):
        ref = ns.zoo.cos_net(2).correlator(4, connected=connected).expr
        got = ns.zoo.cos_net(2).correlator(4, connected=connected, progress=True)
        assert got.expr == ref
    err = capsys.readouterr().err
    assert "set partitions" in err and "15/15" in err and "neuron expectations" in err
    # a shared parameter: the bar counts the outer partitions; bias: every summed point set
    net = ns.zoo.cos_net(1)
    shared = ns.Network(net.neuron, net.readout, net.width, net.input, shared=[net.params[1]])
    assert shared.correlator(4, connected=True, progress=True).expr == \
        ns.Network(net.neuron, net.readout, net.width, net.input, shared=[net.params[1]]).correlator(
            4, connected=True).expr
    assert "15/15" in capsys.readouterr().err

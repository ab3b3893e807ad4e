"""Couplings of the effective action (nnsym.analysis.couplings): position space, lattice, local fit.

Every exact result is checked two ways: the Gauss-net kernel integral against the closed form typed
from the hand derivation (docs/conventions.md, "Gauss-net": G^(2) = (sigma_a^2/2) exp(-sigma_b^2|x-y|^2/2d))
and against quadrature written here; the coupling against Monte Carlo of sampled networks
(|z| < 5). Every numeric result states an error, and the tests check that it bounds the real error
against a reference computed to 30 digits (mpmath / sympy evalf).
"""
from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from scipy import integrate

import nnsym as ns
from nnsym.analysis.couplings import (
    CONVENTIONS,
    LOCAL_TERMS,
    amputate_four_point,
    fit_local_couplings,
    kernel_eft,
    kernel_integral,
    kernel_integral_closed_form,
    lattice_quartic_coupling,
    local_term_correlators,
    quartic_coupling,
)
from nnsym.core.vectors import Dot, ScalarPoint, expand_dot
from nnsym.errors import DivergentExpectation, NoClosedForm, NumericWarning

GAUSS = dict(sigma_a=1.0, sigma_b=1.0, sigma_c=0.3, N=10)
TWO_LAYER = dict(sigma_W=1.0, sigma_b=1.0, N=10)


def tuples(T, D, seed=0, scale=0.5):
    return np.random.default_rng(seed).normal(size=(T, 4, D)) * scale


# ----------------------------------------------------------------------------- independent references
def gauss_kernel(x, y, sa, sb, D):
    """docs/conventions.md, "Gauss-net": K(x, y) = (sigma_a^2/2) exp(-sigma_b^2 |x - y|^2 / (2 d))."""
    return sa**2 / 2 * np.exp(-sb**2 * np.sum((np.asarray(x) - np.asarray(y)) ** 2, axis=-1) / (2 * D))


def gauss_integral_rd_by_hand(X, sa, sb):
    """The hand derivation:
    (sigma_a^2/2)^4 (pi d/(2 sigma_b^2))^(d/2) exp(-sigma_b^2/(2d) (sum|x_i|^2 - |sum x_i|^2/4))."""
    D = X.shape[-1]
    s2 = np.sum(X**2, axis=(-1, -2))
    S2 = np.sum(np.sum(X, axis=-2) ** 2, axis=-1)
    return (sa**2 / 2) ** 4 * (np.pi * D / (2 * sb**2)) ** (D / 2) * np.exp(-sb**2 / (2 * D) * (s2 - S2 / 4))


def gauss_integral_box_mp(Xt, sa, sb, lo, hi):
    """int_box prod_i K(x_i, y) dy = C prod_j int_{lo_j}^{hi_j} exp(-4a (y_j - m_j)^2) dy_j (erf), to 30 digits."""
    mp.mp.dps = 30
    D = len(Xt[0])
    a = mp.mpf(sb) ** 2 / (2 * D)
    Xm = [[mp.mpf(float(c)) for c in p] for p in Xt]
    m = [sum(p[j] for p in Xm) / 4 for j in range(D)]
    rest = sum(sum(c**2 for c in p) for p in Xm) - 4 * sum(mj**2 for mj in m)
    out = (mp.mpf(sa) ** 2 / 2) ** 4 * mp.exp(-a * rest)
    for j in range(D):
        r = mp.sqrt(4 * a)
        out *= mp.sqrt(mp.pi) / (2 * r) * (mp.erf(r * (hi[j] - m[j])) - mp.erf(r * (lo[j] - m[j])))
    return float(out)


def two_layer_kernel_mp(kind, sW, sb):
    """docs/conventions.md, "Two-layer networks" (d = 1), minus Var(b_out) = sigma_b^2."""
    sW, sb = mp.mpf(sW), mp.mpf(sb)

    def m(x, y):
        return sb**2 + sW**2 * x * y

    if kind == "erf":
        return lambda x, y: sW**2 * 2 / mp.pi * mp.asin(2 * m(x, y) / mp.sqrt((1 + 2 * m(x, x)) * (1 + 2 * m(y, y))))

    def relu(x, y):
        kxx, kyy = m(x, x), m(y, y)
        if kxx * kyy == 0:
            return mp.mpf(0)
        c = max(-1, min(1, m(x, y) / mp.sqrt(kxx * kyy)))
        t = mp.acos(c)
        return sW**2 / (2 * mp.pi) * mp.sqrt(kxx * kyy) * (mp.sin(t) + (mp.pi - t) * mp.cos(t))
    return relu


def box_integral_mp_1d(K, Xt, lo, hi):
    mp.mp.dps = 30
    xs = [mp.mpf(float(p[0])) for p in Xt]
    pts = [lo, 0, hi] if lo < 0 < hi else [lo, hi]
    return float(mp.quad(lambda y: K(xs[0], y) * K(xs[1], y) * K(xs[2], y) * K(xs[3], y), pts))


def high_precision(corr, X, values, digits=30):
    """A closed-form Correlator evaluated by sympy at ``digits`` digits (points and values made rational)."""
    e = expand_dot(corr.expr)
    e = e.xreplace({s: sp.Rational(repr(float(values[s.name]))) for s in e.free_symbols if s.name in values})
    if not corr.dim.is_Integer:
        e = e.xreplace({corr.dim: X.shape[-1]})
    out = []
    for Xt in X:
        pts = [[sp.Rational(repr(float(c))) for c in p] for p in Xt]
        if isinstance(corr.points[0], ScalarPoint):
            v = e.xreplace({p: pts[k][0] for k, p in enumerate(corr.points)})
        else:
            idx = {p: k for k, p in enumerate(corr.points)}
            v = e.replace(lambda a: isinstance(a, Dot),
                          lambda a: sum(u * w for u, w in zip(pts[idx[a.args[0]]], pts[idx[a.args[1]]])))
        out.append(float(sp.N(v, digits)))
    return np.array(out)


# ----------------------------------------------------------------------------- K_EFT
def test_kernel_eft_removes_the_output_bias_variance_only():
    for net, var in ((ns.zoo.erf_net(1), sp.Symbol("sigma_b", positive=True) ** 2),
                     (ns.zoo.relu_net(2), sp.Symbol("sigma_b", positive=True) ** 2),
                     (ns.zoo.gauss_net(2), 0)):
        K = kernel_eft(net)
        assert sp.simplify(net.correlator(2).expr - K.expr - var) == 0
        assert K.points == net.correlator(2).points


# ----------------------------------------------------------------------------- the Gauss-net integral over R^d
@pytest.mark.parametrize("d", [1, 2, 3, "symbolic"])
def test_gauss_net_integral_closed_form_is_the_hand_derivation(d):
    dim = sp.Symbol("d", positive=True, integer=True) if d == "symbolic" else sp.Integer(d)
    I = kernel_integral_closed_form(ns.zoo.gauss_net(dim))
    sa, sb = sp.symbols("sigma_a sigma_b", positive=True)
    x = I.points
    S = sum(x, sp.S.Zero)
    sq = (lambda u: u**2) if dim == 1 else (lambda u: Dot(u, u))
    hand = ((sa**2 / 2) ** 4 * (sp.pi * dim / (2 * sb**2)) ** (dim / 2)
            * sp.exp(-sb**2 / (2 * dim) * (sum(sq(xi) for xi in x) - sq(S) / 4)))
    ratio = sp.simplify(sp.expand(expand_dot(sp.expand_log(sp.log(I.expr) - sp.log(hand), force=True))))
    assert ratio == 0


@pytest.mark.parametrize("D", [1, 2])
def test_gauss_net_integral_against_quadrature(D):
    """Closed form = the hand formula = scipy quadrature of the hand-written kernels (a second way)."""
    sa, sb = 1.1, 0.8
    X = tuples(3, D, seed=D)
    I = kernel_integral(ns.zoo.gauss_net(D), X, sigma_a=sa, sigma_b=sb)
    assert I.is_exact and np.all(I.error == 0)
    np.testing.assert_allclose(I.value, gauss_integral_rd_by_hand(X, sa, sb), rtol=1e-13)
    for t, Xt in enumerate(X):
        if D == 1:
            ref, err = integrate.quad(lambda y: np.prod(gauss_kernel(Xt, [y], sa, sb, 1)), -np.inf, np.inf,
                                      epsabs=1e-14, epsrel=1e-12)
        else:
            ref, err = integrate.dblquad(lambda y1, y0: np.prod(gauss_kernel(Xt, [y0, y1], sa, sb, 2)),
                                         -15, 15, -15, 15, epsabs=1e-14, epsrel=1e-12)
        assert abs(I.value[t] - ref) < 1e-10 * abs(ref) + 10 * err


def test_gauss_net_integral_refused_where_it_diverges():
    X = tuples(2, 1)
    with pytest.raises(DivergentExpectation, match="does not decay"):
        kernel_integral(ns.zoo.gauss_net(1), X, sigma_a=1.0, sigma_b=0.0)   # a constant kernel


# ----------------------------------------------------------------------------- erf and ReLU over R^d: refused
@pytest.mark.parametrize("D", [1, 2])
@pytest.mark.parametrize("sigma_b", [1.0, 0.0])
def test_erf_kernel_integral_over_rd_diverges(D, sigma_b):
    X = tuples(3, D, seed=4)
    with pytest.raises(DivergentExpectation, match=r"asin.*non-zero function of the direction"):
        kernel_integral(ns.zoo.erf_net(D), X, sigma_W=1.0, sigma_b=sigma_b)
    with pytest.raises(DivergentExpectation):
        quartic_coupling(ns.zoo.erf_net(D), X, sigma_W=1.0, sigma_b=sigma_b, N=10)


@pytest.mark.parametrize("D", [1, 2])
def test_relu_kernel_integral_over_rd_diverges(D):
    X = tuples(3, D, seed=5)
    with pytest.raises(DivergentExpectation, match=r"K_EFT\(x, r u\) ~ r\^1"):
        kernel_integral(ns.zoo.relu_net(D), X, sigma_W=1.0, sigma_b=1.0)


def test_convergent_but_not_gaussian_is_no_closed_form():
    # the erf kernel at x = 0 decays like 1/|y|: the product of four converges in d = 1, with no closed form
    with pytest.raises(NoClosedForm, match=r"decays \(like r\^-4\)"):
        kernel_integral(ns.zoo.erf_net(1), np.zeros((1, 4, 1)), sigma_W=1.0, sigma_b=1.0)


# ----------------------------------------------------------------------------- a bounded box: cubature, true error
@pytest.mark.parametrize("D,box", [(1, (-1.0, 2.5)), (2, ((-1.0, 2.0), (-0.5, 1.5)))])
def test_gauss_net_box_cubature_error_bounds_the_real_error(D, box):
    sa, sb = 1.0, 1.3
    X = tuples(3, D, seed=7)
    I = kernel_integral(ns.zoo.gauss_net(D), X, region=box, sigma_a=sa, sigma_b=sb)
    lo, hi = (np.array([box[0]]), np.array([box[1]])) if D == 1 else (np.array(box)[:, 0], np.array(box)[:, 1])
    ref = np.array([gauss_integral_box_mp(Xt, sa, sb, lo, hi) for Xt in X])
    assert not I.is_exact
    assert np.all(np.abs(I.value - ref) <= I.error), (np.abs(I.value - ref), I.error)
    assert np.all(I.error < 1e-8 * np.abs(ref))


@pytest.mark.parametrize("kind,sigma_b", [("erf", 1.0), ("erf", 0.0), ("relu", 1.0), ("relu", 0.0)])
def test_erf_and_relu_box_integrals_error_bounds_the_real_error(kind, sigma_b):
    net = ns.zoo.erf_net(1) if kind == "erf" else ns.zoo.relu_net(1)
    X = np.abs(tuples(3, 1, seed=8)) + 0.1 if kind == "relu" and sigma_b == 0 else tuples(3, 1, seed=8)
    I = kernel_integral(net, X, region=(-2.0, 3.0), sigma_W=1.2, sigma_b=sigma_b)
    K = two_layer_kernel_mp(kind, 1.2, sigma_b)
    ref = np.array([box_integral_mp_1d(K, Xt, -2.0, 3.0) for Xt in X])
    assert np.all(np.abs(I.value - ref) <= I.error), (np.abs(I.value - ref), I.error)
    assert np.all(I.error < 1e-6 * np.max(np.abs(ref)))


def relu_kernel_2d(x, y, sW, sb):
    """docs/conventions.md, "Two-layer networks", d = 2, minus Var(b_out): numpy, broadcasting over the last axis."""
    def m(u, v):
        return sb**2 + sW**2 * np.sum(u * v, axis=-1) / 2
    kxx, kyy = m(x, x), m(y, y)
    c = np.clip(m(x, y) / np.sqrt(kxx * kyy), -1, 1)
    t = np.arccos(c)
    return sW**2 / (2 * np.pi) * np.sqrt(kxx * kyy) * (np.sin(t) + (np.pi - t) * c)


def test_relu_box_integral_in_two_dimensions_against_a_hand_written_rule():
    """A tensor Gauss-Legendre rule of the hand-written kernel (smooth at sigma_b > 0); 160 and 200
    nodes per axis agree to rounding (< 1e-11), against the stated cubature error."""
    X = tuples(2, 2, seed=9)
    I = kernel_integral(ns.zoo.relu_net(2), X, region=(-1.5, 1.5), sigma_W=1.0, sigma_b=0.5)
    refs = []
    for n in (160, 200):
        u, w = np.polynomial.legendre.leggauss(n)
        u, w = 1.5 * u, 1.5 * w
        Y = np.stack(np.meshgrid(u, u, indexing="ij"), axis=-1).reshape(-1, 2)
        W = np.outer(w, w).reshape(-1)
        refs.append(np.array([np.sum(W * np.prod([relu_kernel_2d(xi, Y, 1.0, 0.5) for xi in Xt], axis=0))
                              for Xt in X]))
    ref_err = np.abs(refs[0] - refs[1]) + 1e-14 * np.abs(refs[1])
    assert np.all(ref_err < 1e-11 * np.abs(refs[1]))
    assert np.all(np.abs(I.value - refs[1]) <= I.error + ref_err), (I.value - refs[1], I.error)


# ----------------------------------------------------------------------------- conventions
def test_conventions_and_their_conversion():
    assert CONVENTIONS["nnsym"].s == -1 and CONVENTIONS["nnsym"].c == 1
    assert CONVENTIONS["nn-qft"].s == 1 and CONVENTIONS["nn-qft"].c == 24
    net = ns.zoo.gauss_net(1)
    X = tuples(4, 1, seed=11)
    lam = quartic_coupling(net, X, **GAUSS)
    G = net.correlator(4, connected=True).evaluate(X, **GAUSS)
    I = gauss_integral_rd_by_hand(X, 1.0, 1.0)
    np.testing.assert_allclose(lam.value, -G / I, rtol=1e-12)                       # s = -1, c = 1
    qft = quartic_coupling(net, X, convention="nn-qft", **GAUSS)
    np.testing.assert_allclose(qft.value, G / (24 * I), rtol=1e-12)                # s = +1, c = 24
    np.testing.assert_allclose(lam.to("nn-qft").value, qft.value, rtol=1e-14)
    np.testing.assert_allclose(qft.value, -lam.value / 24, rtol=1e-14)             # lambda_nnqft = -lambda/24
    np.testing.assert_allclose(qft.to("nnsym").value, lam.value, rtol=1e-14)
    assert r"\lambda = -\frac{G_c^{(4)}" in lam.latex() and "s = -1" in lam.latex()
    assert r"\lambda = \frac{G_c^{(4)}" in qft.latex() and r"{24\int" in qft.latex() and "c = 24" in qft.latex()
    assert "nn-qft" in repr(qft) and "exact" in repr(qft)
    # the closed form of lambda, -G_c^(4)/I in the points, at the first tuple
    sub = {p: sp.Float(v) for p, v in zip(net.points(4), X[0, :, 0])}
    sub.update({t: GAUSS[t.name] for t in lam.expr.free_symbols if t.name in GAUSS})
    assert float(lam.expr.xreplace(sub)) == pytest.approx(lam.value[0], rel=1e-12)
    assert sp.simplify(qft.expr + lam.expr / 24) == 0


def test_sign_convention_from_a_one_site_phi4_theory():
    r"""The nnsym sign, checked on the theory it names: one site, phi ~ N(0, k) weighted by
    exp(-lambda phi^4/4!). Its exact G_c^(4) (quadrature) amputated by k^4 is lambda + O(lambda^2)."""
    k, lam = 0.8, 2e-3

    def moment(n):
        return integrate.quad(lambda p: p**n * np.exp(-p**2 / (2 * k) - lam * p**4 / 24), -np.inf, np.inf,
                              epsabs=0, epsrel=1e-13)[0]
    Z = moment(0)
    m2, m4 = moment(2) / Z, moment(4) / Z
    Gc = m4 - 3 * m2**2
    vertex = amputate_four_point(np.full((1, 1, 1, 1), Gc), np.array([[k]])).vertex[0, 0, 0, 0]
    assert abs(vertex - lam) < 20 * lam**2            # O(lambda^2): the one-loop correction is ~ lambda^2 k^2
    assert np.sign(vertex) == np.sign(lam)


# ----------------------------------------------------------------------------- Monte Carlo
@pytest.mark.parametrize("D", [1, 2])
def test_gauss_net_quartic_coupling_against_monte_carlo(D):
    net = ns.zoo.gauss_net(D)
    X = tuples(4, D, seed=3)
    lam = quartic_coupling(net, X, **GAUSS)
    est = ns.monte_carlo(net, 4, X, connected=True, samples=400_000, seed=1, **GAUSS)
    lam_mc = -est.mean / lam.integral.value
    z = (lam.value - lam_mc) / (est.stderr / np.abs(lam.integral.value))
    assert np.all(np.abs(z) < 5), z


# ----------------------------------------------------------------------------- numeric G_c^(4): erf net on a box
def test_erf_net_coupling_on_a_box_carries_both_errors():
    net = ns.zoo.erf_net(1)
    X = tuples(3, 1, seed=12)
    lam = quartic_coupling(net, X, region=(-2.0, 2.0), **TWO_LAYER)
    assert not lam.is_exact and lam.expr is None
    assert np.all(lam.connected_error > 0) and np.all(lam.integral.error > 0)
    K = two_layer_kernel_mp("erf", 1.0, 1.0)
    I_ref = np.array([box_integral_mp_1d(K, Xt, -2.0, 2.0) for Xt in X])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericWarning)
        G = net.correlator(4, connected=True).evaluate(X, **TWO_LAYER)
    # the integral part of the stated error bounds the real one (G is the same number here)
    lam_ref = -G / I_ref
    assert np.all(np.abs(lam.value - lam_ref) <= lam.error)


# ----------------------------------------------------------------------------- the lattice
@pytest.mark.parametrize("D", [1, 2])
def test_lattice_amputation_round_trip(D):
    net = ns.zoo.gauss_net(D)
    Y = (np.linspace(-2.5, 2.5, 6)[:, None] if D == 1
         else np.stack(np.meshgrid([-1.2, 0.0, 1.2], [-0.6, 0.6]), axis=-1).reshape(6, 2))
    K = kernel_eft(net).evaluate(np.stack(np.broadcast_arrays(Y[:, None], Y[None, :]), axis=2), **GAUSS)
    w = np.random.default_rng(3).uniform(0.5, 1.5, size=6)
    lam = 0.37
    G = -lam * np.einsum("y,ay,by,cy,dy->abcd", w, K, K, K, K)     # a lattice-local vertex
    lat = amputate_four_point(G, K)
    expected = np.zeros((6,) * 4)
    expected[(np.arange(6),) * 4] = lam * w
    assert np.linalg.norm(lat.vertex - expected) <= lat.error
    np.testing.assert_allclose(lat.diagonal, lam * w, rtol=1e-8)
    assert lat.locality == pytest.approx(1.0, abs=1e-8)
    assert lat.condition_number == pytest.approx(np.linalg.cond(K), rel=1e-6)


def test_lattice_quartic_coupling_of_a_network():
    net = ns.zoo.gauss_net(1)
    Y = np.linspace(-1.5, 1.5, 5)[:, None]
    lat = lattice_quartic_coupling(net, Y, **GAUSS)
    G4 = net.correlator(4, connected=True)
    idx = np.array([[0, 1, 2, 3], [4, 4, 1, 0], [2, 2, 2, 2]])
    np.testing.assert_allclose([lat.connected[tuple(i)] for i in idx], G4.evaluate(Y[idx], **GAUSS), rtol=1e-13)
    np.testing.assert_allclose(lat.kernel, 0.5 * np.exp(-(Y - Y.T) ** 2 / 2), rtol=1e-13)
    # amputating back: -sum lambda K K K K gives G_c again
    Kk = lat.kernel
    np.testing.assert_allclose(-np.einsum("efgh,ae,bf,cg,dh->abcd", lat.vertex, Kk, Kk, Kk, Kk), lat.connected,
                               atol=1e-10 * np.abs(lat.connected).max())
    assert 0 < lat.locality < 1 and lat.relative_error < 1e-6


def test_lattice_with_numeric_four_point_function():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericWarning)
        lat = lattice_quartic_coupling(ns.zoo.erf_net(1), np.array([[-1.0], [0.3], [1.2]]), **TWO_LAYER)
    assert lat.error > 0 and np.all(np.isfinite(lat.vertex))


def test_singular_lattice_kernel_refused():
    net = ns.zoo.gauss_net(1)
    with pytest.raises(ValueError, match="singular"):
        lattice_quartic_coupling(net, np.array([[0.0], [0.5], [0.5]]), **GAUSS)   # a repeated point
    with pytest.raises(ValueError, match="cannot trust|singular"):
        lattice_quartic_coupling(net, np.linspace(0, 0.2, 6)[:, None], **GAUSS)    # far below the correlation length


# ----------------------------------------------------------------------------- local fit
@pytest.mark.parametrize("D", [1, 2])
def test_local_term_closed_forms_against_cubature(D):
    """Two routes: Gaussian moments in closed form (symbolic) and cubature of the symbolic gradients;
    the box is large enough that its tails are below 1e-30. The stated cubature errors bound the
    difference to the closed form (evaluated to 30 digits)."""
    net = ns.zoo.gauss_net(D)
    X = tuples(4, D, seed=20)
    cols = local_term_correlators(net, nonlocal_range=0.7)
    box = fit_local_couplings(net, X, region=(-12.0, 12.0), nonlocal_range=0.7, target=np.ones(4), **GAUSS)
    for j, term in enumerate(LOCAL_TERMS):
        ref = high_precision(cols[term], X, GAUSS)
        assert np.all(np.abs(box.design[:, j] - ref) <= box.design_error[:, j]), term


def test_gradient_column_against_a_hand_written_integrand():
    """d = 1: grad_y K(x, y) = K(x, y) sigma_b^2 (x - y) for the Gauss-net, integrated by scipy quad."""
    sa, sb = 1.0, 1.0
    X = tuples(3, 1, seed=21)
    col = local_term_correlators(ns.zoo.gauss_net(1), ("phi2_dphi2",))["phi2_dphi2"].evaluate(X, **GAUSS)
    for t, Xt in enumerate(X[:, :, 0]):
        def f(y):
            K = gauss_kernel(Xt[:, None], [[y]], sa, sb, 1)
            g = K * sb**2 * (Xt - y)
            return -sum(g[k] * g[m] * np.prod([K[i] for i in range(4) if i not in (k, m)])
                        for k in range(4) for m in range(k + 1, 4))
        ref = integrate.quad(f, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13)[0]
        assert col[t] == pytest.approx(ref, rel=1e-10)


def test_nonlocal_column_tends_to_three_times_phi4():
    """f_l -> delta as l -> 0: (mu/8) phi^2 f phi^2 -> (3 mu/4!) phi^4."""
    X = tuples(3, 2, seed=22)
    cols = local_term_correlators(ns.zoo.gauss_net(2), nonlocal_range=1e-4)
    np.testing.assert_allclose(cols["nonlocal_phi2_phi2"].evaluate(X, **GAUSS),
                               3 * cols["phi4"].evaluate(X, **GAUSS), rtol=1e-6)


def test_fit_round_trip_pure_phi4_and_a_mixture():
    net = ns.zoo.gauss_net(1)
    X = tuples(20, 1, seed=23, scale=0.7)
    cols = local_term_correlators(net)
    A = np.stack([cols[t].evaluate(X, **GAUSS) for t in LOCAL_TERMS], axis=1)
    # a local lambda phi^4 put in gives G_c^(4) = -lambda int prod K back, and lambda from the fit
    lam = 1.7
    np.testing.assert_allclose(A[:, 0], -kernel_integral(net, X, **GAUSS).value, rtol=1e-14)
    fit = fit_local_couplings(net, X, target=lam * A[:, 0], **GAUSS)
    assert fit.coefficients["phi4"] == pytest.approx(lam, rel=1e-9)
    assert abs(fit.coefficients["phi2_dphi2"]) < 1e-8 and abs(fit.coefficients["nonlocal_phi2_phi2"]) < 1e-8
    assert fit.relative_residual < 1e-10 and fit.condition_number > 1
    truth = np.array([0.4, -0.25, 0.9])
    fit = fit_local_couplings(net, X, target=A @ truth, **GAUSS)
    np.testing.assert_allclose([fit.coefficients[t] for t in LOCAL_TERMS], truth, rtol=1e-7)
    assert np.all(np.abs(np.array([fit.coefficients[t] for t in LOCAL_TERMS]) - truth) <= fit.coefficient_error
                  + 1e-12)


def test_fit_of_the_gauss_net_reports_how_local_it_is():
    net = ns.zoo.gauss_net(1)
    X = tuples(30, 1, seed=24, scale=0.7)
    fit = fit_local_couplings(net, X, **GAUSS)
    G = net.correlator(4, connected=True).evaluate(X, **GAUSS)
    np.testing.assert_allclose(fit.target, G)
    np.testing.assert_allclose(fit.residuals, G - fit.design @ np.array(list(fit.coefficients.values())),
                               atol=1e-12 * np.abs(G).max())
    assert fit.relative_residual > 0.1          # the Gauss-net's interaction is far from local
    only = fit_local_couplings(net, X, terms=("phi4",), **GAUSS)
    assert only.relative_residual >= fit.relative_residual - 1e-12   # more terms never fit worse
    assert "cond(design)" in str(fit) and "residual" in str(fit)


# ----------------------------------------------------------------------------- bad input
def test_bad_input():
    net = ns.zoo.gauss_net(1)
    X = tuples(2, 1)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4, d\)"):
        quartic_coupling(net, X[:, :3], **GAUSS)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4, 1\)"):
        quartic_coupling(net, tuples(2, 2), **GAUSS)
    with pytest.raises(ValueError, match="inf or nan"):
        quartic_coupling(net, X * np.nan, **GAUSS)
    with pytest.raises(ValueError, match="unknown convention 'NOTES'"):
        quartic_coupling(net, X, convention="NOTES", **GAUSS)
    with pytest.raises(TypeError, match="sigmaa.*did you mean 'sigma_a'"):
        quartic_coupling(net, X, sigmaa=1.0, sigma_b=1.0, sigma_c=0.3, N=10)
    with pytest.raises(TypeError, match="sigmab"):
        kernel_integral(net, X, sigma_a=1.0, sigmab=1.0)
    with pytest.raises(ValueError, match="sigma_b must be positive"):
        kernel_integral(net, X, sigma_a=1.0, sigma_b=-1.0)
    with pytest.raises(ValueError, match="region must be"):
        kernel_integral(net, X, region="R^3", **GAUSS)
    with pytest.raises(ValueError, match="lo < hi"):
        kernel_integral(net, X, region=(1.0, -1.0), **GAUSS)
    with pytest.raises(ValueError, match="bounded"):
        kernel_integral(net, X, region=(-np.inf, 1.0), **GAUSS)
    with pytest.raises(TypeError, match="Network"):
        quartic_coupling("gauss", X)
    with pytest.raises(ValueError, match=r"\(M, 1\)"):
        lattice_quartic_coupling(net, np.zeros(4), **GAUSS)
    with pytest.raises(ValueError, match="unknown local term 'phi6'"):
        fit_local_couplings(net, tuples(5, 1), terms=("phi4", "phi6"), **GAUSS)
    with pytest.raises(ValueError, match="nonlocal_range"):
        fit_local_couplings(net, tuples(5, 1), nonlocal_range=-1.0, **GAUSS)
    with pytest.raises(ValueError, match="target must have shape"):
        fit_local_couplings(net, tuples(5, 1), target=np.ones(3), **GAUSS)
    with pytest.raises(ValueError, match="at least as many tuples"):
        fit_local_couplings(net, tuples(2, 1), **GAUSS)
    with pytest.raises(ValueError, match="symmetric"):
        amputate_four_point(np.zeros((2,) * 4), np.array([[1.0, 0.2], [0.1, 1.0]]))
    with pytest.raises(ValueError, match="shape"):
        amputate_four_point(np.zeros((3,) * 4), np.eye(2))
    with pytest.raises(NoClosedForm):
        local_term_correlators(ns.zoo.erf_net(1))
    # the rectifier kernel without biases in d = 1 is piecewise linear in y: its gradient formula is 0 x oo
    with pytest.raises(NoClosedForm, match="gradient"):
        fit_local_couplings(ns.zoo.relu_net(1), tuples(4, 1), terms=("phi2_dphi2",), region=(-1, 1),
                            sigma_W=1.0, sigma_b=0.0, N=10)

"""The cumulant generating functional W(J_1..J_k) = log E[exp(sum_m J_m phi(x_m))] (nnsym.analysis.generating).

Every exact result two ways:

* the closed form of a linear network (h = b x + c, Gaussian b, c, readout and bias) against numpy
  Gauss-Hermite quadrature of one neuron, raised to the power N, and against whole sampled networks
  (Monte Carlo, fixed seed, |z| < 5);
* its Taylor expansion in J against the series sum_r J^r G_c^(r) / r!, order by order, exactly;
* outside the domain of convergence: +oo symbolically, DivergentExpectation numerically, and a
  truncated quadrature that grows without bound (while inside it converges);
* the coefficients against hand-derived connected functions (linear net, cos-net) and quadrature;
* the N-scaling G_c^(r) ~ N^(1 - r/2) against the ratio of the coefficients at two widths.
"""
import functools
import math
import random

import numpy as np
import pytest
import sympy as sp
from numpy.polynomial.hermite_e import hermegauss

import nnsym as ns
from nnsym.analysis.generating import GeneratingFunctional, cumulant_generating_functional, leading_power
from nnsym.engine.domains import split_domain
from nnsym.errors import DivergentExpectation, NoClosedForm

N = sp.Symbol("N", positive=True, integer=True)
SA, SB, SE = sp.symbols("sigma_a sigma_b sigma_e", positive=True)
MU, M = sp.symbols("mu m", real=True)
x = ns.Input("x", 1)

# the linear network phi(x) = sum_i a_i (b_i x + c_i) + e at these values (N = 2: far from Gaussian)
VALUES = dict(sigma_a=1.0, sigma_b=0.8, m=0.5, mu=0.3, sigma_e=0.5, N=2)
X2 = np.array([[0.4], [-0.9]])


def linear_net(bias=None):
    r"""a ~ N(mu, sigma_a^2/N), b ~ N(0, sigma_b^2), c ~ N(m, 1): E[exp(J a h)] is finite for
    sigma_a^2 Var(sum_m J_m h(x_m)) < N."""
    return ns.Network(ns.Normal("b", 0, SB**2) * x + ns.Normal("c", M, 1), ns.Normal("a", MU, SA**2 / N), N, x,
                      bias=ns.Normal("e", 0, SE**2) if bias is None else bias)


@functools.cache
def linear_W(k: int) -> GeneratingFunctional:
    return cumulant_generating_functional(linear_net(), k)


@functools.cache
def linear_series(k: int) -> sp.Expr:
    return linear_W(k).series(4)


def at(values, W, J=None, X=None):
    """The substitution {symbol: number} of the hyper-parameters (and sources, points) by name."""
    syms = {s.name: s for s in W.network.hyperparameters}
    out = {syms[k]: sp.nsimplify(v) for k, v in values.items()}
    if J is not None:
        out.update(zip(W.sources, map(sp.nsimplify, J)))
    if X is not None:
        out.update(zip(W.points, map(sp.nsimplify, np.asarray(X)[:, 0])))
    return out


def W_quadrature(J, X, sigma_a, sigma_b, m, mu, sigma_e, N, n=60):
    """N log E[exp(a sum_m J_m (b x_m + c))] + log E[exp(e sum_m J_m)] by a tensor Gauss-Hermite rule
    over (a, b, c) and e (numpy only)."""
    z, w = hermegauss(n)
    w = w / math.sqrt(2 * math.pi)
    a, b, c = mu + sigma_a / math.sqrt(N) * z, sigma_b * z, m + z
    s = sum(Jm * (b[:, None] * xm + c[None, :]) for Jm, xm in zip(J, np.asarray(X)[:, 0]))   # (b, c)
    neuron = np.einsum("a,b,c,abc->", w, w, w, np.exp(a[:, None, None] * s[None]))
    bias = np.sum(w * np.exp(sigma_e * z * np.sum(J)))
    return N * np.log(neuron) + np.log(bias)


def sample_exp_Jphi(J, X, sigma_a, sigma_b, m, mu, sigma_e, N, samples, seed):
    """Monte Carlo of E[exp(sum_m J_m phi(x_m))] over whole networks: mean and standard error."""
    rng = np.random.default_rng(seed)
    a = rng.normal(mu, sigma_a / math.sqrt(N), (samples, N))
    b = rng.normal(0.0, sigma_b, (samples, N))
    c = rng.normal(m, 1.0, (samples, N))
    e = rng.normal(0.0, sigma_e, samples)
    phi = np.einsum("sn,snk->sk", a, b[:, :, None] * np.asarray(X)[:, 0] + c[:, :, None]) + e[:, None]
    y = np.exp(phi @ np.asarray(J))
    return y.mean(), y.std(ddof=1) / math.sqrt(samples)


def homogeneous(poly_expr, sources, r):
    """The part of degree r in the sources of a polynomial in them."""
    p = sp.Poly(sp.expand(poly_expr), *sources)
    return sum((c * sp.Mul(*[J**e for J, e in zip(sources, mon)]) for mon, c in p.terms() if sum(mon) == r),
               sp.S.Zero)


# ----------------------------------------------------------------------------- closed form, two ways
@pytest.mark.parametrize("J", [(0.3, -0.2), (-0.25, -0.1)])
def test_linear_closed_form_matches_quadrature_and_monte_carlo(J):
    W = linear_W(2)
    value = float(W.evaluate(J, X2, **VALUES))
    # exact route 2: one neuron by Gauss-Hermite quadrature, to the power N
    assert value == pytest.approx(W_quadrature(J, X2, **VALUES), rel=1e-10, abs=1e-13)
    # exact route 3: whole sampled networks (N = 2 neurons each)
    mean, se = sample_exp_Jphi(J, X2, **VALUES, samples=2_000_000, seed=7)
    z = (mean - math.exp(value)) / se
    assert abs(z) < 5, (mean, se, math.exp(value), z)
    # the Monte Carlo resolves the non-Gaussian part: exp(series to order 2) (exact mean and
    # covariance of phi) is excluded at more than 5 standard errors
    gaussian = sum(homogeneous(linear_series(2), W.sources, r) for r in (1, 2))
    gaussian = math.exp(float(gaussian.xreplace(at(VALUES, W, J, X2))))
    assert abs(mean - gaussian) / se > 5, (mean, gaussian, se)


def exact_values(W, seed):
    """Random exact rationals for the hyper-parameters and the points of W (respecting assumptions)."""
    rng = random.Random(seed)
    out = {}
    for s in W.network.hyperparameters:
        if s.is_integer:
            out[s] = sp.Integer(rng.randint(2, 9))
        elif s.is_positive:
            out[s] = sp.Rational(rng.randint(1, 20), rng.randint(5, 15))
        else:
            out[s] = sp.Rational(rng.randint(-20, 20), rng.randint(5, 15))
    out.update({p: sp.Rational(rng.randint(-20, 20), rng.randint(5, 15)) for p in W.points})
    return out


@functools.cache
def taylor_polynomials(seed) -> tuple:
    r"""(values, [T_0..T_4]): T_r = d^r/dt^r W(t J)|_{t=0} / r! of the closed form of the linear
    network at k = 2, at random exact rational hyper-parameters and points (the sources symbolic)."""
    W = linear_W(2)
    value, _ = split_domain(W.closed_form())
    sub = exact_values(W, seed)
    t = sp.Symbol("t")
    # log of a product of positive factors near J = 0 (sqrt(N), exp(..), 1/sqrt(N - ..)): a sum of logs,
    # much cheaper to differentiate four times
    d = sp.expand_log(value.xreplace(sub), force=True).xreplace({J: t * J for J in W.sources})
    out = []
    for r in range(5):
        out.append(sp.expand(d.subs(t, 0) / math.factorial(r)))
        d = sp.diff(d, t)
    return sub, out


@pytest.mark.parametrize("seed", [1, 2])
def test_taylor_expansion_of_the_closed_form_is_the_series(seed):
    r"""The Taylor polynomial of degree r of the closed form is the degree-r part of the series, exactly,
    at random rational hyper-parameters and points."""
    W = linear_W(2)
    sub, taylor = taylor_polynomials(seed)
    series = sp.expand(linear_series(2).xreplace(sub))
    for r in range(5):
        hom = homogeneous(series, W.sources, r)
        assert sp.expand(taylor[r] - hom) == 0, r
        assert (hom != 0) == (r > 0), r  # every order 1..4 present (mu, m != 0: odd cumulants too)


@pytest.mark.parametrize("seed", [1, 2])
def test_mixed_coefficients_at_two_points_are_multinomial(seed):
    r"""sum_r (1/r!) sum_{m_1..m_r} J_m1..J_mr G_c^(r)(x_m1..x_mr): the monomial J_1^p J_2^q (p + q = r)
    comes from r!/(p! q!) ordered tuples, so its coefficient is G_c^(r)(x_1^p, x_2^q)/(p! q!), e.g.
    J_1 J_2^3 -> G_c^(4)(x_1, x_2, x_2, x_2)/3!, J_1^2 J_2^2 -> G_c^(4)(x_1, x_1, x_2, x_2)/4.
    Route 1: the series (from the correlators); route 2: the Taylor polynomial of the closed form, whose
    J_1^p J_2^q coefficient is d^p/dJ_1^p d^q/dJ_2^q W(0)/(p! q!)."""
    W = linear_W(2)
    J1, J2 = W.sources
    x1, x2 = W.points
    sub, taylor = taylor_polynomials(seed)
    series = sp.Poly(sp.expand(linear_series(2).xreplace(sub)), J1, J2)
    for p, q in [(1, 3), (2, 2), (3, 1), (0, 4), (1, 1), (2, 1), (1, 2)]:
        r = p + q
        G = W.coefficient(r)
        expected = G.expr.xreplace(dict(zip(G.points, [x1] * p + [x2] * q))).xreplace(sub)
        expected = sp.expand(expected / (math.factorial(p) * math.factorial(q)))
        assert expected != 0
        assert sp.expand(series.coeff_monomial(J1**p * J2**q) - expected) == 0, (p, q)
        assert sp.expand(sp.Poly(taylor[r], J1, J2).coeff_monomial(J1**p * J2**q) - expected) == 0, (p, q)


def test_linear_g4_by_hand():
    r"""Route 3 for G_c^(4), with a centred readout (mu = 0; the Gaussian bias has no cumulant beyond 2):
    G_c^(4) = N (E[a^4] E[h_1..h_4] - E[a^2]^2 sum_pairings E[h h] E[h h]), E[a^4] = 3 E[a^2]^2, and for
    h = m + g, g Gaussian with covariance C(x, y) = sigma_b^2 x y + 1 (Isserlis):
    E[h_1..h_4] = m^4 + m^2 sum_6 C + sum_3 C C, E[h h] = C + m^2, so
    G_c^(4) = 2 sigma_a^4/N (sum_3 C C + m^2 sum_6 C)."""
    G = linear_W(2).coefficient(4)
    y = G.points
    C = lambda u, v: SB**2 * u * v + 1
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    pairings = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
    hand = 2 * SA**4 / N * (sum(C(y[i], y[j]) * C(y[k], y[l]) for (i, j), (k, l) in pairings)
                            + M**2 * sum(C(y[i], y[j]) for i, j in pairs))
    assert sp.expand(G.expr.subs(MU, 0) - hand) == 0
    assert sp.expand(G.expr - hand) != 0  # a readout mean (mu != 0) adds to it


# ----------------------------------------------------------------------------- domain of convergence
def _truncated_neuron_integral(J, xv, L, dz=0.05, sigma_a=1.0, sigma_b=0.8, m=0.5, mu=0.3, N=2):
    """E[exp(mu s + sigma_a^2 s^2/(2N))] over b, c ~ N(0, sigma_b^2) x N(m, 1) truncated to the square
    |b|/sigma_b, |c - m| < L (trapezoid), s = J (b x + c): the neuron expectation after the readout."""
    z = np.linspace(-L, L, int(round(2 * L / dz)) + 1)
    wz = np.exp(-z**2 / 2) / math.sqrt(2 * math.pi) * (z[1] - z[0])
    s = J * (sigma_b * z[:, None] * xv + m + z[None, :])
    expo = mu * s + sigma_a**2 * s**2 / (2 * N) + np.log(wz)[:, None] + np.log(wz)[None, :]
    return float(np.exp(expo).sum())


def test_outside_the_domain_the_closed_form_is_infinite():
    W = linear_W(1)
    cf = W.closed_form()
    xv = 0.4
    # sigma_a^2 J^2 (sigma_b^2 x^2 + 1) < N  <=>  |J| < J_c
    Jc = math.sqrt(VALUES["N"] / (VALUES["sigma_a"]**2 * (VALUES["sigma_b"]**2 * xv**2 + 1)))
    inside, outside = 0.7 * Jc, 1.05 * Jc
    assert cf.xreplace(at(VALUES, W, [inside], [[xv]])).is_finite
    for J in (outside, -outside, 3 * Jc):
        assert cf.xreplace(at(VALUES, W, [J], [[xv]])) == sp.oo
        with pytest.raises(DivergentExpectation, match="does not exist"):
            W.evaluate([J], [[xv]], **VALUES)
    # exactly on the boundary (sigma_b = 4/5, x = 2/5, N = 2): still +oo, the inequality is strict
    exact = {**at(VALUES, W), W.points[0]: sp.Rational(2, 5)}
    Jc_exact = sp.sqrt(sp.Integer(2) / (1 + sp.Rational(4, 5)**2 * sp.Rational(2, 5)**2))
    assert cf.xreplace({**exact, W.sources[0]: Jc_exact}) == sp.oo
    # independently: the truncated integral converges inside (to the closed form) and grows without
    # bound outside
    small, large = _truncated_neuron_integral(inside, xv, 12), _truncated_neuron_integral(inside, xv, 24)
    assert small == pytest.approx(large, rel=1e-9)
    neuron_part = float(W.evaluate([inside], [[xv]], **VALUES)) - (VALUES["sigma_e"] * inside)**2 / 2
    assert VALUES["N"] * math.log(large) == pytest.approx(neuron_part, rel=1e-8)
    small, large = _truncated_neuron_integral(outside, xv, 12), _truncated_neuron_integral(outside, xv, 24)
    assert large > 1e3 * small


def test_a_laplace_bias_restricts_the_domain():
    r"""E[exp(e S)] = 1/(1 - lambda^2 S^2) only for |S| < 1/lambda, S = J_1 + J_2 (the neuron part is
    finite there): beyond it W = +oo, not log of a negative number."""
    lam = sp.Rational(1, 2)
    net = ns.Network(ns.Normal("b", 0, 1) * x + ns.Normal("c", 0, 1), ns.Normal("a", 0, 1 / N), N, x,
                     bias=ns.Laplace("e", 0, lam))
    W = cumulant_generating_functional(net, 2)
    cf = W.closed_form()
    pts = {W.points[0]: 0, W.points[1]: 0, N: 100}  # neuron part finite for 2 (J_1 + J_2)^2 ... < 100
    J1, J2 = W.sources
    assert cf.xreplace({**pts, J1: 1.2, J2: 1.0}) == sp.oo   # |S| = 2.2 > 2
    assert cf.xreplace({**pts, J1: -1.5, J2: -0.6}) == sp.oo
    with pytest.raises(DivergentExpectation):
        W.evaluate([1.2, 1.0], [[0.0], [0.0]], N=100)
    # inside: the bias part is -log(1 - S^2/4), checked against quadrature of the Laplace density
    S = 1.5
    value = float(W.evaluate([0.9, 0.6], [[0.0], [0.0]], N=100))
    neuron = -50 * math.log(1 - S**2 / 100)  # Var(J_1 c + J_2 c) = S^2 at x = 0, a ~ N(0, 1/N)
    u, w = np.polynomial.laguerre.laggauss(80)  # e = +-u/2, density e^{-2|e|}: E = (1/2) sum_pm int e^{-u}
    bias = 0.5 * np.sum(w * (np.exp(S * u / 2) + np.exp(-S * u / 2)))
    assert value == pytest.approx(neuron + math.log(bias), rel=1e-10)


# ----------------------------------------------------------------------------- N-scaling, coefficients
def g(v):
    return sp.exp(-SB**2 * v**2 / 2)


def cos_G4_by_hand(x1, x2, x3, x4):
    r"""Cos-net in d = 1 (b ~ N(0, sigma_b^2), c ~ U[-pi, pi], a ~ N(0, sigma_a^2/N)):
    G_c^(4) = N (E[a^4] E[h h h h] - E[a^2]^2 sum E[h h] E[h h]) with E[h_1..h_4] = (1/8) sum of the
    three sign patterns with zero phase sum, E[h h] = g/2."""
    pairings = [((x1, x2), (x3, x4)), ((x1, x3), (x2, x4)), ((x1, x4), (x2, x3))]
    return SA**4 / (8 * N) * (3 * (g(x1 + x2 - x3 - x4) + g(x1 - x2 + x3 - x4) + g(x1 - x2 - x3 + x4))
                              - 2 * sum(g(p - q) * g(r - s) for (p, q), (r, s) in pairings))


def cos_G4_quadrature(X, sigma_a, sigma_b, N, n=80):
    """The same from E[h...] by Gauss-Hermite (b) x Gauss-Legendre (c) and the Moebius formula."""
    zb, wb = hermegauss(n)
    wb = wb / math.sqrt(2 * math.pi)
    zc, wc = np.polynomial.legendre.leggauss(n)
    c, wc = np.pi * zc, wc / 2
    h = np.cos(sigma_b * zb[:, None, None] * np.asarray(X)[None, None, :] + c[None, :, None])  # (b, c, 4)
    E = lambda *idx: np.einsum("b,c,bc->", wb, wc, np.prod(h[:, :, list(idx)], axis=-1))
    a2, a4 = sigma_a**2 / N, 3 * sigma_a**4 / N**2
    return N * (a4 * E(0, 1, 2, 3) - a2**2 * (E(0, 1) * E(2, 3) + E(0, 2) * E(1, 3) + E(0, 3) * E(1, 2)))


def test_cos_net_n_scaling_and_coefficients():
    net = ns.zoo.cos_net(1)
    W = cumulant_generating_functional(net, 1)
    assert W.n_scaling(6) == {1: None, 2: 0, 3: None, 4: -1, 5: None, 6: -2}
    # route 2 for the powers: G_c^(r) at N = 10 and N = 1000 (exact Laurent monomials in N)
    X6 = np.array([[0.1], [0.5], [-0.3], [0.9], [0.2], [-0.7]])
    for r, p in [(2, 0), (4, -1), (6, -2)]:
        G = W.coefficient(r)
        lo, hi = (float(G.evaluate(X6[:r], sigma_a=1.3, sigma_b=0.7, N=n)) for n in (10, 1000))
        assert abs(lo) > 1e-6 and hi / lo == pytest.approx(100.0**p, rel=1e-9), r
        # the coefficient is the network's connected correlator, at these points
        direct = net.correlator(r, connected=True).evaluate(X6[:r], sigma_a=1.3, sigma_b=0.7, N=10)
        assert float(direct) == pytest.approx(lo, rel=1e-12)
    # G_c^(4): by hand (symbolic, at points) and by quadrature
    G4 = W.coefficient(4)
    pts = [sp.Rational(1, 10), sp.Rational(1, 2), sp.Rational(-3, 10), sp.Rational(9, 10)]
    vals = {SA: sp.Rational(13, 10), SB: sp.Rational(7, 10), N: 10}
    derived = G4.expr.xreplace({**dict(zip(G4.points, pts)), **vals})
    assert sp.N(derived - cos_G4_by_hand(*pts).xreplace(vals), 30) == pytest.approx(0, abs=1e-25)
    quad = cos_G4_quadrature(X6[:4, 0], 1.3, 0.7, 10)
    assert float(G4.evaluate(X6[:4], sigma_a=1.3, sigma_b=0.7, N=10)) == pytest.approx(quad, rel=1e-10)
    # generic points, symbolically: the coefficient is the hand formula
    x1, x2, x3, x4 = G4.points
    assert sp.simplify(sp.expand(G4.expr - cos_G4_by_hand(x1, x2, x3, x4))) == 0


def test_leading_power():
    s = sp.Symbol("s", positive=True)
    assert leading_power(s**4 * (1 - 1 / N) / 8 + 3 * s**4 / N, N) == 0
    assert leading_power(s**4 * (1 - 1 / N) / 8 - s**4 / 8, N) == -1   # the N^0 parts cancel
    assert leading_power((N + 1)**2 - N**2, N) == 1
    assert leading_power(sp.exp(-s) / N**2 + 0 * N, N) == -2
    assert leading_power(sp.exp(s) * (1 - 1 / N) - sp.exp(s), N) == -1  # cancel numerically, not only literally
    assert leading_power(sp.cos(s)**2 + sp.sin(s)**2 - 1 + 1 / N, N) == -1  # 0 only after simplification
    assert leading_power(0, N) is None
    assert leading_power(sp.exp(1 / N), N) is None  # not a Laurent polynomial


# ----------------------------------------------------------------------------- no closed form, divergence
def test_no_closed_form_but_a_series_for_cos_net_and_shared_parameters():
    W = cumulant_generating_functional(ns.zoo.cos_net(1), 1)
    with pytest.raises(NoClosedForm, match="series"):
        W.closed_form()
    (J,), (x1,) = W.sources, W.points
    series = W.series(4)
    # G_c^(2)(x, x) = sigma_a^2/2; G_c^(4)(x,x,x,x) = sigma_a^4/(8N) (9 - 6)
    assert sp.simplify(series - (J**2 * SA**2 / 4 + J**4 * 3 * SA**4 / (8 * N) / 24)) == 0
    assert "O(J^{5})" in W.latex(4)
    # the same J^4 coefficient from the quadrature route (x = 0.3, sigma_a = 1.3, sigma_b = 0.7, N = 10)
    quad = cos_G4_quadrature(np.full(4, 0.3), 1.3, 0.7, 10)
    num = float(series.coeff(J, 4).xreplace({SA: 1.3, SB: 0.7, N: 10, x1: 0.3}))
    assert num * 24 == pytest.approx(quad, rel=1e-10)

    # a shared phase: not i.i.d., no closed form; G_c^(4) does not vanish as N -> oo
    a, b, c = ns.Normal("a", 0, 1 / N), ns.Normal("b", 0, 1), ns.Uniform("c", -sp.pi, sp.pi)
    shared = cumulant_generating_functional(ns.Network(sp.cos(b * x + c), a, N, x, shared=(c,)), 1)
    with pytest.raises(NoClosedForm, match="i.i.d."):
        shared.closed_form()
    (J,), (x1,) = shared.sources, shared.points
    # by hand (tests/test_independence.py at coincident points): I_N = 3/(8N), I_IB = 3(1 - 1/N) e^{-4x^2}/8
    G4 = 3 / (8 * N) + 3 * (1 - 1 / N) * sp.exp(-4 * x1**2) / 8
    assert sp.simplify(shared.series(4) - (J**2 / 4 + J**4 * G4 / 24)) == 0
    assert shared.n_scaling(4) == {1: None, 2: 0, 3: None, 4: 0}


def test_no_moment_generating_function_diverges():
    b, c = ns.Normal("b", 0, 1), ns.Uniform("c", -sp.pi, sp.pi)
    cauchy_readout = ns.Network(sp.cos(b * x + c), ns.Cauchy("a", 0, 1 / N), N, x)
    W = cumulant_generating_functional(cauchy_readout, 1)
    with pytest.raises(DivergentExpectation, match="no moment generating function"):
        W.closed_form()
    with pytest.raises(DivergentExpectation):  # no G_c^(r) either: never a finite number
        W.series(2)
    # an output bias without exponential moments: infinite for every J_1 + ... + J_k != 0
    cauchy_bias = ns.Network(b * x + ns.Normal("c", 0, 1), ns.Normal("a", 0, 1 / N), N, x,
                             bias=ns.Cauchy("e", 0, 1))
    with pytest.raises(DivergentExpectation, match="bias"):
        cumulant_generating_functional(cauchy_bias, 2).closed_form()


# ----------------------------------------------------------------------------- bad input
def test_bad_input_is_refused_naming_the_problem():
    net = linear_net()
    with pytest.raises(ValueError, match="at least one point"):
        cumulant_generating_functional(net, 0)
    for k in (1.5, True, "2"):
        with pytest.raises(TypeError, match="integer"):
            cumulant_generating_functional(net, k)
    with pytest.raises(TypeError, match="Network"):
        cumulant_generating_functional("cos_net", 2)
    W = linear_W(2)
    with pytest.raises(ValueError, match="one source per point"):
        GeneratingFunctional(net, W.sources[:1], W.points)
    with pytest.raises(ValueError, match="at least one point"):
        GeneratingFunctional(net, (), ())
    with pytest.raises(TypeError, match="distinct"):
        GeneratingFunctional(net, (W.sources[0], W.sources[0]), W.points)
    with pytest.raises(TypeError, match="did you mean 'sigma_a'"):
        W.evaluate([0.1, 0.2], X2, **{**VALUES, "sigmaa": 1.0})
    with pytest.raises(ValueError, match=r"missing value\(s\) for sigma_a"):
        W.evaluate([0.1, 0.2], X2, **{k: v for k, v in VALUES.items() if k != "sigma_a"})
    with pytest.raises(ValueError, match="one value per source"):
        W.evaluate([0.1, 0.2, 0.3], X2, **VALUES)
    with pytest.raises(ValueError, match="one point per source"):
        W.evaluate([0.1, 0.2], X2[:1], **VALUES)
    with pytest.raises(ValueError, match="finite"):
        W.evaluate([0.1, np.inf], X2, **VALUES)
    with pytest.raises(TypeError, match="unexpected keyword"):
        W.series(ordr=4)
    with pytest.raises(ValueError, match="n >= 1"):
        W.series(0)
    with pytest.raises(ValueError, match="symbolic width"):
        cumulant_generating_functional(ns.Network(ns.Normal("b", 0, 1) * x, ns.Normal("a", 0, 1), 3, x),
                                       1).n_scaling(4)
    J1 = sp.Symbol("J_1", positive=True)
    with pytest.raises(ValueError, match="J_1 are hyper-parameters"):
        cumulant_generating_functional(ns.Network(J1 * ns.Normal("b", 0, 1) * x, ns.Normal("a", 0, 1), N, x), 1)


def test_regression_leading_power_of_a_numeric_result_is_refused_not_a_recursion_error():
    """leading_power on the ReLU net's G_c^(4) (which holds GaussianExpectation atoms, evaluated by
    quadrature) ran into a RecursionError in the zero test (abs of an unevaluated expectation).
    A coefficient that vanishes for every value of the expectations is still found to vanish; one that
    does not is refused (its vanishing would need the expectations' values)."""
    import pytest
    import sympy as sp

    import nnsym as ns

    N = sp.Symbol("N", positive=True, integer=True)
    G = ns.zoo.relu_net(1).correlator(4, connected=True).expr
    assert not ns.is_exact(G)
    with pytest.raises(ns.NoClosedForm, match="not decided"):
        ns.leading_power(G, N)
    assert ns.leading_power(G * N**2 - G * N**2 + 1 / N**3, N) == -3

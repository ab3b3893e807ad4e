r"""The density of field values at finite N (nnsym.analysis.field_density), checked two ways.

* The exact density (Fourier inversion of :math:`\chi_1^N`) against an independent route: conditionally on
  the neuron parameters a Gaussian readout makes the field Gaussian, :math:`\phi\,|\,\theta \sim
  \mathcal N(0, s^2\sum_i h_i h_i^T)`, so the density is the mixture :math:`E_\theta[\mathcal N]`, estimated
  here by Monte Carlo over hand-written numpy draws of the parameters, with its standard error:
  :math:`|p - p_{\rm mix}| \le \epsilon_{\rm stated} + 5\,\mathrm{se}`.
* Closed forms by hand: the cos-net's :math:`\chi_1` at one point is :math:`e^{-u}I_0(u)`,
  :math:`u = s^2t^2/4` (the arcsine law of :math:`\cos c`), and at two points a 1-D integral over b;
  a two-point readout times a Gaussian neuron gives an exactly Gaussian field.
* Moments of the density against the exact correlators :math:`G^{(2)}` and :math:`G_c^{(4)}`.
* Monte Carlo histograms of real sampled networks at N = 2, 5, 20: the exact density within the histogram's
  own noise (:math:`z < 5`), the Edgeworth series beating the Gaussian at N = 5.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, special, stats
from user_laws import TwoPointLaw

import nnsym as ns
from nnsym.analysis.field_density import (
    FieldDensity,
    compare_with_monte_carlo,
    edgeworth_density,
    field_density,
    gaussian_density,
    histogram_noise,
    l1_distance,
    single_neuron_characteristic_function,
)
from nnsym.analysis.toolkit import evaluate_with_error
from nnsym.core.random import random_parameter
from nnsym.errors import DivergentExpectation, NNSymError

COS = dict(sigma_a=1.0, sigma_b=1.0)
GAUSS = dict(sigma_a=1.0, sigma_b=1.0, sigma_c=0.5)


@pytest.fixture(scope="module")
def cos_net():
    return ns.zoo.cos_net(1)


@pytest.fixture(scope="module")
def gauss_net():
    return ns.zoo.gauss_net(1)


# ----------------------------------------------------------------------------- the independent route
def mixture(h: np.ndarray, s2: float, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Monte Carlo of :math:`E_\theta[\mathcal N(P; 0, s^2\sum_i h_i h_i^T)]` from neuron values ``h`` of shape
    (S, N, k) (k = 1, 2) at field values ``P`` (M, k): mean and standard error."""
    C = s2 * np.einsum("snj,snl->sjl", h, h)  # (S, k, k)
    if h.shape[-1] == 1:
        v = C[:, 0, 0][:, None]
        f = np.exp(-P[None, :, 0] ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v)
    else:
        det = C[:, 0, 0] * C[:, 1, 1] - C[:, 0, 1] ** 2
        q = (C[:, 1, 1, None] * P[None, :, 0] ** 2 - 2 * C[:, 0, 1, None] * P[None, :, 0] * P[None, :, 1]
             + C[:, 0, 0, None] * P[None, :, 1] ** 2) / det[:, None]
        f = np.exp(-q / 2) / (2 * np.pi * np.sqrt(det[:, None]))
    return f.mean(0), f.std(0) / math.sqrt(len(f))


def cos_neurons(rng, S, N, xs, sigma_b=1.0):
    b = rng.normal(0.0, sigma_b, (S, N, 1))
    c = rng.uniform(-np.pi, np.pi, (S, N, 1))
    return np.cos(b * np.asarray(xs)[None, None, :] + c)


def gauss_neurons(rng, S, N, xs, sigma_b=1.0, sigma_c=0.5):
    b = rng.normal(0.0, sigma_b, (S, N, 1))
    c = rng.normal(0.0, sigma_c, (S, N, 1))
    x = np.asarray(xs)[None, None, :]
    return np.exp(b * x + c - (sigma_c**2 + sigma_b**2 * x**2))


def assert_within(p: FieldDensity, P, mean, se):
    value, err = p.pdf(P if p.k == 2 else P[:, 0], with_error=True)
    bad = np.abs(value - mean) > err + 5 * se
    assert not np.any(bad), (f"exact {value[bad]} vs mixture {mean[bad]} +- {se[bad]}, stated error {err[bad]}")


# ----------------------------------------------------------------------------- the single-neuron characteristic fn
def test_cos_net_single_neuron_cf_at_one_point_is_the_arcsine_transform(cos_net):
    # h = cos(b x + c) with c uniform: h has the arcsine law, E[exp(-s^2 t^2 h^2/2)] = e^{-u} I_0(u), u = s^2 t^2/4
    chi = single_neuron_characteristic_function(cos_net, [0.3], N=2, **COS)
    assert chi.method == "quadrature"
    t = np.array([0.5, 2.0, 8.0, 20.0])
    assert chi.refine(t, tol=1e-10)
    value, err = chi.with_error(t)
    exact = special.i0e(0.5 * t**2 / 4)
    assert np.all(np.abs(value - exact) <= err + 1e-14) and np.all(err < 1e-10)
    coarse = single_neuron_characteristic_function(cos_net, [0.3], N=2, **COS)  # 8 nodes: not accurate at t = 20
    v8, e8 = coarse.with_error(t)
    assert abs(v8[-1] - exact[-1]) > 1e-3 and np.all(np.abs(v8 - exact) <= e8 + 1e-14)


def test_cos_net_single_neuron_cf_at_two_points_is_a_bessel_integral(cos_net):
    # t1 cos(c) + t2 cos(b D + c) = R cos(c + psi), R^2 = t1^2 + t2^2 + 2 t1 t2 cos(b D): chi_1 = E_b[e^{-u}I_0(u)]
    s2, D = 1 / 5, 0.8
    chi = single_neuron_characteristic_function(cos_net, [[0.0], [D]], N=5, **COS)
    T = np.array([[1.0, -0.5], [3.0, 2.0], [6.0, -6.0]])
    assert chi.refine(T, tol=1e-9)
    value, err = chi.with_error(T)
    for (t1, t2), v, e in zip(T, value, err):
        f = lambda b: special.i0e(s2 * (t1**2 + t2**2 + 2 * t1 * t2 * np.cos(b * D)) / 4) * stats.norm.pdf(b)
        exact = integrate.quad(f, -12, 12, epsabs=1e-13, limit=200)[0]
        assert abs(v - exact) <= e + 1e-12 and e < 1e-9




@pytest.fixture(scope="module")
def linear_net():
    r"""phi = sum_i a_i (b_i x + c_i), a = +-w/sqrt(N), b ~ N(0, 1), c ~ N(0, 1/4): exactly Gaussian,
    :math:`\mathrm{Cov}(\phi(x), \phi(y)) = w^2(xy + 1/4)`."""
    N = sp.Symbol("N", positive=True, integer=True)
    w = sp.Symbol("w", positive=True)
    x = ns.Input("x", 1)
    b, c = ns.Normal("b", 0, 1), ns.Normal("c", 0, sp.Rational(1, 4))
    a = random_parameter("a", TwoPointLaw(w / sp.sqrt(N)))
    return ns.Network(b * x + c, readout=a, width=N, input=x)


@pytest.mark.parametrize("closed_form", [True, False])
def test_gaussian_neuron_with_two_point_readout_gives_the_gaussian(linear_net, closed_form):
    p = field_density(linear_net, [0.5], w=1.3, N=3, closed_form=closed_form)
    cf = p.details["characteristic_function"]
    assert cf.method == ("closed form" if closed_form else "quadrature")
    exact = stats.norm.pdf(p.grid, 0, 1.3 * math.sqrt(0.5))
    assert np.max(np.abs(p.values - exact)) <= p.error and p.error < 1e-6
    X = np.array([[0.5], [-1.0]])
    p2 = field_density(linear_net, X, w=1.3, N=3, closed_form=closed_form)
    K = 1.3**2 * (X @ X.T + 0.25)
    G = np.stack(np.meshgrid(*p2.grid, indexing="ij"), axis=-1)
    assert np.max(np.abs(p2.values - stats.multivariate_normal(np.zeros(2), K).pdf(G))) <= p2.error < 1e-6


def test_closed_form_is_the_engines(linear_net):
    # E_{b,c}[cos(w t (b x + c)/sqrt(N))] = exp(-w^2 t^2 (x^2 + 1/4)/(2N)), found by the engine
    cf = field_density(linear_net, [0.5], w=1.3, N=3).details["characteristic_function"]
    by_name = {s.name: s for s in cf.expr.free_symbols}
    assert set(by_name) == {"t_1", "x_1", "w", "N"}
    at = cf.expr.subs({by_name["t_1"]: 0.7, by_name["x_1"]: 0.5, by_name["w"]: 1.3, by_name["N"]: 3})
    assert abs(float(at) - math.exp(-0.7**2 * 1.3**2 * (0.25 + 0.25) / (2 * 3))) < 1e-14


# ----------------------------------------------------------------------------- exact density against the mixture
@pytest.mark.parametrize("N", [2, 5, 20])
def test_cos_net_density_matches_the_mixture(cos_net, N):
    p = field_density(cos_net, [0.3], N=N, **COS)
    rng = np.random.default_rng(10 + N)
    P = np.array([0.1, 0.3, 0.6, 1.0, 1.6, 2.5])[:, None]  # not 0: at N = 2 the mixture's variance is infinite there
    mean, se = mixture(cos_neurons(rng, 200_000, N, [0.3]), 1.0 / N, P)
    assert_within(p, P, mean, se)
    if N >= 5:
        assert p.error < 1e-4
    else:  # |chi_2| ~ 1.27/t^2: the truncated inversion is accurate to ~0.4/T, and says so
        assert p.error < 3e-3 and p.details["tail_power"] == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("N", [2, 5])
def test_gauss_net_density_matches_the_mixture(gauss_net, N):
    p = field_density(gauss_net, [0.5], N=N, **GAUSS)
    rng = np.random.default_rng(20 + N)
    P = np.array([0.0, 0.1, 0.3, 0.6, 1.0, 1.6, 2.5])[:, None]
    mean, se = mixture(gauss_neurons(rng, 200_000, N, [0.5]), 1.0 / (2 * N), P)
    assert_within(p, P, mean, se)
    assert p.error < 1e-4


def test_cos_net_two_point_density_matches_the_mixture(cos_net):
    X = np.array([[0.0], [0.8]])
    p = field_density(cos_net, X, N=20, **COS)
    assert p.values.shape == (61, 61) and p.error < 1e-4
    rng = np.random.default_rng(3)
    P = np.array([[0.0, 0.0], [0.3, -0.2], [0.5, 0.6], [-1.0, 0.2], [1.2, 1.0], [0.1, 0.15]])
    mean, se = mixture(cos_neurons(rng, 100_000, 20, X[:, 0]), 1.0 / 20, P)
    assert_within(p, P, mean, se)


def test_cauchy_readout_has_a_density_but_no_edgeworth_series():
    # a readout without moments: the characteristic function still exists, phi | theta is Cauchy(0, s sum |h_i|)
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    b, c = ns.Normal("b", 0, 1), ns.Uniform("c", -sp.pi, sp.pi)
    net = ns.Network(sp.cos(b * x + c), readout=ns.Cauchy("a", 0, 1 / N), width=N, input=x)
    p = field_density(net, [0.3], N=5, grid=np.linspace(-3, 3, 61))
    rng = np.random.default_rng(4)
    g = np.abs(cos_neurons(rng, 200_000, 5, [0.3])[..., 0]).sum(1) / 5
    phi = np.array([0.0, 0.3, 1.0, 2.5])
    f = g[:, None] / (np.pi * (phi[None, :] ** 2 + g[:, None] ** 2))
    value, err = p.pdf(phi, with_error=True)
    assert np.all(np.abs(value - f.mean(0)) <= err + 5 * f.std(0) / math.sqrt(len(f)))
    with pytest.raises(DivergentExpectation):
        edgeworth_density(net, [0.3], N=5)


def test_symbolic_dimension_and_rotation_of_the_gaussian_frequency():
    # b ~ N(0, sigma_b^2/d I_d) enters only through b.x: its rule lives on the span of the points (rank 1 here)
    X = [[0.1, 0.2, 0.3]]
    p3 = field_density(ns.zoo.cos_net(3), X, N=5, **COS)
    pd = field_density(ns.zoo.cos_net(), X, N=5, **COS)
    assert set(p3.details["rule"]) == {"b.e1", "c"}
    assert np.max(np.abs(p3.values - pd.values)) <= p3.error + pd.error
    # d = 3, b.x ~ N(0, sigma_b^2 |x|^2/3): the same law as the d = 1 cos-net at x' = |x|/sqrt(3)
    p1 = field_density(ns.zoo.cos_net(1), [np.linalg.norm(X) / math.sqrt(3)], N=5, **COS)
    assert np.max(np.abs(p1.values - p3.values)) <= p1.error + p3.error


# ----------------------------------------------------------------------------- moments of the density
@pytest.mark.parametrize("name", ["cos", "erf"])
def test_density_moments_are_the_exact_correlators(cos_net, name):
    r"""Sub-Gaussian fields (bounded neurons, Gaussian readout and bias): the moments of the inverted density on
    :math:`\pm10\sigma` are the correlators, :math:`\int p = 1`, :math:`\int\phi^2 p = G^{(2)}`,
    :math:`\int\phi^4 p - 3(\int\phi^2 p)^2 = G_c^{(4)}`, within :math:`\epsilon\int|\phi|^r`."""
    if name == "cos":
        net, vals, x = cos_net, COS, 0.3
    else:
        net, vals, x = ns.zoo.erf_net(1), dict(sigma_W=1.0, sigma_b=0.5), 0.7
    N = 5
    G2, e2, _ = evaluate_with_error(net.correlator(2), np.full((1, 2, 1), x), dict(N=N, **vals))
    G4c, e4, _ = evaluate_with_error(net.correlator(4, connected=True), np.full((1, 4, 1), x), dict(N=N, **vals))
    G2, G4c = float(G2[0]), float(G4c[0])
    L = 10 * math.sqrt(G2)
    p = field_density(net, [x], N=N, grid=np.linspace(-L, L, 1601), rtol=1e-7, **vals)
    phi, f = p.grid, p.values
    m = [integrate.trapezoid(phi**r * f, phi) for r in range(5)]
    bound = [p.error * 2 * L ** (r + 1) / (r + 1) for r in range(5)]  # |int phi^r dp| <= eps int |phi|^r
    assert abs(m[0] - 1) <= bound[0] + 1e-6
    assert abs(m[1]) <= bound[1] + 1e-6
    assert abs(m[2] - G2) <= bound[2] + e2 + 1e-6
    kappa4 = m[4] - 3 * m[2] ** 2
    assert abs(kappa4 - G4c) <= bound[4] + 6 * G2 * bound[2] + e4 + 1e-5
    assert abs(G4c) > 50 * (bound[4] + 6 * G2 * bound[2] + 1e-5)  # the check can see G_c^(4)


def test_heavy_tailed_gauss_net_is_normalised_with_its_tails(gauss_net):
    # h = exp(z - sigma_z^2) is log-normal: the field has heavy tails, mass ~1e-7 beyond 20 sigma
    L = 20 * math.sqrt(0.5)
    p = field_density(gauss_net, [0.5], N=5, grid=np.linspace(-L, L, 2001), rtol=1e-8, **GAUSS)
    (F_lo, F_hi), err = p.cdf(np.array([-L, L]), with_error=True)
    inside = integrate.trapezoid(p.values, p.grid)
    assert F_lo > 1e-9  # the tail is there, and counted
    assert abs(inside + F_lo + (1 - F_hi) - 1) <= p.error * 2 * L + err.sum() + 1e-7
    assert F_hi - F_lo == pytest.approx(inside, abs=p.error * 2 * L + err.sum() + 1e-7)


# ----------------------------------------------------------------------------- Edgeworth
@pytest.fixture(scope="module")
def skewed_net():
    r"""A readout with a mean, :math:`a\sim\mathcal N(1/N, 1/N)`: odd cumulants do not vanish."""
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    b, c = ns.Normal("b", 0, 1), ns.Uniform("c", 0, sp.pi)
    return ns.Network(sp.cos(b * x + c) + 1, readout=ns.Normal("a", 1 / N, 1 / N), width=N, input=x)


def test_edgeworth_one_point_is_the_hermite_formula(skewed_net):
    N, x = 7, 0.4
    p = edgeworth_density(skewed_net, [x], order=1, N=N)
    G = lambda r: float(skewed_net.correlator(r, connected=True).evaluate(np.full((1, r, 1), x), N=N)[0])
    m, s, k3, k4 = G(1), math.sqrt(G(2)), G(3), G(4)
    assert abs(k3) > 1e-3
    phi = np.linspace(m - 4 * s, m + 4 * s, 41)
    z = (phi - m) / s
    He = lambda n: np.polynomial.hermite_e.hermeval(z, [0] * n + [1])
    hand = stats.norm.pdf(z) / s * (1 + k3 / (6 * s**3) * He(3) + k4 / (24 * s**4) * He(4)
                                    + k3**2 / (72 * s**6) * He(6))
    assert np.max(np.abs(p.pdf(phi) - hand)) < 1e-12
    # the distribution function integrates it
    F = p.cdf(phi)
    num = np.array([integrate.quad(lambda u: float(p.pdf(u)), m - 12 * s, v, epsabs=1e-13)[0] for v in phi[::8]])
    assert np.max(np.abs(F[::8] - num)) < 1e-10
    assert gaussian_density(skewed_net, [x], N=N).pdf(m) == pytest.approx(1 / (math.sqrt(2 * math.pi) * s), rel=1e-12)


def test_edgeworth_two_points_is_the_inverse_fourier_transform_of_its_series(skewed_net):
    r"""Independent of the Hermite/whitening route: the density is the Fourier inverse of
    :math:`e^{it\cdot m - t^TKt/2}[1 + \kappa_3(it)/3! + \kappa_4(it)/4! + \kappa_3(it)^2/72]`, with the kappa
    tensors contracted by hand over all index tuples, on a fine trapezoidal grid in t."""
    N, X = 6, np.array([[0.2], [0.9]])
    p = edgeworth_density(skewed_net, X, order=1, N=N)
    tuples = {r: list(itertools.product(range(2), repeat=r)) for r in (1, 2, 3, 4)}
    kappa = {r: dict(zip(tuples[r], skewed_net.correlator(r, connected=True).evaluate(
        np.stack([X[list(i)] for i in tuples[r]]), N=N))) for r in tuples}
    m = np.array([kappa[1][(0,)], kappa[1][(1,)]])
    K = np.array([[kappa[2][(i, j)] for j in range(2)] for i in range(2)])
    h, M = 0.25, 200
    t1, t2 = np.meshgrid(h * np.arange(-M, M + 1), h * np.arange(-M, M + 1), indexing="ij")
    it = (1j * t1, 1j * t2)
    contract = lambda r: sum(v * np.prod([it[j] for j in idx], axis=0) for idx, v in kappa[r].items())
    k3, k4 = contract(3), contract(4)
    chi = np.exp(1j * (t1 * m[0] + t2 * m[1]) - (K[0, 0] * t1**2 + 2 * K[0, 1] * t1 * t2 + K[1, 1] * t2**2) / 2)
    chi = chi * (1 + k3 / 6 + k4 / 24 + k3**2 / 72)
    P = np.array([m, m + [0.3, -0.2], m + [-0.5, 0.4], m + [1.0, 1.2]])
    fourier = [np.real(np.sum(chi * np.exp(-1j * (t1 * a + t2 * b)))) * h**2 / (2 * np.pi) ** 2 for a, b in P]
    assert abs(kappa[3][(0, 0, 1)]) > 1e-3  # the kappa_3 terms take part
    assert np.max(np.abs(p.pdf(P) - np.array(fourier))) < 1e-10


def test_edgeworth_works_with_shared_parameters_where_the_exact_route_refuses():
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    b, c = ns.Normal("b", 0, 1), ns.Uniform("c", -sp.pi, sp.pi)
    net = ns.Network(sp.cos(b * x + c), readout=ns.Normal("a", 0, 1 / N), width=N, input=x, shared=[b])
    with pytest.raises(NNSymError, match="independent neurons"):
        field_density(net, [0.3], N=5)
    p = edgeworth_density(net, [0.3], order=1, N=5)
    assert abs(integrate.trapezoid(p.values, p.grid) - 1) < 1e-5


def test_edgeworth_beats_the_gaussian_at_N5_against_the_exact_density(cos_net):
    for net, vals, x in ((cos_net, COS, 0.3), (ns.zoo.erf_net(1), dict(sigma_W=1.0, sigma_b=0.5), 0.7)):
        exact = field_density(net, [x], N=5, **vals)
        l1_edge, e1 = l1_distance(edgeworth_density(net, [x], N=5, **vals), exact)
        l1_gauss, e2 = l1_distance(gaussian_density(net, [x], N=5, **vals), exact)
        assert l1_edge + e1 < l1_gauss - e2, (l1_edge, l1_gauss)


def test_edgeworth_does_not_beat_the_gaussian_for_the_heavy_tailed_gauss_net(gauss_net):
    # an asymptotic series, not a convergent one: with log-normal neurons kappa_4/sigma^4 ~ 3.8 at N = 5 and the
    # 1/N correction overshoots; the exact density says so (it is what the comparison is for)
    exact = field_density(gauss_net, [0.5], N=5, **GAUSS)
    l1_edge = l1_distance(edgeworth_density(gauss_net, [0.5], N=5, **GAUSS), exact)[0]
    l1_gauss = l1_distance(gaussian_density(gauss_net, [0.5], N=5, **GAUSS), exact)[0]
    assert l1_edge > l1_gauss
    exact20 = field_density(gauss_net, [0.5], N=40, **GAUSS)
    assert (l1_distance(edgeworth_density(gauss_net, [0.5], N=40, **GAUSS), exact20)[0]
            < l1_distance(gaussian_density(gauss_net, [0.5], N=40, **GAUSS), exact20)[0])


# ----------------------------------------------------------------------------- against Monte Carlo histograms
def test_histogram_noise_is_the_noise_of_histograms():
    rng = np.random.default_rng(0)
    edges = np.linspace(-3, 3, 25)
    p = np.diff(stats.norm.cdf(edges))
    p = np.concatenate([[stats.norm.cdf(-3)], p, [stats.norm.sf(3)]])
    S, R = 3000, 600
    draws = rng.normal(size=(R, S))
    l1 = []
    for d in draws:
        inner = np.histogram(d, edges)[0]
        counts = np.concatenate([[np.sum(d < -3)], inner, [np.sum(d > 3)]])
        l1.append(np.abs(counts / S - p).sum())
    mean, sd = histogram_noise(p, S)
    assert abs(np.mean(l1) - mean) < 5 * np.std(l1) / math.sqrt(R)
    assert 0.8 < np.std(l1) / sd < 1.25


@pytest.mark.parametrize("N", [2, 5, 20])
def test_exact_density_matches_monte_carlo_histograms(cos_net, N):
    dens = [field_density(cos_net, [0.3], N=N, **COS), edgeworth_density(cos_net, [0.3], order=1, N=N, **COS),
            gaussian_density(cos_net, [0.3], N=N, **COS)]
    cmp = compare_with_monte_carlo(dens, cos_net, samples=200_000, seed=N)
    exact = cmp["exact"]
    assert exact.within_noise and abs(exact.z) < 5, str(cmp)
    assert exact.ks < exact.ks_noise * 4
    if N <= 5:  # the Gaussian is visibly wrong at small N: the test can fail
        assert not cmp["gaussian"].within_noise, str(cmp)
    if N == 5:
        assert cmp["edgeworth-1"].l1 < cmp["gaussian"].l1
        assert cmp["edgeworth-1"].z < 5


def test_two_point_density_matches_a_two_dimensional_histogram(cos_net):
    X = np.array([[0.0], [0.8]])
    dens = [field_density(cos_net, X, N=20, **COS), edgeworth_density(cos_net, X, N=20, **COS),
            gaussian_density(cos_net, X, N=20, **COS)]
    cmp = compare_with_monte_carlo(dens, cos_net, samples=200_000, seed=7)
    assert cmp["exact"].within_noise and cmp["exact"].ks is None, str(cmp)
    assert cmp["edgeworth-1"].l1 < cmp["gaussian"].l1 and not cmp["gaussian"].within_noise, str(cmp)


def test_network_with_output_bias_against_monte_carlo():
    net = ns.zoo.erf_net(1)  # erf(W0 x + b0), readout W1 ~ N(0, sigma_W^2/N), output bias b1 ~ N(0, sigma_b^2)
    vals = dict(sigma_W=1.0, sigma_b=0.5, N=5)
    p = field_density(net, [0.7], **vals)
    rng = np.random.default_rng(5)
    S = 200_000
    h = special.erf(rng.normal(0, 1, (S, 5, 1)) * 0.7 + rng.normal(0, 0.5, (S, 5, 1)))
    P = np.array([0.0, 0.4, 1.0, 2.0])[:, None]
    C = np.einsum("snj,snl->s", h, h) / 5 + 0.25  # + Var(b1)
    f = np.exp(-P[None, :, 0] ** 2 / (2 * C[:, None])) / np.sqrt(2 * np.pi * C[:, None])
    assert_within(p, P, f.mean(0), f.std(0) / math.sqrt(S))
    assert compare_with_monte_carlo(p, net, samples=100_000, seed=1)["exact"].within_noise


# ----------------------------------------------------------------------------- refusals
def test_unbounded_densities_are_refused(cos_net):
    with pytest.raises(DivergentExpectation, match="unbounded or does not exist"):
        field_density(cos_net, [0.3], N=1, **COS)  # the cos-net's one-neuron density has a log singularity


def test_bad_input(cos_net, gauss_net):
    with pytest.raises(ValueError, match="no points"):
        field_density(cos_net, np.zeros((0, 1)), N=5, **COS)
    with pytest.raises(ValueError, match="k = 1 or 2"):
        field_density(cos_net, [0.1, 0.2, 0.3], N=5, **COS)
    with pytest.raises(ValueError, match="k = 1 or 2"):
        edgeworth_density(cos_net, [0.1, 0.2, 0.3], N=5, **COS)
    with pytest.raises(ValueError, match="shape"):
        field_density(cos_net, np.zeros((2, 2)), N=5, **COS)
    with pytest.raises(ValueError, match="coincide"):
        field_density(cos_net, [0.3, 0.3], N=5, **COS)
    with pytest.raises(TypeError, match="sigma_a"):
        field_density(cos_net, [0.3], N=5, sigmaa=1.0, sigma_b=1.0)
    with pytest.raises(TypeError, match="sigma_a"):
        edgeworth_density(cos_net, [0.3], N=5, sigmaa=1.0, sigma_b=1.0)
    with pytest.raises(ValueError, match="missing"):
        field_density(cos_net, [0.3], N=5, sigma_a=1.0)
    with pytest.raises(ValueError, match="N"):
        field_density(cos_net, [0.3], N=0, **COS)
    with pytest.raises(ValueError, match="rtol"):
        field_density(cos_net, [0.3], N=5, rtol=2.0, **COS)
    with pytest.raises(ValueError, match="order"):
        edgeworth_density(cos_net, [0.3], order=-1, N=5, **COS)
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    even = ns.Network(sp.cos(ns.Normal("b", 0, 1) * x**2), readout=ns.Normal("a", 0, 1 / N), width=N, input=x)
    with pytest.raises(ValueError, match="not positive definite"):  # phi(0.5) = phi(-0.5)
        edgeworth_density(even, [0.5, -0.5], N=5)
    a = ns.Normal("a", 0, 1 / N)
    with pytest.raises(NNSymError, match="readout"):
        field_density(ns.Network(sp.cos(a * x), readout=a, width=N, input=x), [0.3], N=5)
    p = gaussian_density(cos_net, [[0.0], [0.8]], N=20, **COS)
    with pytest.raises(ValueError, match="k = 1"):
        p.cdf(0.0)
    with pytest.raises(ValueError, match="increasing"):
        p.bin_probabilities((np.array([0.0, -1.0]), np.array([0.0, 1.0])))
    q = gaussian_density(cos_net, [0.3], N=5, **COS)
    with pytest.raises(ValueError, match="share"):
        compare_with_monte_carlo([p, q], cos_net)
    with pytest.raises(ValueError, match="samples"):
        compare_with_monte_carlo(q, cos_net, samples=2.5)
    with pytest.raises(ValueError, match="seed"):
        compare_with_monte_carlo(q, cos_net, seed=-1)
    with pytest.raises(TypeError, match="FieldDensity"):
        compare_with_monte_carlo([1.0], cos_net)
    assert "stated error" in repr(p) and "gaussian" in repr(p)

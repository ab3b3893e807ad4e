r"""Deformation by a local potential (nnsym.analysis.deformation; Leung notes eq. 3.5, issue 10 item 6).

:math:`\langle O\rangle_\lambda = E[O e^{-\lambda V}]/E[e^{-\lambda V}]`, :math:`V = \sum_y w_y\phi(y)^4`,
:math:`O = \phi(x_1)\phi(x_2)`. Checked:

* the exact first-order pieces (nnsym's correlators at coincident points) against an independent
  quadrature of the single-neuron moments combined over set partitions (``tests/independent.py``),
  and against the Monte Carlo covariance :math:`-\mathrm{Cov}(O, V)` of real sampled networks;
* the slope against a finite difference of the reweighted Monte Carlo (common random numbers);
* reweighting against the exact deformed expectation of zero-dimensional :math:`\phi^4` theory
  (:math:`\phi(x) = x\sum_i a_i`, a 1-D integral by ``scipy.integrate.quad``) at every coupling,
  and its stated error against the spread over seeds;
* agreement with first order at small :math:`\lambda`, departure at larger :math:`\lambda`;
* refusal of a collapsed effective sample size and of bad input.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

import nnsym as ns
from nnsym.analysis.deformation import (
    DeformedEstimate,
    FirstOrderDeformation,
    deformed_monte_carlo,
    effective_sample_size,
    first_order_deformation,
)

import independent as ind

O_POINTS = np.array([[0.0], [0.5]])
LATTICE = np.array([[-0.5], [0.25], [1.0]])
WEIGHTS = np.array([0.5, 1.0, 0.5])

COS = dict(sigma_a=1.0, sigma_b=1.0, N=3)
GAUSS = dict(sigma_a=1.0, sigma_b=0.5, sigma_c=0.3, N=2)


def _net(kind):
    return (ns.zoo.cos_net(1), COS) if kind == "cos" else (ns.zoo.gauss_net(1), GAUSS)


# ----------------------------------------------------------------------------- independent exact pieces
def _full_moment_by_quadrature(kind, xs, values):
    r""":math:`G^{(n)}(x_1..x_n)` of the width-N cos- or Gauss-net in d = 1 from single-neuron subset
    moments :math:`E[a^{|B|}]\,H(x_B)` (quadrature, ``independent``) summed over set partitions."""
    n, N = len(xs), values["N"]
    readout_var = values["sigma_a"] ** 2 / N if kind == "cos" else values["sigma_a"] ** 2 / (2 * N)
    m = np.zeros(1 << n)
    m[0] = 1.0
    for mask in range(1, 1 << n):
        sub = [xs[k] for k in range(n) if mask >> k & 1]
        Ea = stats.norm(scale=np.sqrt(readout_var)).moment(len(sub))
        if kind == "cos":
            H, _ = ind.cosnet_H_quad_d1(sub, values["sigma_b"])
        else:
            H = ind.gaussnet_H_quad_d1(sub, values["sigma_b"], values["sigma_c"])
        m[mask] = Ea * H
    return float(ind.network_correlator_from_neuron_moments(m, n, N)[0])


@pytest.fixture(scope="module")
def first_orders():
    return {kind: first_order_deformation(_net(kind)[0], O_POINTS, LATTICE, WEIGHTS, **_net(kind)[1])
            for kind in ("cos", "gauss")}


@pytest.mark.parametrize("kind", ["cos", "gauss"])
def test_exact_pieces_against_quadrature(kind, first_orders):
    f = first_orders[kind]
    values = _net(kind)[1]
    x1, x2 = O_POINTS[:, 0]
    O = _full_moment_by_quadrature(kind, [x1, x2], values)
    V = sum(wy * _full_moment_by_quadrature(kind, [y] * 4, values) for wy, y in zip(WEIGHTS, LATTICE[:, 0]))
    OV = sum(wy * _full_moment_by_quadrature(kind, [x1, x2] + [y] * 4, values) for wy, y in zip(WEIGHTS, LATTICE[:, 0]))
    assert f.is_exact and f.slope_error == 0.0
    np.testing.assert_allclose([f.O_mean, f.V_mean, f.OV_mean], [O, V, OV], rtol=1e-9)
    np.testing.assert_allclose(f.slope, -(OV - O * V), rtol=1e-8)
    assert f.slope < 0  # phi^4 suppresses large fields: <phi phi> goes down


@pytest.mark.parametrize("kind", ["cos", "gauss"])
def test_exact_slope_against_monte_carlo_covariance(kind, first_orders):
    net, values = _net(kind)
    f = first_orders[kind]
    est = deformed_monte_carlo(net, O_POINTS, LATTICE, WEIGHTS, [0.0], samples=400_000, seed=3, **values)
    assert abs(est.slope - f.slope) < 5 * est.slope_stderr, (est.slope, est.slope_stderr, f.slope)
    assert abs(est.z(f.O_mean)[0]) < 5
    assert est.slope_stderr < 0.1 * abs(f.slope)  # the check has teeth


@pytest.mark.parametrize("kind", ["cos", "gauss"])
def test_slope_is_the_finite_difference_of_the_reweighting(kind, first_orders):
    net, values = _net(kind)
    f = first_orders[kind]
    h = 1e-7
    est = deformed_monte_carlo(net, O_POINTS, LATTICE, WEIGHTS, [0.0, h], samples=200_000, seed=4, **values)
    fd = (est.mean[1] - est.mean[0]) / h  # common random numbers: the noise of <O> cancels
    assert fd == pytest.approx(est.slope, rel=1e-3)  # d/dlam of the reweighted estimator at 0 = -sample Cov(O, V)
    assert abs(fd - f.slope) < 5 * est.slope_stderr
    assert abs(est.stderr[1] - est.stderr[0]) < 1e-3 * est.stderr[0]  # an error bar of a *value*, not of the FD


@pytest.mark.parametrize("kind", ["cos", "gauss"])
def test_agrees_with_first_order_at_small_lambda_and_departs_at_larger(kind, first_orders):
    net, values = _net(kind)
    f = first_orders[kind]
    small, large = [0.0, 5e-4, 1e-3], [0.05, 0.1]
    est = deformed_monte_carlo(net, O_POINTS, LATTICE, WEIGHTS, small + large, samples=200_000, seed=5, **values)
    z = est.z(f.at(est.lam))
    assert np.all(np.abs(z[:3]) < 5), z
    assert np.all(z[3:] > 20), z  # the true curve bends up above the first-order line (convex in lambda)
    assert np.all(np.diff(est.mean) < 0)  # and still decreases
    assert np.all(est.ess > 0.9 * est.samples)  # not a failure of the reweighting: the ESS is high
    assert "first order" in est.table(f) and len(est.table(f).splitlines()) == 6


# ----------------------------------------------------------------------------- zero-dimensional phi^4 theory
def _zero_dim_net():
    r""":math:`\phi(x) = x\sum_{i\le N} a_i`, :math:`a_i\sim\mathcal N(0,\sigma_a^2/N)`: one Gaussian number
    :math:`A\sim\mathcal N(0,\sigma_a^2)` times x."""
    N = sp.Symbol("N", positive=True, integer=True)
    sigma_a = sp.Symbol("sigma_a", positive=True)
    x = ns.Input("x", 1)
    return ns.Network(neuron=x, readout=ns.Normal("a", 0, sigma_a**2 / N), width=N, input=x)


def _zero_dim_exact(lam, x1x2, c, sigma_a):
    r""":math:`x_1x_2\,\int A^2 e^{-A^2/2\sigma_a^2 - \lambda c A^4}dA\,/\int e^{-A^2/2\sigma_a^2 - \lambda c A^4}dA`
    (:math:`\phi(x) = xA`, :math:`V = cA^4`)."""
    weight = lambda A, k: A**k * np.exp(-A**2 / (2 * sigma_a**2) - lam * c * A**4)
    num = integrate.quad(weight, -np.inf, np.inf, args=(2,), epsabs=0, epsrel=1e-12)[0]
    den = integrate.quad(weight, -np.inf, np.inf, args=(0,), epsabs=0, epsrel=1e-12)[0]
    return x1x2 * num / den


ZERO_DIM = dict(sigma_a=0.8, N=3)
X_ZD, Y_ZD, W_ZD = np.array([[1.0], [1.5]]), np.array([[0.5], [1.0]]), np.array([1.0, 2.0])
C_ZD = float(np.dot(W_ZD, Y_ZD[:, 0] ** 4))  # V = c A^4


def test_zero_dimensional_phi4_first_order_by_hand():
    f = first_order_deformation(_zero_dim_net(), X_ZD, Y_ZD, W_ZD, **ZERO_DIM)
    s2, x1x2 = ZERO_DIM["sigma_a"] ** 2, 1.5
    # <O> = x1 x2 s^2, <V> = 3 s^4 c, <OV> = 15 s^6 x1 x2 c: slope = -12 s^6 x1 x2 c
    assert f.O_mean == pytest.approx(x1x2 * s2, rel=1e-12)
    assert f.V_mean == pytest.approx(3 * s2**2 * C_ZD, rel=1e-12)
    assert f.slope == pytest.approx(-12 * s2**3 * x1x2 * C_ZD, rel=1e-12)
    # and the slope is the derivative of the exact deformed expectation at 0
    h = 1e-6
    assert (_zero_dim_exact(h, x1x2, C_ZD, 0.8) - _zero_dim_exact(0.0, x1x2, C_ZD, 0.8)) / h == \
        pytest.approx(f.slope, rel=1e-3)


def test_reweighting_is_exact_beyond_first_order_in_zero_dimensions():
    net = _zero_dim_net()
    f = first_order_deformation(net, X_ZD, Y_ZD, W_ZD, **ZERO_DIM)
    lams = np.array([0.0, 1e-3, 0.03, 0.3, 3.0, 30.0])
    est = deformed_monte_carlo(net, X_ZD, Y_ZD, W_ZD, lams, samples=200_000, seed=6, **ZERO_DIM)
    exact = np.array([_zero_dim_exact(g, 1.5, C_ZD, 0.8) for g in lams])
    z = est.z(exact)
    assert np.all(np.abs(z) < 5), z  # the reweighting is right at every coupling
    z_lin = est.z(f.at(lams))
    assert np.all(np.abs(z_lin[:2]) < 5) and np.all(z_lin[2:] > 20), z_lin  # first order only at small lambda


def test_stated_error_is_the_spread_over_seeds():
    net = _zero_dim_net()
    lam = 0.3
    exact = _zero_dim_exact(lam, 1.5, C_ZD, 0.8)
    z = np.array([deformed_monte_carlo(net, X_ZD, Y_ZD, W_ZD, lam, samples=5000, seed=s, **ZERO_DIM).z(exact)
                  for s in range(40)])
    # mean z^2 over 40 seeds: chi^2_40 / 40 lies in [0.45, 1.75] with probability > 0.999
    assert 0.45 < np.mean(z**2) < 1.75, np.mean(z**2)


# ----------------------------------------------------------------------------- reproducibility, ESS
def test_same_seed_same_numbers_and_common_random_numbers():
    net, values = _net("cos")
    both = deformed_monte_carlo(net, O_POINTS, LATTICE, WEIGHTS, [0.01, 0.2], samples=5000, seed=7, **values)
    again = deformed_monte_carlo(net, O_POINTS, LATTICE, WEIGHTS, [0.01, 0.2], samples=5000, seed=7, **values)
    one = deformed_monte_carlo(net, O_POINTS, LATTICE, WEIGHTS, 0.2, samples=5000, seed=7, **values)
    other = deformed_monte_carlo(net, O_POINTS, LATTICE, WEIGHTS, 0.2, samples=5000, seed=8, **values)
    assert isinstance(both, DeformedEstimate) and both.mean.shape == (2,) and one.mean.shape == ()
    np.testing.assert_array_equal(both.mean, again.mean)
    np.testing.assert_array_equal(both.stderr, again.stderr)
    assert both.mean[1] == one.mean and both.ess[1] == one.ess  # each coupling on the same draws
    assert other.mean != one.mean


def test_effective_sample_size():
    assert effective_sample_size(np.zeros(50)) == pytest.approx(50)
    assert effective_sample_size([0.0, -800.0, -800.0]) == pytest.approx(1.0)  # log space: no underflow to 0/0
    assert effective_sample_size(np.log([1.0, 1.0, 2.0])) == pytest.approx(16 / 6)
    assert effective_sample_size([1e4, 1e4]) == pytest.approx(2.0)  # and no overflow


def test_collapsed_effective_sample_size_is_refused():
    net, values = _net("cos")
    with pytest.raises(ns.NNSymError, match="effective sample size collapsed at lambda = 1e\\+06") as info:
        deformed_monte_carlo(net, O_POINTS, LATTICE, WEIGHTS, [0.1, 1e6], samples=20_000, seed=0, **values)
    assert isinstance(info.value, ValueError) and "largest accepted here: 0.1" in str(info.value)
    with pytest.raises(ValueError, match="min_ess = 5000"):
        deformed_monte_carlo(net, O_POINTS, LATTICE, WEIGHTS, 1e3, samples=20_000, min_ess=5000, **values)
    est = deformed_monte_carlo(net, O_POINTS, LATTICE, WEIGHTS, 1e6, samples=20_000, min_ess=1, **values)
    assert 1 <= est.ess < 200  # what was refused: a few dozen draws carry the estimate


# ----------------------------------------------------------------------------- bad input
NET, VALS = ns.zoo.cos_net(1), COS
X, Y, W = O_POINTS, LATTICE, WEIGHTS


def _mc(*args, **kw):
    return deformed_monte_carlo(NET, *args, **{**VALS, **kw})


@pytest.mark.parametrize("call, error, message", [
    (lambda: _mc([0.0, 0.5], Y, W, 0.1), ValueError, "O_points must have shape"),
    (lambda: _mc(np.zeros((2, 2)), Y, W, 0.1), ValueError, "disagree on the dimension"),
    (lambda: _mc(np.zeros((2, 2)), np.zeros((3, 2)), W, 0.1), ValueError, "in d = 1"),
    (lambda: _mc(X, Y, W[:2], 0.1), ValueError, "one per lattice point"),
    (lambda: _mc(X, Y, [1.0, -1.0, 1.0], 0.1), ValueError, "w must be >= 0"),
    (lambda: _mc(X, Y, W, -0.1), ValueError, "lambda must be >= 0"),
    (lambda: _mc(X, Y, W, [0.1, np.nan]), ValueError, "inf or nan"),
    (lambda: _mc(X, Y, W, []), ValueError, "lam is empty"),
    (lambda: _mc(X, Y, W, "big"), TypeError, "lam must be a real"),
    (lambda: _mc(X, [[np.inf]], [1.0], 0.1), ValueError, "Y contains inf"),
    (lambda: deformed_monte_carlo(NET, X, Y, W, 0.1, sigmaa=1.0, sigma_b=1, N=3), TypeError, "did you mean 'sigma_a'"),
    (lambda: deformed_monte_carlo(NET, X, Y, W, 0.1, sigma_b=1.0, N=3), ValueError, "missing value"),
    (lambda: _mc(X, Y, W, 0.1, samples=1000.5), TypeError, "samples must be an integer"),
    (lambda: _mc(X, Y, W, 0.1, seed=-1), ValueError, "seed must be >= 0"),
    (lambda: _mc(X, Y, W, 0.1, samples=1000, min_ess=2000), ValueError, "min_ess must be a number in"),
    (lambda: deformed_monte_carlo(NET.correlator(2), X, Y, W, 0.1, **VALS), TypeError, "needs an nnsym.Network"),
    (lambda: first_order_deformation(NET, X, Y, W, sigma_a=-1, sigma_b=1, N=3), ValueError, "sigma_a must be positive"),
    (lambda: first_order_deformation(NET, X, Y, W, 0.1, **VALS), TypeError, "positional"),
    (lambda: FirstOrderDeformation(1.0, 3.0, 15.0, -12.0).at(-0.5), ValueError, "lambda must be >= 0"),
])
def test_bad_input_is_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()

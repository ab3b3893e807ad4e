"""The split G_c^(4) = I_N + I_IB (nnsym.analysis.independence): two routes for every part.

* symbolic: I_N + I_IB (two-neuron moments) equals the network's own G_c^(4) (Moebius inversion of
  the full moments), and each part equals a hand derivation for the shared-phase cos-net;
* Monte Carlo: each part against its own estimator (whole networks, single neurons, pairs).
"""
import numpy as np
import pytest
import sympy as sp

import nnsym as ns
from nnsym.analysis.independence import independence_breaking, independence_monte_carlo, independent_twin

N = sp.Symbol("N", positive=True, integer=True)
EPS = sp.Symbol("epsilon", positive=True)
x = ns.Input("x", 1)
a = ns.Normal("a", 0, 1 / N)
b = ns.Normal("b", 0, 1)
c = ns.Uniform("c", -sp.pi, sp.pi)
b_shared = ns.Normal("b_s", 0, 1)

X = np.array([[[0.0], [0.3], [0.7], [1.2]], [[0.1], [0.1], [-0.5], [0.9]], [[0.2], [-0.4], [0.2], [0.5]]])


def shared_phase():
    return ns.Network(sp.cos(b * x + c), a, N, x, shared=(c,))


def eps_family():
    """b_i = sqrt(1 - eps) b_i' + sqrt(eps) b_shared: marginally N(0, 1), correlation eps between neurons."""
    return ns.Network(sp.cos((sp.sqrt(1 - EPS) * b + sp.sqrt(EPS) * b_shared) * x + c), a, N, x, shared=(b_shared,))


def common_scale():
    """A common random amplitude of all neurons, h_i = s cos(b_i x + c_i) with s ~ N(1, eps) shared:
    I_IB is proportional to Var(s^2), 0 at eps = 0."""
    s = ns.Normal("s", 1, EPS)
    return ns.Network(s * sp.cos(b * x + c), a, N, x, shared=(s,))


def g(v):
    return sp.exp(-v**2 / 2)


def test_shared_phase_parts_match_the_hand_derivation():
    r"""Shared phase c, b ~ N(0, 1), a ~ N(0, 1/N). Averaging prod_k cos(theta_k + c) over c keeps the sign
    patterns with sum 0: H_iijj = (1/8)[g(x1+x2)g(x3+x4) + 2 g(x1-x2)g(x3-x4)], H_ii^12 = g(x1-x2)/2, so
    H_iijj - H_ii H_jj = g(x1+x2) g(x3+x4)/8 and I_IB = (1 - 1/N)/8 sum_pairings g(x_a+x_b) g(x_c+x_d).
    The single-neuron law is the cos-net's: I_N = 1/(8N)[3 sum g(x1+-x2+-x3+-x4) - 2 sum g g]."""
    split = independence_breaking(shared_phase())
    x1, x2, x3, x4 = split.total.points
    pairings = [((x1, x2), (x3, x4)), ((x1, x3), (x2, x4)), ((x1, x4), (x2, x3))]
    I_IB = (1 - 1 / N) / 8 * sum(g(p + q) * g(r + s) for (p, q), (r, s) in pairings)
    I_N = (3 * (g(x1 + x2 - x3 - x4) + g(x1 - x2 + x3 - x4) + g(x1 - x2 - x3 + x4))
           - 2 * sum(g(p - q) * g(r - s) for (p, q), (r, s) in pairings)) / (8 * N)
    assert sp.simplify(split.breaking.expr - I_IB) == 0
    assert sp.simplify(split.finite_width.expr - I_N) == 0
    assert split.method == "pairs"
    assert split.residual() == 0
    lim = split.large_n_limit()
    assert lim["I_N"] == 0
    assert sp.simplify(lim["G_c"] - lim["I_IB"]) == 0 and lim["I_IB"] != 0


@pytest.mark.parametrize("make", [eps_family, common_scale], ids=["eps-family", "common-scale"])
def test_the_parts_add_up_and_vanish_in_the_independent_limit(make):
    split = independence_breaking(make())
    assert split.residual() == 0
    assert sp.simplify(split.breaking.expr.subs(EPS, 0)) == 0
    assert sp.simplify(split.total.expr.subs(EPS, 0) - split.finite_width.expr.subs(EPS, 0)) == 0
    lim = split.large_n_limit()
    assert lim["I_N"] == 0
    assert sp.simplify(lim["G_c"] - lim["I_IB"]) == 0
    vals = split.evaluate(X, N=3, epsilon=0.5)
    assert np.allclose(vals["I_N"] + vals["I_IB"], vals["G_c"], rtol=1e-12, atol=1e-15)
    assert np.all(np.abs(vals["I_IB"]) > 1e-3)


def test_eps_series_to_second_order_matches_the_exact_part():
    split = independence_breaking(eps_family())
    ser = split.series(EPS, 2)
    assert sp.simplify(ser.breaking.expr.subs(EPS, 0)) == 0
    # the series agrees with the exact part to O(eps^3): the error shrinks ~8x when eps halves
    errs = []
    for e in (0.1, 0.05):
        exact = split.breaking.evaluate(X, N=4, epsilon=e)
        approx = ser.breaking.evaluate(X, N=4, epsilon=e)
        errs.append(np.max(np.abs(exact - approx)))
    assert errs[1] < errs[0] / 5
    # first order in eps vanishes here (only eps^2 terms): the order-1 series of I_IB is 0
    assert sp.simplify(split.series(EPS, 1).breaking.expr) == 0


def test_iid_network_has_no_independence_breaking():
    net = ns.zoo.cos_net(1)
    split = independence_breaking(net)
    assert sp.simplify(split.breaking.expr) == 0
    assert sp.simplify(split.finite_width.expr - split.total.expr) == 0
    assert independent_twin(net).iid


def test_each_part_agrees_with_its_own_monte_carlo_estimator():
    net = eps_family()
    split = independence_breaking(net)
    vals = dict(N=2, epsilon=0.8)
    exact = split.evaluate(X, **vals)
    mc = independence_monte_carlo(net, X, samples=400_000, seed=11, **vals)
    for key in ("G_c", "I_N", "I_IB"):
        z = mc[key].z(exact[key])
        assert np.all(np.abs(z) < 5), (key, z)
        big = np.abs(exact[key]) > 1e-2
        assert np.all(mc[key].stderr[big] < 0.2 * np.abs(exact[key][big])), key
    again = independence_monte_carlo(net, X, samples=400_000, seed=11, **vals)
    assert np.array_equal(again["I_IB"].mean, mc["I_IB"].mean)  # same seed, same numbers


def test_pair_estimator_sees_the_independence_breaking():
    """The I_IB estimator is not trivially consistent with anything: for the shared phase at N = 5 the part is
    large and the estimator finds it (and would fail for I_IB = 0)."""
    net = shared_phase()
    split = independence_breaking(net)
    exact = split.breaking.evaluate(X, N=5)
    mc = independence_monte_carlo(net, X, samples=200_000, seed=3, N=5)["I_IB"]
    assert np.all(np.abs(mc.z(exact)) < 5)
    assert np.all(np.abs(mc.mean) > 5 * mc.stderr)


def test_other_n_use_the_difference():
    """n != 4: I_IB := G_c - I_N. For n = 2 and E[a] = 0 sharing changes nothing: I_IB = 0."""
    split = independence_breaking(shared_phase(), n=2)
    assert split.method == "difference"
    assert split.breaking.expr == 0 and split.residual() == 0


def test_latex_names_the_parts():
    tex = independence_breaking(shared_phase()).latex()
    assert r"I_{\mathrm{IB}}^{(4)}_c" in tex and r"I_{\mathrm{N}}^{(4)}_c" in tex


def test_split_refused_where_not_defined():
    with pytest.raises(ValueError, match="readout a is shared"):
        independence_breaking(ns.Network(sp.cos(b * x + c), a, N, x, shared=(a,)))
    with pytest.raises(ValueError, match="appears in the neuron"):
        independence_breaking(ns.Network(sp.cos(b * x + c) * a, a, N, x))
    m = ns.Normal("m", 1, 1)
    with pytest.raises(ValueError, match="E\\[a\\] = 0"):
        independence_breaking(ns.Network(sp.cos(b * x + c), m, N, x, shared=(c,)))
    with pytest.raises(ValueError, match="shape"):
        independence_monte_carlo(shared_phase(), np.zeros((2, 3, 1)), samples=1000, N=2)
    with pytest.raises(TypeError, match="sigma_b"):
        independence_monte_carlo(shared_phase(), X, samples=1000, N=2, sigma_b=1.0)

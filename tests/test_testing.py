"""nnsym.testing: the assertions a user puts in a paper's CI. A right formula passes, a deliberately
wrong one fails with the table of point sets; each way of being wrong (formula, symbol, keyword,
shape) gets its own message."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import nnsym as ns
from nnsym.testing import assert_correlator_equal, assert_matches_monte_carlo

VALUES = dict(sigma_a=1.0, sigma_b=0.8, N=10)
X = np.array([[[0.0], [0.4]], [[0.3], [-1.1]], [[1.0], [1.0]]])


def _cos_g2_by_hand(x1, x2):
    """The cos-net in d = 1: E[a^2] N E[cos(bx1 + c) cos(bx2 + c)] = sigma_a^2/2 E[cos(b(x1 - x2))]
    = sigma_a^2/2 exp(-sigma_b^2 (x1 - x2)^2/2), typed as a user would (plain Symbols)."""
    sa, sb = sp.symbols("sigma_a sigma_b")
    return sa**2 / 2 * sp.exp(-sb**2 * (x1 - x2) ** 2 / 2)


def test_a_right_formula_passes_and_a_wrong_one_fails_with_the_table():
    net = ns.zoo.cos_net(1)
    x1, x2 = net.correlator(2).points
    right = _cos_g2_by_hand(x1, x2)
    rep = assert_matches_monte_carlo(net, 2, X, expected=right, samples=100_000, seed=1, **VALUES)
    assert rep.passed and np.max(np.abs(rep.z)) < rep.threshold
    np.testing.assert_allclose(rep.exact, net.correlator(2).evaluate(X, **VALUES), rtol=1e-12)
    wrong = right * (1 + (x1 - x2) ** 2 / 10)  # off by up to 21% away from the diagonal
    with pytest.raises(AssertionError) as info:
        assert_matches_monte_carlo(net, 2, X, expected=wrong, samples=100_000, seed=1, **VALUES)
    msg = str(info.value)
    assert "expected formula does not match Monte Carlo at 2 of 3 point sets (#0, #1)" in msg
    assert "verdict: FAIL" in msg and "z" in msg.splitlines()[3]


def test_the_network_s_own_correlator_and_a_string_formula():
    net = ns.zoo.cos_net(1)
    G = net.correlator(4, connected=True)
    X4 = np.random.default_rng(3).normal(size=(3, 4, 1))
    rep = assert_matches_monte_carlo(net, 4, X4, connected=True, samples=200_000, seed=2, **VALUES)
    assert rep.passed and "exact vs Monte Carlo" in rep.title
    # the same closed form, round-tripped through a string (plain Symbols: matched by name)
    typed = sp.sympify(str(G.expr), locals={"N": sp.Symbol("N")})
    rep2 = assert_matches_monte_carlo(net, 4, X4, connected=True, expected=typed, samples=200_000, seed=2, **VALUES)
    np.testing.assert_allclose(rep2.exact, rep.exact, rtol=1e-12)
    # a string is read with the network's symbols (N the width, not sympy's N function)
    rep3 = assert_matches_monte_carlo(net, 4, X4, connected=True, expected=str(G.expr), samples=200_000, seed=2,
                                      **VALUES)
    np.testing.assert_allclose(rep3.exact, rep.exact, rtol=1e-12)
    again = assert_matches_monte_carlo(net, 4, X4, connected=True, samples=200_000, seed=2, **VALUES)
    assert np.array_equal(again.z, rep.z)  # same seed, same numbers


def test_bad_input_is_not_an_assertion_error():
    net = ns.zoo.cos_net(1)
    x1, x2 = net.correlator(2).points
    with pytest.raises(ValueError, match="is not one sympy can read"):
        assert_matches_monte_carlo(net, 2, X, expected="exp(-(x_1 - ", **VALUES)
    with pytest.raises(ValueError, match="uses m, which is neither a point"):
        assert_matches_monte_carlo(net, 2, X, expected=sp.exp(-sp.Symbol("m") * (x1 - x2) ** 2), **VALUES)
    with pytest.raises(TypeError, match="did you mean 'sigma_b'"):
        assert_matches_monte_carlo(net, 2, X, samples=1000, sigma_a=1.0, sigmab=0.8, N=10)
    with pytest.raises(ValueError, match="shape"):
        assert_matches_monte_carlo(net, 2, X[:, :1], samples=1000, **VALUES)


def test_correlator_equal_symbolic_numeric_and_different():
    net = ns.zoo.cos_net(1)
    G = net.correlator(2)
    x1, x2 = G.points
    assert assert_correlator_equal(G, _cos_g2_by_hand(x1, x2)) == "symbolic"
    # an identity sympy is not given time to prove: checked at random points instead
    lhs = sp.sin(x1) ** 2 + sp.cos(x1) ** 2 + sp.exp(x2) * sp.exp(-x2)
    assert assert_correlator_equal(lhs, sp.Integer(2), points=(x1, x2), dim=1, simplify_seconds=1e-6) == "numeric"
    with pytest.raises(AssertionError, match="the expressions differ"):
        assert_correlator_equal(G, _cos_g2_by_hand(x1, x2) * (1 + 1e-6 * x1**2))
    with pytest.raises(TypeError, match="points= and dim="):
        assert_correlator_equal(x1**2, x1**2 + 0 * x2)

"""The analysis toolkit (nnsym.analysis.toolkit): each function's contract, and one number
checked against an independent computation (scipy quadrature, a hand-derived formula)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

import nnsym as ns
from nnsym.analysis.toolkit import (
    SYMBOLIC_FAILURES,
    NumericValue,
    Verdict,
    as_number,
    default_values,
    evaluate_with_error,
    large_n_limit,
    numeric_dimension,
    numeric_values,
)
from nnsym.errors import NoClosedForm, NumericWarning


# ----------------------------------------------------------------------------- evaluate_with_error
def test_closed_form_has_no_error_and_the_right_value():
    G2 = ns.zoo.cos_net(1).correlator(2)
    X = np.array([[[0.3], [-0.9]], [[1.0], [1.0]]])
    v = evaluate_with_error(G2, X, dict(sigma_a=1.3, sigma_b=0.8))
    assert isinstance(v, NumericValue) and v.error == 0.0 and v.is_numeric is False
    r = X[:, 0, 0] - X[:, 1, 0]  # by hand, b ~ N(0, sigma_b^2 / d), d = 1: G^(2) = sigma_a^2/2 E[cos(b r)]
    np.testing.assert_allclose(v.value, 1.3**2 / 2 * np.exp(-0.8**2 * r**2 / 2), rtol=1e-12)
    value, error, is_numeric = v  # unpacks as a triple
    assert value is v.value


def test_quadrature_error_is_returned_as_data_and_bounds_the_real_error():
    b = ns.Normal("b", 0, 1)
    x = ns.ScalarPoint("x")
    E = ns.Expectation(sp.Abs(sp.tanh(b * x)), b)  # a kink at b = 0: slow convergence, a real error
    xs = np.array([0.3, 1.0, 2.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericWarning)  # the warnings are consumed, none escapes
        v = evaluate_with_error(E, xs[:, None, None], {}, points=(x,), dim=1)
    assert v.is_numeric and 0 < v.error < 0.1
    # independently: E|tanh(b x)| = 2 int_0^oo tanh(b x) phi(b) db by adaptive quadrature
    ref = np.array([2 * integrate.quad(lambda t: math.tanh(t * xv) * stats.norm.pdf(t), 0, np.inf,
                                       epsabs=1e-13, epsrel=1e-13)[0] for xv in xs])
    real = float(np.max(np.abs(v.value - ref)))
    assert real <= v.error, (real, v.error)
    assert real > 1e-6  # a case where the error is real, not rounding


def test_errors_of_several_expectations_add_up():
    b, c = ns.Normal("b", 0, 1), ns.Uniform("c", -1, 1)
    x = ns.ScalarPoint("x")
    E1, E2 = ns.Expectation(sp.Abs(sp.tanh(b * x)), b), ns.Expectation(sp.Abs(sp.sin(c * x)), c)
    X = np.array([[[0.7]]])
    e1 = evaluate_with_error(E1, X, {}, points=(x,), dim=1).error
    e2 = evaluate_with_error(E2, X, {}, points=(x,), dim=1).error
    both = evaluate_with_error(E1 + E2, X, {}, points=(x,), dim=1)
    assert both.error == pytest.approx(e1 + e2, rel=1e-12)


def test_an_expression_needs_its_points_and_dimension():
    with pytest.raises(TypeError, match="points= and dim="):
        evaluate_with_error(sp.Symbol("x"), np.zeros((1, 1, 1)))


# ----------------------------------------------------------------------------- values and dimension
def test_default_values_follow_the_assumptions_and_are_reproducible():
    N = sp.Symbol("N", positive=True, integer=True)
    s = sp.Symbol("s", positive=True)
    r = sp.Symbol("r", real=True)
    vals = default_values([N, s, r, ns.VectorSymbol("v", 2), sp.Dummy("u")])
    assert set(vals) == {"N", "s", "r"} and vals["N"] == 7
    assert 0.6 <= vals["s"] <= 1.4 and -1.0 <= vals["r"] <= 1.0
    assert default_values([N, s, r]) == default_values([r, s, N])  # order-free, seeded
    assert default_values([s], seed=1) != default_values([s], seed=0)


def test_numeric_values_complete_the_given_ones():
    d = sp.Symbol("d", positive=True, integer=True)
    G2 = ns.zoo.cos_net(d).correlator(2)
    vals = numeric_values(G2.expr, {"sigma_b": 0.25}, G2.dim)
    assert vals["sigma_b"] == 0.25 and vals["d"] == 3
    assert set(vals) == {s.name for s in G2.free_parameters} | {"d"}  # no points, no parameters
    assert numeric_values(G2.expr, {"d": 5}, G2.dim)["d"] == 5


def test_numeric_dimension():
    d = sp.Symbol("d", positive=True, integer=True)
    assert numeric_dimension(4) == 4 and numeric_dimension(sp.Integer(2), {"d": 9}) == 2
    assert numeric_dimension(d) == 3 and numeric_dimension(d, {"d": 6}) == 6


# ----------------------------------------------------------------------------- N -> oo
def test_large_n_limit_of_the_cos_net():
    N = sp.Symbol("N", positive=True, integer=True)
    net = ns.zoo.cos_net(1)
    G2, G4c = net.correlator(2), net.correlator(4, connected=True)
    assert large_n_limit(G4c.expr, N) == 0  # G_c^(4) ~ 1/N: Gaussian limit
    assert sp.simplify(large_n_limit(G2.expr, N) - G2.expr) == 0  # G^(2) does not depend on N
    G4 = net.correlator(4)  # independently: sympy's limit of the whole expression
    assert sp.simplify(large_n_limit(G4.expr, N) - sp.limit(G4.expr, N, sp.oo)) == 0


def test_large_n_limit_refuses():
    N = sp.Symbol("N", positive=True, integer=True)
    s = sp.Symbol("s", positive=True)
    assert large_n_limit(N * s, N) is None  # diverges
    assert large_n_limit(sp.sin(N) * s, N) is None  # no limit
    assert large_n_limit(s / N, 10) is None  # a fixed width
    assert large_n_limit(s + s**2 / N, N) == s


def test_as_number():
    m = sp.Symbol("m", positive=True)
    assert as_number(sp.sqrt(m) * 3, {"m": 4.0}) == 6.0
    assert as_number(sp.I * m, {"m": 1.0}) is None and as_number(m, {}) is None


# ----------------------------------------------------------------------------- shared pieces
def test_verdict_refuses_to_guess():
    assert bool(Verdict(False, "no")) is False
    with pytest.raises(ValueError, match="undecided"):
        bool(Verdict(None, "?", "undecided"))
    assert ns.Verdict is Verdict


def test_symbolic_failures_are_what_sympy_raises_when_it_gives_up():
    from sympy.polys.polyerrors import PolynomialError

    for exc in (TimeoutError("t"), NotImplementedError(), PolynomialError(), ValueError(), NoClosedForm()):
        assert isinstance(exc, SYMBOLIC_FAILURES)
    assert not isinstance(AttributeError(), SYMBOLIC_FAILURES)  # a bug propagates


def test_radial_spectrum_of_the_free_scalar():
    S = ns.power_spectrum(ns.zoo.free_scalar(3))
    vals = dict(sigma_a=1.2, m=0.7, Lambda=2.0)
    R = S.radial_spectrum(3, vals)
    assert R.breaks == [2.0] and R.support == 2.0
    k = np.array([0.0, 0.5, 1.9, 2.1, 5.0])  # by hand: 3 pi^2 sigma_a^2 / (Lambda^3 (m^2 + k^2)) for k < Lambda
    ref = np.where(k <= 2.0, 3 * np.pi**2 * 1.2**2 / (2.0**3 * (0.7**2 + k**2)), 0.0)
    np.testing.assert_allclose(R.profile(k), ref, rtol=1e-12)
    f, breaks, support = R  # unpacks as a triple
    assert breaks == R.breaks

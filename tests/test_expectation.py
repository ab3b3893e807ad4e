"""The expectation engine rule by rule, each against scipy quadrature or Monte
Carlo (never against a formula derived the same way)."""
import warnings

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import dblquad, quad

import nnsym as ns
from nnsym.core.vectors import ScalarPoint, VectorSymbol
from nnsym.engine.expectation import expectation

x, y = ScalarPoint("x"), ScalarPoint("y")
GAUSS = lambda m, v: (lambda u: np.exp(-(u - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v))


def _num(expr, **vals):
    return complex(expr.subs({s: vals[s.name] for s in expr.free_symbols}).evalf())


def test_cos_product_with_uniform_phase():
    b, c = ns.Normal("b", 0, sp.Rational(3, 2)), ns.Uniform("c", -sp.pi, sp.pi)
    E = expectation(sp.cos(b * x + c) * sp.cos(b * y + c))
    assert E == sp.exp(-sp.Rational(3, 4) * (x - y) ** 2) / 2
    f = lambda c_, b_: np.cos(b_ * 0.4 + c_) * np.cos(b_ * -0.3 + c_) * GAUSS(0, 1.5)(b_) / (2 * np.pi)
    want = dblquad(f, -8, 8, -np.pi, np.pi)[0]
    assert _num(E, x=0.4, y=-0.3).real == pytest.approx(want, rel=1e-8)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ns.Normal("b", 0.4, 0.8),
        lambda: ns.Laplace("b", 0.3, 0.9),
        lambda: ns.Uniform("b", -0.5, 1.5),
        lambda: ns.Cauchy("b", 0.2, 0.6),
    ],
)
def test_characteristic_function_rule_sin_and_cos(make):
    b = make()
    E = expectation(sp.sin(b * x) * sp.cos(b * y) + sp.cos(2 * b * x))
    assert not E.has(sp.I)
    import scipy.stats as st

    dist = {
        "Normal": st.norm(0.4, np.sqrt(0.8)),
        "Laplace": st.laplace(0.3, 0.9),
        "Uniform": st.uniform(-0.5, 2.0),
        "Cauchy": st.cauchy(0.2, 0.6),
    }[b.law.name]
    xv, yv = 0.7, -1.1
    # sin(ux)cos(uy) = [sin(u(x+y)) + sin(u(x-y))]/2: three Fourier integrals (QAWF)
    from test_distributions import fourier_quad

    sup = dist.support()
    want = (fourier_quad(dist.pdf, xv + yv, sup).imag + fourier_quad(dist.pdf, xv - yv, sup).imag) / 2
    want += fourier_quad(dist.pdf, 2 * xv, sup).real
    assert _num(E, x=xv, y=yv).real == pytest.approx(want, rel=1e-7, abs=1e-9)


def test_polynomial_times_exponential_is_derivative_of_mgf():
    b = ns.Normal("b", 0.2, 0.5)
    E = expectation(b**3 * sp.exp(b * x) + b**2 * sp.cos(b * y))
    xv, yv = 0.6, 1.3
    f = lambda u: (u**3 * np.exp(u * xv) + u**2 * np.cos(u * yv)) * GAUSS(0.2, 0.5)(u)
    assert _num(E, x=xv, y=yv).real == pytest.approx(quad(f, -30, 30, limit=200)[0], rel=1e-9)


def test_vector_gaussian_polynomial_and_nonzero_mean_against_monte_carlo():
    d = 3
    b = ns.Normal("b", 0.3, 0.4, shape=d)
    x1, x2 = VectorSymbol("x_1", d), VectorSymbol("x_2", d)
    E = expectation(b.dot(x1) ** 2 * sp.cos(b.dot(x2)) + sp.sin(b.dot(x1 - x2)))
    rng = np.random.default_rng(0)
    X1, X2 = np.array([0.5, -0.2, 0.1]), np.array([-0.3, 0.4, 0.7])
    B = rng.normal(0.3, np.sqrt(0.4), size=(2_000_000, d))
    samples = (B @ X1) ** 2 * np.cos(B @ X2) + np.sin(B @ (X1 - X2))
    mc, se = samples.mean(), samples.std() / np.sqrt(len(samples))
    corr = ns.Correlator(E, (x1, x2), d)
    exact = corr.evaluate(np.stack([X1, X2])[None])[0]
    assert abs(exact - mc) < 5 * se


def test_iid_uniform_vector_components_in_integer_dimension():
    b = ns.Uniform("b", -1, 1, shape=2)
    z1, z2 = VectorSymbol("z_1", 2), VectorSymbol("z_2", 2)
    E = expectation(sp.cos(b.dot(z1 - z2)))
    corr = ns.Correlator(E, (z1, z2), 2)
    Z = np.array([[[0.3, 1.2], [-0.4, 0.1]]])
    v = Z[0, 0] - Z[0, 1]
    want = np.prod([quad(lambda u: np.cos(u * vj) / 2, -1, 1)[0] for vj in v])  # product of sinc's
    assert corr.evaluate(Z)[0] == pytest.approx(want, rel=1e-12)


def test_non_gaussian_vector_in_general_dimension_is_numeric_and_marked():
    d = sp.Symbol("d", positive=True, integer=True)
    b = ns.Laplace("b", 0, 1, shape=d)
    z1, z2 = VectorSymbol("z_1", d), VectorSymbol("z_2", d)
    E = expectation(sp.cos(b.dot(z1 - z2)))
    assert not ns.is_exact(E)
    corr = ns.Correlator(E, (z1, z2), d)
    Z = np.array([[[0.3, 1.2], [-0.4, 0.1]]])
    with pytest.warns(ns.NumericWarning):
        got = corr.evaluate(Z)[0]
    v = Z[0, 0] - Z[0, 1]
    assert got == pytest.approx(np.prod(1 / (1 + v**2)), rel=1e-6)  # Laplace cf, by hand


def test_unknown_function_falls_back_to_marked_quadrature():
    import scipy.stats as st

    b = ns.Laplace("b", 0, 1)
    c = ns.Uniform("c", -sp.pi, sp.pi)
    E = expectation(sp.tanh(b * x) * sp.tanh(b * y) * sp.cos(c) ** 2)
    assert E.has(ns.Expectation) and not ns.is_exact(E)
    corr = ns.Correlator(E, (x, y), 1)
    with pytest.warns(ns.NumericWarning, match="quadrature"):
        got = corr.evaluate(np.array([[[0.5], [1.5]]]))[0]
    f = lambda u: np.tanh(0.5 * u) * np.tanh(1.5 * u) * st.laplace.pdf(u)
    want = 2 * quad(f, 0, np.inf)[0] / 2  # even integrand; E[cos^2 c] = 1/2
    assert got == pytest.approx(want, rel=1e-7)
    assert r"\mathbb{E}_{b}" in sp.latex(E)


def test_tanh_of_gaussian_is_a_marked_gaussian_integral():
    b = ns.Normal("b", 0, 1)
    E = expectation(sp.tanh(b * x) * sp.tanh(b * y))
    assert not ns.is_exact(E)
    corr = ns.Correlator(E, (x, y), 1)
    with pytest.warns(ns.NumericWarning):
        got = corr.evaluate(np.array([[[0.5], [1.5]]]))[0]
    want = quad(lambda u: np.tanh(0.5 * u) * np.tanh(1.5 * u) * GAUSS(0, 1)(u), -np.inf, np.inf)[0]
    assert got == pytest.approx(want, rel=1e-9)


def test_divergent_expectation_raises():
    a = ns.Cauchy("a", 0, 1)
    with pytest.raises(ns.DivergentExpectation):
        expectation(a**2)
    with pytest.raises(ns.DivergentExpectation):
        expectation(sp.exp(a * x))


def test_independent_parameters_factorise():
    a, b = ns.Normal("a", 0, 2), ns.Laplace("b", 0, 1)
    assert expectation(a**2 * b**2) == 2 * 2
    assert expectation(a * b) == 0


def test_sympy_stats_trap_sum_of_independent_copies():
    """E[(sum of N i.i.d. a_i)^2] is N E[a^2]; sympy.stats would treat the copies as one."""
    net = ns.Network(ns.Input("x", 1) * 0 + sp.cos(ns.Input("x", 1)), readout=ns.Normal("a", 0, 1), width=5,
                     input=ns.Input("x", 1))
    G2 = net.correlator(2)
    X = np.array([[[0.0], [0.0]]])
    assert G2.evaluate(X)[0] == pytest.approx(5.0)  # N * E[a^2] * cos(0)^2


def test_user_density_transform_used_when_sympy_can():
    q = sp.Symbol("q", real=True)
    b = ns.Density("q", sp.exp(-q**2 / 2) * (1 + q**2), (-sp.oo, sp.oo))
    E = expectation(sp.cos(b * x))
    assert ns.is_exact(E)
    pdf = lambda u: np.exp(-u * u / 2) * (1 + u * u) / (2 * np.sqrt(2 * np.pi))
    want = quad(lambda u: np.cos(0.9 * u) * pdf(u), -np.inf, np.inf)[0]
    assert _num(E, x=0.9).real == pytest.approx(want, rel=1e-9)


def test_result_is_quiet_without_numeric_parts():
    G = ns.zoo.cos_net(2).correlator(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        G.evaluate(np.zeros((1, 2, 2)), sigma_a=1.0, sigma_b=1.0)

"""Criticality and depth (nnsym.analysis.criticality): critical points checked against closed forms and an
independent quadrature of the susceptibilities, the normalised vertex against hand derivations of the
single-input recursion, and Monte Carlo from the same DeepMLP spec."""
import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate

from nnsym.analysis.criticality import critical_point, sampled_excess_kurtosis, vertex_vs_depth
from nnsym.model.deep import DeepMLP

RELU = lambda z: sp.Max(0, z)  # noqa: E731
GELU = lambda z: z * (1 + sp.erf(z / sp.sqrt(2))) / 2  # noqa: E731
SWISH = lambda z: z / (1 + sp.exp(-z))  # noqa: E731


def gauss(g, K):
    """<g(z)>_{z ~ N(0, K)} by scipy quad in z (independent of the module's quadrature)."""
    s = math.sqrt(K)
    return integrate.quad(lambda z: g(z) * math.exp(-z * z / (2 * K)) / (s * math.sqrt(2 * math.pi)),
                          -14 * s, 14 * s, points=[0.0], limit=400, epsabs=1e-13, epsrel=1e-12)[0]


def numeric(f):
    """f and f' as floats by sympy (lambdified separately from the module)."""
    z = sp.Symbol("z", real=True)
    e = sp.sympify(f(z))
    return sp.lambdify(z, e, "mpmath"), sp.lambdify(z, sp.diff(e, z), "mpmath")


# ------------------------------------------------------------------ critical points in closed form
@pytest.mark.parametrize("act, C_W, cls, a1", [
    (RELU, 2, "scale-invariant", None),
    (lambda z: z, 1, "scale-invariant", None),
    (lambda z: sp.Abs(z), 1, "scale-invariant", None),
    (sp.tanh, 1, "K*=0", -2),                   # tanh = z - z^3/3: sigma_3/sigma_1 = -2
    (sp.erf, sp.pi / 4, "K*=0", -2),            # erf = (2/sqrt(pi)) (z - z^3/3): C_W = 1/f'(0)^2 = pi/4
    (sp.sin, 1, "K*=0", -1),                    # sin = z - z^3/6
    (sp.atan, 1, "K*=0", -2),                   # atan = z - z^3/3
], ids=["relu", "linear", "abs", "tanh", "erf", "sin", "atan"])
def test_closed_form_critical_points(act, C_W, cls, a1):
    cp = critical_point(act)
    assert cp.C_b == 0 and sp.simplify(cp.C_W - C_W) == 0 and cp.universality_class == cls
    assert cp.chi_parallel == 1 and cp.chi_perp == 1
    assert (cp.a1 is None) if a1 is None else cp.a1 == a1
    assert cp.K_star is None if cls == "scale-invariant" else cp.K_star == 0


def test_leaky_relu_critical_point_is_exact_in_the_slope():
    a = sp.Symbol("a")
    cp = critical_point(lambda z: sp.Max(a * z, z), a=sp.Rational(1, 10))
    assert cp.C_W == sp.Rational(200, 101) and cp.universality_class == "scale-invariant"
    assert critical_point(lambda z: sp.Max(a * z, z), a=0.5).C_W == sp.Rational(8, 5)  # 2/(1 + a^2)
    # chi_perp = C_W <f'^2> = C_W (1 + a^2)/2 = 1 by independent quadrature, at any K
    f, df = numeric(lambda z: sp.Max(z / 2, z))
    for K in (0.3, 2.0):
        assert abs(1.6 * gauss(lambda z: float(df(z)) ** 2, K) - 1) < 1e-10
        assert abs(1.6 * gauss(lambda z: float(f(z)) ** 2, K) - K) < 1e-10  # K is a fixed point


@pytest.mark.parametrize("act", [GELU, SWISH], ids=["gelu", "swish"])
def test_numeric_critical_point_satisfies_the_conditions(act):
    cp = critical_point(act)
    assert cp.universality_class == "K*>0" and cp.C_b > 0 and cp.K_star > 0
    f, df = numeric(act)
    K = cp.K_star
    ss = gauss(lambda z: float(f(z)) ** 2, K)
    dss = gauss(lambda z: float(f(z)) ** 2 * (z * z / K - 1), K) / (2 * K)  # d<f f>/dK
    assert abs(cp.C_b + cp.C_W * ss - K) < 1e-8 * K  # fixed point
    assert abs(cp.C_W * gauss(lambda z: float(df(z)) ** 2, K) - 1) < 1e-9  # chi_perp
    assert abs(cp.C_W * dss - 1) < 1e-8  # chi_parallel
    assert abs(cp.chi_parallel - 1) < 1e-8 and abs(cp.chi_perp - 1) < 1e-9


def test_no_criticality_is_refused():
    with pytest.raises(ValueError, match="no critical point"):
        critical_point(lambda z: 1 / (1 + sp.exp(-z)))  # sigmoid: f(0) != 0 and <f f''> < 0
    with pytest.raises(ValueError, match="critical only at C_b = 0"):
        critical_point(RELU, C_b=0.3)
    with pytest.raises(ValueError, match="C_b is a variance"):
        critical_point(sp.tanh, C_b=-1)
    with pytest.raises(ValueError, match="parameters"):
        critical_point(lambda z: sp.Max(sp.Symbol("a") * z, z))
    with pytest.raises(TypeError, match="not a DeepMLP"):
        critical_point(DeepMLP(sp.tanh, 2, 1))


def test_edge_of_chaos_at_given_bias():
    cp = critical_point(sp.tanh, C_b=0.3)
    assert cp.universality_class == "chi_perp=1 only"
    f, df = numeric(sp.tanh)
    K = cp.K_star
    assert abs(0.3 + cp.C_W * gauss(lambda z: float(f(z)) ** 2, K) - K) < 1e-8
    assert abs(cp.C_W * gauss(lambda z: float(df(z)) ** 2, K) - 1) < 1e-9
    chi_par = cp.C_W * gauss(lambda z: float(f(z)) ** 2 * (z * z / K - 1), K) / (2 * K)
    assert abs(cp.chi_parallel - chi_par) < 1e-8 and chi_par < 0.9  # ordered direction: not critical


# ------------------------------------------------------------------ the vertex against depth
def test_relu_vertex_is_five_l_minus_one():
    # One input, C_W = 2, C_b = 0: <relu^2>_K = K/2, <relu^4>_K = 3K^2/2, chi_par = 1, K constant, so
    # V^(l+1) = V^(l) + C_W^2 (3/2 - 1/4) K^2 = V^(l) + 5 K^2, V^(1) = 0.
    prof = vertex_vs_depth(RELU, depth=6)
    assert np.allclose(prof.vertex, 5 * (prof.layers - 1), atol=1e-9)
    assert np.allclose(prof.K, 2.0, atol=1e-12)  # K^(1) = C_W x.x / d = 2
    assert prof.exact == 5 * prof.l - 5 and prof.asymptotic_slope == 5


@pytest.mark.parametrize("a, slope", [(sp.Rational(1, 2), sp.Rational(77, 25)), (1, 2), (-1, 2)],
                         ids=["leaky-1/2", "linear", "abs"])
def test_scale_invariant_vertex_closed_form(a, slope):
    # f = z (z>0), a z (z<0): <f^2> = (1+a^2)K/2, <f^4> = 3(1+a^4)K^2/2, C_W = 2/(1+a^2):
    # V/K^2 per layer = C_W^2 (<f^4> - <f^2>^2)/K^2 = 6(1+a^4)/(1+a^2)^2 - 1  (a = 1/2: 77/25, linear: 2)
    assert 6 * (1 + sp.sympify(a) ** 4) / (1 + sp.sympify(a) ** 2) ** 2 - 1 == slope
    prof = vertex_vs_depth(lambda z: sp.Max(a * z, z) if a != -1 else sp.Abs(z), depth=5)
    assert prof.asymptotic_slope == slope
    assert np.allclose(prof.vertex, float(slope) * (prof.layers - 1), atol=1e-9)


def test_tanh_vertex_matches_hand_recursion():
    # Single input: K' = C_W <f^2>_K, V' = chi_par(K)^2 V + C_W^2 (<f^4>_K - <f^2>_K^2), chi_par = C_W d<f^2>/dK,
    # with the expectations by an independent quadrature.
    t = math.tanh
    K, V, out = 1.0, 0.0, [0.0]
    for _ in range(7):
        s2, s4 = gauss(lambda z: t(z) ** 2, K), gauss(lambda z: t(z) ** 4, K)
        chi = gauss(lambda z: t(z) ** 2 * (z * z / K - 1), K) / (2 * K)
        K, V = s2, chi**2 * V + s4 - s2**2
        out.append(V / K**2)
    prof = vertex_vs_depth(sp.tanh, depth=7)
    assert np.allclose(prof.vertex, out, atol=1e-8)
    assert prof.error < 1e-4


@pytest.mark.parametrize("act", [sp.tanh, sp.erf], ids=["tanh", "erf"])
def test_k0_class_vertex_grows_like_two_thirds_l(act):
    # K ~ 1/(-a_1 l) (a_1 = -2 for both), V ~ c/l with c = 2/(3 a_1^2): V/K^2 -> (2/3) l (+ O(log l)).
    prof = vertex_vs_depth(act, depth=300)
    assert prof.asymptotic_slope == sp.Rational(2, 3)
    assert abs(prof.slope() - 2 / 3) < 0.01
    assert abs(prof.K[-1] * prof.layers[-1] - 0.5) < 0.01
    assert abs(prof.vertex[-1] / prof.layers[-1] - 2 / 3) < 0.015


def test_vertex_vs_depth_input_checks():
    spec = DeepMLP(sp.tanh, 3, 2, widths=8, sigma_W=1.0, sigma_b=0.0)
    assert vertex_vs_depth(spec).vertex.shape == (4,) and vertex_vs_depth(spec).critical is None
    with pytest.raises(ValueError, match="differs"):
        vertex_vs_depth(spec, depth=4)
    with pytest.raises(ValueError, match="depth must be an integer"):
        vertex_vs_depth(sp.tanh)
    with pytest.raises(ValueError, match="x must have shape"):
        vertex_vs_depth(spec, x=[1.0, 0.0, 0.0])


# ------------------------------------------------------------------ Monte Carlo from the same spec
@pytest.mark.parametrize("act, depth, n", [(sp.tanh, 2, 64), (sp.tanh, 4, 32), (sp.tanh, 6, 32), (sp.erf, 6, 64)],
                         ids=["tanh-2-64", "tanh-4-32", "tanh-6-32", "erf-6-64"])
def test_monte_carlo_agrees_with_leading_order(act, depth, n):
    spec = critical_point(act).spec(depth, widths=n)
    lead = vertex_vs_depth(spec).vertex[-1] / n
    est, err = sampled_excess_kurtosis(spec, 400_000, seed=10 * depth + n)
    assert abs(est - lead) < 5 * err, (est, err, lead)
    assert est > 3 * err  # the non-Gaussianity itself is resolved


@pytest.mark.parametrize("depth, n", [(2, 64), (4, 64), (6, 32), (3, 16)])
def test_relu_monte_carlo_against_exact_product(depth, n):
    # Hand derivation (one input, C_W = 2, C_b = 0): E[G_{l+1}^2 | G_l] = (1 + 5/n) G_l^2 (relu^2 moments 1/2, 3/2),
    # so kappa_4/(3K^2) = (1 + 5/n)^L - 1 exactly; the leading order 5L/n is its first term.
    spec = critical_point(RELU).spec(depth, widths=n)
    exact, lead = (1 + 5 / n) ** depth - 1, vertex_vs_depth(spec).vertex[-1] / n
    assert abs(lead - 5 * depth / n) < 1e-9
    est, err = sampled_excess_kurtosis(spec, 400_000, seed=depth + n)
    assert abs(est - exact) < 5 * err, (est, err, exact)


def test_leading_order_degrades_as_depth_over_width_grows():
    # tanh at depth 8, width 8 (l/n = 1): the 1/n prediction is visibly wrong ...
    spec = critical_point(sp.tanh).spec(8, widths=8)
    lead = vertex_vs_depth(spec).vertex[-1] / 8
    est, err = sampled_excess_kurtosis(spec, 1_000_000, seed=3)
    assert (est - lead) / err > 8 and est / lead > 1.15
    # ... and for ReLU the exact (1 + 5/8)^8 - 1 = 47.6 is ten times the leading 5 L/n = 5; Monte Carlo is far
    # above the leading order too (its error bar is not reliable here: phi^4 is dominated by rare networks)
    relu = critical_point(RELU).spec(8, widths=8)
    assert abs(vertex_vs_depth(relu).vertex[-1] / 8 - 5) < 1e-9 and (1 + 5 / 8) ** 8 - 1 > 9 * 5
    est, err = sampled_excess_kurtosis(relu, 400_000, seed=16)
    assert est > 4 * 5 and (est - 5) / err > 5


def test_conditional_sampler_agrees_with_whole_networks():
    spec = critical_point(sp.tanh).spec(3, d=2, widths=12)
    a, da = sampled_excess_kurtosis(spec, 60_000, x=[0.6, 0.8], seed=1, method="network")
    b, db = sampled_excess_kurtosis(spec, 60_000, x=[0.6, 0.8], seed=2)
    assert abs(a - b) < 5 * math.hypot(da, db) and a > 3 * da
    with pytest.raises(ValueError, match="method"):
        sampled_excess_kurtosis(spec, 10, method="exact")
    with pytest.raises(ValueError, match="infinite"):
        sampled_excess_kurtosis(critical_point(sp.tanh).spec(2), 10)
